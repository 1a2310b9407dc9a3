"""Schemathesis against the service, in-process (ASGI, no port), on SQLite and on PostgreSQL: every
operation called as an instructor, as a student and without a token, with every check schemathesis
has (stateful sequences included, along the links it infers); it must report nothing.

Runs are reproducible (a fixed seed, derandomized, no example database) and kept short for CI:
a few examples per operation, and the coverage phase (boundary values of every field) only where
the caller gets past authentication, since a request refused with 401 or 403 reads no input.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

import pytest
import schemathesis
from schemathesis.engine import events, from_schema
from schemathesis.python.asgi import shutdown_lifespans

from factories import Course

#: A deeper or another run: ``GRADER_SCHEMATHESIS_EXAMPLES=100 GRADER_SCHEMATHESIS_SEED=7 pytest ...``.
SEED = int(os.environ.get("GRADER_SCHEMATHESIS_SEED", "20261123"))
MAX_EXAMPLES = int(os.environ.get("GRADER_SCHEMATHESIS_EXAMPLES", "4"))

#: Schemathesis's defaults, and 413: a body over the size limit is refused before it is read, valid
#: or not, and no JSON schema can bound a body's size in bytes.
POSITIVE = ["2xx", "3xx", "401", "403", "404", "409", "413", "429", "5xx"]
NEGATIVE = ["400", "401", "403", "404", "405", "406", "409", "413", "415", "422", "428", "429", "5xx"]

#: Operations that refuse schema-valid requests with 422 for what they mean, which no schema can
#: say: a problem set that the bank (reloaded while the service runs) does not have, and answers
#: that cannot be read (the refusal lists each and why), a set file that does not validate, a
#: time zone the zone database does not have (the schema gives its pattern, not its ~600 names),
#: dates out of order (a close before the due date: a rule across fields and the stored terms), and
#: a similarity report of a part that is not a code part, or of an assignment without code parts.
C = "/api/v1/courses/{course_id}"
A = C + "/assignments/{assignment_id}"
REFUSE_VALID_DATA = [
    *(f"POST {C}/assignments", f"POST {A}/submissions", f"PATCH {A}", f"POST {C}/problem-sets"),
    *("POST /api/v1/courses", f"PATCH {C}", f"PUT {A}/extensions/{{student_id}}"),
    f"PUT {A}/draft",  # (a key the assignment does not have)
    f"POST {A}/similarity",
]

STUDENT_ONLY = [f"POST {A}/preview", f"POST {A}/submissions", f"POST {A}/start", f"PUT {A}/draft", f"GET {A}/draft"]
INSTRUCTOR_ONLY = [
    "POST /api/v1/courses",
    f"PATCH {C}",
    f"GET {C}/problem-sets",
    f"POST {C}/problem-sets",
    f"GET {C}/problem-sets/{{set_id}}/preview",
    f"POST {C}/members",
    f"GET {C}/members",
    f"POST {C}/members/{{member_id}}/token",
    f"DELETE {C}/members/{{member_id}}",
    f"POST {C}/assignments",
    f"PATCH {A}",
    f"PUT {A}/extensions/{{student_id}}",
    f"DELETE {A}/extensions/{{student_id}}",
    f"POST {A}/attempts/{{student_id}}/unlock",
    f"GET {A}/gradebook",
    f"GET {A}/stats",
    f"POST {A}/regrade",
    f"POST {A}/similarity",  # (staff only: 404 for a student)
    f"GET {A}/similarity",
    f"GET {C}/lti",
    f"POST {C}/lti/sync",
]
#: An admin's alone (403 for everyone else).
ADMIN_ONLY = ["POST /api/v1/lti/platforms", "GET /api/v1/lti/platforms", "POST /api/v1/lti/registrations"]
#: Operations whose input a caller never gets to: they answer 401 or 403 first.
REFUSED_BEFORE_INPUT = {
    "instructor": STUDENT_ONLY + ADMIN_ONLY,
    "student": INSTRUCTOR_ONLY + ADMIN_ONLY,
    "none": None,
}


def config_for(caller: str, token: str | None, course: str) -> schemathesis.Config:
    operations: list[dict[str, Any]] = [
        {"include-name": name, "checks": {"positive_data_acceptance": {"expected-statuses": [*POSITIVE, "422"]}}}
        for name in REFUSE_VALID_DATA
    ]
    refused = REFUSED_BEFORE_INPUT[caller]
    if refused:
        operations.append({"include-name": refused, "phases": {"coverage": {"enabled": False}}})
    settings: dict[str, Any] = {
        "seed": SEED,
        "workers": 1,
        # a bound, not the thing checked: on a machine loaded to four times its cores, one request
        # of 1,869 took longer than schemathesis's default 10 s
        "request-timeout": 120,
        "generation": {"max-examples": MAX_EXAMPLES, "deterministic": True, "database": "none"},
        "checks": {
            "enabled": True,
            "positive_data_acceptance": {"expected-statuses": POSITIVE},
            "negative_data_rejection": {"expected-statuses": NEGATIVE},
        },
        # without a token nothing is created, and every input is refused before it is read
        "phases": {"coverage": {"enabled": caller != "none"}, "stateful": {"enabled": caller != "none"}},
        "operations": operations,
        # every course path is about the run's own course (any other id is a 404 and no more)
        "parameters": {"path.course_id": course},
    }
    if token is not None:
        settings["headers"] = {"Authorization": f"Bearer {token}"}
    return schemathesis.Config.from_dict(settings)


@dataclass
class Report:
    requests: int = 0
    by_phase: dict[str, int] = field(default_factory=dict)
    links: int = 0  # the transitions between operations the stateful phase follows
    failures: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def run(schema: Any) -> Report:
    """The engine's run, as ``schemathesis run`` does it: every phase, every check."""
    report = Report()
    for event in from_schema(schema).execute():
        if isinstance(event, events.PhaseStarted) and isinstance(event.payload, events.StatefulPhasePayload):
            report.links = event.payload.transitions_total
        elif isinstance(event, events.ScenarioFinished):
            report.requests += len(event.recorder.interactions)
            phase = event.phase.value
            report.by_phase[phase] = report.by_phase.get(phase, 0) + len(event.recorder.interactions)
            for checks in event.recorder.checks.values():
                for check in checks:
                    if check.failure_info is not None:
                        failure = check.failure_info.failure
                        report.failures.append(
                            f"[{event.phase.value}] {event.label or 'stateful'}: {check.name}: {failure.title}\n"
                            f"{failure.message}\n{check.failure_info.code_sample}"
                        )
        elif isinstance(event, events.NonFatalError):
            report.errors.append(f"[{event.phase}] {event.label}: {event.info.title}: {event.value!r}")
        elif isinstance(event, events.FatalError):
            raise event.exception
    return report


@pytest.fixture(scope="module", autouse=True)
def _stop_lifespans() -> Any:
    """Schemathesis starts the app's lifespan once and keeps it until the process ends: stopped
    here, so that the module's database can be dropped."""
    yield
    shutdown_lifespans()


@pytest.mark.parametrize("caller", ["instructor", "student", "none"])
def test_schemathesis_finds_nothing(app, course: Course, backend: str, caller: str) -> None:
    assignment = course.assignment(max_attempts=3)
    _, student = course.student()  # a student of this run's own: a run may drop one, or replace its token
    course.submit(assignment, student, {"ex4.conv1_params": "3640"})
    headers = {"instructor": course.instructor, "student": student, "none": {}}[caller]
    token = headers["Authorization"].removeprefix("Bearer ") if headers else None

    report = run(schemathesis.openapi.from_asgi("/openapi.json", app, config=config_for(caller, token, course.id)))

    phases = ", ".join(f"{phase} {n}" for phase, n in report.by_phase.items())
    found = f"{report.links} links; {len(report.failures)} failures, {len(report.errors)} errors"
    print(f"\nschemathesis on {backend} as {caller}: {report.requests} requests ({phases}); {found}")
    assert not report.failures, "\n\n".join(report.failures)
    assert not report.errors, "\n".join(report.errors)
    assert report.requests >= 20
