"""The problem-sets page previews every built-in set, whatever its parts: a written part (graded by
staff) and code (run on its tests) have no reference answer, and the preview answered 500 with raw
JSON for any set holding one (``KeyError: 'q4.why'``), right after its upload too."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from problems.loader import load_bank

from factories import Course, make_instructor, unique
from page_client import Browser

SETS = sorted(Path("problems/sets").glob("*.yaml"))
BANK = load_bank()


@pytest.fixture(scope="module")
def instructor(app, client, engine) -> tuple[Course, Browser]:
    course = Course(client, make_instructor(engine))
    return course, Browser(app).signed_in(course.instructor["Authorization"].removeprefix("Bearer "))


def test_every_built_in_set_is_in_the_bank() -> None:
    assert SETS and {path.stem for path in SETS} == set(BANK)


@pytest.mark.parametrize("path", SETS, ids=lambda path: path.stem)
@pytest.mark.parametrize("variant", ["", "&seed=7"], ids=["declared", "seed"])
def test_the_preview_of_every_built_in_set_answers(instructor, path: Path, variant: str) -> None:
    course, browser = instructor
    problem_set = BANK[path.stem]
    page = browser.get(f"/courses/{course.id}/problem-sets?set={path.stem}{variant}")
    assert page.status_code == 200, page.text[:500]
    assert page.headers["content-type"].startswith("text/html")
    shown = page.text[page.text.index('<section id="preview"') :]
    keys = re.findall(r'<td class="mono">([^<]+)</td>', shown)
    assert keys and set(keys) == set(problem_set.answer_keys()) | set(problem_set.written()) | set(problem_set.code())
    # a written part and a code part each say how they are graded, in place of a reference answer
    written, code = problem_set.written(), problem_set.code()
    assert shown.count("graded by staff with its rubric") == len(written)
    for key, part in written.items():
        assert f"up to {part.max_length:,} characters" in shown, key
    assert shown.count("Code: run in the sandbox on its tests") == sum(
        1 for key in code if key not in problem_set.solve()
    )


def test_a_written_set_is_previewed_right_after_its_upload(instructor) -> None:
    course, browser = instructor
    built_in = Path("problems/sets/architectures-in-words.yaml").read_text()
    text = built_in.replace("id: architectures-in-words", f"id: {unique('words')}", 1)  # a course's own id
    stored = browser.post(f"/courses/{course.id}/problem-sets", {"set_text": text})
    assert stored.status_code == 303, stored.text[:500]
    shown = browser.get(stored.headers["location"])
    assert shown.status_code == 200, shown.text[:500]
    assert "graded by staff with its rubric" in shown.text
