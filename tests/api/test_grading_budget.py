"""Past a student's budget of grading work (:mod:`api.kit.quotas`) the REST preview and submitting
answer 429, with the sentence and ``Retry-After``, before anything is read and with nothing
stored; another student is not held back. Each grading is charged five seconds here, on a clock
that stands still, so the first one puts the student in debt."""

from __future__ import annotations

import itertools

from api.kit.quotas import GradingBudget

from factories import OWING, Course, make_instructor

ANSWERS = {"answers": {"ex4.conv1_params": "3640"}}


def test_past_its_budget_a_student_is_answered_429_and_nothing_is_stored(client, engine, costly_grading) -> None:
    course = Course(client, make_instructor(engine))
    aid = course.assignment(max_attempts=3)
    _, headers = course.student()
    _, other = course.student()
    path = f"{course.path}/assignments/{aid}"
    assert client.post(f"{path}/submissions", json=ANSWERS, headers=headers).status_code == 201
    for door, answers in (("preview", ANSWERS), ("submissions", ANSWERS), ("submissions", {"answers": {"x.y": "?"}})):
        refused = client.post(f"{path}/{door}", json=answers, headers=headers)
        assert refused.status_code == 429, refused.text  # (answers that would be refused are not even read)
        assert refused.json() == {"detail": OWING}
        assert refused.headers["Retry-After"] == "10"
    assert [s["attempt"] for s in client.get(f"{path}/submissions", headers=headers).json()] == [1]
    assert client.post(f"{path}/preview", json=ANSWERS, headers=other).json()["attempts_left"] == 3


def test_once_refused_a_caller_is_refused_before_its_body_is_read_while_the_budget_would(app, client, engine) -> None:
    """The application's refusal is remembered by the caller's token (:mod:`api.gate`): the next
    requests through a grading door are refused before their body is read, however malformed or
    large it is, until the budget would admit them again; nobody else's requests are affected."""
    kept, now = app.state.grading_budget, [0.0]
    meter = itertools.count(step=5.0)
    app.state.grading_budget = GradingBudget(burst=3.0, refill=0.2, clock=lambda: now[0], work=lambda: next(meter))
    try:
        course = Course(client, make_instructor(engine))
        aid = course.assignment()
        _, headers = course.student()
        _, other = course.student()
        path = f"{course.path}/assignments/{aid}"
        assert client.post(f"{path}/submissions", json=ANSWERS, headers=headers).status_code == 201
        assert client.post(f"{path}/preview", json=ANSWERS, headers=headers).status_code == 429  # noted
        too_large = b"x" * (app.state.settings.max_body_bytes + 1)
        for body in (b"{not json", too_large):
            for door in ("preview", "submissions"):
                refused = client.post(
                    f"{path}/{door}", content=body, headers={**headers, "Content-Type": "application/json"}
                )
                assert refused.status_code == 429, refused.text  # not 422, not 413: the body was not read
                assert refused.json() == {"detail": OWING} and refused.headers["Retry-After"] == "10"
        assert client.post(f"{path}/preview", content=b"{not json", headers=other).status_code == 422
        assert client.get(f"{path}/submissions", headers=headers).status_code == 200  # not a grading door
        now[0] += 9.0
        assert client.post(f"{path}/preview", json=ANSWERS, headers=headers).headers["Retry-After"] == "1"
        now[0] += 1.0  # the debt repaid: through the gate, and admitted
        assert client.post(f"{path}/preview", json=ANSWERS, headers=headers).status_code == 200
    finally:
        app.state.grading_budget = kept
