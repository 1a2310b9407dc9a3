"""Everything needed to grade one set variant, computed once: the reference answers and,
per key, the answers each known mistake produces."""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, NamedTuple

import numpy as np

from grader.comparison.compare import agrees
from grader.comparison.mistakes import value_mistakes
from grader.results import GradedPart
from problems.choices import ChoicePart
from problems.code.parts import CodePart
from problems.kinds import AnswerKind
from problems.parts import WrittenPart
from problems.sets import Answer, ProblemSet
from problems.solutions import parting_step, solutions
from problems.solvers.steps import Step, Steps

#: Set variants kept ready; a randomized set has one per student.
CACHE_SIZE = 2048

#: An answer as the graded-part cache keys it: a text as sent; other JSON as its type and value (a
#: list as its ``repr``), so that ``1``, ``1.0``, ``true`` and ``"1"`` are kept apart.
Remembered = str | tuple[type, str | int | float]


class Following(NamedTuple):
    """A part's answer with the earlier answers it follows that differ from the reference, by key:
    its grade depends on these alone (``grader.engine``'s cache key for such a part)."""

    own: Remembered
    earlier: tuple[tuple[str, Remembered], ...]


@dataclass(frozen=True)
class PartReference:
    answer: Answer
    symbols: tuple[str, ...]
    #: (code, value) pairs: what each known mistake answers here, where it differs from the answer.
    #: A slip on one layer keeps its layer (``CODE@LAYER``): the mistake is ``CODE``, and its
    #: working departs from the reference's at that layer's step.
    mistakes: tuple[tuple[str, Any], ...]
    #: For exact kinds, the same by value: one lookup instead of a comparison per mistake.
    mistake_by_value: dict[Any, str] = field(default_factory=dict)
    #: The earlier parts whose answers this one's may follow through (the part's own list).
    follows: tuple[str, ...] = ()
    #: Grades by the answers they depend on, as sent (``grader.engine``'s cache): the same answers
    #: always grade the same, and a class sends the same right and wrong answers often.
    graded: dict[Remembered | Following, GradedPart] = field(default_factory=dict, compare=False, repr=False)

    def mistake_for(self, value: Any) -> str | None:
        """The code of the first known mistake that gives ``value``, if any."""
        source = self.mistake_source(value)
        return None if source is None else source.partition("@")[0]

    def mistake_source(self, value: Any) -> str | None:
        """The first known mistake that gives ``value`` as it was modelled: ``CODE``, or
        ``CODE@LAYER`` for a slip on one layer."""
        if self.answer.kind is AnswerKind.INTEGER:
            number = value.value
            return self.mistake_by_value.get(number.numerator) if number.denominator == 1 else None
        kind, part = self.answer.kind, self.answer.part
        return next((code for code, wrong in self.mistakes if agrees(kind, wrong, value, part)), None)

    def mistake_sources(self, value: Any, code: str) -> list[str]:
        """Every modelled form of the mistake ``code`` that gives ``value`` (the mistake on every
        layer, or a slip on one: several layers may each give it)."""
        kind, part = self.answer.kind, self.answer.part
        return [
            source
            for source, wrong in self.mistakes
            if source.partition("@")[0] == code and agrees(kind, wrong, value, part)
        ]


@dataclass(frozen=True)
class SetReference:
    problem_set: ProblemSet
    student: str | None
    parts: dict[str, PartReference]
    #: Where a mistake's steps part from the reference's, by (key, code), as found.
    partings: dict[tuple[str, str], tuple[int, Step] | None] = field(default_factory=dict)
    #: The free-response parts by key (graded by hand, so no reference), and every key in the file's
    #: order when the set has such parts (results list the parts as the file does).
    written: dict[str, WrittenPart] = field(default_factory=dict)
    order: tuple[str, ...] = ()
    #: The parts answered with code by key (run in the sandbox, apart from this grading).
    code: dict[str, CodePart] = field(default_factory=dict)
    #: The parts answered by picking options, by key (graded by the options marked right).
    choice: dict[str, ChoicePart] = field(default_factory=dict)

    def remembered(self) -> int:
        """How many grades its parts remember (the engine bounds them per variant)."""
        return sum(len(part.graded) for part in self.parts.values())

    def forget(self) -> None:
        """Every remembered grade forgotten."""
        for part in self.parts.values():
            part.graded.clear()

    @cached_property
    def keys(self) -> frozenset[str]:
        """Every answer key of the variant, whatever its kind."""
        return frozenset((*self.parts, *self.written, *self.code, *self.choice))

    @cached_property
    def answers(self) -> dict[str, Answer]:
        return {key: part.answer for key, part in self.parts.items()}

    @cached_property
    def solutions(self) -> dict[str, Steps]:
        """The worked steps of this variant, per key (made on first use: only released ones are)."""
        return solutions(self.problem_set, self.student)

    def parting(self, key: str, code: str, value: Any = None) -> tuple[int, Step] | None:
        """The step (its number, and the mistake's own version) where ``code`` parts from the
        reference; given the student's ``value``, as the mistake that gives it was modelled (a slip
        on one layer parts at that layer's step, not at the first layer the mistake would change).
        None where the type does not model the mistake's steps, or where the answer is what slips
        on different layers give and their steps part at different places: no step is named
        rather than a guess."""
        sources = [] if value is None else self.parts[key].mistake_sources(value, code)
        if len(sources) > 1:  # the same answer by slips on different layers: one step only if they agree
            found = [self.parting(key, source) for source in sources]
            return found[0] if all(place == found[0] for place in found) else None
        code = sources[0] if sources else code
        if (key, code) not in self.partings:
            self.partings[(key, code)] = parting_step(self.problem_set, key, code, self.student)
        return self.partings[(key, code)]


_cache: OrderedDict[tuple[str, str, str | None, tuple[int, ...]], SetReference] = OrderedDict()
#: The service grades in several threads: a lookup must not race an eviction. Building a
#: reference happens outside the lock, so two variants can be built at once.
_cache_lock = threading.Lock()


def reference_for(problem_set: ProblemSet, student: str | None = None) -> SetReference:
    """The (cached) reference of a set for one student; fixed sets share one for everybody. A
    student's own problems of a set with pools (:meth:`problems.sets.ProblemSet.drawn`, known by
    their ``seeds``) have a reference of their own: it holds those problems' keys alone."""
    variant_of = student if problem_set.randomized else None
    key = (problem_set.id, problem_set.version, variant_of, problem_set.seeds)
    with _cache_lock:
        if (found := _cache.get(key)) is not None:
            _cache.move_to_end(key)
            return found
    built = _build(problem_set, variant_of)
    with _cache_lock:
        reference = _cache.setdefault(key, built)
        _cache.move_to_end(key)
        while len(_cache) > CACHE_SIZE:
            _cache.popitem(last=False)
    return reference


def _build(problem_set: ProblemSet, student: str | None) -> SetReference:
    # The variant is drawn once and solved under every mistake: its problems keep what they
    # solved (each problem's mistakes are computed once, not once per code).
    variant = problem_set.variant(student)
    answers = variant.solve()
    mistaken = {code: variant.solve(mistake=code) for code in variant.mistake_codes()}
    symbols = {}
    for problem in variant.problems:
        for part in problem.parts:
            declared = part.symbols or getattr(problem.spec, "symbols", None) or []
            symbols[problem.key(part)] = tuple(declared)
    parts = {}
    for key, answer in answers.items():
        found = [  # a slip on one layer (``CODE@LAYER``) is the mistake ``CODE``, named by mistake_for
            (code, values[key].value)
            for code, values in mistaken.items()
            if key in values and not _same(answer.kind, values[key].value, answer.value)
        ]
        found += value_mistakes(answer.part, answer.kind, answer.value)
        by_value = {}
        if answer.kind is AnswerKind.INTEGER:
            for code, value in reversed(found):
                by_value[value] = code
        parts[key] = PartReference(answer, symbols[key], tuple(found), by_value, tuple(answer.part.follows))
    written, code, choice = variant.written(), variant.code(), variant.choice()
    order = tuple(variant.answer_keys()) if written or code or choice else ()
    return SetReference(problem_set, student, parts, written=written, order=order, code=code, choice=choice)


def _same(kind: AnswerKind, first: Any, second: Any) -> bool:
    if first is second:  # a problem the mistake leaves alone: the same value, not printed again
        return True
    if kind in (AnswerKind.MATRIX, AnswerKind.TENSOR):
        return np.shape(first) == np.shape(second) and bool(np.allclose(first, second))
    if kind in (AnswerKind.FORMULA, AnswerKind.FORMULA_SHAPE):
        return str(first) == str(second)
    return bool(first == second)
