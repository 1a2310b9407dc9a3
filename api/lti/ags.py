"""Grade passback (LTI Assignment and Grade Services 2.0): the outbox's rows sent to the LMS.

:func:`send_due` reads the rows that are due, gives its connection back, then for each: an access
token (``client_credentials`` with a ``private_key_jwt`` assertion signed by the tool's key, a
fresh ``jti`` each), the assignment's line item (stored, else found by ``resourceId``, else
created: never two), and ``POST {lineitem}/scores``. A 429 waits what its ``Retry-After`` says;
a 5xx or a network error is retried with backoff; any other refusal fails the row with the
platform's own message. Every call goes through the one injected HTTP client.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import httpx
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from api.lti import keys
from api.lti.answers import Unreadable, call, json_of
from api.models import Assignment, Course, DatesFrom, LtiContext, LtiLineItem, LtiPlatform, LtiScore, ScoreStatus

SCOPE_SCORE = "https://purl.imsglobal.org/spec/lti-ags/scope/score"
SCOPE_LINEITEM = "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem"
SCOPE_ROSTER = "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly"
SCOPES = (SCOPE_LINEITEM, SCOPE_SCORE)
LINEITEM = "application/vnd.ims.lis.v2.lineitem+json"
LINEITEMS = "application/vnd.ims.lis.v2.lineitemcontainer+json"
SCORE = "application/vnd.ims.lis.v1.score+json"
#: Canvas's extension of the AGS score (https://canvas.instructure.com/doc/api/score.html).
CANVAS_SUBMISSION = "https://canvas.instructure.com/lti/submission"
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
#: Tries of a row before it is ``failed``; the backoff after the n-th is 30 s · 2ⁿ, at most an hour.
MAX_ATTEMPTS = 8
MAX_WAIT = timedelta(hours=1)
#: Rows sent per call of :func:`send_due`.
BATCH = 100
#: How long a sender holds the rows it took (its calls have timeouts well below this).
LEASE = timedelta(minutes=10)


class Retry(Exception):
    def __init__(self, error: str, after: timedelta | None = None) -> None:
        super().__init__(error)
        self.error, self.after = error, after


class Refused(Exception):
    def __init__(self, error: str) -> None:
        super().__init__(error)
        self.error = error


def timestamp(moment: datetime) -> str:
    """ISO 8601 in UTC with milliseconds, as AGS wants: ``2026-11-24T00:01:02.345Z``."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def dates_of(opens_at: datetime | None, due_at: datetime | None) -> dict[str, str]:
    """An assignment's dates as a line item carries them (those it has): its opening as
    ``startDateTime``, its due date as ``endDateTime`` (Canvas: the unlock and due dates)."""
    dates = {}
    if opens_at is not None:
        dates["startDateTime"] = timestamp(opens_at)
    if due_at is not None:
        dates["endDateTime"] = timestamp(due_at)
    return dates


def scores_url(lineitem: str) -> str:
    """``{lineitem}/scores`` with the line item's query kept (Canvas's and Moodle's carry one)."""
    parts = urlsplit(lineitem)
    return urlunsplit(parts._replace(path=parts.path.rstrip("/") + "/scores"))


def with_query(url: str, **params: str) -> str:
    parts = urlsplit(url)
    query = [*parse_qsl(parts.query, keep_blank_values=True), *params.items()]
    return urlunsplit(parts._replace(query=urlencode(query)))


def platform_message(response: httpx.Response) -> str:
    """The platform's own words about a refusal (Canvas: ``errors[].message``; Moodle and others:
    ``message`` or ``error``), else the status; at most 500 characters."""
    text = f"{response.status_code}"
    try:
        body = json_of(response)
    except Unreadable:
        body = None
    if isinstance(body, dict):
        errors = body.get("errors")
        if isinstance(errors, list) and errors and isinstance(errors[0], dict):
            text += f": {errors[0].get('message', '')}"
        elif isinstance(errors, dict):
            text += f": {errors.get('message', '')}"
        elif isinstance(body.get("message"), str):
            text += f": {body['message']}"
        elif isinstance(body.get("error"), str):
            text += f": {body['error']}" + (f" ({body['error_description']})" if body.get("error_description") else "")
    return text[:500]


def retry_after(response: httpx.Response, now: datetime) -> timedelta | None:
    """``Retry-After`` in seconds or as an HTTP date, at most :data:`MAX_WAIT`; None if absent."""
    value = response.headers.get("Retry-After", "").strip()
    if not value:
        return None
    if value.isdigit():
        return min(timedelta(seconds=int(value)), MAX_WAIT)
    try:
        return min(max(parsedate_to_datetime(value) - now, timedelta(0)), MAX_WAIT)
    except (TypeError, ValueError):
        return None


def checked(response: httpx.Response, now: datetime) -> httpx.Response:
    if response.status_code == 429:
        raise Retry(platform_message(response), retry_after(response, now))
    if response.status_code >= 500:
        raise Retry(platform_message(response))
    if response.status_code >= 400:
        raise Refused(platform_message(response))
    return response


@dataclass(frozen=True, slots=True)
class Target:
    """What sending one row needs, read before any call."""

    row_id: int
    platform: str
    client_id: str
    token_url: str
    context_id: str
    assignment_id: str
    label: str
    lineitem: str | None
    lineitems: str | None
    #: The assignment's maximum, for a new line item (the body holds it only beside a score).
    maximum: float
    body: dict[str, Any]
    attempts: int
    #: A new line item's dates, where the course's are the service's (:func:`dates_of`).
    dates: dict[str, str] = field(default_factory=dict)


class Tokens:
    """Access tokens per platform, until shortly before they expire."""

    def __init__(self, http: httpx.Client, key: keys.SigningKey) -> None:
        self.http, self.key = http, key
        self._tokens: dict[tuple[str, tuple[str, ...]], tuple[str, datetime]] = {}

    def get(self, target: Target, now: datetime) -> str:
        return self.for_platform(target.platform, target.client_id, target.token_url, now, SCOPES)

    def for_platform(
        self, platform: str, client_id: str, token_url: str, now: datetime, scopes: tuple[str, ...]
    ) -> str:
        cached = self._tokens.get((platform, scopes))
        if cached is not None and cached[1] > now:
            return cached[0]
        assertion = keys.sign(self.key, {"iss": client_id, "sub": client_id, "aud": token_url}, lifetime=300)
        form = {
            "grant_type": "client_credentials",
            "client_assertion_type": ASSERTION_TYPE,
            "client_assertion": assertion,
            "scope": " ".join(scopes),
        }
        body = json_of(checked(call(self.http, "POST", token_url, data=form), now))
        token = body.get("access_token") if isinstance(body, dict) else None
        if not isinstance(token, str):
            raise Refused("The platform's token answer holds no access_token.")
        lifetime = body.get("expires_in", 3600)
        seconds = lifetime if isinstance(lifetime, int) and lifetime > 0 else 3600
        self._tokens[(platform, scopes)] = (token, now + timedelta(seconds=max(seconds - 60, 0)))
        return token


def line_item(http: httpx.Client, token: str, target: Target, now: datetime) -> str:
    """The assignment's line item: stored, else the LMS's with its ``resourceId``, else a new one."""
    if target.lineitem:
        return target.lineitem
    if not target.lineitems:
        raise Refused("The LMS course has no line items service (its launches carry no AGS claim).")
    auth = {"Authorization": f"Bearer {token}"}
    listed = call(
        http,
        "GET",
        with_query(target.lineitems, resource_id=target.assignment_id),
        headers={**auth, "Accept": LINEITEMS},
    )
    found = json_of(checked(listed, now))
    for item in found if isinstance(found, list) else []:
        if (
            isinstance(item, dict)
            and item.get("resourceId") == target.assignment_id
            and isinstance(item.get("id"), str)
        ):
            return item["id"]
    new = {"scoreMaximum": target.maximum, "label": target.label, "resourceId": target.assignment_id, **target.dates}
    posted = call(http, "POST", target.lineitems, json=new, headers={**auth, "Content-Type": LINEITEM})
    made = json_of(checked(posted, now))
    if not isinstance(made, dict) or not isinstance(made.get("id"), str):
        raise Refused("The LMS answered the new line item without its id.")
    return made["id"]


def _canvas_submission(score: LtiScore) -> dict[str, Any]:
    """Canvas's extension of a score: a new attempt is a submission made when the student made it
    (not when it was graded: code graded past the due date would show late, canvas-lms #1799); any
    other change (a regrade, an extension, a policy) is ``new_submission: false``, or Canvas would
    show the student as having resubmitted. Other platforms ignore it."""
    if score.new_submission:
        return {"new_submission": True, "submitted_at": timestamp(score.submitted_at or score.timestamp)}
    return {"new_submission": False}


def _score_body(score: LtiScore) -> dict[str, Any]:
    """The AGS score: without ``scoreGiven`` (nor its maximum, which AGS ties to it) while the student
    may not see their attempt graded; the counted submission's time as ``submission.submittedAt``."""
    body: dict[str, Any] = {
        "userId": score.sub,
        "activityProgress": "Completed",
        "gradingProgress": score.grading_progress,
        "timestamp": timestamp(score.timestamp),
        CANVAS_SUBMISSION: _canvas_submission(score),
    }
    if score.score_given is not None:
        body |= {"scoreGiven": score.score_given, "scoreMaximum": score.score_maximum}
    if score.submitted_at is not None:
        body["submission"] = {"submittedAt": timestamp(score.submitted_at)}
    return body


def _targets(db: Session, now: datetime) -> list[Target]:
    rows = db.execute(
        select(LtiScore, LtiPlatform, LtiContext, LtiLineItem.url, Assignment, Course.dates_from)
        .join(LtiPlatform, LtiPlatform.id == LtiScore.platform_id)
        .join(
            LtiContext,
            (LtiContext.platform_id == LtiScore.platform_id) & (LtiContext.context_id == LtiScore.context_id),
        )
        .outerjoin(
            LtiLineItem,
            (LtiLineItem.platform_id == LtiScore.platform_id)
            & (LtiLineItem.context_id == LtiScore.context_id)
            & (LtiLineItem.assignment_id == LtiScore.assignment_id),
        )
        .outerjoin(Assignment, (Assignment.course_id == LtiScore.course_id) & (Assignment.id == LtiScore.assignment_id))
        .outerjoin(Course, Course.id == LtiScore.course_id)
        .where(LtiScore.status == ScoreStatus.PENDING.value, LtiScore.next_try_at <= now)
        .order_by(LtiScore.id)
        .limit(BATCH)
    ).all()
    return [
        Target(
            row_id=score.id,
            platform=platform.id,
            client_id=platform.client_id,
            token_url=platform.token_url,
            context_id=score.context_id,
            assignment_id=score.assignment_id,
            label=assignment.title if assignment is not None else score.assignment_id,
            lineitem=url,
            lineitems=context.lineitems_url,
            maximum=score.score_maximum,
            body=_score_body(score),
            attempts=score.attempts,
            dates=dates_of(assignment.opens_at, assignment.due_at)
            if assignment is not None and dates_from == DatesFrom.GRADER.value
            else {},
        )
        for score, platform, context, url, assignment, dates_from in rows
    ]


def _claimed(db: Session, targets: list[Target], now: datetime) -> list[Target]:
    """The rows this sender takes: each is due no more for :data:`LEASE` (another replica's sender,
    or this one's next round, skips it meanwhile); a sender that dies leaves them due again then."""
    mine = []
    for target in targets:
        taken = db.execute(
            update(LtiScore)
            .where(
                LtiScore.id == target.row_id,
                LtiScore.status == ScoreStatus.PENDING.value,
                LtiScore.next_try_at <= now,
            )
            .values(next_try_at=now + LEASE)
        )
        if getattr(taken, "rowcount", 0) == 1:
            mine.append(target)
    return mine


def next_due(db: Session) -> datetime | None:
    """When the earliest row waiting to be sent (a retry's back-off) is due; None if none waits."""
    return db.scalar(select(func.min(LtiScore.next_try_at)).where(LtiScore.status == ScoreStatus.PENDING.value))


def send_due(
    sessions: Callable[[], Session],
    http: httpx.Client,
    *,
    kek: str | None,
    now: datetime | None = None,
    reads: Callable[[], Session] | None = None,
) -> dict[str, int]:
    """Sends the rows that are due (at most :data:`BATCH`); how many were ``sent``, put back to
    ``retry``, ``failed``. No database connection is held while the LMS is called. ``reads``:
    sessions that only look, to find whether anything is due first (on SQLite a writing session
    takes the write lock as it begins: a sender polling with one would hold it every few seconds)."""
    now = now or datetime.now(UTC)
    if reads is not None:
        with reads() as db:
            due = select(LtiScore.id).where(LtiScore.status == ScoreStatus.PENDING.value, LtiScore.next_try_at <= now)
            if db.scalar(due.limit(1)) is None:
                return {"sent": 0, "retry": 0, "failed": 0}
    with sessions() as db, db.begin():
        targets = _claimed(db, _targets(db, now), now)
        key = keys.signing_key(db, kek=kek) if targets else None
    if key is None:
        return {"sent": 0, "retry": 0, "failed": 0}
    tokens = Tokens(http, key)
    outcomes: dict[int, tuple[str, str | None, datetime | None]] = {}
    found_items: dict[tuple[str, str, str], str] = {}
    for target in targets:
        place = (target.platform, target.context_id, target.assignment_id)
        try:
            token = tokens.get(target, now)
            item = found_items.get(place) or line_item(http, token, target, now)
            found_items[place] = item
            headers = {"Authorization": f"Bearer {token}", "Content-Type": SCORE}
            checked(call(http, "POST", scores_url(item), json=target.body, headers=headers), now)
            outcomes[target.row_id] = (ScoreStatus.SENT.value, None, None)
        except Refused as refused:
            outcomes[target.row_id] = (ScoreStatus.FAILED.value, refused.error, None)
        except (Retry, Unreadable, httpx.HTTPError) as error:
            # (an answer too large or not JSON may be a proxy's page for a moment: tried again too)
            message = (
                error.error
                if isinstance(error, Retry)
                else f"unreadable: {error.reason}"
                if isinstance(error, Unreadable)
                else f"network: {type(error).__name__}"
            )
            wait = error.after if isinstance(error, Retry) and error.after is not None else None
            if target.attempts + 1 >= MAX_ATTEMPTS:
                outcomes[target.row_id] = (ScoreStatus.FAILED.value, message, None)
            else:
                backoff = wait or min(timedelta(seconds=30 * 2**target.attempts), MAX_WAIT)
                outcomes[target.row_id] = (ScoreStatus.PENDING.value, message, now + backoff)
    with sessions() as db, db.begin():
        for (platform, context, assignment), url in found_items.items():
            if db.get(LtiLineItem, (platform, context, assignment)) is None:
                db.add(LtiLineItem(platform_id=platform, context_id=context, assignment_id=assignment, url=url))
        for row_id, (status, reason, next_try) in outcomes.items():
            row = db.get(LtiScore, row_id)
            if row is None:
                continue
            row.attempts += 1
            row.status, row.error = status, reason
            if status == ScoreStatus.SENT.value:
                row.sent_at = now
            if next_try is not None:
                row.next_try_at = next_try
    counts = {"sent": 0, "retry": 0, "failed": 0}
    for status, _, _ in outcomes.values():
        counts["sent" if status == "sent" else "failed" if status == "failed" else "retry"] += 1
    return counts
