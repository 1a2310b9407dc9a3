"""A code answer made to be slow to compile: CPython's compiler takes time quadratic in a module's
scopes, so 37,000 lines of ``x = [i for i in a if i]`` (814 kB, within every size limit) took over
30 s of the service's CPU, and one student's preview stalled ``/health`` for seconds. The text is
now bounded before any parse and compiled in a process of its own under a CPU limit
(:mod:`sandbox.syntax`): the service's own process spends next to nothing on it, whatever the door.
"""

from __future__ import annotations

import os
from pathlib import Path

import httpx
import pytest

from hostile_service import Hostile, bystanders

#: One comprehension: a scope of its own.
LINE = "x = [i for i in a if i]\n"
#: CPU seconds the service's own process may spend serving one such request (reading an 800 kB
#: body and scanning it): a guard far below what compiling took (over 30 s).
SERVICE_CPU_BOUND = 1.0
#: The slowest /health while such a module is handled (it answered in 7.4 s before).
HEALTH_BOUND = 0.5
#: Previews sent at most before the budget must refuse one: each compile costs this machine's CPU
#: time (about 0.13 s on a fast 2-core machine: the 1.5 s burst ran out at the 13th; slower machines sooner);
#: uncharged, a preview costs the service's thread a few milliseconds, less than the refill
#: between two of them, and no number of them would be refused.
PREVIEWS = 100


def _cpu_seconds(pid: int) -> float:
    """The process's own CPU time (its threads', not its reaped children's)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@pytest.fixture(scope="module")
def student(hostile: Hostile) -> str:
    made = hostile.api(
        "POST",
        f"/courses/{hostile.attacker_course}/assignments",
        json={"id": "code", "problem_set": "numpy-convolution"},
    )
    assert made.status_code == 201, made.text
    return str(hostile.enrol(hostile.attacker_course, "compiler")["token"])


def _previewed(hostile: Hostile, token: str, module: str) -> httpx.Response:
    path = f"/courses/{hostile.attacker_course}/assignments/code/preview"
    return hostile.api("POST", path, token, json={"answers": {"conv.forward": module}})


def _preview(hostile: Hostile, token: str, module: str) -> dict[str, object]:
    response = _previewed(hostile, token, module)
    assert response.status_code == 200, response.text[:2000]
    return dict(response.json()["parts"]["conv.forward"])


@pytest.mark.parametrize(
    ("lines", "refusal"),
    [
        (37_000, "37,001 lines, over the 20,000"),  # the attack as sent: refused before any parse
        (2_900, None),  # the most comprehensions a module may have: compiled apart, and read
        (2_900 * 2, "functions, classes, lambdas and loops, over the 3,000"),
    ],
)
def test_a_module_slow_to_compile_costs_the_service_nothing(
    hostile: Hostile, student: str, lines: int, refusal: str | None
) -> None:
    module = LINE * lines
    before = _cpu_seconds(hostile.server.pid)
    part = _preview(hostile, student, module)
    spent = _cpu_seconds(hostile.server.pid) - before
    if refusal is None:
        assert part["readable"] is True, part
    else:
        assert part["readable"] is False and refusal in str(part["reason"]), part
    assert spent < SERVICE_CPU_BOUND, f"the service spent {spent:.2f} s of its own CPU on a {len(module):,}-byte module"


def test_health_answers_while_the_module_is_previewed_and_submitted(hostile: Hostile, student: str) -> None:
    """Each preview compiles a new module apart, charged to the student's budget of grading work
    (:mod:`api.kit.quotas`): a few are served, then the student is refused until the budget refills."""
    submitter = str(hostile.enrol(hostile.attacker_course, "submitter")["token"])
    replies = []
    with bystanders(hostile) as watch:
        for number in range(PREVIEWS):
            replies.append(_previewed(hostile, student, LINE * 2_900 + f"# {number}\n"))
            if replies[-1].status_code == 429:
                break
        submitted = hostile.api(
            "POST",
            f"/courses/{hostile.attacker_course}/assignments/code/submissions",
            submitter,
            json={"answers": {"conv.forward": LINE * 37_000}},
        )
    assert submitted.status_code == 422, submitted.text[:2000]
    assert "37,001 lines" in submitted.text
    assert replies[0].status_code == 200 and replies[0].json()["parts"]["conv.forward"]["readable"] is True
    assert replies[-1].status_code == 429, "the compiling children's CPU time was not charged to the student"
    assert replies[-1].headers.get("Retry-After")
    print(f"refused after {len(replies) - 1} previews")
    watch.assert_unharmed()
    slowest = max(seconds for _, seconds in watch.health)
    print(f"slowest /health {slowest:.3f} s over {len(watch.health)} requests")
    assert slowest < HEALTH_BOUND, f"/health took {slowest:.2f} s while the module was handled"
