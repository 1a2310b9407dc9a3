"""The calls of a code part for one student: each test's inputs drawn from a generator seeded by
the set, the student, the part and the test, so a test is the same every time it is drawn (the
judge draws it again to compute its reference) and differs from one student to the next."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from problems.code.kinds import CodeKind, Drawn, Outputs
from problems.code.parts import CodePart, CodeTest
from problems.sets import ProblemSet
from problems.variants import seeded
from sandbox.calls import Call


@dataclass(frozen=True)
class Planned:
    """One test of a part, drawn for a student: the test, its inputs, and the call that makes it.
    Its reference and its mistakes' outputs are computed once, when first asked for (the judge and
    the set's checks ask for them per test, and per mistake)."""

    test: CodeTest
    drawn: Drawn
    call: Call
    kind: CodeKind

    @cached_property
    def reference(self) -> Outputs:
        return self.kind.reference(self.test, self.drawn)

    @cached_property
    def mistakes(self) -> list[tuple[str, Outputs]]:
        return self.kind.mistakes(self.test, self.drawn)


def planned(problem_set: ProblemSet, key: str, student: str | None) -> list[Planned]:
    """Every test of the code part ``key``, drawn for ``student`` (None: the set's own draw, which
    its checks use)."""
    part = problem_set.code()[key]
    return [
        Planned(
            test,
            drawn := _draw(problem_set.id, part, key, index, student),
            Call(*part.kind.call(part.called, test, drawn)),
            part.kind,
        )
        for index, test in enumerate(part.tests)
    ]


def calls_for(problem_set: ProblemSet, key: str, student: str | None) -> list[Call]:
    """The calls the sandbox makes for the code part ``key`` of ``student``'s submission, in test order."""
    return [plan.call for plan in planned(problem_set, key, student)]


def _draw(set_id: str, part: CodePart, key: str, index: int, student: str | None) -> Drawn:
    who = ("declared",) if student is None else ("student", student)
    return part.kind.draw(part.tests[index], seeded(set_id, "code", *who, key, str(index)))
