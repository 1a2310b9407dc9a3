"""The LMS under an assignment's ``feedback``: the student's page inside the LMS holds back what
the level says, and grade passback sends the LMS a score and never a comment nor any part's
feedback, so nothing held back crosses to the LMS. (The counted score is sent at every level: the
LMS's gradebook is staff's too, and whether its students see it is the LMS's posting policy.)"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from sqlalchemy.orm import sessionmaker

from api.lti import ags

from factories import Course, make_instructor, unique
from lti_platform import KEK, LEARNER, LMS, link
from lti_platform import User as LmsUser

WRONG = "3600"  # conv-pool-basics ex4.conv1_params without the biases: bias-omitted
HIDDEN = ("bias-omitted", "biases are missing")
#: What an AGS score carries (and Canvas's extension): no comment.
SCORE_FIELDS = {"userId", "scoreGiven", "scoreMaximum", "activityProgress", "gradingProgress", "timestamp"}


def _learner_submits(lms: LMS, engine: Any, client: Any, level: str) -> str:
    """The page the learner is answered with inside the LMS."""
    course = Course(client, make_instructor(engine))
    assignment = course.assignment(title="Exam 1", feedback=level, release_answers="never")
    context = unique("ctx")
    link(engine, lms, context, course.id)
    learner = LmsUser(unique("sub"), [LEARNER])
    launched = lms.launch(learner, context=context, custom={"assignment": assignment})
    path = lms.client.get(launched.headers["location"]).headers["location"]
    page = lms.client.get(path)
    csrf = re.search(r'name="csrf" value="([0-9a-f]+)"', page.text)
    assert csrf is not None
    sent = lms.client.post(path, data={"ex4.conv1_params": WRONG, "action": "submit", "csrf": csrf.group(1)})
    assert sent.status_code == 303, sent.text
    return lms.client.get(sent.headers["location"]).text


@pytest.mark.parametrize("level", ["full", "correctness", "score", "none"])
def test_the_lms_page_holds_back_and_passback_carries_no_feedback(app, lms, engine, client, level: str) -> None:
    answered = _learner_submits(lms, engine, client, level)
    assert all((words in answered) is (level == "full") for words in HIDDEN)
    lms.tool_jwks = lms.client.get("/lti/jwks").json()
    assert ags.send_due(sessionmaker(app.state.engine), app.state.lti_http, kek=KEK)["sent"] == 1
    ((_, body),) = lms.scores
    assert set(body) == SCORE_FIELDS | {ags.CANVAS_SUBMISSION}
    assert body["scoreGiven"] == 0.0 and body["gradingProgress"] == "FullyGraded"
    assert not [words for words in HIDDEN if words in json.dumps(body)]
