"""The create-assignment form read into the REST API's own request, errors by field."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from api.assignments.schemas import FactorPenalty, PerDayPenalty, PerHourPenalty
from api.pages.staff.assignment_form import read_assignment_form

UTC_ZONE = ZoneInfo("UTC")

#: What a browser sends for a form left at its defaults: every field, most of them blank.
BLANK = {
    "id": "",
    "problem_set": "",
    "version": "",
    "title": "",
    "due_at": "",
    "opens_at": "",
    "closes_at": "",
    "draft": "",
    "max_attempts": "",
    "release_answers": "never",
    "grade_policy": "best",
    "late_penalty": "none",
    "per_day": "",
    "floor": "",
    "factor": "",
}


def test_blank_fields_are_left_to_their_defaults() -> None:
    form = read_assignment_form({**BLANK, "id": "hw1", "problem_set": "conv-pool-basics"}, zone=UTC_ZONE)
    assert form.errors == {} and form.request is not None
    assert form.request.model_dump(exclude_none=True) == {
        "id": "hw1",
        "problem_set": "conv-pool-basics",
        "published": True,
        "release_answers": "never",
        "grade_policy": "best",
        "practice": "after_due",
        "grace_minutes": 0,
        "category": "homework",
        "feedback": "full",
    }


def test_a_due_date_from_a_datetime_input_is_utc_and_the_penalty_chosen_is_the_one_sent() -> None:
    typed = {**BLANK, "id": "hw1", "problem_set": "s", "due_at": "2026-12-01T23:59", "max_attempts": "3"}
    per_day = read_assignment_form(
        {**typed, "late_penalty": "per_day", "per_day": "10", "floor": "50", "factor": "1"}, zone=UTC_ZONE
    )
    assert per_day.request is not None
    assert per_day.request.due_at == datetime(2026, 12, 1, 23, 59, tzinfo=UTC)
    assert per_day.request.max_attempts == 3
    assert per_day.request.late_penalty == PerDayPenalty(per_day=10, floor=50)
    factor = read_assignment_form({**typed, "late_penalty": "factor", "per_day": "10", "factor": "0.5"}, zone=UTC_ZONE)
    assert factor.request is not None and factor.request.late_penalty == FactorPenalty(factor=0.5)


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        # the schema's own rules, each beside its field
        ({"id": "hw 1", "problem_set": "s"}, {"id": "should be 1 to 64 letters"}),
        ({"id": "hw1"}, {"problem_set": "is required"}),
        ({"id": "hw1", "problem_set": "s", "max_attempts": "0"}, {"max_attempts": "greater than or equal to 1"}),
        ({"id": "hw1", "problem_set": "s", "due_at": "soon"}, {"due_at": "should be a date and time"}),
        ({"id": "hw1", "problem_set": "s", "release_answers": "sometimes"}, {"release_answers": "'after_due'"}),
        # a penalty's numbers: only the kind chosen is checked, and its error is at the number's input
        ({"id": "hw1", "problem_set": "s", "late_penalty": "per_day", "floor": "50"}, {"per_day": "is required"}),
        ({"id": "hw1", "problem_set": "s", "late_penalty": "factor", "factor": "2"}, {"factor": "less than or equal"}),
        ({"id": "hw1", "problem_set": "s", "late_penalty": "weekly"}, {"late_penalty": "choose none"}),
    ],
)
def test_a_field_the_schema_refuses_is_reported_beside_it_and_what_was_typed_is_kept(
    typed: dict[str, str], expected: dict[str, str]
) -> None:
    form = read_assignment_form({**BLANK, **typed}, zone=UTC_ZONE)
    assert form.request is None
    assert set(form.errors) == set(expected)
    for name, words in expected.items():
        assert words in form.errors[name]
    assert all(form.values[name] == value for name, value in typed.items())


def test_the_per_hour_penalty_the_grace_period_and_the_category_are_read_as_the_request_takes_them() -> None:
    typed = {**BLANK, "id": "hw1", "problem_set": "s", "due_at": "2026-12-01T23:59"}
    hourly = read_assignment_form(
        {**typed, "late_penalty": "per_hour", "per_hour": "2", "floor": "40", "per_day": "10", "grace_minutes": "10"}
        | {"category": "exams"},
        zone=UTC_ZONE,
    )
    assert hourly.errors == {} and hourly.request is not None
    assert hourly.request.late_penalty == PerHourPenalty(per_hour=2, floor=40)
    assert (hourly.request.grace_minutes, hourly.request.category) == (10, "exams")
    refused = read_assignment_form(
        {**typed, "late_penalty": "per_hour", "per_hour": "0", "grace_minutes": "-5"}, zone=UTC_ZONE
    )
    assert set(refused.errors) == {"per_hour", "grace_minutes"}


def test_the_feedback_held_back_is_read_as_the_request_takes_it_and_an_unknown_one_is_refused_beside_it() -> None:
    typed = {**BLANK, "id": "hw1", "problem_set": "s"}
    chosen = read_assignment_form({**typed, "feedback": "correctness"}, zone=UTC_ZONE)
    assert chosen.errors == {} and chosen.request is not None and chosen.request.feedback == "correctness"
    refused = read_assignment_form({**typed, "feedback": "hints"}, zone=UTC_ZONE)
    assert set(refused.errors) == {"feedback"} and refused.values["feedback"] == "hints"
    assert all(level in refused.errors["feedback"] for level in ("full", "correctness", "score", "none"))
