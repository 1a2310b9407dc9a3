"""Question pools on the assignment page: a student's page shows only the problems drawn for them,
in their order (staff viewing the student see the same; staff's own page every problem), and an
answer to another problem posted by hand is refused on the page, using no attempt."""

from __future__ import annotations

import re
from collections import Counter
from html import unescape
from typing import Any

from fastapi.testclient import TestClient
from pooled_course import part_keys, pooled_course, problem_ids, read_detail

from page_client import Browser

TITLES = {
    "intro": "Why pool",
    "max2": "Max pooling, 2×2",
    "max3": "Max pooling, 3×3 with stride 1",
    "avg2": "Average pooling, 2×2",
    "s1": "Output size, stride 1",
    "s2": "Output size, stride 2",
    "s3": "Output size, padding 1",
    "s4": "Output size, a 1×1 kernel",
}


def _shown(page: str) -> list[str]:
    """The ids of the problems whose titles the page shows, in the page's order."""
    found = [(page.find(title), problem) for problem, title in TITLES.items() if title in page]
    return [problem for _, problem in sorted(found)]


def test_a_student_page_shows_their_own_problems_in_their_order(app: Any, client: TestClient, engine: Any) -> None:
    course = pooled_course(client, engine)
    aid = course.assignment(problem_set="pooled-quiz")
    ((student, headers),) = course.students(1)
    drawn = problem_ids(read_detail(course, aid, headers))
    browser = Browser(app).signed_in(headers["Authorization"].removeprefix("Bearer "))
    path = f"/courses/{course.id}/assignments/{aid}"
    assert _shown(browser.get(path).text) == drawn
    undrawn = next(problem for problem in ("max2", "max3", "avg2") if problem not in drawn)
    key = f"{undrawn}.{'avg' if undrawn == 'avg2' else 'max'}"
    sent = browser.client.post(path, data={"csrf": browser.csrf, key: "[[1]]", "action": "submit"})
    assert sent.status_code == 422
    assert f"{key} belong(s) to problems not drawn for you" in sent.text
    assert read_detail(course, aid, headers)["attempts_used"] == 0
    staff = Browser(app).signed_in(course.instructor["Authorization"].removeprefix("Bearer "))
    assert _shown(staff.get(f"{path}?student={student}").text) == drawn
    staff_page = staff.get(path).text
    assert _shown(staff_page) == list(TITLES)
    assert "Each student gets 1 of max2, max3, avg2, 2 of s1, s2, s3, s4" in staff_page
    gradebook = staff.get(f"{path}/gradebook").text
    assert gradebook.count("not drawn</span>") == 8 - len(drawn)  # one cell per key of a problem not drawn


def test_the_statistics_page_counts_each_key_over_the_students_who_drew_it(
    app: Any, client: TestClient, engine: Any
) -> None:
    """The table beside the share-correct chart gives each key's students: of a pooled problem,
    only those who drew it (as the statistics JSON counts them)."""
    course = pooled_course(client, engine)
    aid = course.assignment(problem_set="pooled-quiz")
    drew: Counter[str] = Counter()
    for student, headers in course.students(6):
        keys = part_keys(read_detail(course, aid, headers))
        drew.update(keys)
        answers = {key: str(value) for key, value in course.reference(aid, student).items() if key in keys}
        assert course.submit(aid, headers, answers).status_code == 201
    owner = Browser(app).signed_in(course.instructor["Authorization"].removeprefix("Bearer "))
    page = owner.get(f"/courses/{course.id}/assignments/{aid}/stats").text
    table = page.split('id="correct"', 1)[1].split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    rows = [
        [unescape(re.sub(r"<[^>]+>", "", cell)) for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
        for row in re.findall(r"<tr>(.*?)</tr>", table, re.S)
    ]
    students = {row[0]: int(row[2]) for row in rows}
    assert students == {key: drew[key] for key in students} and set(students) >= set(drew)
    assert students["intro.learns"] == 6
    assert sum(students[key] for key in ("max2.max", "max3.max", "avg2.avg")) == 6


def test_the_preview_of_a_pooled_set_is_one_students_draw_with_a_switch_to_another(app, client, engine) -> None:
    """Not "the same for all": the preview draws as a student would, and links another student's draw."""
    course = pooled_course(client, engine)
    staff = Browser(app).signed_in(course.instructor["Authorization"].removeprefix("Bearer "))
    first = staff.get(f"/courses/{course.id}/problem-sets?set=pooled-quiz").text
    assert 'id="preview-draw"' in first and "seed 1" in first
    switch = re.search(r'<a href="(\?[^"]*seed=2[^"]*)#preview">another student.s draw</a>', first)
    assert switch is not None
    drawn = [re.findall(r'<h4>[^<]*<span class="muted mono">([^<]+)</span>', page) for page in (first,)]
    for seed in range(2, 12):  # some other student draws other problems from the pools
        other = staff.get(f"/courses/{course.id}/problem-sets?set=pooled-quiz&seed={seed}").text
        drawn.append(re.findall(r'<h4>[^<]*<span class="muted mono">([^<]+)</span>', other))
    assert len({tuple(d) for d in drawn}) > 1 and all(len(d) == len(drawn[0]) for d in drawn)
