"""The whole LTI story against lti1p3platform, as an LMS and its users live it: an instructor's
first launch links the LMS course to a new course, the instructor makes an assignment there and
places it in the LMS by deep linking (the answer checked by the platform), a learner launches that
resource link and submits, and the score arrives at the platform's AGS service (which checks the
tool's access token and its scope) on the line item the placement created."""

from __future__ import annotations

import re

from sqlalchemy.orm import sessionmaker

from api.lti import ags

from factories import unique
from lti_platform import INSTRUCTOR, KEK, LEARNER, LMS
from lti_platform import User as LmsUser

RIGHT = "3640"  # conv-pool-basics ex4.conv1_params


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([0-9a-f]+)"', html)
    assert found, "no csrf field on the page"
    return found.group(1)


def test_link_place_launch_submit_and_the_score_arrives(app, lms: LMS, engine) -> None:
    context = unique("ctx")
    teacher = LmsUser(unique("sub"), [INSTRUCTOR], name="Ines Instructor")

    # 1. the instructor's first launch: the LMS course is linked to a new course of theirs
    page = lms.launch(teacher, context=context, context_title="CNN 101")
    launch_id = re.search(r'name="launch" value="([^"]+)"', page.text).group(1)
    linked = lms.client.post("/lti/link", data={"launch": launch_id, "course": "new", "title": "CNN 101 (fall)"})
    assert linked.status_code == 303, linked.text
    course_path = lms.client.get(linked.headers["location"]).headers["location"]
    course_id = course_path.rsplit("/", 1)[-1]

    # 2. signed in by the launch, the instructor makes an assignment on the course page
    course_page = lms.client.get(course_path)
    assert course_page.status_code == 200
    assignment = unique("a")
    made = lms.client.post(
        f"/courses/{course_id}/assignments",
        data={"csrf": csrf_of(course_page.text), "id": assignment, "problem_set": "conv-pool-basics", "title": "HW 1"},
    )
    assert made.status_code == 303, made.text

    # 3. deep linking: the assignment placed in the LMS, the answer checked by lti1p3platform
    return_url = lms.issuer + "/courses/1/deep_linking_response"
    choose = lms.launch(teacher, context=context, deep_link_return_url=return_url)
    launch_id = re.search(r'name="launch" value="([^"]+)"', choose.text).group(1)
    answer = lms.client.post("/lti/deep-link", data={"launch": launch_id, "assignment": assignment})
    token = re.search(r'name="JWT" value="([^"]+)"', answer.text).group(1)
    (item,) = lms.deep_linking_items(token, lms.client.get("/lti/jwks").json())
    assert item["custom"] == {"assignment": assignment} and item["lineItem"]["resourceId"] == assignment
    # the LMS makes the resource link and its line item from the placement
    base = lms.lineitems_url.split("?")[0]
    line_item = {**item["lineItem"], "id": f"{base}/77?section=a"}
    lms.line_items.append(line_item)

    # 4. a learner launches the placed link (their launch's session replaces the instructor's) and submits
    learner = LmsUser(unique("sub"), [LEARNER], name="Lea Learner")
    launched = lms.launch(learner, context=context, custom=item["custom"], lineitem=line_item["id"])
    path = lms.client.get(launched.headers["location"]).headers["location"]
    assert path == f"/courses/{course_id}/assignments/{assignment}"
    assignment_page = lms.client.get(path)
    sent = lms.client.post(
        path, data={"ex4.conv1_params": RIGHT, "action": "submit", "csrf": csrf_of(assignment_page.text)}
    )
    assert sent.status_code == 303, sent.text

    # 5. the sender's round: the score at the platform's AGS, on the placed line item
    lms.tool_jwks = lms.client.get("/lti/jwks").json()
    assert ags.send_due(sessionmaker(engine), app.state.lti_http, kek=KEK) == {"sent": 1, "retry": 0, "failed": 0}
    ((url, score),) = [(u, s) for u, s in lms.scores if s["userId"] == learner.sub]
    assert url == f"{base}/77/scores?section=a"
    # one part of the set answered, right: its point, of the maximum the placement announced
    assert (score["scoreGiven"], score["scoreMaximum"]) == (1.0, item["lineItem"]["scoreMaximum"])
    assert score["gradingProgress"] == "FullyGraded"
    assert len(lms.line_items) == 1  # none made besides the placed one
