"""Practice, attacked: a late student looked for the practice seed whose variant had their own graded
numbers (found offline with the project's code: the seed was in the address) and read its worked
solution while their assignment still accepted their work. Practice on a randomized set now opens
only once nobody can still submit, and a variant is named by a token the server signed, so seeds
typed in, enumerated or forged are refused."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from urllib.parse import parse_qs, urlsplit

import pytest

from api.pages.students.practice import practice_token, practice_variant
from problems.loader import load_bank

from factories import Course, make_instructor
from page_client import Browser

RANDOMIZED = "conv-arithmetic"
#: The seed that drew one trial student's own numbers under the old addresses, and a few others.
SEEDS = (230, 0, 1, 5, 1295)


def _browser(app, headers: dict[str, str]) -> Browser:
    return Browser(app).signed_in(headers["Authorization"].removeprefix("Bearer "))


def _late_course(client, engine, *, closes_in_days: float) -> tuple[Course, str, str]:
    """A randomized set past its due date, the default practice (after the due date)."""
    course = Course(client, make_instructor(engine))
    now = datetime.now(UTC)
    fields = {
        "due_at": (now - timedelta(days=2)).isoformat(),
        "closes_at": (now + timedelta(days=closes_in_days)).isoformat(),
    }
    aid = course.assignment(RANDOMIZED, **fields)
    return course, aid, f"/courses/{course.id}/assignments/{aid}"


def _secret(client, course: Course, aid: str) -> str:
    return client.get(f"{course.path}/assignments/{aid}", headers=course.instructor).json()["variant_secret"]


def _token(client, course: Course, aid: str, seed: int) -> str:
    terms = SimpleNamespace(course_id=course.id, id=aid, variant_secret=_secret(client, course, aid))
    return practice_token(terms, seed)


def test_a_late_student_cannot_practise_while_late_work_is_accepted(app, client, engine) -> None:
    course, aid, page = _late_course(client, engine, closes_in_days=3)
    _, headers = course.student()
    browser = _browser(app, headers)
    assignment = browser.get(page)
    assert assignment.status_code == 200 and 'id="practice-link"' not in assignment.text
    # no address opens it: the fresh one, the old seeds, a signed token
    for address in ["", *(f"?seed={seed}" for seed in SEEDS), f"?variant={_token(client, course, aid, 230)}"]:
        refused = browser.get(f"{page}/practice{address}")
        assert refused.status_code == 403, address
        assert "opens only once nobody can still submit" in refused.text
        assert "Worked solution" not in refused.text and "Check my answers" not in refused.text
    answered = browser.post(f"{page}/practice", {"variant": _token(client, course, aid, 230), "c1.output": "[[0]]"})
    assert answered.status_code == 403 and "Worked solution" not in answered.text


def test_a_classmates_extension_keeps_practice_closed_for_everyone(app, client, engine) -> None:
    course, aid, page = _late_course(client, engine, closes_in_days=-1)  # closed for the class
    (on_time, headers), (extended, _) = course.students(2)
    browser = _browser(app, headers)
    assert browser.get(f"{page}/practice").status_code == 303  # closed for everyone: open
    later = {"due_at": (datetime.now(UTC) + timedelta(days=2)).isoformat()}
    granted = client.put(
        f"{course.path}/assignments/{aid}/extensions/{extended}", json=later, headers=course.instructor
    )
    assert granted.status_code in (200, 201), granted.text
    # the classmate may still submit: a practice variant could be their numbers
    closed = browser.get(f"{page}/practice?variant={_token(client, course, aid, 230)}")
    assert closed.status_code == 403 and "Worked solution" not in closed.text
    assert on_time != extended


def test_a_seed_or_a_forged_token_is_refused_once_practice_is_open(app, client, engine) -> None:
    course, _, page = _late_course(client, engine, closes_in_days=-1)  # closed for everyone
    other = course.assignment(RANDOMIZED, practice="always", release_answers="immediately")
    _, headers = course.student()
    browser = _browser(app, headers)
    fresh = browser.get(f"{page}/practice")
    assert fresh.status_code == 303
    token = parse_qs(urlsplit(fresh.headers["location"]).query)["variant"][0]
    assert browser.get(f"{page}/practice?variant={token}").status_code == 200
    seed, mac = token.split(".")
    forged = [
        *(f"seed={n}" for n in SEEDS),  # the old addresses, enumerated
        *(f"variant={n}" for n in SEEDS),  # a seed without its MAC
        f"variant={seed}.{'0' * 32}",
        f"variant={int(seed) + 1}.{mac}",  # another seed under this one's MAC
        f"variant={seed}.{mac[:-1]}{'0' if mac[-1] != '0' else '1'}",
        f"variant={_token(client, course, other, 230)}",  # signed, for another assignment
        "variant=%C2%B2.abc",  # not ASCII digits
    ]
    for address in forged:
        refused = browser.get(f"{page}/practice?{address}")
        assert refused.status_code == 400, address
        assert "not a practice variant of this assignment" in refused.text
        assert "Worked solution" not in refused.text and "Check my answers" not in refused.text
    answered = browser.post(f"{page}/practice", {"variant": f"{seed}.{'0' * 32}", "c1.output": "[[0]]"})
    assert answered.status_code == 400 and "Worked solution" not in answered.text
    no_token = browser.post(f"{page}/practice", {"seed": "230", "c1.output": "[[0]]"})
    assert no_token.status_code == 400


@pytest.mark.parametrize("seed", SEEDS)
def test_a_practice_variant_cannot_be_computed_without_the_secret(seed: int) -> None:
    """The variant a token draws is keyed by the server's MAC, not by the seed: the same seed under
    another secret (an attacker's guess) is not a token, and draws other numbers than the seed's
    old key did."""
    problem_set = load_bank()[RANDOMIZED]
    ours = SimpleNamespace(course_id="c", id="a", variant_secret="the server's")
    guess = SimpleNamespace(course_id="c", id="a", variant_secret="a guess")
    drawn = practice_variant(ours, problem_set, practice_token(ours, seed))
    assert drawn is not None and drawn[0] == seed and drawn[1] != f"practice:{seed}"
    assert practice_variant(ours, problem_set, practice_token(guess, seed)) is None
