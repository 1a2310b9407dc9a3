"""Problem sets: problems with their parts, solved into reference answers per answer key,
for the declared numbers or for one student's variant."""

from __future__ import annotations

import difflib
import inspect
import re
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, TypeVar

import numpy as np
from pydantic import TypeAdapter, ValidationError

from problems import budgets
from problems.budgets import MAX_REFERENCES
from problems.choices import ChoicePart
from problems.code.parts import CodePart
from problems.kinds import JSON, AnswerKind, Layout
from problems.parts import Operation, Part, Scalar, WrittenPart
from problems.pools import Pool, drawn_problems
from problems.positions import SourceMap
from problems.solvers.assumptions import precedence
from problems.solvers.steps import Derivations, MistakenSteps
from problems.types import AnyProblem, ProblemSpec, Quantity
from problems.variants import MAX_DRAWS, Draw, draw_params, lookup, seeded

SPEC = TypeAdapter(AnyProblem)
#: Variants a set keeps drawn (its probe variants and a few more): a variant is the same every time
#: it is drawn, and drawing one solves its networks, so a set's self-test, which asks for each
#: probe variant once per check, draws each once.
VARIANTS_KEPT = 16
_VARIANTS_LOCK = threading.Lock()
#: Answers followed through from a student's own earlier answers (:meth:`ProblemSet.follow_through`)
#: kept per variant: a class repeats the same wrong earlier answers, and following one through
#: solved the later part again, a quarter of a millisecond each (``bench/grading.py``).
FOLLOWED_KEPT = 4096
#: Arrays up to this many elements are told apart by their bytes for that memo; larger ones are not kept.
FOLLOWED_ARRAY = 4096
#: What the memo holds where following through gives no answer.
_NO_ANSWER = object()
#: An answer as a door sends it (JSON, or a form's text and ticks).
Sent = TypeVar("Sent")
PLACEHOLDER = re.compile(r"\{([A-Za-z0-9_.]+)\}")


class TwoModules(ValueError):
    """A problem's code parts answered both by one module under the problem's id and by modules of
    their own that differ: which one is meant cannot be told."""


def _blank(answer: object) -> bool:
    return answer is None or (isinstance(answer, str) and not answer.strip())


class SolveError(ValueError):
    """A part whose answer cannot be computed. ``key`` is the part at fault (the one whose own
    quantity, operand or kind fails, not a later part that builds on it) and ``field`` the part's
    field to point at (``kind``; None: its quantity), so that a set file's issue is placed there."""

    def __init__(self, message: str, *, key: str | None = None, field: str | None = None):
        super().__init__(message)
        self.key, self.field = key, field


@dataclass(frozen=True)
class Answer:
    """A reference answer: the value in the part's kind and layout."""

    key: str
    kind: AnswerKind
    value: Any
    part: Part


@dataclass(frozen=True)
class Problem:
    id: str
    parts: tuple[Part, ...]
    params: dict[str, JSON]
    spec: ProblemSpec
    title: str = ""
    text: str = ""
    vary: dict[str, Draw] = field(default_factory=dict)
    #: The free-response parts, answered in writing and graded by staff (no reference to compute).
    written: tuple[WrittenPart, ...] = ()
    #: Every part's own key (computed, written, code and choice) in the file's order; empty: computed,
    #: then written, then code, then choice.
    order: tuple[str, ...] = ()
    #: The parts answered with code, run in the sandbox (each knows its problem's runtime).
    code: tuple[CodePart, ...] = ()
    #: The parts answered by picking options (graded by the options the file marks right).
    choice: tuple[ChoicePart, ...] = ()

    def in_order(self) -> list[Part | WrittenPart | CodePart | ChoicePart]:
        """Every part, computed, written, code or choice, in the file's order."""
        every: list[Part | WrittenPart | CodePart | ChoicePart] = [*self.parts, *self.written, *self.code, *self.choice]
        if not self.order:
            return every
        return sorted(every, key=lambda part: self.order.index(part.key))

    def points(self) -> float:
        """The points of every part of the entry."""
        return float(sum(part.points for part in self.in_order()))

    def part_keys(self) -> list[str]:
        """The answer keys of every part, computed, written or code, in the file's order."""
        return [f"{self.id}.{part.key}" for part in self.in_order()]

    def position(self, own_key: str) -> int:
        """Where the part of that key (its own half: ``why`` of ``q5.why``) is in the entry's list
        of parts in the file: what a set file's issue points at."""
        return [part.key for part in self.in_order()].index(own_key)

    @cached_property
    def quantities(self) -> dict[str, Quantity]:
        return self.spec.solve()

    @cached_property
    def mistaken(self) -> dict[str, dict[str, Quantity]]:
        """Per mistake code, every quantity as that mistake computes it; ``macs-vs-flops`` takes each
        count of multiply-accumulates for the FLOPs and the reverse, so that a part computed from
        them (a sum, a ratio to the parameters) is named too."""
        found = {code: {**self.quantities, **changed} for code, changed in self.spec.mistakes().items()}
        swapped = macs_for_flops(self.quantities)
        if swapped:
            found["macs-vs-flops"] = {**self.quantities, **swapped}
        return found

    @cached_property
    def derivations(self) -> Derivations:
        """The worked steps of the quantities the parts ask for (``problems.solutions``)."""
        found = Derivations(self.asked())
        if _explains(self.spec.solve):  # a type without steps has none (the steps tests refuse it)
            self.spec.solve(steps=found)
        return found

    @cached_property
    def mistaken_derivations(self) -> MistakenSteps:
        """Per mistake code, the worked steps of the asked quantities it changes, where the type has them."""
        found = MistakenSteps(self.asked())
        if _explains(self.spec.mistakes):
            self.spec.mistakes(steps=found)
        return found

    def asked(self) -> set[str]:
        """The quantities the parts name, as their own or as an operand."""
        found: set[str] = set()
        pending: list[str | int | Operation] = [part.quantity for part in self.parts]
        while pending:
            item = pending.pop()
            if isinstance(item, Operation):
                pending += item.operands
            elif isinstance(item, str) and not item.startswith("@"):
                found.add(item)
        return found

    def quantities_under(self, mistake: str | None) -> dict[str, Quantity]:
        if mistake is None:
            return self.quantities
        return self.mistaken.get(mistake, self.quantities)

    def key(self, part: Part) -> str:
        return f"{self.id}.{part.key}"

    def statement(self) -> str:
        """The problem text with its placeholders filled, then the givens."""
        text = PLACEHOLDER.sub(lambda m: _format(lookup(self.params, m.group(1))), self.text).strip()
        if text and not self.spec.givens_always:
            return text
        return f"{text}\n{self.spec.describe()}".strip()

    def with_params(self, params: dict[str, JSON]) -> Problem:
        spec = SPEC.validate_python(params)
        return Problem(
            self.id,
            self.parts,
            params,
            spec,
            self.title,
            self.text,
            self.vary,
            self.written,
            self.order,
            self.code,
            self.choice,
        )


@dataclass(frozen=True)
class ProblemSet:
    id: str
    title: str
    problems: tuple[Problem, ...]
    randomized: bool = False
    source: str = ""
    version: str = ""
    #: Where each field is in the set file the set was read from (None for a set made in code).
    where: SourceMap | None = field(default=None, compare=False, repr=False)
    #: The pools of the file (:mod:`problems.pools`): each student gets ``choose`` of each one's problems.
    pools: tuple[Pool, ...] = ()
    #: Whether each student sees the problems in an order of their own.
    shuffle: bool = False
    #: Each problem's index in the whole set, which its numbers are drawn with (empty: its own
    #: index), so that a student's drawn problems (:meth:`drawn`) keep their numbers.
    seeds: tuple[int, ...] = field(default=(), compare=False, repr=False)
    #: The variants drawn last, by student (see :meth:`variant`).
    _variants: dict[str, ProblemSet] = field(default_factory=dict, init=False, compare=False, repr=False)
    #: The problems drawn last, by student (see :meth:`drawn`).
    _drawn: dict[str, ProblemSet] = field(default_factory=dict, init=False, compare=False, repr=False)
    #: Answers followed through last, by key and earlier answers (see :meth:`follow_through`).
    _followed: dict[tuple[Any, ...], Any] = field(default_factory=dict, init=False, compare=False, repr=False)

    @property
    def draws_problems(self) -> bool:
        """Whether students get problems of their own (a pool) or an order of their own (``shuffle``)."""
        return bool(self.pools) or self.shuffle

    def drawn(self, drawn_from: str | None) -> ProblemSet:
        """The set as one student has it: their problems of each pool, in their order (``drawn_from``:
        :func:`problems.variants.variant_key`; None, or a set without pools or shuffle: the whole set)."""
        if not self.draws_problems or drawn_from is None:
            return self
        found = self._drawn.get(drawn_from)
        if found is not None:
            return found
        chosen = drawn_problems(self.id, len(self.problems), self.pools, self.shuffle, drawn_from)
        problems = tuple(self.problems[index] for index in chosen)
        seeds = tuple(self._seed(index) for index in chosen)
        own = ProblemSet(self.id, self.title, problems, self.randomized, self.source, self.version, seeds=seeds)
        with _VARIANTS_LOCK:
            while len(self._drawn) >= VARIANTS_KEPT:
                del self._drawn[next(iter(self._drawn))]
            return self._drawn.setdefault(drawn_from, own)

    def problem_ids(self) -> list[str]:
        """The problems' ids in order, each once (entries may share an id)."""
        return list(dict.fromkeys(problem.id for problem in self.problems))

    def _seed(self, index: int) -> int:
        return self.seeds[index] if self.seeds else index

    def answer_keys(self) -> list[str]:
        """Every answer key, computed, written, code or choice, in the file's order."""
        return [key for p in self.problems for key in p.part_keys()]

    def max_score(self) -> float:
        """The points of every part a student answers, computed, written or code: of each pool, the
        points of ``choose`` of its problems (they are worth the same, :mod:`problems.loader` checks)."""
        pooled = {index for pool in self.pools for index in pool.members}
        own = sum(self.problems[index].points() for index in range(len(self.problems)) if index not in pooled)
        drawn = sum(pool.choose * self.problems[pool.members[0]].points() for pool in self.pools)
        return float(own + drawn)

    def parts(self) -> dict[str, Part]:
        """The computed parts by key (the ones with a reference answer)."""
        return {p.key(part): part for p in self.problems for part in p.parts}

    def written(self) -> dict[str, WrittenPart]:
        """The free-response parts by key, in the file's order."""
        return {f"{p.id}.{part.key}": part for p in self.problems for part in p.written}

    def choice(self) -> dict[str, ChoicePart]:
        """The parts answered by picking options, by key, in the file's order."""
        return {f"{p.id}.{part.key}": part for p in self.problems for part in p.choice}

    def code(self) -> dict[str, CodePart]:
        """The parts answered with code by key, in the file's order (``part.runtime`` is its problem's)."""
        return {f"{p.id}.{part.key}": part for p in self.problems for part in p.code}

    def modules(self) -> dict[str, list[str]]:
        """The code parts that run the student's module, by problem id: a problem's code parts share one
        module (as its ``solution`` is one), which a student sends once, under the problem's id. A part
        answered with a number about that code (``module: KEY``) is not among them."""
        found: dict[str, list[str]] = {}
        for p in self.problems:
            keys = found.setdefault(p.id, [])
            keys += [key for part in p.code if part.module is None and (key := f"{p.id}.{part.key}") not in keys]
        return {problem_id: keys for problem_id, keys in found.items() if keys}

    def per_part(self, answers: Mapping[str, Sent]) -> dict[str, Sent]:
        """The answers as the engine grades and the service stores them, one per part: a module sent once
        under its problem's id answers each of that problem's code parts (:meth:`modules`); answers sent
        per part (one part per function, as before) pass as they are. A :class:`TwoModules` where a part
        is answered both ways with different modules."""
        modules = self.modules()
        if not any(key in modules for key in answers):
            return dict(answers)
        found = {key: value for key, value in answers.items() if key not in modules}
        for problem_id, keys in modules.items():
            if problem_id not in answers:
                continue
            module = answers[problem_id]
            if _blank(module) and any(key in answers for key in keys):
                continue
            twice = [key for key in keys if not _blank(answers.get(key)) and answers[key] != module]
            if twice and not _blank(module):
                raise TwoModules(
                    f"{problem_id!r} answers every code part of its problem with one module, but "
                    f"{', '.join(repr(key) for key in twice)} also has a module of its own: send the module once, "
                    f"under {problem_id!r}, or once per part, not both."
                )
            found |= {key: module for key in keys if _blank(answers.get(key))}
        return found

    def solution_of(self, key: str) -> str:
        """The instructor's module for a code part: its problem's ``solution``."""
        problem_id = key.partition(".")[0]
        problem = next(
            p for p in self.problems if p.id == problem_id and any(part.key == key.partition(".")[2] for part in p.code)
        )
        solution = problem.params.get("solution")
        assert isinstance(solution, str)
        return solution

    def variant(self, student: str | None = None) -> ProblemSet:
        """The set with this student's numbers; without a student, the declared numbers."""
        if not self.randomized or student is None:
            return self
        found = self._variants.get(student)
        if found is not None:
            return found
        problems = tuple(
            _draw(self.id, p, self._seed(index), student) if p.vary else p for index, p in enumerate(self.problems)
        )
        drawn = ProblemSet(
            self.id,
            self.title,
            problems,
            self.randomized,
            self.source,
            self.version,
            self.where,
            pools=self.pools,
            shuffle=self.shuffle,
            seeds=self.seeds,
        )
        with _VARIANTS_LOCK:
            while len(self._variants) >= VARIANTS_KEPT:
                del self._variants[next(iter(self._variants))]
            return self._variants.setdefault(student, drawn)

    def solve(self, student: str | None = None, mistake: str | None = None) -> dict[str, Answer]:
        """Reference answers for every key, in the parts' kinds and layouts, in the file's order
        (a part is solved after the parts it builds on, but listed where it was written: results,
        statements and solutions follow the file).

        With ``mistake``, the answers as that mistake computes them; keys it cannot compute
        are left out (a mistake is a model of a student, not a reference).
        """
        chosen = self.variant(student)
        owners = {p.key(part): (p, part) for p in chosen.problems for part in p.parts}
        solved: dict[str, Answer] = {}
        for key in owners:
            try:
                _resolve(key, owners, solved, (), mistake)
            except SolveError:
                if mistake is None:
                    raise
        return {key: solved[key] for key in owners if key in solved}

    def follow_through(
        self, key: str, given: dict[str, Any], student: str | None = None, reference: dict[str, Answer] | None = None
    ) -> Any | None:
        """The answer to ``key`` that follows from a student's own answers to earlier keys
        (``given``, values as read), or None when it cannot be recomputed from them.
        ``reference`` is the variant's solved answers, when the caller has them already."""
        chosen = self.variant(student)
        memo = _followed_key(key, given)
        found = chosen._followed.get(memo) if memo is not None else None
        if found is None:
            found = self._follow_through(chosen, key, given, student, reference)
            found = _NO_ANSWER if found is None else found
            if memo is not None:
                with _VARIANTS_LOCK:
                    while len(chosen._followed) >= FOLLOWED_KEPT:
                        del chosen._followed[next(iter(chosen._followed))]
                    chosen._followed[memo] = found
        return None if found is _NO_ANSWER else found

    def _follow_through(
        self,
        chosen: ProblemSet,
        key: str,
        given: dict[str, Any],
        student: str | None,
        reference: dict[str, Answer] | None,
    ) -> Any | None:
        """:meth:`follow_through` computed, on ``chosen``, the student's variant of this set."""
        owners = {p.key(part): (p, part) for p in chosen.problems for part in p.parts}
        problem, part = owners[key]
        try:
            if isinstance(part.quantity, Operation):
                reference = reference if reference is not None else self.solve(student)
                done = {k: Answer(k, reference[k].kind, v, owners[k][1]) for k, v in given.items() if k in owners}
                return _resolve(key, owners, done, ()).value
            quantities = {}
            for earlier, value in given.items():
                # an earlier part feeds this one when it names a quantity this problem has too
                # (same problem, or an earlier problem that built the same layers)
                _, earlier_part = owners.get(earlier, (None, None))
                if (
                    earlier_part
                    and isinstance(earlier_part.quantity, str)
                    and earlier_part.quantity in problem.quantities
                ):
                    correct = problem.quantities[earlier_part.quantity].value
                    if isinstance(value, tuple) and isinstance(correct, tuple) and len(correct) == 3:
                        value = earlier_part.layout.to_chw(value, correct[0])
                    quantities[earlier_part.quantity] = value
            found = problem.spec.follow(part.quantity, quantities)
            return None if found is None else _present(part, *found)[1]
        except (SolveError, ArithmeticError, ValueError, TypeError):
            return None

    def mistake_codes(self, student: str | None = None) -> list[str]:
        """The mistake codes some problem of this set can model."""
        return sorted({code for p in self.variant(student).problems for code in p.mistaken}, key=precedence)


def _explains(method: Callable[..., Any]) -> bool:
    """Whether a problem type's ``solve`` or ``mistakes`` takes ``steps`` (one written before
    steps existed does not)."""
    return "steps" in inspect.signature(method).parameters


def _draw(set_id: str, problem: Problem, index: int, student: str) -> Problem:
    """The student's variant: numbers drawn until the problem's own validation (the same as a set
    file's) takes them and every part solves; a draw refused is drawn again."""
    rng = seeded(set_id, problem.id, str(index), student)
    last_error: Exception | None = None
    for _ in range(MAX_DRAWS):
        try:
            candidate = problem.with_params(draw_params(problem.params, problem.vary, rng))
            solved = candidate.quantities  # a network runs here: a layer that cannot run is refused
        except budgets.OverBudget as error:
            raise error.at(problem.id) from None
        except ValueError as error:  # includes pydantic's ValidationError and the solvers' errors
            last_error = error
            continue
        missing = [p.key for p in candidate.parts if isinstance(p.quantity, str) and p.quantity not in solved]
        if not missing:
            return candidate
        last_error = SolveError(f"quantities {missing} undefined")
    reason = last_error.errors()[0]["msg"] if isinstance(last_error, ValidationError) else str(last_error)
    reason = reason.removeprefix("Value error, ")
    raise SolveError(f"{problem.id}: no valid variant in {MAX_DRAWS} draws (the last: {reason})") from last_error


def unknown_quantity(name: str, quantities: Iterable[str]) -> str:
    """Why ``name`` is refused, with what the author likely meant: the closest names the problem
    has (``difflib``), or else its families of quantities (a network has hundreds of names)."""
    known = sorted(quantities)
    close = difflib.get_close_matches(name, known, n=5, cutoff=0.6)
    if close:
        return f"unknown quantity {name!r}; the closest this problem has: {', '.join(close)}"
    families = sorted({q.split(".")[0] + (".NAME" if "." in q else "") for q in known})
    return f"unknown quantity {name!r}; this problem has {', '.join(families)}"


def macs_for_flops(quantities: dict[str, Quantity]) -> dict[str, Quantity]:
    """``macs.NAME`` given the value of ``flops.NAME`` and the reverse, wherever both are known."""
    swapped: dict[str, Quantity] = {}
    for name, quantity in quantities.items():
        what, dot, target = name.partition(".")
        other = {"macs": "flops", "flops": "macs"}.get(what)
        if dot and other is not None and f"{other}.{target}" in quantities:
            swapped[f"{other}.{target}"] = quantity
    return swapped


def _resolve(
    key: str,
    owners: dict[str, tuple[Problem, Part]],
    done: dict[str, Answer],
    trail: tuple[str, ...],
    mistake: str | None = None,
) -> Answer:
    if key in done:
        return done[key]
    if key in trail:
        raise SolveError(f"parts refer to each other in a circle: {' → '.join((*trail, key))}")
    if key not in owners:
        raise SolveError(f"no part {key!r} in this set")
    if len(trail) >= MAX_REFERENCES:
        chain = " → ".join((*trail, key))
        budget = budgets.over(MAX_REFERENCES, "references between parts")
        raise SolveError(f"parts refer to parts more than {MAX_REFERENCES} deep, {budget}: {chain}")
    problem, part = owners[key]
    try:
        if isinstance(part.quantity, Operation):
            kind, value = _operate(part.quantity, problem, owners, done, (*trail, key), mistake)
        else:
            quantities = problem.quantities_under(mistake)
            if part.quantity not in quantities:
                raise SolveError(unknown_quantity(part.quantity, quantities))
            kind, value = quantities[part.quantity]
        kind, value = _present(part, kind, value)
    except SolveError as error:
        if error.key is not None:  # a part this one builds on: the fault is there
            raise
        raise SolveError(f"{key}: {error}", key=key, field=error.field) from error
    except (ArithmeticError, ValueError) as error:
        raise SolveError(f"{key}: {error}", key=key) from error
    except budgets.OverBudget as error:
        raise error.at(problem.id) from None
    done[key] = Answer(key, kind, value, part)
    return done[key]


def _operate(
    op: Operation,
    problem: Problem,
    owners: dict[str, tuple[Problem, Part]],
    done: dict[str, Answer],
    trail: tuple[str, ...],
    mistake: str | None = None,
) -> tuple[AnswerKind, Any]:
    values: list[Scalar] = []
    kinds: list[AnswerKind] = []
    quantities = problem.quantities_under(mistake)
    for operand in op.operands:
        if isinstance(operand, Operation):
            kind, value = _operate(operand, problem, owners, done, trail, mistake)
        elif isinstance(operand, int):
            kind, value = AnswerKind.INTEGER, operand
        elif operand.startswith("@"):
            answer = _resolve(operand[1:], owners, done, trail, mistake)
            kind, value = answer.kind, answer.value
        elif operand in quantities:
            kind, value = quantities[operand]
        else:
            raise SolveError(f"unknown operand {operand!r}")
        if kind not in (AnswerKind.INTEGER, AnswerKind.REAL, AnswerKind.PERCENT):
            raise SolveError(f"operand {operand!r} is {article(kind)}, not a number")
        values.append(value)
        kinds.append(kind)
    return op.result_kind(kinds), op.apply(values)


def _present(part: Part, kind: AnswerKind, value: Any) -> tuple[AnswerKind, Any]:
    """Apply the part's layout and declared kind to a solver value."""
    if kind is AnswerKind.SHAPE:
        value = part.layout.arrange(value)
    elif kind is AnswerKind.SHAPE_LIST:
        value = [part.layout.arrange(shape) for shape in value]
    elif kind is AnswerKind.FORMULA_SHAPE and part.layout is not Layout.HWC:
        h, w, c = value
        value = Layout(part.layout).arrange((c, h, w))
    if part.kind is None or part.kind is kind:
        return kind, value
    if {part.kind, kind} <= {AnswerKind.INTEGER, AnswerKind.REAL, AnswerKind.PERCENT}:
        return part.kind, value
    if part.kind is AnswerKind.MATRIX and kind is AnswerKind.TENSOR and np.shape(value)[0] == 1:
        return part.kind, np.asarray(value)[0]
    raise SolveError(f"{article(kind)} quantity cannot be asked as {part.kind}", field="kind")


def article(kind: AnswerKind) -> str:
    """The kind with its article: ``an integer``, ``a shape``."""
    return f"{'an' if kind.value[0] in 'aeiou' else 'a'} {kind.value.replace('_', ' ')}"


def _format(value: JSON) -> str:
    if isinstance(value, list) and value and isinstance(value[0], list):
        return "[" + ", ".join(_format(v) for v in value) + "]"
    if isinstance(value, list):
        return "[" + ", ".join(str(v) for v in value) + "]"
    return str(value)


def _followed_key(key: str, given: dict[str, Any]) -> tuple[Any, ...] | None:
    """The memo's key for following ``key`` through from ``given`` (values as read: numbers,
    fractions, shapes, formulas, arrays), or None for values it cannot tell apart safely."""
    parts: list[Any] = [key]
    for earlier, value in sorted(given.items()):
        if isinstance(value, np.ndarray):
            if value.size > FOLLOWED_ARRAY:
                return None
            value = ("array", value.shape, value.dtype.str, value.tobytes())
        try:
            hash(value)
        except TypeError:
            return None
        parts.append((earlier, type(value).__name__, value))
    return tuple(parts)
