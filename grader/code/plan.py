"""The calls of a code part for one student: each test's inputs drawn from a generator seeded by
the set, the student, the part and the test, so a test is the same every time it is drawn (the
judge draws it again to compute its reference) and differs from one student to the next.

A part of a built-in kind is drawn by the kind, and called as the kind says, or through the part's
driver (the kind's arrays and settings bound as names). A driver's part without a kind draws its
``inputs`` (``problems.code.inputs``) and calls its driver with them and the test's settings; its
references are the solution's outputs on the same calls (``grader.code.references``), handed to
the plans before they are judged.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

from problems.code import inputs
from problems.code.kinds import CodeKind, Drawn, Outputs
from problems.code.parts import CodePart, CodeTest
from problems.sets import ProblemSet
from problems.variants import seeded
from sandbox.calls import Call, CallResult, Value
from sandbox.calls import Status as RunStatus
from sandbox.drivers import DRIVER


@dataclass(frozen=True)
class Solved:
    """What the solution (and each mistake's mutant) returned on one test: the reference, or why
    there is none (the solution failed there: the set's fault, never the student's)."""

    reference: Outputs | None
    failure: str = ""
    #: (code, what the sandbox answered) of each declared mistake's mutant on this test, in the part's order
    mutants: tuple[tuple[str, CallResult], ...] = ()

    @property
    def mistakes(self) -> tuple[tuple[str, Outputs], ...]:
        """(code, outputs) of each mutant that ran to its end on this test."""
        return tuple((code, result.outputs) for code, result in self.mutants if result.status is RunStatus.OK)


@dataclass(frozen=True)
class Planned:
    """One test of a part, drawn for a student: the test, its inputs, and the call that makes it.
    Its reference and its mistakes' outputs come from the kind's solvers (computed once, when first
    asked for), or from the solution's run (``solved``, for a part without a kind)."""

    test: CodeTest
    drawn: Drawn
    call: Call
    kind: CodeKind | None
    solved: Solved | None = field(default=None, compare=False)

    @cached_property
    def reference(self) -> Outputs | None:
        """The right outputs, or None when the solution could not give them."""
        if self.kind is not None:
            return self.kind.reference(self.test, self.drawn)
        return None if self.solved is None else self.solved.reference

    @cached_property
    def mistakes(self) -> list[tuple[str, Outputs]]:
        if self.kind is not None:
            return self.kind.mistakes(self.test, self.drawn)
        return [] if self.solved is None else list(self.solved.mistakes)


def planned(problem_set: ProblemSet, key: str, student: str | None) -> list[Planned]:
    """Every test of the code part ``key``, drawn for ``student`` (None: the set's own draw, which
    its checks use)."""
    part = problem_set.code()[key]
    found = []
    for index, test in enumerate(part.tests):
        rng = seeded(problem_set.id, "code", *_who(student), key, str(index))
        drawn = (
            part.kind.draw(test, rng)
            if part.kind is not None
            else Drawn((), inputs.draw(part.inputs, test, rng, part.data_of(test)))
        )
        found.append(Planned(test, drawn, _call(part, test, drawn), part.kind))
    return found


def calls_for(problem_set: ProblemSet, key: str, student: str | None) -> list[Call]:
    """The calls the sandbox makes for the code part ``key`` of ``student``'s submission, in test order."""
    return [plan.call for plan in planned(problem_set, key, student)]


def _who(student: str | None) -> tuple[str, ...]:
    return ("declared",) if student is None else ("student", student)


def _call(part: CodePart, test: CodeTest, drawn: Drawn) -> Call:
    """The kind's call, or the driver's with the test's names bound."""
    if part.driver is None:
        assert part.kind is not None  # a part without a kind has a driver (the set file's rule)
        return Call(*part.kind.call(part.called, test, drawn))
    bound: dict[str, Value] = dict(part.kind.bound(test, drawn) if part.kind is not None else {})
    if part.kind is None:
        bound.update({name: value for name, value in test.settings.items()})
        bound.update(drawn.named)
    return Call(DRIVER, (part.driver, ",".join(part.output_names)), bound, seconds=part.seconds(test))
