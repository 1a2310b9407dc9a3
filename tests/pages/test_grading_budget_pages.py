"""The pages that read or grade answers (the live preview under an answer, "Check", submitting,
practice, and the assignment page showing how the last answers read) answer a student past their
budget of grading work (:mod:`api.kit.quotas`) with the sentence, status 429 and ``Retry-After``: a
fragment where htmx asked, a page otherwise. Each grading is charged five seconds here, on a clock
that stands still, so the first one puts the student in debt."""

from __future__ import annotations

from types import SimpleNamespace

from api.pages.students.practice import practice_token

from factories import OWING, Course, make_instructor
from page_client import Browser


def test_a_student_past_the_budget_is_told_so_by_every_page_that_grades(app, client, engine, costly_grading) -> None:
    course = Course(client, make_instructor(engine))
    # a randomized set: practice is open (its answers released at once, so no practice variant is news)
    aid = course.assignment("conv-arithmetic", practice="always", release_answers="immediately")
    secret = client.get(f"{course.path}/assignments/{aid}", headers=course.instructor).json()["variant_secret"]
    token = practice_token(SimpleNamespace(course_id=course.id, id=aid, variant_secret=secret), 5)
    _, headers = course.student()
    browser = Browser(app).signed_in(headers["Authorization"].removeprefix("Bearer "))
    page = f"/courses/{course.id}/assignments/{aid}"
    assert browser.get(page).status_code == 200  # reading the (no) answers shown: the one grading in budget
    htmx = {"X-CSRF-Token": browser.csrf, "HX-Request": "true"}
    fragment = browser.client.post(f"{page}/preview?key=c1.output", data={"c1.output": "[[1]]"}, headers=htmx)
    assert fragment.status_code == 429 and fragment.headers["Retry-After"] == "10"
    assert OWING in fragment.text and "<html" not in fragment.text
    posts = {
        "check": (page, {"action": "check", "c1.output": "[[1]]"}),
        "submit": (page, {"action": "submit", "c1.output": "[[1]]"}),
        "practice": (f"{page}/practice", {"variant": token, "c1.output": "[[1]]"}),
    }
    for name, (path, form) in posts.items():
        refused = browser.post(path, form)
        assert refused.status_code == 429, (name, refused.text[:500])
        assert refused.headers["Retry-After"] == "10" and OWING in refused.text and "<html" in refused.text
    # refused before it is read (api.gate): without its CSRF token it would have been a 403
    unread = browser.post(f"{page}/practice", {"variant": token}, csrf=False)
    assert unread.status_code == 429 and OWING in unread.text and unread.headers["Retry-After"] == "10"
    assert browser.get(page).status_code == 429  # the page itself reads the answers it shows
    assert client.get(f"{course.path}/assignments/{aid}/submissions", headers=headers).json() == []
