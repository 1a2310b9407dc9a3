"""The assignments' dates sent to the LMS's line items (AGS ``startDateTime``, ``endDateTime``),
where the service owns the course's dates (``dates_from: grader``): Canvas shows them as the
assignment's unlock and due dates.

A new line item is created with them (:func:`api.lti.ags.line_item`); one known already is marked
when the dates move (:mod:`api.assignments.lms_dates`, in the transaction of the change) and sent
here, off the request's path, by the passback's sender (:func:`api.lti.ags.send_due`): the line
item as the LMS has it (``GET``), its dates replaced, ``PUT`` back, so its label, maximum and tag
stay the LMS's. The dates sent are the assignment's as they are when sent: several moves make one
``PUT``. A mark is leased as it is taken and cleared only if no later move marked it again
meanwhile. A 429, a 5xx or a network error is tried again with the scores' back-off; any other
refusal stops, its message kept on the line item.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from api.lti import keys
from api.lti.ags import (
    LEASE,
    LINEITEM,
    MAX_ATTEMPTS,
    MAX_WAIT,
    SCOPES,
    Refused,
    Retry,
    Tokens,
    checked,
    dates_of,
)
from api.lti.answers import Unreadable, call, json_of
from api.models import Assignment, Course, DatesFrom, LtiContext, LtiLineItem, LtiPlatform

log = logging.getLogger("grader.lti")

#: Line items sent per round.
BATCH = 50


@dataclass(frozen=True, slots=True)
class DatesTarget:
    """One line item to send its dates, read before any call."""

    key: tuple[str, str, str]
    platform: str
    client_id: str
    token_url: str
    url: str
    dates: dict[str, str]
    attempts: int
    #: The lease this sender holds (the mark it set as it took the line item).
    lease: datetime


def next_dates_due(db: Session) -> datetime | None:
    """When the earliest line item waiting for its dates is due; None if none waits."""
    return db.scalar(select(func.min(LtiLineItem.dates_due_at)))


def any_due(db: Session, now: datetime) -> bool:
    return db.scalar(select(LtiLineItem.url).where(LtiLineItem.dates_due_at <= now).limit(1)) is not None


def _claimed(db: Session, now: datetime) -> list[DatesTarget]:
    """The line items due, each leased; a mark whose course's dates became the LMS's is dropped."""
    rows = db.execute(
        select(LtiLineItem, LtiPlatform, Course.dates_from, Assignment.opens_at, Assignment.due_at)
        .join(LtiPlatform, LtiPlatform.id == LtiLineItem.platform_id)
        .join(
            LtiContext,
            (LtiContext.platform_id == LtiLineItem.platform_id) & (LtiContext.context_id == LtiLineItem.context_id),
        )
        .join(Course, Course.id == LtiContext.course_id)
        .outerjoin(Assignment, (Assignment.course_id == Course.id) & (Assignment.id == LtiLineItem.assignment_id))
        .where(LtiLineItem.dates_due_at <= now)
        .order_by(LtiLineItem.dates_due_at)
        .limit(BATCH)
    ).all()
    mine = []
    for item, platform, dates_from, opens_at, due_at in rows:
        key = (item.platform_id, item.context_id, item.assignment_id)
        sends = dates_from == DatesFrom.GRADER.value and (opens_at is not None or due_at is not None)
        taken = db.execute(
            update(LtiLineItem)
            .where(
                LtiLineItem.platform_id == key[0],
                LtiLineItem.context_id == key[1],
                LtiLineItem.assignment_id == key[2],
                LtiLineItem.dates_due_at == item.dates_due_at,
            )
            .values(dates_due_at=now + LEASE if sends else None)
            .execution_options(synchronize_session=False)
        )
        if sends and getattr(taken, "rowcount", 0) == 1:
            dates = dates_of(opens_at, due_at)
            target = DatesTarget(
                key,
                platform.id,
                platform.client_id,
                platform.token_url,
                item.url,
                dates,
                item.dates_attempts,
                now + LEASE,
            )
            mine.append(target)
    return mine


def _put(http: httpx.Client, token: str, target: DatesTarget, now: datetime) -> None:
    """The line item as the LMS has it, its dates replaced, sent back whole."""
    auth = {"Authorization": f"Bearer {token}"}
    found = json_of(checked(call(http, "GET", target.url, headers={**auth, "Accept": LINEITEM}), now))
    if not isinstance(found, dict):
        raise Refused("The LMS answered the line item with something else than a line item.")
    item: dict[str, Any] = {k: v for k, v in found.items() if k not in ("startDateTime", "endDateTime")}
    item |= target.dates
    checked(call(http, "PUT", target.url, json=item, headers={**auth, "Content-Type": LINEITEM}), now)


def send_dates(
    sessions: Callable[[], Session],
    http: httpx.Client,
    *,
    kek: str | None,
    now: datetime,
    reads: Callable[[], Session] | None = None,
) -> dict[str, int]:
    """Sends the dates of the line items due (at most :data:`BATCH`); how many were ``sent``, put
    back to ``retry``, ``failed``. No database connection is held while the LMS is called.
    ``reads``: sessions that only look, to find whether anything is due first (as the scores')."""
    counts = {"sent": 0, "retry": 0, "failed": 0}
    if reads is not None:
        with reads() as db:
            if not any_due(db, now):
                return counts
    with sessions() as db, db.begin():
        targets = _claimed(db, now)
        signing = keys.signing_key(db, kek=kek) if targets else None
    if signing is None:
        return counts
    tokens = Tokens(http, signing)
    outcomes: dict[tuple[str, str, str], tuple[datetime | None, str | None]] = {}
    for target in targets:
        try:
            token = tokens.for_platform(target.platform, target.client_id, target.token_url, now, SCOPES)
            _put(http, token, target, now)
            outcomes[target.key] = (None, None)
            counts["sent"] += 1
        except Refused as refused:
            outcomes[target.key] = (None, refused.error)
            counts["failed"] += 1
            log.warning("The LMS refused the dates of line item %s: %s", target.url, refused.error)
        except (Retry, Unreadable, httpx.HTTPError) as error:
            message = (
                error.error
                if isinstance(error, Retry)
                else f"unreadable: {error.reason}"
                if isinstance(error, Unreadable)
                else f"network: {type(error).__name__}"
            )
            if target.attempts + 1 >= MAX_ATTEMPTS:
                outcomes[target.key] = (None, message)
                counts["failed"] += 1
            else:
                wait = error.after if isinstance(error, Retry) and error.after is not None else None
                backoff = wait or min(timedelta(seconds=30 * 2**target.attempts), MAX_WAIT)
                outcomes[target.key] = (now + backoff, message)
                counts["retry"] += 1
    by_key = {target.key: target for target in targets}
    with sessions() as db, db.begin():
        for (platform, context, assignment), (next_try, reason) in outcomes.items():
            target = by_key[(platform, context, assignment)]
            db.execute(
                update(LtiLineItem)
                .where(
                    LtiLineItem.platform_id == platform,
                    LtiLineItem.context_id == context,
                    LtiLineItem.assignment_id == assignment,
                    LtiLineItem.dates_due_at == target.lease,  # not marked again meanwhile
                )
                .values(
                    dates_due_at=next_try,
                    dates_attempts=0 if reason is None else target.attempts + 1,
                    dates_error=reason,
                )
                .execution_options(synchronize_session=False)
            )
    return counts
