"""The statistics page: who may read it, its charts measuring the statistics service's numbers (read
back from the SVG), the tables beside them, and the regrade button (owner and instructors only)."""

from __future__ import annotations

import re
import time
import xml.etree.ElementTree as ET
from html import unescape

import pytest

from api.pages.kit.charts import BAR_WIDTH, PLOT_HEIGHT, bin_counts
from api.pages.staff.stats_view import bins_for
from grader.comparison.mistakes import EXPLANATIONS

from page_client import Browser
from staff_course import StaffCourse, staff_course

SVG = "{http://www.w3.org/2000/svg}"
#: Lengths are written to a tenth of a unit.
DRAWN = 0.051


@pytest.fixture(scope="module")
def graded(app, client, engine) -> StaffCourse:
    return staff_course(app, client, engine)


def figure(html: str, figure_id: str) -> str:
    found = re.search(rf'<figure class="chart-pair[^"]*" id="{re.escape(figure_id)}">(.*?)</figure>', html, re.S)
    assert found, f"no figure {figure_id!r}"
    return found.group(1)


def chart(html: str, figure_id: str) -> ET.Element:
    """The figure's SVG, parsed as XML (so it is well-formed)."""
    svg = re.search(r"<svg .*?</svg>", figure(html, figure_id), re.S)
    assert svg, f"no chart in {figure_id!r}"
    return ET.fromstring(svg.group(0))


def bars(svg: ET.Element) -> dict[str, float]:
    """Each bar's label (its whole text, from its <title>) → its drawn length."""
    found = {}
    for group in svg.findall(f"{SVG}g"):
        title = group.findtext(f"{SVG}title") or ""
        rect = group.find(f"{SVG}rect")
        assert rect is not None
        found[title.rsplit(": ", 1)[0]] = float(rect.get("width", "nan"))
    return found


def table_rows(html: str, figure_id: str) -> list[list[str]]:
    body = figure(html, figure_id).split("<tbody>", 1)[1]
    return [
        [unescape(re.sub(r"<[^>]+>", "", cell)) for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
        for row in re.findall(r"<tr>(.*?)</tr>", body, re.S)
    ]


@pytest.fixture(scope="module")
def stats_page(graded: StaffCourse) -> str:
    page = graded.browser("instructor").get(graded.page + "/stats")
    assert page.status_code == 200, page.text
    return page.text


# --- who may read it ---------------------------------------------------------------------------


@pytest.mark.parametrize(("role", "status"), [("owner", 200), ("instructor", 200), ("ta", 200), ("student", 403)])
def test_staff_read_the_statistics_and_a_student_is_refused_as_by_the_api(graded, role, status) -> None:
    page = graded.browser(role).get(graded.page + "/stats")
    assert page.status_code == status
    assert ("<svg" in page.text) is (status == 200)


def test_an_outsider_finds_no_such_course_and_no_session_is_sent_to_sign_in(graded: StaffCourse) -> None:
    assert graded.browser("outsider").get(graded.page + "/stats").status_code == 404
    anonymous = Browser(graded.app).get(graded.page + "/stats")
    assert anonymous.status_code == 303 and anonymous.headers["location"] == f"/?next={graded.page}/stats"


# --- the charts measure the services' numbers --------------------------------------------------


def test_the_histogram_counts_the_gradebooks_counted_scores(graded: StaffCourse, stats_page: str) -> None:
    book = graded.rest("/gradebook").json()
    scores = [row["score"] for row in book["students"] if row["score"] is not None]
    maximum = graded.rest().json()["max_score"]
    expected = bin_counts(scores, maximum=maximum, bins=bins_for(maximum))
    assert maximum == 9 and len(expected) == 9  # a range per point: [0, 1), [1, 2), ..., [8, 9]
    svg = chart(stats_page, "scores")
    heights = [float(rect.get("height", "nan")) for rect in svg.iter(f"{SVG}rect")]
    assert heights == pytest.approx([PLOT_HEIGHT * count / max(expected) for count in expected], abs=DRAWN)
    assert [int(row[1]) for row in table_rows(stats_page, "scores")] == expected
    assert sum(expected) == 3 and "1 student has not submitted." in stats_page


def test_share_correct_bars_and_table_are_the_stats_services(graded: StaffCourse, stats_page: str) -> None:
    keys = graded.rest("/stats").json()["keys"]
    drawn = bars(chart(stats_page, "correct"))
    answered = {key: entry for key, entry in keys.items() if entry["share_correct"] is not None}
    assert drawn == pytest.approx({k: BAR_WIDTH * e["share_correct"] for k, e in answered.items()}, abs=DRAWN)
    rows = {row[0]: row for row in table_rows(stats_page, "correct")}
    assert set(rows) == set(keys)
    for key, entry in keys.items():
        assert rows[key][1:4] == [str(entry["submissions"]), str(entry["students"]), str(entry["answered"])]
    assert rows["ex4.conv1_params"][4:] == ["0.333", "33%"]


def test_mistake_bars_count_each_code_and_the_table_explains_it(graded: StaffCourse, stats_page: str) -> None:
    keys = graded.rest("/stats").json()["keys"]
    expected = {f"{key}: {code}": n for key, entry in keys.items() for code, n in entry["misconceptions"].items()}
    assert expected == {"ex4.conv1_params: bias-omitted": 2, "ex3.max: pooling-type-swapped": 1}
    drawn = bars(chart(stats_page, "mistakes"))
    longest = max(expected.values())
    assert drawn == pytest.approx({label: BAR_WIDTH * n / longest for label, n in expected.items()}, abs=DRAWN)
    rows = table_rows(stats_page, "mistakes")
    assert [(key, code, int(n)) for key, code, n, _ in rows] == [
        (*label.split(": "), n) for label, n in expected.items()
    ]
    assert all(explained == EXPLANATIONS[code] for _, code, _, explained in rows)


def test_commonest_wrong_answers_per_key(graded: StaffCourse, stats_page: str) -> None:
    keys = graded.rest("/stats").json()["keys"]
    for key, entry in keys.items():
        wrong = entry["commonest_wrong_answers"]
        if not wrong:
            assert f'id="wrong-{key}"' not in stats_page
            continue
        drawn = bars(chart(stats_page, f"wrong-{key}"))
        longest = max(group["count"] for group in wrong)
        assert drawn == pytest.approx({g["answer"]: BAR_WIDTH * g["count"] / longest for g in wrong}, abs=DRAWN)
        # grouped as read (the set is not randomized): the example would repeat the answer
        assert table_rows(stats_page, f"wrong-{key}") == [[g["answer"], str(g["count"])] for g in wrong]
    assert keys["ex4.conv1_params"]["commonest_wrong_answers"][0]["count"] == 2


def test_counted_attempts_give_the_services_counted_statistics(graded: StaffCourse) -> None:
    (_, headers) = graded.students[0]
    graded.course.submit(graded.assignment, headers, {"ex4.conv1_params": "3600"})  # a worse second attempt
    every = graded.browser("owner").get(graded.page + "/stats?attempts=all").text
    counted = graded.browser("owner").get(graded.page + "/stats?attempts=counted").text
    for attempts, page in (("all", every), ("counted", counted)):
        keys = graded.rest("/stats", attempts=attempts).json()["keys"]
        rows = {row[0]: row for row in table_rows(page, "correct")}
        assert rows["ex4.conv1_params"][1] == str(keys["ex4.conv1_params"]["submissions"])
    assert rows["ex4.conv1_params"][1] == "3" and '<option value="counted" selected>' in counted


def test_an_empty_assignment_says_so_rather_than_drawing_nothing(graded: StaffCourse) -> None:
    empty = graded.course.assignment()
    page = graded.browser("owner").get(f"/courses/{graded.course.id}/assignments/{empty}/stats")
    assert page.status_code == 200
    assert "nothing to show yet" in page.text and "No wrong answers yet." in page.text
    assert chart(page.text, "scores").get("role") == "img"


def test_student_text_in_wrong_answers_is_escaped(graded: StaffCourse) -> None:
    assignment = graded.course.assignment()
    (_, headers) = graded.students[3]
    sent = graded.course.submit(assignment, headers, {"ex4.shapes": "<script>alert(1)</script>"})
    assert sent.status_code in (201, 422)
    page = graded.browser("owner").get(f"/courses/{graded.course.id}/assignments/{assignment}/stats")
    assert "<script>alert" not in page.text


# --- regrade -----------------------------------------------------------------------------------


def job_when_settled(graded: StaffCourse, job_id: int, *, runs: bool) -> dict:
    """The job as the API shows it: once it is over when a runner ``runs`` it (SQLite: the
    service's own thread); as it is otherwise (on PostgreSQL no ``grader worker`` runs in these
    tests: it stays queued, a state the page must show too)."""
    deadline = time.monotonic() + 30
    while True:
        job = graded.client.get(f"/api/v1/jobs/{job_id}", headers=graded.course.instructor).json()
        if not runs or job["status"] in ("done", "failed") or time.monotonic() > deadline:
            return job
        time.sleep(0.1)


@pytest.mark.parametrize("role", ["owner", "instructor"])
def test_owner_and_instructors_start_a_regrade_and_see_its_progress(graded: StaffCourse, role: str, backend) -> None:
    browser = graded.browser(role)
    page = browser.get(graded.page + "/stats")
    assert f'action="{graded.page}/regrade"' in page.text
    started = browser.post(graded.page + "/regrade")
    assert started.status_code == 303
    job_id = int(re.search(r"\?job=(\d+)", started.headers["location"]).group(1))
    job = job_when_settled(graded, job_id, runs=backend == "sqlite")
    assert job["status"] == ("done" if backend == "sqlite" else "queued")
    assert job["kind"] == "regrade" and job["total"] == len(graded.rest("/submissions").json())
    fragment = browser.get(f"{graded.page}/regrade/{job_id}")
    shown = browser.get(started.headers["location"])
    for html in (fragment.text, shown.text):
        assert f'<progress id="regrade-bar" max="{job["total"]}" value="{job["done"]}">' in html
        polling = f'hx-get="{graded.page}/regrade/{job_id}"' in html
        assert polling is (job["status"] not in ("done", "failed"))
    if job["status"] == "done":
        assert f"Regraded {job['done']} of {job['total']} submissions; {job['changed']} changed" in fragment.text
        assert "<script" not in shown.text  # nothing left to poll: no script
    else:  # still queued: the page polls with htmx, or reloads itself without JavaScript
        assert f"Regrading… {job['done']} of {job['total']}" in fragment.text
        assert 'http-equiv="refresh"' in shown.text and "htmx.min.js" in shown.text
    assert fragment.text.lstrip().startswith('<div id="regrade-progress"')  # the fragment alone


def test_a_job_of_another_assignment_is_not_shown_here(graded: StaffCourse) -> None:
    other = graded.course.assignment()
    started = graded.client.post(f"{graded.course.path}/assignments/{other}/regrade", headers=graded.course.instructor)
    assert started.status_code == 202
    browser = graded.browser("owner")
    assert browser.get(f"{graded.page}/regrade/{started.json()['job']}").status_code == 404
    assert browser.get(f"{graded.page}/stats?job={started.json()['job']}").status_code == 404
    assert browser.get(f"{graded.page}/regrade/999999").status_code == 404


def test_a_ta_sees_no_regrade_button_and_is_refused_as_by_the_api(graded: StaffCourse) -> None:
    browser = graded.browser("ta")
    assert "/regrade" not in browser.get(graded.page + "/stats").text
    api = graded.client.post(graded.api + "/regrade", headers={"Authorization": f"Bearer {graded.tokens['ta']}"})
    page = browser.post(graded.page + "/regrade")
    assert api.status_code == page.status_code == 403


def test_a_regrade_without_the_csrf_token_is_refused(graded: StaffCourse) -> None:
    browser = graded.browser("owner")
    browser.get(graded.page + "/stats")
    assert browser.post(graded.page + "/regrade", csrf=False).status_code == 403
