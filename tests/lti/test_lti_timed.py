"""A timed assignment launched from an LMS (issue 48): the launched page is the same door as any, so
its form is refused before the start and after the end (409, a sentence), and the start there is
the student's one clock. Time passes by ageing the clock's start in the database."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from api.kit.db import writer
from api.models import Clock

from factories import Course, make_instructor, unique
from lti_platform import LEARNER, LMS, link
from lti_platform import User as LmsUser

RIGHT = "3640"  # conv-pool-basics ex4.conv1_params


def test_the_launched_page_refuses_work_outside_the_clock(lms: LMS, engine, client) -> None:
    course = Course(client, make_instructor(engine))
    assignment = course.assignment(title="Quiz", time_limit=20)
    context = unique("ctx")
    link(engine, lms, context, course.id)
    launched = lms.launch(LmsUser(unique("sub"), [LEARNER]), context=context, custom={"assignment": assignment})
    path = lms.client.get(launched.headers["location"]).headers["location"]
    page = lms.client.get(path)
    assert 'id="start"' in page.text
    csrf = re.search(r'name="csrf" value="([0-9a-f]+)"', page.text).group(1)
    answer = {"ex4.conv1_params": RIGHT, "action": "submit", "csrf": csrf}
    early = lms.client.post(path, data=answer)
    assert early.status_code == 409 and "start it first" in early.text
    assert lms.client.post(f"{path}/start", data={"csrf": csrf}).status_code == 303
    assert lms.client.post(path, data=answer).status_code == 303  # within the time: stored
    with Session(writer(engine)) as session, session.begin():
        where = (Clock.course_id == course.id, Clock.assignment_id == assignment)
        started = session.scalar(select(Clock.started_at).where(*where))
        session.execute(update(Clock).where(*where).values(started_at=started - timedelta(minutes=21)))
    late = lms.client.post(path, data=answer | {"idempotency_key": "replayed-form"})
    assert late.status_code == 409 and "Your time on assignment" in late.text
    stored = client.get(f"{course.path}/assignments/{assignment}/submissions", headers=course.instructor).json()
    assert len(stored) == 1
