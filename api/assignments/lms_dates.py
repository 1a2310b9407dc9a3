"""The LMS's copies of an assignment's dates: marked to be sent again when they move.

Where a course's dates are the service's (``dates_from: grader``), each line item known for one of
its assignments in a linked LMS course is sent the assignment's ``opens_at`` and ``due_at``
(``startDateTime``, ``endDateTime``) by :func:`api.lti.item_dates.send_dates`, off the request's
path. The change that moves them marks the line items here, in its own transaction (an outbox, as
the scores'), so a change committed is a change sent. Only the models are read: the assignments
and the courses depend on this module, not on LTI.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import UTC, datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from api.models import Course, DatesFrom, LtiContext, LtiLineItem

#: The assignment's fields a line item carries (``startDateTime``, ``endDateTime``).
SENT_DATES = frozenset({"opens_at", "due_at"})
#: The key in a session's ``info`` of "this transaction marked line items": once it commits, the
#: sender is told at once (``app.state.after_commit``), as for scores.
DATES_DUE = "grader_lti_dates_due"


def dates_moved(
    session: Session, *, course_id: str, assignment_ids: Collection[str] | None = None, now: datetime | None = None
) -> int:
    """Marks the line items of ``assignment_ids`` (None: every assignment of the course) due to be
    sent their dates now, if the course's dates are the service's; how many were marked."""
    course = session.get(Course, course_id)
    if course is None or course.dates_from != DatesFrom.GRADER.value:
        return 0
    contexts = select(LtiContext.context_id).where(
        LtiContext.course_id == course_id, LtiContext.platform_id == LtiLineItem.platform_id
    )
    statement = update(LtiLineItem).where(LtiLineItem.context_id.in_(contexts.scalar_subquery()))
    if assignment_ids is not None:
        statement = statement.where(LtiLineItem.assignment_id.in_(sorted(assignment_ids)))
    marked = session.execute(
        statement.values(dates_due_at=now or datetime.now(UTC), dates_attempts=0, dates_error=None).execution_options(
            synchronize_session=False
        )
    )
    count = int(getattr(marked, "rowcount", 0) or 0)
    if count:
        session.info[DATES_DUE] = True
    return count
