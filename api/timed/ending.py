"""An attempt ended by staff before its end: the clock handled now, as time-up handles it at the
end (:func:`api.timed.sweep.handle`: the last draft submitted once, or why not recorded), the
attempt's event ``end`` naming who ended it."""

from __future__ import annotations

from datetime import UTC, datetime

from api.kit.errors import Conflict
from api.terms.clock import ClockRow, read_clock
from api.terms.rows import Terms
from api.timed.sweep import Ended, TimeUp, handle


def end_attempt(time_up: TimeUp, *, assignment: Terms, student_id: str, by: str) -> ClockRow:
    """The student's clock ended now by ``by`` (in a transaction of its own); the clock as handled.
    409 if it is not running (not started, or handled already)."""
    keys = {"course_id": assignment.course_id, "assignment_id": assignment.id, "student_id": student_id}
    now = datetime.now(UTC)
    with time_up.reads() as session:
        clock = read_clock(session, **keys)
    if clock is None or clock.submitted_at is not None:
        raise Conflict(
            f"{student_id!r} has no running attempt on assignment {assignment.id!r} (not started, or over): "
            "there is nothing to end."
        )
    handle(time_up, Ended(assignment.course_id, assignment.id, student_id, now), now=now, by=by)
    with time_up.reads() as session:
        ended = read_clock(session, **keys)
    assert ended is not None
    return ended
