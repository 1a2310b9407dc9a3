"""The LMS under an assignment's ``feedback``: the student's page inside the LMS holds back what the
level says, and grade passback follows the same rule, since the LMS's gradebook is the student's too.
Under ``none`` the platform's score endpoint is told only that an attempt was submitted (no
``scoreGiven``, ``Pending``) until the answers are released to that student: at the close for
everyone (extensions included), at their last attempt, or when the instructor's new terms release
them; then the score is sent, once. ``score`` and ``correctness`` send the total at once. No level
sends a comment nor any part's feedback, and every score carries the submission's time."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from api.lti import ags
from api.models import Assignment, Extension, LtiScore, Submission
from api.terms.releases import release_due

from factories import Course, make_instructor, unique
from lti_platform import KEK, LEARNER, LMS, link
from lti_platform import User as LmsUser

RIGHT, WRONG = "3640", "3600"  # conv-pool-basics ex4.conv1_params; without the biases: bias-omitted
HIDDEN = ("bias-omitted", "biases are missing")
#: What an AGS score carries (and Canvas's extension): no comment.
SCORE_FIELDS = {
    "userId",
    "scoreGiven",
    "scoreMaximum",
    "activityProgress",
    "gradingProgress",
    "timestamp",
    "submission",
}
#: What it carries while its student may not see the attempt graded.
SUBMITTED_FIELDS = SCORE_FIELDS - {"scoreGiven", "scoreMaximum"}


class Learner:
    """A student who came from the LMS into one assignment, and submits on its page there."""

    def __init__(self, lms: LMS, engine: Any, client: Any, **fields: Any) -> None:
        self.lms, self.engine = lms, engine
        self.course = Course(client, make_instructor(engine))
        self.assignment = self.course.assignment(title="Exam 1", **fields)
        self.context = unique("ctx")
        link(engine, lms, self.context, self.course.id)
        self.user = LmsUser(unique("sub"), [LEARNER])
        launched = lms.launch(self.user, context=self.context, custom={"assignment": self.assignment})
        self.path = lms.client.get(launched.headers["location"]).headers["location"]

    def submits(self, answer: str) -> str:
        """The page the learner is answered with inside the LMS."""
        page = self.lms.client.get(self.path)
        csrf = re.search(r'name="csrf" value="([0-9a-f]+)"', page.text)
        assert csrf is not None
        sent = self.lms.client.post(
            self.path, data={"ex4.conv1_params": answer, "action": "submit", "csrf": csrf.group(1)}
        )
        assert sent.status_code == 303, sent.text
        return self.lms.client.get(sent.headers["location"]).text

    def submissions(self) -> list[Submission]:
        with Session(self.engine) as db:
            return list(
                db.scalars(
                    select(Submission)
                    .where(Submission.course_id == self.course.id, Submission.assignment_id == self.assignment)
                    .order_by(Submission.id)
                )
            )

    def rows(self) -> list[LtiScore]:
        with Session(self.engine) as db:
            return list(db.scalars(select(LtiScore).where(LtiScore.sub == self.user.sub).order_by(LtiScore.id)))


def received(app: Any, lms: LMS) -> list[dict[str, Any]]:
    """Every score the platform's endpoint has received, after the tool's sender sent what is due."""
    lms.tool_jwks = lms.client.get("/lti/jwks").json()
    while ags.send_due(sessionmaker(app.state.engine), app.state.lti_http, kek=KEK)["sent"]:
        pass
    return [body for _, body in lms.scores]


def when(moment: datetime) -> str:
    return ags.timestamp(moment)


def held(body: dict[str, Any], submission: Submission) -> None:
    """The score endpoint was told the attempt was submitted, and nothing graded."""
    assert set(body) == SUBMITTED_FIELDS | {ags.CANVAS_SUBMISSION}, body
    assert body["gradingProgress"] == "Pending" and body["activityProgress"] == "Completed"
    assert body["submission"] == {"submittedAt": when(submission.submitted_at)}


def scored(body: dict[str, Any], submission: Submission) -> None:
    assert set(body) == SCORE_FIELDS | {ags.CANVAS_SUBMISSION}, body
    assert (body["scoreGiven"], body["scoreMaximum"]) == (submission.score, submission.max_score)
    assert body["gradingProgress"] == "FullyGraded"
    assert body["submission"] == {"submittedAt": when(submission.submitted_at)}


def closed(engine: Any, learner: Learner, *, ago: timedelta = timedelta(minutes=1)) -> None:
    """The assignment's due date and close have passed (as time passing would make them)."""
    past = datetime.now(UTC) - ago
    with Session(engine) as db, db.begin():
        db.execute(
            update(Assignment)
            .where(Assignment.course_id == learner.course.id, Assignment.id == learner.assignment)
            .values(due_at=past - timedelta(minutes=1), closes_at=past)
        )


#: When an exam of the tests closes: two days on.
LATER = datetime.now(UTC) + timedelta(days=2)


def at_close(lms: LMS, engine: Any, client: Any) -> Learner:
    """A learner of an exam that holds its feedback back until its answers are released at the close."""
    due = LATER.isoformat()
    return Learner(lms, engine, client, feedback="none", release_answers="after_close", due_at=due, closes_at=due)


def sweep(app: Any) -> set[str]:
    return release_due(sessionmaker(app.state.engine), reads=sessionmaker(app.state.engine))


@pytest.mark.parametrize("level", ["full", "correctness", "score", "none"])
def test_passback_sends_what_the_level_shows_and_never_any_feedback(app, lms, engine, client, level: str) -> None:
    """Fails on the code before the LMS followed the level: under ``none`` the score left at once."""
    learner = Learner(lms, engine, client, feedback=level, release_answers="never")
    answered = learner.submits(WRONG)
    assert all((words in answered) is (level == "full") for words in HIDDEN)
    ((body,),) = [received(app, lms)]
    (submission,) = learner.submissions()
    assert body["userId"] == learner.user.sub
    if level == "none":
        held(body, submission)
    else:
        scored(body, submission)
        assert body["scoreGiven"] == 0.0
    assert not [words for words in HIDDEN if words in json.dumps(body)]


def test_held_back_scores_reach_the_lms_once_the_assignment_closes_for_everyone(app, lms, engine, client) -> None:
    """``after_close``: nothing graded while anyone may still submit (a classmate's extension
    included), the score once the last close has passed, and only once whoever sweeps."""
    learner = at_close(lms, engine, client)
    learner.submits(WRONG)
    learner.submits(RIGHT)
    first, second = learner.submissions()
    held(received(app, lms)[0], first)
    held(received(app, lms)[1], second)
    classmate, _ = learner.course.student()
    with Session(engine) as db, db.begin():
        db.add(
            Extension(
                course_id=learner.course.id,
                assignment_id=learner.assignment,
                student_id=classmate,
                closes_at=LATER,
                granted_at=datetime.now(UTC),
            )
        )
    closed(engine, learner)
    assert sweep(app) == set() and len(learner.rows()) == 2  # the classmate may still submit
    with Session(engine) as db, db.begin():
        db.execute(
            update(Extension)
            .where(Extension.student_id == classmate)
            .values(closes_at=datetime.now(UTC) - timedelta(seconds=1))
        )
    sweep(app)
    sweep(app)  # a second sweeper (another process, the next round) finds it sent
    assert len(learner.rows()) == 3
    bodies = received(app, lms)
    assert len(bodies) == 3
    scored(bodies[2], second)  # the best attempt counts: the right one
    assert bodies[2]["scoreGiven"] == second.score > 0
    assert bodies[2][ags.CANVAS_SUBMISSION] == {"new_submission": False}


def test_the_service_time_keeper_sends_them_in_its_rounds(app, lms, engine, client) -> None:
    learner = at_close(lms, engine, client)
    learner.submits(RIGHT)
    closed(engine, learner)
    app.state.time_keeper.work()  # one round, as the service's thread runs it
    (submission,) = learner.submissions()
    held(received(app, lms)[0], submission)
    scored(received(app, lms)[1], submission)


def test_the_last_attempt_releases_its_own_score_under_after_attempts(app, lms, engine, client) -> None:
    learner = Learner(lms, engine, client, feedback="none", release_answers="after_attempts", max_attempts=2)
    learner.submits(WRONG)
    learner.submits(WRONG)
    first, _ = learner.submissions()
    bodies = received(app, lms)
    held(bodies[0], first)
    scored(bodies[1], first)  # the best of equal scores is the earliest
    assert bodies[1]["submission"] == {"submittedAt": when(first.submitted_at)}


def test_new_terms_that_release_the_answers_send_the_scores_once(app, lms, engine, client) -> None:
    """An instructor closes the exam early: the scores leave with the change, and the sweep does not
    send them again; moving the close back into the future holds the next attempts back again."""
    learner = at_close(lms, engine, client)
    learner.submits(RIGHT)
    (submission,) = learner.submissions()
    url = f"{learner.course.path}/assignments/{learner.assignment}"
    past = datetime.now(UTC) - timedelta(minutes=1)
    changed = learner.course.client.patch(
        url, json={"due_at": past.isoformat(), "closes_at": past.isoformat()}, headers=learner.course.instructor
    )
    assert changed.status_code == 200, changed.text
    sweep(app)
    assert len(learner.rows()) == 2
    bodies = received(app, lms)
    held(bodies[0], submission)
    scored(bodies[1], submission)
    reopened = learner.course.client.patch(
        url, json={"due_at": LATER.isoformat(), "closes_at": LATER.isoformat()}, headers=learner.course.instructor
    )
    assert reopened.status_code == 200, reopened.text
    learner.submits(WRONG)
    assert set(received(app, lms)[-1]) == SUBMITTED_FIELDS | {ags.CANVAS_SUBMISSION}


def test_a_level_that_shows_the_score_sends_it_when_the_instructor_changes_to_it(app, lms, engine, client) -> None:
    learner = Learner(lms, engine, client, feedback="none", release_answers="never")
    learner.submits(RIGHT)
    (submission,) = learner.submissions()
    url = f"{learner.course.path}/assignments/{learner.assignment}"
    changed = learner.course.client.patch(url, json={"feedback": "score"}, headers=learner.course.instructor)
    assert changed.status_code == 200, changed.text
    bodies = received(app, lms)
    held(bodies[0], submission)
    scored(bodies[1], submission)
