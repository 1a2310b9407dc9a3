"""One truth for dates with the LMS, through a real launch and the platform's line items: where the
LMS owns a course's dates, a student's own due date at a Canvas-style launch
(``$Canvas.assignment.dueAt.iso8601`` as the custom ``due_at``) is their extension here, a value
the LMS did not expand or that is no date is ignored with a warning; where the course owns them,
line items are created with the assignment's dates and sent them again (``PUT``) when a ``PATCH``
moves them; a date that differs is a line on the staff's LMS page; scores carry the submission's
time."""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from api.lti import ags
from api.lti.dynamic import TOOL_CONFIGURATION, tool_registration
from api.lti.sender import send_round
from api.models import Extension, LmsDate, LtiAccount, LtiLineItem, LtiScore, Submission

from factories import Course, make_instructor, unique
from lti_platform import KEK, LEARNER, LMS, link
from lti_platform import User as LmsUser
from page_client import Browser

RIGHT = "3640"  # conv-pool-basics ex4.conv1_params
NOW = datetime.now(UTC).replace(microsecond=0)
OPENS, DUE = NOW - timedelta(days=1), NOW + timedelta(days=7)


def linked_course(lms: LMS, engine: Any, client: Any, *, dates_from: str) -> tuple[Course, str, str]:
    """A course whose dates ``dates_from`` owns (set by ``PATCH``), an assignment with dates, and
    an LMS course linked to it."""
    course = Course(client, make_instructor(engine))
    changed = client.patch(course.path, json={"dates_from": dates_from}, headers=course.instructor)
    assert changed.status_code == 200 and changed.json()["dates_from"] == dates_from, changed.text
    assignment = course.assignment(title="Homework 1", opens_at=OPENS.isoformat(), due_at=DUE.isoformat())
    context = unique("ctx")
    link(engine, lms, context, course.id)
    return course, assignment, context


def account(engine: Any, lms: LMS, learner: LmsUser) -> str:
    with Session(engine) as db:
        found = db.scalar(
            select(LtiAccount.user_id).where(LtiAccount.platform_id == lms.id, LtiAccount.sub == learner.sub)
        )
    assert found is not None
    return found


def extension(engine: Any, course: Course, assignment: str, student: str) -> Extension | None:
    with Session(engine) as db:
        return db.get(Extension, (course.id, assignment, student))


def test_a_canvas_launch_with_a_students_own_due_date_is_their_extension(app, lms, engine, client, caplog) -> None:
    course, assignment, context = linked_course(lms, engine, client, dates_from="lms")
    learner = LmsUser(unique("sub"), [LEARNER])
    own = "2030-01-15T18:00:00-05:00"  # Canvas: this student's date, an LMS extension included
    launched = lms.launch(learner, context=context, custom={"assignment": assignment, "due_at": own})
    assert launched.status_code == 303, launched.text
    student = account(engine, lms, learner)
    granted = extension(engine, course, assignment, student)
    assert granted is not None and granted.granted_by is None  # the LMS's, not a grader's
    assert granted.due_at == datetime(2030, 1, 15, 23, 0, tzinfo=UTC)
    # the staff's gradebook reads it as the student's extension
    book = client.get(f"{course.path}/assignments/{assignment}/gradebook", headers=course.instructor)
    (row,) = [r for r in book.json()["students"] if r["student"] == student]
    assert row["extension"]["due_at"].startswith("2030-01-15T23:00:00")
    # the same date again writes nothing (no new grant)
    lms.launch(learner, context=context, custom={"assignment": assignment, "due_at": own})
    assert extension(engine, course, assignment, student).granted_at == granted.granted_at
    # not expanded by the LMS, or no date: ignored with a warning, the launch goes on, nothing moves
    for value in ("$Canvas.assignment.dueAt.iso8601", "next Tuesday", "2030-01-20", 1_900_000_000):
        caplog.clear()
        with caplog.at_level(logging.WARNING, logger="grader.lti"):
            launched = lms.launch(learner, context=context, custom={"assignment": assignment, "due_at": value})
        assert launched.status_code == 303, launched.text
        assert "custom parameter due_at is ignored" in caplog.text
        assert extension(engine, course, assignment, student).due_at == granted.due_at
    # another platform's resource-link end date, mapped to its own key, where dueAt is not expanded
    custom = {
        "assignment": assignment,
        "due_at": "$Canvas.assignment.dueAt.iso8601",
        "submission_end_at": "2030-02-01T12:00:00Z",
    }
    lms.launch(learner, context=context, custom=custom)
    assert extension(engine, course, assignment, student).due_at == datetime(2030, 2, 1, 12, tzinfo=UTC)
    # the LMS owns the dates: a PATCH of them marks no line item to be sent them
    with Session(engine) as db, db.begin():
        db.add(LtiLineItem(platform_id=lms.id, context_id=context, assignment_id=assignment, url=lms.lineitems_url))
    moved = client.patch(
        f"{course.path}/assignments/{assignment}",
        json={"due_at": (DUE + timedelta(days=1)).isoformat()},
        headers=course.instructor,
    )
    assert moved.status_code == 200, moved.text
    with Session(engine) as db:
        assert db.get(LtiLineItem, (lms.id, context, assignment)).dates_due_at is None


def test_where_the_course_owns_its_dates_a_launch_date_is_kept_and_shown_where_it_differs(
    app, lms, engine, client
) -> None:
    course, assignment, context = linked_course(lms, engine, client, dates_from="grader")
    learner = LmsUser(unique("sub"), [LEARNER], name="Lea Learner")
    lms_date = DUE + timedelta(days=2)
    launched = lms.launch(learner, context=context, custom={"assignment": assignment, "due_at": lms_date.isoformat()})
    assert launched.status_code == 303, launched.text
    student = account(engine, lms, learner)
    assert extension(engine, course, assignment, student) is None  # the course's date counts
    with Session(engine) as db:
        seen = db.get(LmsDate, (course.id, assignment, student))
        assert seen is not None and seen.due_at == lms_date
    page = Browser(app).signed_in(course.instructor["Authorization"].removeprefix("Bearer "))
    shown = page.get(f"/courses/{course.id}/lti")
    assert shown.status_code == 200
    assert "differ for 1 launch" in shown.text and "Lea Learner" in shown.text and assignment in shown.text
    # and in REST, for a script or a dashboard
    (differs,) = client.get(f"{course.path}/lti", headers=course.instructor).json()["date_differences"]
    assert (differs["assignment"], differs["user"], differs["name"], differs["student"]) == (
        assignment,
        student,
        "Lea Learner",
        True,
    )
    assert datetime.fromisoformat(differs["lms_due_at"]) == lms_date
    assert datetime.fromisoformat(differs["due_at"]) == DUE
    # the owner hands the dates to the LMS on the page: the student's next launch makes them theirs
    answer = page.post(f"/courses/{course.id}/lti/dates", data={"dates_from": "lms"})
    assert answer.status_code == 303
    assert client.get(course.path, headers=course.instructor).json()["dates_from"] == "lms"
    lms.launch(learner, context=context, custom={"assignment": assignment, "due_at": lms_date.isoformat()})
    assert extension(engine, course, assignment, student).due_at == lms_date
    assert "agree with this course" in page.get(f"/courses/{course.id}/lti").text
    assert client.get(f"{course.path}/lti", headers=course.instructor).json()["date_differences"] == []


def submit(lms: LMS, launched: Any) -> None:
    path = lms.client.get(launched.headers["location"]).headers["location"]
    csrf = re.search(r'name="csrf" value="([0-9a-f]+)"', lms.client.get(path).text).group(1)
    sent = lms.client.post(path, data={"ex4.conv1_params": RIGHT, "action": "submit", "csrf": csrf})
    assert sent.status_code == 303, sent.text


def send(app: Any, lms: LMS, engine: Any) -> dict[str, dict[str, int]]:
    lms.tool_jwks = lms.client.get("/lti/jwks").json()
    return send_round(sessionmaker(engine), app.state.lti_http, kek=KEK)


def test_line_items_are_made_with_the_dates_and_sent_them_again_when_a_patch_moves_them(
    app, lms, engine, client
) -> None:
    course, assignment, context = linked_course(lms, engine, client, dates_from="grader")
    learner = LmsUser(unique("sub"), [LEARNER])
    submit(lms, lms.launch(learner, context=context, custom={"assignment": assignment}))
    assert send(app, lms, engine)["scores"] == {"sent": 1, "retry": 0, "failed": 0}
    (item,) = lms.line_items
    assert item["startDateTime"] == ags.timestamp(OPENS) and item["endDateTime"] == ags.timestamp(DUE)
    # the score carries the submission's time, not the grading's
    ((_, body),) = lms.scores
    with Session(engine) as db:
        (made,) = db.scalars(select(Submission).where(Submission.course_id == course.id))
    assert body["submission"]["submittedAt"] == ags.timestamp(made.submitted_at)
    assert body[ags.CANVAS_SUBMISSION]["submitted_at"] == ags.timestamp(made.submitted_at)
    # a PATCH of the due date: the line item is sent it, off the request (the round), once
    later = DUE + timedelta(days=3)
    moved = client.patch(
        f"{course.path}/assignments/{assignment}", json={"due_at": later.isoformat()}, headers=course.instructor
    )
    assert moved.status_code == 200, moved.text
    assert lms.line_item_puts == []
    assert send(app, lms, engine)["dates"] == {"sent": 1, "retry": 0, "failed": 0}
    (put,) = lms.line_item_puts
    assert put["endDateTime"] == ags.timestamp(later) and put["startDateTime"] == ags.timestamp(OPENS)
    assert (put["label"], put["scoreMaximum"], put["resourceId"]) == ("Homework 1", item["scoreMaximum"], assignment)
    assert lms.line_items[0]["endDateTime"] == ags.timestamp(later)
    assert send(app, lms, engine)["dates"]["sent"] == 0  # nothing left
    # a change of another field, or to the same dates, sends nothing
    for change in ({"title": "Homework one"}, {"due_at": later.isoformat()}):
        assert (
            client.patch(f"{course.path}/assignments/{assignment}", json=change, headers=course.instructor).status_code
            == 200
        )
    assert send(app, lms, engine)["dates"]["sent"] == 0
    # the opening cleared: the line item keeps no start date
    client.patch(f"{course.path}/assignments/{assignment}", json={"opens_at": None}, headers=course.instructor)
    assert send(app, lms, engine)["dates"]["sent"] == 1
    assert "startDateTime" not in lms.line_item_puts[-1] and lms.line_item_puts[-1]["endDateTime"] == ags.timestamp(
        later
    )


def test_a_date_moved_while_its_line_item_is_being_sent_is_sent_again(app, lms, engine, client) -> None:
    course, assignment, context = linked_course(lms, engine, client, dates_from="grader")
    base = lms.lineitems_url.split("?")[0]
    url = f"{base}/70?section=a"
    lms.line_items.append({"id": url, "resourceId": assignment, "label": "Homework 1", "scoreMaximum": 5})
    # a launch naming the line item the LMS made (deep linking): it is sent the dates
    lms.launch(LmsUser(unique("sub"), [LEARNER]), context=context, custom={"assignment": assignment}, lineitem=url)
    now = datetime.now(UTC)
    with Session(engine) as db, db.begin():
        leased = ags.LEASE + now
        row = db.get(LtiLineItem, (lms.id, context, assignment))
        assert row.dates_due_at is not None and row.dates_due_at <= now
        row.dates_due_at = leased  # as a sender holding it would have left it
    moved = client.patch(
        f"{course.path}/assignments/{assignment}",
        json={"due_at": (DUE + timedelta(hours=5)).isoformat()},
        headers=course.instructor,
    )
    assert moved.status_code == 200
    with Session(engine) as db:
        assert db.get(LtiLineItem, (lms.id, context, assignment)).dates_due_at <= datetime.now(UTC)  # marked again
    assert send(app, lms, engine)["dates"]["sent"] == 1
    assert lms.line_items[0]["endDateTime"] == ags.timestamp(DUE + timedelta(hours=5))


def test_canvas_is_told_the_submissions_time_not_the_grading_time() -> None:
    submitted = datetime(2030, 1, 1, 23, 58, tzinfo=UTC)
    graded = submitted + timedelta(hours=2)  # code graded after the due date: Canvas must not show it late
    score = LtiScore(
        sub="s",
        score_given=1.0,
        score_maximum=2.0,
        grading_progress="FullyGraded",
        timestamp=graded,
        submitted_at=submitted,
        new_submission=True,
    )
    body = ags._score_body(score)
    assert body["submission"] == {"submittedAt": "2030-01-01T23:58:00.000Z"}
    assert body[ags.CANVAS_SUBMISSION] == {"new_submission": True, "submitted_at": "2030-01-01T23:58:00.000Z"}
    assert body["timestamp"] == "2030-01-02T01:58:00.000Z"


def test_the_registration_asks_the_lms_for_its_due_dates(lms) -> None:
    wanted = {"due_at": "$Canvas.assignment.dueAt.iso8601", "submission_end_at": "$ResourceLink.submission.endDateTime"}
    assert lms.client.get(f"/lti/platforms/{lms.id}/config").json()["custom_fields"] == wanted  # Canvas's JSON
    registration = tool_registration("https://testserver", ags.SCOPES)  # dynamic registration's
    assert registration[TOOL_CONFIGURATION]["custom_parameters"] == wanted
