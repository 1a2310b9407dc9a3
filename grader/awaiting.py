"""What a score leaves out: the parts without a score yet (a written answer awaiting a grader, code
waiting to be run). Their points are neither earned nor lost, so a total that counts them 0 reads
as a failing grade; readers are shown the points graded so far and those still awaited instead.
Pure: it reads stored parts (``GradedPart.to_json``), as the service keeps and shows them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from grader.results import Status

#: Why a part has no score yet, by its status: staff have a written answer to grade; anything else
#: without a score (code queued for, or running in, the sandbox) is being run.
WAITING_FOR_GRADER = "awaiting a grader"
BEING_RUN = "being run"


def waiting_for(status: object) -> str:
    """What a part without a score waits for, as readers are told it."""
    return WAITING_FOR_GRADER if status == Status.PENDING.value else BEING_RUN


@dataclass(frozen=True, slots=True)
class Awaiting:
    """The points of a submission's parts with a score (``graded_max_score``) and of those without
    (``points``), the latter by what they wait for (``reasons``: ``(reason, points)``, in the order
    of :func:`waiting_for`'s wordings)."""

    graded_max_score: float
    points: float
    reasons: tuple[tuple[str, float], ...]
    keys: tuple[str, ...]

    @property
    def any(self) -> bool:
        return bool(self.keys)


def awaiting(parts: Mapping[str, Any]) -> Awaiting:
    """The stored ``parts`` split into graded and awaited points: a part awaits while its score is
    null (``pending``, or a code part not run yet); a part shown with no status is graded, its grade
    held back from the reader."""
    graded = 0.0
    by_reason = {WAITING_FOR_GRADER: 0.0, BEING_RUN: 0.0}
    keys: list[str] = []
    for key, part in parts.items():
        if not isinstance(part, Mapping):
            continue
        maximum = float(part.get("max_score") or 0.0)
        # (no status: a grade held back from its reader, its points in the total all the same)
        if part.get("score") is None and part.get("status") is not None:
            by_reason[waiting_for(part.get("status"))] += maximum
            keys.append(key)
        else:
            graded += maximum
    reasons = tuple((reason, round(points, 6)) for reason, points in by_reason.items() if points)
    return Awaiting(round(graded, 6), round(sum(by_reason.values()), 6), reasons, tuple(keys))
