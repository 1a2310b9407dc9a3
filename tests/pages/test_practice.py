"""The practice page: open under the assignment's setting and the student's own terms (by default
after their due date, on a randomized set once nobody can still submit), fresh variants from a
signed token, answers graded with the same feedback and the worked solution, and nothing stored."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest

from api.pages.students.practice import practice_token

from factories import Course, make_instructor
from page_client import Browser

ANSWER = "3*3*10*40"  # conv-pool-basics ex4.conv1_params without its 40 biases: bias-omitted


def _practice(app, course: Course, headers: dict[str, str], aid: str) -> tuple[Browser, str]:
    browser = Browser(app).signed_in(headers["Authorization"].removeprefix("Bearer "))
    return browser, f"/courses/{course.id}/assignments/{aid}/practice"


def _token(client, course: Course, aid: str, seed: int) -> str:
    """The token the server signs for practice variant ``seed`` (from the assignment's variant
    secret, which staff may read)."""
    assignment = client.get(f"{course.path}/assignments/{aid}", headers=course.instructor).json()
    terms = SimpleNamespace(course_id=course.id, id=aid, variant_secret=assignment["variant_secret"])
    return practice_token(terms, seed)


RANDOMIZED, FIXED = "conv-arithmetic", "conv-pool-basics"
#: Practice open before the due date on a randomized set: every student sees their own answers.
OPEN = {"practice": "always", "release_answers": "immediately"}


@pytest.mark.parametrize(
    ("problem_set", "practice", "release", "due_in_days", "closes_in_days", "extension_in_days", "open_"),
    [
        # a randomized set: a practice variant may be a graded one, so it opens once nobody can submit
        (RANDOMIZED, None, None, 1, None, None, False),  # the default: after the due date
        (RANDOMIZED, None, None, -1, None, None, False),  # late work accepted (it never closes)
        (RANDOMIZED, None, None, -2, 1, None, False),  # late work accepted until tomorrow
        (RANDOMIZED, None, None, -2, -1, None, True),  # closed for everyone
        (RANDOMIZED, None, None, -2, -1, 2, False),  # the student's own due date has not passed
        (RANDOMIZED, "always", None, 1, None, None, False),  # before the due date: nobody has answers
        (RANDOMIZED, "always", "immediately", 1, None, None, True),  # everyone sees their own answers
        (RANDOMIZED, "never", None, -2, -1, None, False),
        # a fixed set: its one variant is the graded one, so practice opens only with the answers
        (FIXED, None, None, -1, None, None, False),  # answers never released (the default)
        (FIXED, "always", None, 1, None, None, False),
        (FIXED, "always", "immediately", 1, None, None, True),
        (FIXED, None, "after_close", -1, -0.5, None, True),
        (FIXED, None, "after_close", -1, -0.5, 2, False),  # the student may still submit: no answers
        (FIXED, "never", "immediately", -1, None, None, False),
    ],
)
def test_practice_opens_under_the_setting_and_the_students_terms(
    app, client, engine, problem_set, practice, release, due_in_days, closes_in_days, extension_in_days, open_
) -> None:
    course = Course(client, make_instructor(engine))
    now = datetime.now(UTC)
    fields = {"due_at": (now + timedelta(days=due_in_days)).isoformat()}
    if practice:
        fields["practice"] = practice
    if release:
        fields["release_answers"] = release
    if closes_in_days is not None:
        fields["closes_at"] = (now + timedelta(days=closes_in_days)).isoformat()
    aid = course.assignment(problem_set, **fields)
    student, headers = course.student()
    if extension_in_days is not None:
        later = {"due_at": (now + timedelta(days=extension_in_days)).isoformat()}
        assert client.put(
            f"{course.path}/assignments/{aid}/extensions/{student}", json=later, headers=course.instructor
        )
    browser, path = _practice(app, course, headers, aid)
    token = _token(client, course, aid, 5)
    page = browser.get(f"{path}?variant={token}")
    assert page.status_code == (200 if open_ else 403)
    assert ("Check my answers" in page.text) is open_
    if not open_ and problem_set == FIXED:
        assert "opens only once the answers are released" in page.text
    # answering is refused alike, and the refusal holds no worked solution
    graded = browser.post(path, {"variant": token, "ex4.conv1_params": ANSWER, "c1.output": "[[0]]"})
    assert graded.status_code == (200 if open_ else 403)
    assert ("Worked solution" in graded.text) is open_
    assignment = browser.get(f"/courses/{course.id}/assignments/{aid}")
    assert ('id="practice-link"' in assignment.text) is open_
    listed = client.get(f"{course.path}/assignments/{aid}", headers=headers).json()
    assert listed["practice"] == (practice or "after_due")


def test_a_fresh_variant_is_graded_with_its_solution_and_nothing_is_stored(app, client, engine) -> None:
    course = Course(client, make_instructor(engine))
    aid = course.assignment("conv-arithmetic", **OPEN)  # a randomized set
    _, headers = course.student()
    browser, path = _practice(app, course, headers, aid)
    fresh = browser.get(path)
    assert fresh.status_code == 303 and re.fullmatch(rf"{path}\?variant=\d+\.[0-9a-f]{{32}}", fresh.headers["location"])
    one, two = _token(client, course, aid, 1), _token(client, course, aid, 2)
    first, second = browser.get(f"{path}?variant={one}"), browser.get(f"{path}?variant={two}")
    assert "practice variant 1" in first.text and first.text != second.text  # other numbers
    # (a value no variant's output holds: some variants' right answer is a 1×1 map of 0)
    graded = browser.post(path, {"variant": two, "c1.output": "[[-987654.5]]"})
    assert graded.status_code == 200
    assert "Graded for practice: nothing was recorded." in graded.text
    assert graded.text.count("Worked solution") == len(re.findall(r'name="c\d\.\w+"', graded.text))
    assert "Your shape is" in graded.text or "Incorrect" in graded.text
    # nothing reaches the submissions, the gradebook or the statistics
    assert client.get(f"{course.path}/assignments/{aid}/submissions", headers=course.instructor).json() == []
    gradebook = client.get(f"{course.path}/assignments/{aid}/gradebook", headers=course.instructor).json()
    assert [(row["attempts"], row["submission"]) for row in gradebook["students"]] == [(0, None)]
    stats = client.get(f"{course.path}/assignments/{aid}/stats", headers=course.instructor)
    assert stats.status_code == 200 and stats.json()["submissions"] == 0
    assert all(key["submissions"] == 0 for key in stats.json()["keys"].values())


def test_a_named_mistake_in_practice_gets_the_same_feedback(app, client, engine) -> None:
    course = Course(client, make_instructor(engine))
    aid = course.assignment(practice="always", release_answers="immediately")  # fixed numbers
    _, headers = course.student()
    browser, path = _practice(app, course, headers, aid)
    assert browser.get(path).status_code == 200  # a fixed set: one variant, no token
    graded = browser.post(path, {"ex4.conv1_params": ANSWER})
    assert graded.status_code == 200
    assert "bias-omitted" in graded.text
    assert "parameters = C_out·C_in·K·K + C_out = 40·10·3·3 + 40 = 3,640" in graded.text
    assert client.get(f"{course.path}/assignments/{aid}/submissions", headers=course.instructor).json() == []


def test_a_fresh_variant_of_one_problem_alone(app, client, engine) -> None:
    course = Course(client, make_instructor(engine))
    aid = course.assignment("conv-arithmetic", **OPEN)
    _, headers = course.student()
    browser, path = _practice(app, course, headers, aid)
    fresh = browser.get(path + "?problem=c5")
    assert fresh.status_code == 303
    assert re.fullmatch(rf"{path}\?variant=\d+\.[0-9a-f]{{32}}&problem=c5", fresh.headers["location"])
    token = _token(client, course, aid, 3)
    alone = browser.get(f"{path}?variant={token}&problem=c5")
    everything = browser.get(f"{path}?variant={token}")
    assert set(re.findall(r'name="(c\d)\.', alone.text)) == {"c5"}
    assert len(set(re.findall(r'name="(c\d)\.', everything.text))) > 1
    # the same seed draws the same numbers for c5 whether shown alone or with the others
    statement = re.compile(r'id="problem-\d+">[^<]*</h2>.*?<p class="statement">(.*?)</p>', re.S)
    assert statement.findall(alone.text)[0] in everything.text
    graded = browser.post(path, {"variant": token, "problem": "c5", "c5.shape": "1x1x1"})
    assert set(re.findall(r'name="(c\d)\.', graded.text)) == {"c5"} and "Worked solution" in graded.text
