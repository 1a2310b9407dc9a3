"""The calls of a code part for one student: each test's inputs drawn from a generator seeded by
the set, the student, the part and the test, so a test is the same every time it is drawn (the
judge draws it again to compute its reference) and differs from one student to the next.

A part of a built-in kind is drawn by the kind, and called as the kind says, or through the part's
driver (the kind's arrays and settings bound as names); a student's draw on which a mistake the
kind declares would pass where it fails on the set's own draw is drawn again
(``problems.code.telling``), so each test catches on every student's draw what the set's check
found it catches. A driver's part without a kind draws its ``inputs`` (``problems.code.inputs``)
and calls its driver with them and the test's settings; its references are the solution's outputs
on the same calls (``grader.code.references``), handed to the plans before they are judged. What
its data keeps for judging (the held-out labels) is drawn with the rest but kept in the plan
(``Drawn.kept``), never in the call: it never enters the sandbox.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from problems.code import inputs, telling
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
    #: The part it is a test of: its tolerance and rules say which mistakes this draw tells.
    part: CodePart | None = field(default=None, compare=False, repr=False)

    @cached_property
    def reference(self) -> Outputs | None:
        """The right outputs, or None when the solution could not give them."""
        if self.kind is not None:
            return self.kind.reference(self.test, self.drawn)
        return None if self.solved is None else self.solved.reference

    @cached_property
    def mistakes(self) -> list[tuple[str, Outputs]]:
        if self.kind is not None:
            reference = self.reference
            return [] if reference is None else self.kind.mistakes(self.test, self.drawn, reference)
        return [] if self.solved is None else list(self.solved.mistakes)

    @cached_property
    def telling(self) -> frozenset[telling.Form]:
        """The forms of the kind's declared mistakes that differ from the reference on this draw.
        On the set's own draw, what every student's draw of the test must tell too: computed once
        per set (the set's own draw is kept), not once per student."""
        if self.kind is None or self.part is None or self.reference is None:
            return frozenset()
        equal = _equal(self.part)
        return telling.telling_forms(self.kind, self.reference, self.mistakes, self.part.tolerance, equal)


#: Bytes of drawn inputs kept across submissions: a class of 300 students' draws of a four-part
#: homework take about 10 MB; a test that binds the digits (half a megabyte) keeps a hundred.
CACHE_BYTES = 64 << 20

_lock = threading.Lock()
_cache: OrderedDict[tuple[str, ...], tuple[tuple[Planned, ...], int]] = OrderedDict()
_cached_bytes = 0


def planned(problem_set: ProblemSet, key: str, student: str | None) -> list[Planned]:
    """Every test of the code part ``key``, drawn for ``student`` (None: the set's own draw, which
    its checks use). A student's draw is the same at every submission, so it is kept (by set
    version, part and student, within :data:`CACHE_BYTES`): the kind's references and mistakes,
    computed once per plan when first asked for, are then computed once per variant, not once per
    submission. Its arrays are read-only, since every submission of that variant shares them."""
    global _cached_bytes
    remembered = (problem_set.id, problem_set.version, key, *_who(student))
    with _lock:
        hit = _cache.get(remembered) if problem_set.version else None
        if hit is not None:
            _cache.move_to_end(remembered)
            return list(hit[0])
    found = tuple(_draw(problem_set, key, student))
    size = sum(_bytes(plan) for plan in found)
    if problem_set.version and size <= CACHE_BYTES // 8:
        with _lock:
            if remembered not in _cache:
                _cache[remembered] = (found, size)
                _cached_bytes += size
            while _cached_bytes > CACHE_BYTES:
                _, (_, dropped) = _cache.popitem(last=False)
                _cached_bytes -= dropped
    return list(found)


def _draw(problem_set: ProblemSet, key: str, student: str | None) -> list[Planned]:
    declared = _declared(problem_set, key, student)
    return [
        _drawn_plan(problem_set, key, student, index, declared) for index in range(len(problem_set.code()[key].tests))
    ]


def planned_test(problem_set: ProblemSet, key: str, student: str | None, index: int) -> Planned:
    """The test ``index`` of ``key`` drawn for ``student``, as :func:`planned` draws it (not kept):
    one test of many students, without the others."""
    return _drawn_plan(problem_set, key, student, index, _declared(problem_set, key, student))


def _declared(problem_set: ProblemSet, key: str, student: str | None) -> list[Planned] | None:
    """The set's own draw of ``key``, by which a student's draw of a kind's part is told (None: none
    needed, for the set's own draw, a driver's part, or a kind without mistakes to catch)."""
    kind = problem_set.code()[key].kind
    return planned(problem_set, key, None) if student is not None and kind is not None and kind.mutants else None


def _drawn_plan(
    problem_set: ProblemSet, key: str, student: str | None, index: int, declared: list[Planned] | None
) -> Planned:
    part = problem_set.code()[key]
    test = part.tests[index]
    rng = seeded(problem_set.id, "code", *_who(student), key, str(index))
    told = None
    if part.kind is not None and declared is not None:
        told = _telling(part, declared[index], rng)
        drawn = told.drawn
    elif part.kind is not None:
        drawn = part.kind.draw(test, rng)
    else:
        drawn = _driven(part, test, rng)
    for value in (*drawn.args, *drawn.named.values(), *drawn.kept.values()):
        if isinstance(value, np.ndarray):
            value.setflags(write=False)
    plan = Planned(test, drawn, _call(part, test, drawn), part.kind, part=part)
    if told is not None and told.solved is not None:  # computed to tell: kept as the cached properties
        plan.__dict__.update(reference=told.solved[0], mistakes=told.solved[1])
    return plan


def _telling(part: CodePart, declared: Planned, rng: np.random.Generator) -> telling.Told:
    """A student's draw of the declared plan's test on which every declared mistake that fails the
    set's own draw fails too."""
    assert part.kind is not None
    return telling.telling_draw(part.kind, declared.test, rng, declared.telling, part.tolerance, _equal(part))


def _equal(part: CodePart) -> list[int]:
    """The indices of the part's outputs judged ``equal`` to the reference."""
    return [index for index, name in enumerate(part.output_names) if part.rules[name] == "equal"]


def _driven(part: CodePart, test: CodeTest, rng: np.random.Generator) -> Drawn:
    """A driver's test drawn: the arrays bound for the driver, apart from those its data keeps for
    judging (``y_test``), which never enter the call."""
    data = part.data_of(test)
    drawn = inputs.draw(part.inputs, test, rng, data)
    kept = inputs.kept(data)
    return Drawn(
        (),
        {name: value for name, value in drawn.items() if name not in kept},
        {name: value for name, value in drawn.items() if name in kept},
    )


def _bytes(plan: Planned) -> int:
    """The bytes of a plan's drawn arrays (its references, computed later, are about as many)."""
    drawn = plan.drawn
    values = (*drawn.args, *drawn.named.values(), *drawn.kept.values(), *plan.call.args, *plan.call.kwargs.values())
    return 2 * sum(value.nbytes for value in values if isinstance(value, np.ndarray))


def forget() -> None:
    """Empty the cache of draws (tests)."""
    global _cached_bytes
    with _lock:
        _cache.clear()
        _cached_bytes = 0


def calls_for(problem_set: ProblemSet, key: str, student: str | None) -> list[Call]:
    """The calls the sandbox makes for the code part ``key`` of ``student``'s submission, in test order."""
    return [plan.call for plan in planned(problem_set, key, student)]


def _who(student: str | None) -> tuple[str, ...]:
    return ("declared",) if student is None else ("student", student)


def _call(part: CodePart, test: CodeTest, drawn: Drawn) -> Call:
    """The kind's call, or the driver's with the test's names bound (what its data keeps is not)."""
    if part.driver is None:
        assert part.kind is not None  # a part without a kind has a driver (the set file's rule)
        return Call(*part.kind.call(part.called, test, drawn))
    bound: dict[str, Value] = dict(part.kind.bound(test, drawn) if part.kind is not None else {})
    if part.kind is None:
        bound.update({name: value for name, value in test.settings.items()})
        bound.update(drawn.named)
    return Call(DRIVER, (part.driver, ",".join(part.output_names)), bound, seconds=part.seconds(test))
