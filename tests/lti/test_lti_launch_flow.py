"""The whole flow with a real platform (lti1p3platform): login, launch, linking an LMS course,
deep linking, a learner's launch into an assignment."""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.models import LtiAccount, LtiContext, Membership, User, WebSession
from api.users.tokens import hash_token

from factories import Course, make_instructor, unique
from lti_platform import INSTITUTION_INSTRUCTOR, INSTRUCTOR, LEARNER, LMS, TA, TEST_USER, TOOL, link
from lti_platform import User as LmsUser


def member_role(engine, course_id: str, user_id: str) -> str | None:
    with Session(engine) as db:
        return db.scalar(
            select(Membership.role).where(Membership.course_id == course_id, Membership.user_id == user_id)
        )


def account(engine, lms: LMS, sub: str) -> User | None:
    with Session(engine) as db:
        user_id = db.scalar(select(LtiAccount.user_id).where(LtiAccount.platform_id == lms.id, LtiAccount.sub == sub))
        return None if user_id is None else db.get(User, user_id)


def test_login_redirects_to_the_platform_with_every_parameter(lms) -> None:
    response = lms.login(login_hint="user-7", message_hint="rl-42")
    query = lms.authenticate(response)
    assert {k: query[k] for k in ("scope", "response_type", "response_mode", "prompt", "client_id")} == {
        "scope": "openid",
        "response_type": "id_token",
        "response_mode": "form_post",
        "prompt": "none",
        "client_id": lms.client_id,
    }
    assert query["redirect_uri"] == TOOL + "/lti/launch"
    assert query["login_hint"] == "user-7" and query["lti_message_hint"] == "rl-42"
    assert len(query["state"]) >= 32 and len(query["nonce"]) >= 32 and query["state"] != query["nonce"]
    # another login gets another state and nonce
    again = lms.authenticate(lms.login())
    assert again["state"] != query["state"] and again["nonce"] != query["nonce"]


def test_login_by_post_works_as_by_get(lms, browser) -> None:
    form = {"iss": lms.issuer, "login_hint": "u", "target_link_uri": TOOL + "/lti/launch", "client_id": lms.client_id}
    response = browser.post("/lti/login", data=form)
    assert response.status_code == 302
    assert dict(parse_qsl(urlsplit(response.headers["location"]).query))["login_hint"] == "u"


def test_login_from_an_unknown_platform_or_for_another_site_is_refused(lms, browser) -> None:
    unknown = browser.get(
        "/lti/login", params={"iss": "https://evil.example", "login_hint": "u", "target_link_uri": TOOL}
    )
    assert unknown.status_code == 400 and "iss" in unknown.text
    elsewhere = {"iss": lms.issuer, "login_hint": "u", "target_link_uri": "https://evil.example/x"}
    assert browser.get("/lti/login", params=elsewhere).status_code == 400
    missing = browser.get("/lti/login", params={"iss": lms.issuer, "target_link_uri": TOOL + "/lti/launch"})
    assert missing.status_code == 400 and "login_hint" in missing.text
    wrong_deployment = {**elsewhere, "target_link_uri": TOOL + "/lti/launch", "lti_deployment_id": "other"}
    assert browser.get("/lti/login", params=wrong_deployment).status_code == 400


def test_an_instructors_first_launch_links_the_lms_course_to_a_new_course(lms, engine) -> None:
    context = unique("ctx")
    teacher = LmsUser(unique("sub"), [INSTRUCTOR], name="Ines Instructor", email="ines@example.edu")
    page = lms.launch(teacher, context=context, context_title="CNN 101", custom={"assignment": "none"})
    assert page.status_code == 200, page.text
    assert 'name="course"' in page.text and 'value="new"' in page.text and ">Link</button>" in page.text
    launch_id = re.search(r'name="launch" value="([^"]+)"', page.text).group(1)
    linked = lms.client.post("/lti/link", data={"launch": launch_id, "course": "new", "title": "CNN 101 (fall)"})
    assert linked.status_code == 303 and linked.headers["location"] == f"/lti/continue/{launch_id}"
    with Session(engine) as db:
        row = db.get(LtiContext, (lms.id, context))
        assert row is not None
        course_id = row.course_id
    user = account(engine, lms, teacher.sub)
    assert user is not None and user.name == "Ines Instructor" and user.email == "ines@example.edu"
    assert member_role(engine, course_id, user.id) == "owner"
    # top-level: on into the course, signed in
    course = lms.client.get(linked.headers["location"])
    assert course.status_code == 303 and course.headers["location"] == f"/courses/{course_id}"
    assert lms.client.get(course.headers["location"]).status_code == 200
    # the next launch from the same LMS course goes straight in
    again = lms.launch(teacher, context=context)
    assert again.status_code == 303 and again.headers["location"].startswith("/lti/continue/")


def test_an_instructor_may_link_a_course_they_already_run(lms, engine, client) -> None:
    context = unique("ctx")
    teacher = LmsUser(unique("sub"), [INSTRUCTOR])
    lms.launch(teacher, context=unique("other"))  # makes the account (a link form, left unanswered)
    user = account(engine, lms, teacher.sub)
    existing = Course(client, make_instructor(engine))
    with Session(engine) as db, db.begin():
        db.add(Membership(course_id=existing.id, user_id=user.id, role="instructor"))
    page = lms.launch(teacher, context=context)
    assert f'value="{existing.id}"' in page.text
    launch_id = re.search(r'name="launch" value="([^"]+)"', page.text).group(1)
    foreign = Course(client, make_instructor(engine))
    refused = lms.client.post("/lti/link", data={"launch": launch_id, "course": foreign.id})
    assert refused.status_code == 403
    linked = lms.client.post("/lti/link", data={"launch": launch_id, "course": existing.id})
    assert linked.status_code == 303
    with Session(engine) as db:
        assert db.get(LtiContext, (lms.id, context)).course_id == existing.id


def test_a_learner_in_an_unlinked_course_sees_it_is_not_ready_and_gets_no_session(lms, engine) -> None:
    page = lms.launch(LmsUser(unique("sub"), [LEARNER]), context=unique("ctx"))
    assert page.status_code == 200 and "not ready yet" in page.text
    assert 'name="course"' not in page.text and "grader_session" not in page.headers.get("set-cookie", "")


def test_a_learners_launch_opens_the_assignment_signed_in(lms, engine, client) -> None:
    course = Course(client, make_instructor(engine))
    assignment = course.assignment(title="Homework 1")
    context = unique("ctx")
    link(engine, lms, context, course.id)
    learner = LmsUser(unique("sub"), [LEARNER, INSTITUTION_INSTRUCTOR], name="Lea Learner")
    launched = lms.launch(learner, context=context, custom={"assignment": assignment})
    assert launched.status_code == 303
    cookie = next(h for h in launched.headers.get_list("set-cookie") if h.startswith("grader_session="))
    assert "samesite=none" in cookie.lower() and "secure" in cookie.lower() and "partitioned" in cookie.lower()
    onward = lms.client.get(launched.headers["location"])
    assert onward.status_code == 303 and onward.headers["location"] == f"/courses/{course.id}/assignments/{assignment}"
    page = lms.client.get(onward.headers["location"])
    assert page.status_code == 200 and ">Submit<" in page.text and "Lea Learner" in page.text
    user = account(engine, lms, learner.sub)
    # Canvas's institution Instructor role is not a course role: a student
    assert member_role(engine, course.id, user.id) == "student" and user.role == "student"
    with Session(engine) as db:
        session = db.get(WebSession, hash_token(lms.client.cookies["grader_session"]))
        assert session.via == "lti" and session.token_id is None and session.user_id == user.id
    # the continuation is used once
    assert lms.client.get(launched.headers["location"]).status_code == 404


def test_roles_follow_the_context_membership_on_every_launch(lms, engine, client) -> None:
    course = Course(client, make_instructor(engine))
    context = unique("ctx")
    link(engine, lms, context, course.id)
    person = LmsUser(unique("sub"), [TA])
    assert lms.launch(person, context=context).status_code == 303
    user = account(engine, lms, person.sub)
    assert member_role(engine, course.id, user.id) == "ta"
    lms.launch(LmsUser(person.sub, [INSTRUCTOR]), context=context)
    assert member_role(engine, course.id, user.id) == "instructor"


def test_in_a_frame_the_launch_offers_a_new_window_that_signs_in(lms, engine, client, app) -> None:
    from fastapi.testclient import TestClient

    course = Course(client, make_instructor(engine))
    assignment = course.assignment()
    context = unique("ctx")
    link(engine, lms, context, course.id)
    launched = lms.launch(LmsUser(unique("sub"), [LEARNER]), context=context, custom={"assignment": assignment})
    framed = lms.client.get(launched.headers["location"], headers={"Sec-Fetch-Dest": "iframe"})
    assert framed.status_code == 200 and "Open in a new window" in framed.text
    assert "x-frame-options" not in framed.headers
    # the platform may frame it, though its launch named no return URL
    assert f"frame-ancestors {lms.issuer};" in framed.headers["content-security-policy"]
    href = re.search(r'href="(/lti/continue/[^"]+)" target="_blank"', framed.text).group(1)
    window = TestClient(app, base_url=TOOL, follow_redirects=False)  # a new window: no cookie of the frame
    opened = window.get(href)
    assert opened.status_code == 303 and opened.headers["location"].endswith(f"/assignments/{assignment}")
    assert window.get(opened.headers["location"]).status_code == 200
    assert TestClient(app, base_url=TOOL, follow_redirects=False).get(href).status_code == 404  # used once


def test_canvas_student_view_is_a_preview_not_a_student(lms, engine, client) -> None:
    course = Course(client, make_instructor(engine))
    context = unique("ctx")
    link(engine, lms, context, course.id)
    tester = LmsUser(unique("sub"), [LEARNER, TEST_USER], name="Test Student")
    page = lms.launch(tester, context=context)
    assert page.status_code == 200 and "preview" in page.text.lower()
    user = account(engine, lms, tester.sub)
    assert member_role(engine, course.id, user.id) is None
    assert "grader_session" not in page.headers.get("set-cookie", "")


def test_deep_linking_returns_the_chosen_assignments_signed_by_the_tool(lms, engine, client) -> None:
    course = Course(client, make_instructor(engine))
    first, second = course.assignment(title="Homework 1"), course.assignment(title="Homework 2")
    context = unique("ctx")
    link(engine, lms, context, course.id)
    teacher = LmsUser(unique("sub"), [INSTRUCTOR])
    return_url = lms.issuer + "/courses/1/deep_linking_response"
    page = lms.launch(teacher, context=context, deep_link_return_url=return_url, data="opaque-data")
    assert page.status_code == 200, page.text
    assert f'name="assignment" value="{first}"' in page.text and ">Add</button>" in page.text
    assert "frame-ancestors " + lms.issuer in page.headers["content-security-policy"]
    launch_id = re.search(r'name="launch" value="([^"]+)"', page.text).group(1)
    answer = lms.client.post("/lti/deep-link", data={"launch": launch_id, "assignment": [first, second]})
    assert answer.status_code == 200
    assert f'action="{return_url}"' in answer.text and "data-autopost" in answer.text
    assert "form-action 'self' " + lms.issuer in answer.headers["content-security-policy"]
    token = re.search(r'name="JWT" value="([^"]+)"', answer.text).group(1)
    items = lms.deep_linking_items(token, lms.client.get("/lti/jwks").json())
    assert [i["custom"] for i in items] == [{"assignment": first}, {"assignment": second}]
    assert [i["type"] for i in items] == ["ltiResourceLink", "ltiResourceLink"]
    assert items[0]["lineItem"]["resourceId"] == first and items[0]["lineItem"]["label"] == "Homework 1"
    assert items[0]["lineItem"]["scoreMaximum"] > 0
    import jwt

    header, claims = jwt.get_unverified_header(token), jwt.decode(token, options={"verify_signature": False})
    assert header["kid"] in {k["kid"] for k in lms.client.get("/lti/jwks").json()["keys"]}
    assert claims["aud"] == lms.issuer and claims["iss"] == lms.client_id
    assert claims["https://purl.imsglobal.org/spec/lti-dl/claim/data"] == "opaque-data"
    assert claims["https://purl.imsglobal.org/spec/lti/claim/deployment_id"] == lms.deployment
    # the launch is used once
    assert lms.client.post("/lti/deep-link", data={"launch": launch_id, "assignment": first}).status_code == 404


def test_a_learner_cannot_deep_link(lms, engine, client) -> None:
    course = Course(client, make_instructor(engine))
    context = unique("ctx")
    link(engine, lms, context, course.id)
    page = lms.launch(LmsUser(unique("sub"), [LEARNER]), context=context, deep_link_return_url=lms.issuer + "/dl")
    assert page.status_code == 403 and 'name="assignment"' not in page.text


def storage_page(html: str, mode: str) -> dict[str, str]:
    """The data attributes of the platform-storage element (what lti.js acts on)."""
    tag = re.search(rf'<[a-z]+ [^>]*data-lti-storage="{mode}"[^>]*>', html).group(0)
    return {m.group(1): m.group(2).replace("&amp;", "&") for m in re.finditer(r'data-([a-z-]+)="([^"]*)"', tag)}


def test_platform_storage_binds_the_state_to_the_browser(lms, engine, client) -> None:
    """The login asks for platform storage: the page puts the state in the platform's frame and goes
    on to the platform; the launch reads it back before anything else happens."""
    course = Course(client, make_instructor(engine))
    assignment = course.assignment()
    context = unique("ctx")
    link(engine, lms, context, course.id)
    params = {
        "iss": lms.issuer,
        "login_hint": "u",
        "target_link_uri": TOOL + "/lti/launch",
        "lti_storage_target": "post_message_forwarding",
    }
    login = lms.client.get("/lti/login", params=params)
    assert login.status_code == 200 and "x-frame-options" not in login.headers
    put = storage_page(login.text, "put")
    assert put["target"] == "post_message_forwarding" and put["origin"] == lms.issuer
    state = put["value"]
    assert put["key"] == f"state_{state}"
    onward = dict(parse_qsl(urlsplit(put["next"]).query))
    assert put["next"].startswith(lms.auth_url + "?") and onward["state"] == state
    assert "<script src=" in login.text
    claims = lms.claims(onward["nonce"], sub=unique("sub"), LTI_context={"id": context})
    page = lms.post_launch(lms.forge(claims), state)
    assert page.status_code == 200 and "grader_session" not in page.headers.get("set-cookie", "")
    get = storage_page(page.text, "get")
    assert get["key"] == f"state_{state}" and get["origin"] == lms.issuer
    launch_id = re.search(r'name="launch" value="([^"]+)"', page.text).group(1)
    # what another browser's storage would answer: nothing, or another value
    wrong = lms.client.post("/lti/launch/confirm", data={"launch": launch_id, "value": "another"})
    assert wrong.status_code == 401 and '<code class="lti-check">state</code>' in wrong.text
    assert lms.client.post("/lti/launch/confirm", data={"launch": launch_id, "value": state}).status_code == 404

    # a second login, whose state the storage gives back as it was put
    login = lms.client.get("/lti/login", params=params)
    state = storage_page(login.text, "put")["value"]
    nonce = dict(parse_qsl(urlsplit(storage_page(login.text, "put")["next"]).query))["nonce"]
    claims = lms.claims(nonce, sub=unique("sub"), LTI_context={"id": context})
    claims["https://purl.imsglobal.org/spec/lti/claim/custom"] = {"assignment": assignment}
    page = lms.post_launch(lms.forge(claims), state)
    launch_id = re.search(r'name="launch" value="([^"]+)"', page.text).group(1)
    confirmed = lms.client.post("/lti/launch/confirm", data={"launch": launch_id, "value": state})
    assert confirmed.status_code == 303 and "partitioned" in confirmed.headers["set-cookie"].lower()
    onward_page = lms.client.get(confirmed.headers["location"])
    assert onward_page.headers["location"] == f"/courses/{course.id}/assignments/{assignment}"
