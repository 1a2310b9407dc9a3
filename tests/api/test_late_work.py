"""Late work: the per-hour penalty beside the per-day one, and the grace period (work within it is
on time; past it lateness counts from the due date), as the pure rule computes them and as
submissions and the gradebook show them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from api.terms.counted import counted_attempt
from api.terms.lateness import DAY, HOUR, MOST_STEPS, Lateness, Steps, is_late, lateness, steps

from page_client import Browser
from staff_course import token

DUE = datetime(2026, 12, 1, 23, 59, tzinfo=UTC)
TWO_RIGHT = {"ex4.conv1_params": "3640", "ex5.params": "1810"}  # score 2


@pytest.mark.parametrize(
    ("late_by", "penalty", "grace", "expected"),
    [
        # on time, and at the due date exactly
        (timedelta(minutes=-1), {"per_hour": 10}, 0, Lateness(0, 1.0)),
        (timedelta(0), {"per_hour": 10}, 0, Lateness(0, 1.0)),
        # per started hour: a minute late is an hour, an hour and a second is two
        (timedelta(minutes=1), {"per_hour": 10}, 0, Lateness(1, 0.9)),
        (timedelta(hours=1), {"per_hour": 10}, 0, Lateness(1, 0.9)),
        (timedelta(hours=1, seconds=1), {"per_hour": 10}, 0, Lateness(1, 0.8)),
        (timedelta(hours=25), {"per_hour": 2}, 0, Lateness(2, 0.5)),
        # the floor holds for hours as for days
        (timedelta(hours=30), {"per_hour": 10, "floor": 40}, 0, Lateness(2, 0.4)),
        (timedelta(days=3), {"per_hour": 10}, 0, Lateness(3, 0.0)),
        # the grace period: within it on time, at its end still on time
        (timedelta(minutes=9), {"per_hour": 10}, 10, Lateness(0, 1.0)),
        (timedelta(minutes=10), {"per_day": 10}, 10, Lateness(0, 1.0)),
        # past it, late from the due date: 11 minutes is one started hour (not one minute)
        (timedelta(minutes=11), {"per_hour": 10}, 10, Lateness(1, 0.9)),
        (timedelta(minutes=61), {"per_hour": 10}, 10, Lateness(1, 0.8)),
        # a day's grace: a minute past it is the second day started
        (timedelta(days=1, minutes=1), {"per_day": 10}, 24 * 60, Lateness(2, 0.8)),
        # today's forms are unchanged
        (timedelta(hours=49), {"per_day": 20, "floor": 30}, 0, Lateness(3, 0.4)),
        (timedelta(minutes=1), {"factor": 0.5}, 0, Lateness(1, 0.5)),
        (timedelta(minutes=1), None, 0, Lateness(1, 1.0)),
    ],
)
def test_lateness(late_by: timedelta, penalty: dict[str, float] | None, grace: int, expected: Lateness) -> None:
    assert lateness(DUE + late_by, DUE, penalty, grace) == expected
    assert is_late(DUE + late_by, DUE, grace) == expected.late


def test_without_a_due_date_nothing_is_late() -> None:
    assert lateness(DUE, None, {"per_hour": 100}, 0) == Lateness(0, 1.0)


@dataclass(frozen=True)
class Attempt:
    attempt: int
    score: float
    submitted_at: datetime


#: Scores that tie, or nearly (0.1 + 0.2 rounds to 0.3), and minutes around a due date.
SCORES = st.sampled_from([0.0, 0.3, 0.1 + 0.2, 1.0, 1.5, 2.0, 1 / 3, 2.0 / 3])
PENALTIES = st.sampled_from([None, {"per_hour": 10}, {"per_day": 25, "floor": 50}, {"factor": 0.5}, {"per_hour": 60}])


@given(
    attempts=st.lists(st.tuples(SCORES, st.integers(-90, 3000)), min_size=1, max_size=6),
    policy=st.sampled_from(["best", "last"]),
    penalty=PENALTIES,
    dated=st.booleans(),
    grace=st.sampled_from([0, 10, 60]),
)
def test_the_counted_attempt_is_the_best_after_the_penalty_or_the_last(
    attempts: list[tuple[float, int]], policy: str, penalty: dict[str, Any] | None, dated: bool, grace: int
) -> None:
    """The rule as said: under ``best`` the highest score after each attempt's late penalty, the
    earliest of equal ones; under ``last`` the last; with the lateness of the one chosen."""
    submitted = [Attempt(n, score, DUE + timedelta(minutes=m)) for n, (score, m) in enumerate(attempts, start=1)]
    due_at = DUE if dated else None
    terms = SimpleNamespace(due_at=due_at, late_penalty=penalty, grace_minutes=grace, grade_policy=policy)
    late = [lateness(a.submitted_at, due_at, penalty, grace) for a in submitted]
    if policy == "last":
        expected = len(submitted) - 1
    else:
        expected = max(range(len(submitted)), key=lambda i: (late[i].applied(submitted[i].score), -i))
    assert counted_attempt(submitted, terms) == (submitted[expected], late[expected])  # type: ignore[arg-type]


def _told(told: Steps, at: datetime) -> float:
    """The factor ``told`` gives work submitted ``at``, read as the database reads it (the first
    step whose time holds, else the last factor)."""
    return next((factor for until, factor in zip(told.until, told.factors, strict=True) if at <= until), told.after)


@given(
    anywhere=st.integers(-(10**8), 10**13).map(lambda us: timedelta(microseconds=us)),
    # (at a step's edge: whole units of the penalty late, a microsecond either side)
    units=st.integers(0, 130),
    edge=st.sampled_from([-1, 0, 1]),
    penalty=st.one_of(
        st.none(),
        st.builds(lambda x: {"factor": x}, st.sampled_from([0.0, 0.5, 0.75, 1 / 3])),
        st.builds(
            lambda unit, per, floor: {unit: per, "floor": floor},
            st.sampled_from(["per_hour", "per_day"]),
            st.sampled_from([1, 2.5, 10, 25, 33.3, 60, 100, 1 / 3]),
            st.sampled_from([0, 12.5, 40, 50, 99]),
        ),
    ),
    grace=st.sampled_from([0, 1, 45, 60, 1500]),
    dated=st.booleans(),
)
def test_the_penalty_told_in_steps_is_the_penalty(
    anywhere: timedelta, units: int, edge: int, penalty: dict[str, float] | None, grace: int, dated: bool
) -> None:
    """What the gradebook has the database apply (steps in time) is, at every moment, the factor
    :func:`lateness` gives; a penalty of more steps than the bound is not told at all."""
    due_at = DUE if dated else None
    told = steps(due_at, penalty, grace)
    if told is None:
        assert penalty is not None and len(steps(due_at, penalty, grace, most=10**6).until) > MOST_STEPS  # type: ignore[union-attr]
        return
    assert len(told.until) <= MOST_STEPS + 1
    unit = DAY if penalty is not None and "per_day" in penalty else HOUR
    for late_by in (anywhere, units * unit + timedelta(microseconds=edge)):
        assert _told(told, DUE + late_by) == lateness(DUE + late_by, due_at, penalty, grace).factor, late_by


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def test_per_hour_penalty_and_grace_in_submissions_and_the_gradebook(client, course) -> None:
    now = datetime.now(UTC)
    hourly = course.assignment(due_at=_iso(now - timedelta(hours=2, minutes=30)), late_penalty={"per_hour": 10})
    graced = course.assignment(due_at=_iso(now - timedelta(minutes=5)), grace_minutes=10, late_penalty={"per_day": 50})
    past_grace = course.assignment(
        due_at=_iso(now - timedelta(minutes=30)), grace_minutes=10, late_penalty={"per_hour": 10, "floor": 50}
    )
    (student, headers) = course.student()
    # 2 h 30 late: 3 started hours, 30% off
    submitted = course.submit(hourly, headers, TWO_RIGHT).json()
    assert (submitted["late"], submitted["days_late"], submitted["penalty"]) == (True, 1, pytest.approx(0.7))
    assert submitted["final_score"] == pytest.approx(1.4)
    # within the grace period: on time, nothing off
    on_time = course.submit(graced, headers, TWO_RIGHT).json()
    assert (on_time["late"], on_time["penalty"], on_time["final_score"]) == (False, 1, 2)
    # past it: late from the due date (30 minutes: one started hour)
    late = course.submit(past_grace, headers, TWO_RIGHT).json()
    assert (late["late"], late["penalty"], late["final_score"]) == (True, pytest.approx(0.9), pytest.approx(1.8))
    book = client.get(f"{course.path}/assignments/{past_grace}/gradebook", headers=course.instructor).json()
    (row,) = [r for r in book["students"] if r["student"] == student]
    assert (row["late"], row["score"]) == (True, pytest.approx(1.8))
    shown = client.get(f"{course.path}/assignments/{past_grace}", headers=course.instructor).json()
    assert (shown["grace_minutes"], shown["late_penalty"]) == (10, {"per_hour": 10.0, "floor": 50.0})
    # a longer grace, granted after the fact, applies to the work stored
    changed = client.patch(
        f"{course.path}/assignments/{past_grace}", json={"grace_minutes": 60}, headers=course.instructor
    )
    assert changed.status_code == 200, changed.text
    again = client.get(f"{course.path}/assignments/{past_grace}/submissions", headers=headers).json()
    assert [(s["late"], s["final_score"]) for s in again] == [(False, 2)]


@pytest.mark.parametrize(
    "fields",
    [
        {"late_penalty": {"per_hour": 0}},
        {"late_penalty": {"per_hour": 101}},
        {"late_penalty": {"per_hour": 10, "per_day": 5}},
        {"late_penalty": {"per_hour": 10, "floor": -1}},
        {"grace_minutes": -1},
        {"grace_minutes": "ten"},
        {"grace_minutes": 8 * 24 * 60},
        {"grace_minutes": None},
    ],
)
def test_malformed_late_terms_are_refused_with_a_reason(client, course, fields) -> None:
    body = {"id": "x1", "problem_set": "conv-pool-basics", **fields}
    refused = client.post(f"{course.path}/assignments", json=body, headers=course.instructor)
    assert refused.status_code == 422, refused.text
    assert refused.json()["detail"]
    aid = course.assignment()
    patched = client.patch(f"{course.path}/assignments/{aid}", json=fields, headers=course.instructor)
    assert patched.status_code == 422, patched.text
    assert client.get(f"{course.path}/assignments/{aid}", headers=course.instructor).json()["grace_minutes"] == 0


def test_a_per_hour_penalty_reads_in_hours_on_every_page_and_in_rest(app, client, course) -> None:
    """2 h 30 min late at 10 % an hour: three started hours, not "1 day", wherever lateness is said."""
    hourly = course.assignment(
        due_at=_iso(datetime.now(UTC) - timedelta(hours=2, minutes=30)), late_penalty={"per_hour": 10}
    )
    (student, headers) = course.student()
    said = "2 h 30 min late: 3 started hours × 10 %"
    submitted = course.submit(hourly, headers, TWO_RIGHT).json()
    assert (submitted["lateness"], submitted["minutes_late"]) == (said, 150)
    book = client.get(f"{course.path}/assignments/{hourly}/gradebook", headers=course.instructor).json()
    (row,) = [r for r in book["students"] if r["student"] == student]
    assert (row["lateness"], row["minutes_late"]) == (said, 150)
    page = f"/courses/{course.id}/assignments/{hourly}"
    theirs = Browser(app).signed_in(token(headers)).get(page).text
    assert f"({said}; 2 × 0.7)" in theirs and "day" not in theirs.split('id="score"', 1)[1].split("</p>", 1)[0]
    staff = Browser(app).signed_in(token(course.instructor))
    assert f"{said} · ×0.7" in " ".join(staff.get(f"{page}/gradebook").text.split())
    assert said in staff.get(f"{page}/gradebook/students/{student}").text
