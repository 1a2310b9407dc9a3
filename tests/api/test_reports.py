"""Gradebook (JSON and CSV), statistics per key, and regrading after a problem set changes."""

from __future__ import annotations

import csv
import io

import pytest

from factories import unique

RIGHT = {"ex4.conv1_params": "3640", "ex3.max": "[[9, 7], [8, 6]]"}


@pytest.mark.parametrize(("policy", "counted"), [("best", 2), ("last", 3)])
def test_gradebook_counts_the_best_or_the_last_attempt(client, course, policy, counted) -> None:
    aid = course.assignment(grade_policy=policy)
    (student, headers), (idle, _) = course.students(2)
    for answers in ({"ex3.max": "[[9, 7], [8, 6]]"}, RIGHT, {"ex4.conv1_params": "3600"}):
        assert course.submit(aid, headers, answers).status_code == 201
    response = client.get(f"{course.path}/assignments/{aid}/gradebook", headers=course.instructor)
    assert response.status_code == 200
    book = response.json()
    assert book["policy"] == policy and book["keys"][0] == "ex1.output"
    rows = {row["student"]: row for row in book["students"]}
    assert rows[student]["attempts"] == 3 and rows[student]["attempt"] == counted
    assert rows[student]["score"] == {2: 2, 3: 0}[counted]
    assert rows[student]["parts"]["ex4.conv1_params"] == {2: 1, 3: 0}[counted]
    assert rows[idle]["attempts"] == 0 and rows[idle]["score"] is None


def test_gradebook_csv_opens_in_a_spreadsheet(client, course) -> None:
    aid = course.assignment()
    roster = [
        {"id": unique("s"), "name": '=HYPERLINK("x")', "email": "a@example.edu"},
        {"id": unique("s"), "name": "Zoë"},
    ]
    tokens = course.enrol(roster)
    course.submit(aid, {"Authorization": f"Bearer {tokens[0]['token']}"}, RIGHT)
    response = client.get(f"{course.path}/assignments/{aid}/gradebook?format=csv", headers=course.instructor)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    raw = response.content
    assert raw.startswith("\ufeff".encode()) and b"\r\n" in raw
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    by_id = {row["student"]: row for row in rows}
    first, second = by_id[roster[0]["id"]], by_id[roster[1]["id"]]
    assert first["name"].startswith("'=")  # no formula injection
    assert (first["score"], first["max_score"], first["ex4.conv1_params"], first["late"]) == ("2", "9", "1", "no")
    assert second["name"] == "Zoë" and second["score"] == "" and second["attempts"] == "0"
    assert list(rows[0])[:10] == [
        *("student", "name", "email", "attempts", "attempt"),
        *("late", "days_late", "raw_score", "score", "max_score"),
    ]


def test_stats_per_key(client, course) -> None:
    aid = course.assignment()
    students = course.students(3)
    course.submit(aid, students[0][1], RIGHT)
    course.submit(aid, students[1][1], {"ex4.conv1_params": "3600"})
    course.submit(aid, students[2][1], {"ex4.conv1_params": "3,600", "ex3.max": "[[4.25, 4.25], [4.25, 3.5]]"})
    response = client.get(f"{course.path}/assignments/{aid}/stats", headers=course.instructor)
    assert response.status_code == 200
    stats = response.json()
    assert (stats["submissions"], stats["students"]) == (3, 3)
    key = stats["keys"]["ex4.conv1_params"]
    assert key["submissions"] == 3 and key["answered"] == 3
    assert key["mean_score"] == pytest.approx(1 / 3) and key["share_correct"] == pytest.approx(1 / 3)
    assert key["misconceptions"] == {"bias-omitted": 2}
    # a set that is not randomized: grouped as read ("3600" and "3,600" read alike)
    assert key["commonest_wrong_answers"][0] == {"answer": "3,600", "count": 2, "example": "3,600"}
    assert stats["keys"]["ex3.max"]["misconceptions"] == {"pooling-type-swapped": 1}
    assert stats["keys"]["ex1.output"]["answered"] == 0


def test_stats_group_a_randomized_set_by_what_wrong_answers_mean(client, course) -> None:
    """network-costs draws conv1 per student: two students one over their own count send different
    strings, which make one group; an unrelated slip is a group of its own."""
    aid = course.assignment(problem_set="network-costs")
    key = "n1.conv1_params"
    students = course.students(8)
    reference = {sid: course.reference(aid, sid)[key] for sid, _ in students}
    first = students[0]
    second = next(s for s in students[1:] if reference[s[0]] != reference[first[0]])
    third = next(s for s in students[1:] if s != second)
    course.submit(aid, first[1], {key: str(reference[first[0]] + 1)})
    course.submit(aid, second[1], {key: str(reference[second[0]] + 1)})
    course.submit(aid, third[1], {key: str(reference[third[0]] + 1000)})
    stats = client.get(f"{course.path}/assignments/{aid}/stats", headers=course.instructor).json()
    groups = {group["answer"]: group for group in stats["keys"][key]["commonest_wrong_answers"]}
    assert set(groups) == {"off by one (reference + 1)", "other"}
    one_over = groups["off by one (reference + 1)"]
    assert one_over["count"] == 2
    assert one_over["example"].replace(",", "") in {str(reference[s[0]] + 1) for s in (first, second)}
    assert groups["other"]["count"] == 1


@pytest.mark.parametrize(("policy", "share"), [("best", 1 / 2), ("last", 0.0)])
def test_stats_over_the_counted_attempt_of_each_student(client, course, policy, share) -> None:
    """One student right then wrong, another wrong once: over all attempts a third is correct; over
    the attempt each student's grade comes from, half (best) or none (last)."""
    aid = course.assignment(grade_policy=policy)
    (_, first), (_, second) = course.students(2)
    course.submit(aid, first, RIGHT)
    course.submit(aid, first, {"ex4.conv1_params": "3600"})
    course.submit(aid, second, {"ex4.conv1_params": "3600"})
    url = f"{course.path}/assignments/{aid}/stats"
    every = client.get(url, headers=course.instructor).json()
    counted = client.get(url, params={"attempts": "counted"}, headers=course.instructor).json()
    assert (every["attempts"], every["submissions"], every["students"]) == ("all", 3, 2)
    assert every["keys"]["ex4.conv1_params"]["share_correct"] == pytest.approx(1 / 3)
    assert (counted["attempts"], counted["submissions"], counted["students"]) == ("counted", 2, 2)
    assert counted["keys"]["ex4.conv1_params"]["share_correct"] == pytest.approx(share)
    assert client.get(url, params={"attempts": "some"}, headers=course.instructor).status_code == 422
