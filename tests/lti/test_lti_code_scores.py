"""Grade passback of code parts: the submission's score goes to the LMS at once as ``Pending`` (its
code not run yet, 0 points of it counted), then, when the result is written, the new score as
``FullyGraded``: the code job announces the change like any other (:mod:`api.kit.score_changes`)."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from api.code_runs.run import CodeRuntime, run_code
from api.kit.db import make_sessionmaker, writer
from api.lti import ags
from api.models import Submission

from factories import Course, make_instructor, unique
from lti_platform import KEK, LEARNER, LMS, link
from lti_platform import User as LmsUser

KEY = "conv.forward"
MODULE = "def conv_forward(x, w, b, stride=1, pad=0):\n    return x\n"


def _send(app: Any, lms: LMS) -> dict[str, int]:
    lms.tool_jwks = lms.client.get("/lti/jwks").json()
    return ags.send_due(sessionmaker(app.state.engine), app.state.lti_http, kek=KEK)


def test_a_code_part_is_sent_pending_then_its_result_fully_graded(app: Any, lms: LMS, engine: Any, client: Any) -> None:
    course = Course(client, make_instructor(engine))
    assignment = course.assignment(problem_set="numpy-convolution", title="Convolution in numpy")
    context = unique("ctx")
    link(engine, lms, context, course.id)
    learner = LmsUser(unique("sub"), [LEARNER])
    launched = lms.launch(learner, context=context, custom={"assignment": assignment})
    path = lms.client.get(launched.headers["location"]).headers["location"]
    csrf = re.search(r'name="csrf" value="([0-9a-f]+)"', lms.client.get(path).text).group(1)
    sent = lms.client.post(path, data={KEY: MODULE, "action": "submit", "csrf": csrf})
    assert sent.status_code == 303, sent.text
    assert _send(app, lms)["sent"] == 1
    body = lms.scores[-1][1]
    assert (body["scoreGiven"], body["gradingProgress"]) == (0.0, "Pending")

    with Session(engine) as db:
        submission = db.scalars(select(Submission).where(Submission.assignment_id == assignment)).one()
    result = {**submission.parts[KEY], "score": 4.0, "status": "partial", "feedback": "4 of 6.", "tests": []}
    runtime = CodeRuntime(make_sessionmaker(writer(engine)), app.state.library, lambda *_: {KEY: result})
    assert run_code(runtime, submission.id) == "written"
    assert _send(app, lms)["sent"] == 1
    body = lms.scores[-1][1]
    assert (body["scoreGiven"], body["gradingProgress"]) == (4.0, "FullyGraded")
