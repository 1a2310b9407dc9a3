"""Draws on which a kind's declared mistakes tell: every form of a mistake the set must catch
(``CodeKind.mutants``) that differs from the reference on the set's own draw of a test (the draw
the set's check holds to) differs on each student's draw of that test too. A student's draw on
which one does not is drawn again, from the same generator, so that student always gets the same
draw: two whole-number biases drawn 0, where a forward without its bias passes (one draw in 49 of
``numpy-convolution``'s "small whole numbers"); a pooling window whose maximum is also the next
window's, where a backward pass that overwrites rather than adds passes.

The set's own draw is the measure: a form that does not differ there (a kernel flipped on a 1×1
kernel, ``=`` for ``+=`` where no windows overlap) is not the draw's doing, and is not asked for.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from problems.code.kinds.base import CodeKind, Drawn, Outputs
from problems.code.spec import CodeTest, Tolerance

#: Draws tried for one student's test. A form silent on a fiftieth of the draws is silent on all
#: of them about once in 10^54; past them the draw with the fewest silent forms is kept.
ATTEMPTS = 32

#: A mistake's code and which of its forms (in the order the kind gives them).
Form = tuple[str, int]


@dataclass(frozen=True)
class Told:
    """A draw, with the reference and the mistakes' outputs computed on it to tell (None when
    nothing was asked), which the plan keeps rather than computing them again."""

    drawn: Drawn
    solved: tuple[Outputs, list[tuple[str, Outputs]]] | None = None


def telling_forms(
    kind: CodeKind,
    reference: Outputs,
    mistakes: Sequence[tuple[str, Outputs]],
    tolerance: Tolerance,
    equal: Sequence[int],
) -> frozenset[Form]:
    """The forms of the kind's declared mistakes whose outputs differ from ``reference``: an output
    judged ``equal`` (its index in ``equal``) of another shape, or beyond the tolerance somewhere."""
    declared = [(form, outputs) for form, outputs in _forms(mistakes) if form[0] in kind.mutants]
    differ = _differing([outputs for _, outputs in declared], reference, tolerance, equal)
    return frozenset(form for (form, _), differs in zip(declared, differ, strict=True) if differs)


def telling_draw(
    kind: CodeKind,
    test: CodeTest,
    rng: np.random.Generator,
    asked: frozenset[Form],
    tolerance: Tolerance,
    equal: Sequence[int],
) -> Told:
    """The first of the kind's draws from ``rng`` on which every form of ``asked`` differs from the
    reference (within :data:`ATTEMPTS`; else the first with the fewest that do not)."""
    kept: tuple[int, Told] | None = None
    for _ in range(ATTEMPTS):
        drawn = kind.draw(test, rng)
        if not asked:
            return Told(drawn)
        reference = kind.reference(test, drawn)
        mistakes = kind.mistakes(test, drawn, reference)
        silent = _silent(asked, reference, mistakes, tolerance, equal)
        if not silent:
            return Told(drawn, (reference, mistakes))
        if kept is None or silent < kept[0]:
            kept = (silent, Told(drawn, (reference, mistakes)))
    assert kept is not None
    return kept[1]


def _forms(mistakes: Sequence[tuple[str, Outputs]]) -> list[tuple[Form, Outputs]]:
    """Each mistake's outputs with its form: its code and which of that code's forms it is."""
    seen: Counter[str] = Counter()
    found = []
    for code, outputs in mistakes:
        found.append(((code, seen[code]), outputs))
        seen[code] += 1
    return found


def _silent(
    asked: frozenset[Form],
    reference: Outputs,
    mistakes: Sequence[tuple[str, Outputs]],
    tolerance: Tolerance,
    equal: Sequence[int],
) -> int:
    """How many forms of ``asked`` do not differ from ``reference`` (one the kind did not give on
    this draw among them)."""
    given = [outputs for form, outputs in _forms(mistakes) if form in asked]
    return len(asked) - sum(_differing(given, reference, tolerance, equal))


def _differing(
    candidates: Sequence[Outputs], reference: Outputs, tolerance: Tolerance, equal: Sequence[int]
) -> list[bool]:
    """Whether a student returning each of ``candidates`` fails the test: as the judge compares
    (numpy's ``isclose``, ``|a - e| <= abs + rel·|e|``; NaN is never close)."""
    differs = [len(outputs) != len(reference) for outputs in candidates]
    with np.errstate(invalid="ignore", over="ignore"):
        for index in equal:
            expected = reference[index]
            close = closeness(expected, tolerance)
            for number, outputs in enumerate(candidates):
                if not differs[number]:
                    actual = outputs[index]
                    differs[number] = actual.shape != expected.shape or not close(actual)
    return differs


def closeness(expected: np.ndarray, tolerance: Tolerance) -> Callable[[np.ndarray], bool]:
    """``np.isclose(actual, expected, ...).all()`` as a function of ``actual`` (of ``expected``'s
    shape), for the many mistakes compared with one reference (every declared mistake of every test
    of each new student's draw): on finite float numbers, the bound ``abs + rel·|e|`` computed once,
    the reference's own array (a mistake that leaves that output right) close at once, and isclose's
    rule for infinities not needed (the reference has none); else :func:`_close`. Call it where
    numpy's overflow warnings are silenced."""
    if expected.dtype.kind != "f" or not np.isfinite(expected).all():
        return lambda actual: _close(actual, expected, tolerance)
    bound = tolerance.abs + tolerance.rel * np.abs(expected)

    def close(actual: np.ndarray) -> bool:
        if actual is expected:
            return True
        if actual.dtype.kind != "f":
            return _close(actual, expected, tolerance)
        return bool((np.abs(actual - expected) <= bound).all())

    return close


def _close(actual: np.ndarray, expected: np.ndarray, tolerance: Tolerance) -> bool:
    """``np.isclose(actual, expected, ...).all()``, in a third of its time on float arrays (it runs
    for every declared mistake of every test of every new student): the same comparison, with
    isclose's own rule (infinities of one sign agree) only for the elements it did not pass. An
    infinite reference's bound is infinite, so its elements pass only that rule."""
    if actual.dtype.kind != "f" or expected.dtype.kind != "f":
        return bool(np.isclose(actual, expected, rtol=tolerance.rel, atol=tolerance.abs).all())
    with np.errstate(invalid="ignore", over="ignore"):
        close = np.abs(actual - expected) <= tolerance.abs + tolerance.rel * np.abs(expected)
    close &= np.isfinite(expected)
    if close.all():
        return True
    left, right = actual[~close], expected[~close]
    return bool((np.isinf(left) & (left == right)).all())
