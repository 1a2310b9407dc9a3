"""Reading problem-set files (YAML), refusing a wrong one with every issue found in it, each
with the line and column of the YAML node at fault, the problem and the field.

The checks run in stages, each reporting all it finds: the YAML itself (a syntax error stops
here), keys given twice, the header and every problem entry against their models, then
(when all that holds) the answer keys, and whether every key solves on the declared numbers
and on every probe variant.
"""

from __future__ import annotations

import difflib
import functools
import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from types import MappingProxyType, UnionType
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError

from problems import budgets
from problems.choices import ChoicePart
from problems.code import mutants
from problems.code.parts import MAX_CALLS, MAX_SET_WORK, CodePart
from problems.document import compose
from problems.issues import Issue, SetFileError
from problems.parts import PART_TAGS, TOLERANT_KINDS, Part, WrittenPart
from problems.pool_entries import check_pools as _check_pools
from problems.pool_entries import entries as _entries
from problems.pool_entries import entry_depth as _entry_depth
from problems.positions import EntryMap, SourceMap, Step
from problems.setfile import ENTRY_FIELDS, ProblemEntry, SetHeader
from problems.sets import PLACEHOLDER, SPEC, Answer, Problem, ProblemSet, SolveError, article
from problems.solvers.layers import LayerError
from problems.types import BY_TYPE, ProblemSpec
from problems.types.code import CodeProblem
from problems.variants import lookup

__all__ = ["BUILT_IN", "PROBE_STUDENTS", "Issue", "SetFileError", "load_bank", "load_set", "parse_set", "version_of"]

BUILT_IN = Path(__file__).parent / "sets"
#: Students whose variants are generated at load time to prove a randomized set always solves.
PROBE_STUDENTS = tuple(f"probe-{i}" for i in range(8))

#: A check across fields (a model validator) names the field at the start of its message.
_NAMED = re.compile(r"^Value error, ([A-Za-z0-9_.$]+): (.*)$", re.DOTALL)


class _Found:
    """Issues as they are found, placed in the file."""

    def __init__(self, where: SourceMap):
        self.where = where
        self.issues: list[Issue] = []

    def sorted(self) -> list[Issue]:
        """In the order of the file (issues without a place last)."""
        return sorted(self.issues, key=lambda i: (i.line is None, i.line or 0, i.column or 0))

    def add(
        self,
        message: str,
        path: Sequence[Step] = (),
        problem: str | None = None,
        field: str | None = None,
        *,
        key: bool = False,
    ) -> None:
        """An issue at the node ``path`` leads to (from the file's top); ``field`` defaults to
        the path within the problem entry (or the file)."""
        position = self.where.find(path, key=key)
        if field is None and path:
            inside = path[_entry_depth(path) :] if problem is not None and path[:1] == ("problems",) else path
            field = ".".join(str(step) for step in inside) or None
        line, column = (position.line, position.column) if position else (None, None)
        self.issues.append(Issue(line, column, field, message, problem))

    def validation(
        self,
        error: ValidationError,
        base: tuple[Step, ...],
        problem: str | None,
        tag: str | None = None,
        model: Any = None,
    ) -> None:
        """Every error pydantic found, at its field (without the problem type pydantic puts in
        front); the errors of one union's members (``int`` or ``tuple[int, int]``) as one issue.
        ``model``: the type validated, whose fields a misspelt key is compared with."""
        unions: dict[tuple[Step, ...], list[tuple[tuple[Step, ...], str]]] = {}
        # a field the entry lacks, beside a key it should not have, is likely that key misspelt
        missing = [tuple(d["loc"]) for d in error.errors() if d["type"] == "missing"]
        for detail in error.errors():
            loc: list[Step] = list(detail["loc"])
            if tag is not None and loc[:1] == [tag]:
                loc = loc[1:]
            loc = _untagged(loc)
            message = detail["msg"]
            if detail["type"] == "union_tag_invalid":
                loc = ["type"]
            named = _NAMED.match(message)
            if named and detail["type"] == "value_error":
                loc, message = [*loc, *_steps(named.group(1))], named.group(2)
            elif detail["type"] == "value_error":
                message = message.removeprefix("Value error, ")
            matched = self.where.matched((*base, *loc))[len(base) :]
            labels = [i for i, step in enumerate(loc) if not matched[i] and _LABEL.match(str(step))]
            if labels:
                label = labels[0]
                rest = tuple(step for i, step in enumerate(loc[label + 1 :], label + 1) if i not in labels)
                unions.setdefault(tuple(loc[:label]), []).append((rest, message))
                continue
            field = ".".join(str(step) for step in loc) or None
            if detail["type"] == "extra_forbidden":
                message += _meant(tuple(detail["loc"]), missing, model, tuple(loc))
            self.add(message, (*base, *loc), problem, field, key=detail["type"] == "extra_forbidden")
        for loc_prefix, found in unions.items():
            field = ".".join(str(step) for step in loc_prefix) or None
            if len(found) == 1:
                rest, message = found[0]
                self.add(message, (*base, *loc_prefix, *rest), problem, ".".join(str(s) for s in (*loc_prefix, *rest)))
                continue
            forms = list(dict.fromkeys(f"{'.'.join(map(str, rest))}: {m}" if rest else m for rest, m in found))
            self.add("none of its forms fits: " + "; or ".join(forms), (*base, *loc_prefix), problem, field)


#: How pydantic names the member of a union an error is about: ``int``, ``tuple[int, int]``,
#: ``function-after[...]``, a model's class name.
_LABEL = re.compile(r"^(int|float|str|bool|[A-Z][A-Za-z0-9_]*|[a-z-]+\[.*\])$", re.DOTALL)


def _meant(
    extra: tuple[Step, ...], missing: list[tuple[Step, ...]], model: Any = None, where: tuple[Step, ...] = ()
) -> str:
    """``: did you mean `out_channels`?`` when the key ``extra`` is near a field missing beside it,
    or else near a field ``model`` takes at ``where`` (the key's place in the file: ``gird`` for an
    anchor level's optional ``grid``)."""
    lacking = [str(loc[-1]) for loc in missing if loc[:-1] == extra[:-1]]
    near = difflib.get_close_matches(str(extra[-1]), lacking, n=1, cutoff=0.75)
    if not near and model is not None:
        near = difflib.get_close_matches(str(extra[-1]), sorted(_keys_at(model, where[:-1])), n=1, cutoff=0.75)
    return f": did you mean `{near[0]}`?" if near else ""


def _keys_at(model: Any, loc: Sequence[Step]) -> set[str]:
    """The keys the mappings at ``loc`` of ``model``'s data may have: each step a field (by its
    name in the file) or an item of a list; through unions, every member that has the step."""
    types = [model]
    for step in loc:
        found = []
        for member in (m for t in types for m in _members(t)):
            if isinstance(step, int) and get_origin(member) in (list, tuple):
                found += [arg for arg in get_args(member) if arg is not Ellipsis]
            elif isinstance(member, type) and issubclass(member, BaseModel):
                found += [f.annotation for name, f in member.model_fields.items() if (f.alias or name) == step]
        types = found
    return {
        field.alias or name
        for member in (m for t in types for m in _members(t))
        if isinstance(member, type) and issubclass(member, BaseModel)
        for name, field in member.model_fields.items()
    }


def _members(annotation: Any) -> list[Any]:
    """The types an annotation allows: a union's members, an ``Annotated`` type's own type."""
    if get_origin(annotation) is Annotated:
        return _members(get_args(annotation)[0])
    if get_origin(annotation) in (Union, UnionType):
        return [m for arg in get_args(annotation) for m in _members(arg)]
    return [annotation]


def _steps(dotted: str) -> list[Step]:
    return [int(step) if step.isdigit() else step for step in dotted.split(".")]


def parse_set(text: str, source: str = "<upload>", *, probes: bool = True) -> ProblemSet:
    """Check one set file's text and make its set: every key must solve, for every probe student
    if randomized. ``source`` names the file in the issues. Raises :class:`SetFileError` with
    every issue found.

    ``probes=False`` reads a text that was checked in full before (a version the service
    stored): the file is still read, within the budgets, and validated into its set, but its
    answers are not solved here, on the declared numbers nor on the probe variants; they are
    solved when first asked for, as for any set."""
    data, where = compose(text, source)
    found = _Found(where)
    if not isinstance(data, dict):
        found.add("a set file is a mapping with id, title and problems")
        raise SetFileError(source, found.sorted())
    entries = data.get("problems")
    for path, name, _ in where.duplicates():
        problem = _label(entries, path)
        found.add(f"duplicate key {name!r}", (*path, name), problem, key=True)
    try:
        header: SetHeader | None = SetHeader.model_validate(data)
    except ValidationError as error:
        header = None
        found.validation(error, (), None)
    listed, pooled = _entries(found, entries) if isinstance(entries, list) else ([], [])
    problems = [_problem(found, entry, path, f"#{index + 1}") for index, (path, entry) in enumerate(listed)]
    if header is None or found.issues or None in problems:
        raise SetFileError(source, found.sorted())
    checked = [p for p in problems if p is not None]
    pools = _check_pools(found, checked, pooled, [path for path, _ in listed])
    if found.issues:
        raise SetFileError(source, found.sorted())
    found.where = EntryMap(where.root, [path for path, _ in listed])
    _check_titles(checked)
    _check_keys(found, checked)
    _check_parts(found, checked)
    if found.issues:
        raise SetFileError(source, found.sorted())
    result = ProblemSet(
        header.id,
        header.title,
        tuple(checked),
        # a code part's test inputs are drawn per student (from the assignment's secret), so a set with
        # code is randomized whatever its header says: otherwise every student would meet the same arrays
        header.randomized or any(problem.code for problem in checked),
        header.source,
        version_of(text),
        found.where,
        pools=pools,
        shuffle=header.shuffle,
    )
    if probes:
        _check_solvable(found, result)
    if found.issues:
        raise SetFileError(source, found.sorted())
    return result


def _untagged(loc: list[Step]) -> list[Step]:
    """The location without the kind of part pydantic puts after a part's index (``parts.0.computed``):
    the file has no such field."""
    return [
        step
        for i, step in enumerate(loc)
        if not (step in PART_TAGS and i >= 2 and loc[i - 2] == "parts" and isinstance(loc[i - 1], int))
    ]


def version_of(text: str) -> str:
    """A set file's version: a hash of its text, so that equal files are one version."""
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def load_set(path: Path) -> ProblemSet:
    """Load and check one set file (see :func:`parse_set`)."""
    return parse_set(path.read_text(encoding="utf-8"), str(path))


def _label(entries: Any, path: Sequence[Step]) -> str | None:
    """The id of the problem entry a path lies in (``#3`` for an entry without one)."""
    if len(path) < 2 or path[0] != "problems" or not isinstance(entries, list):
        return None
    index = path[1]
    if not isinstance(index, int) or index >= len(entries):
        return None
    entry = entries[index]
    name = entry.get("id") if isinstance(entry, dict) else None
    return str(name) if name is not None else f"#{index + 1}"


def _problem(found: _Found, entry: Any, base: tuple[Step, ...], number: str) -> Problem | None:
    """The problem an entry at ``base`` declares (``number``: what names it without an id), or
    None with its issues reported."""
    if not isinstance(entry, dict):
        found.add("a problem is a mapping with id, title, type and parts", base, number)
        return None
    label = str(entry.get("id", number))
    before = len(found.issues)
    shell: ProblemEntry | None = None
    spec = None
    try:
        shell = ProblemEntry.model_validate(entry)
    except ValidationError as error:
        found.validation(error, base, label)
    params = {name: value for name, value in entry.items() if name not in ENTRY_FIELDS}
    if "type" not in params:
        found.add("missing the problem type", base, label, "type")
    else:
        try:
            spec = SPEC.validate_python(params)
        except ValidationError as error:
            found.validation(error, base, label, str(params["type"]), BY_TYPE.get(str(params["type"])))
    if shell is not None:
        _check_vary(found, shell, params, base, label)
        _check_text(found, shell, params, base, label)
    if shell is None or spec is None or len(found.issues) > before:
        return None
    computed = tuple(part for part in shell.parts if isinstance(part, Part))
    written = tuple(part for part in shell.parts if isinstance(part, WrittenPart))
    choice = tuple(part for part in shell.parts if isinstance(part, ChoicePart))
    code = _code_parts(found, shell, spec, base, label)
    if code is None:
        return None
    order = tuple(part.key for part in shell.parts)
    title = shell.title or ""
    return Problem(shell.id, computed, params, spec, title, shell.text, shell.vary, written, order, code, choice)


def _code_parts(
    found: _Found, shell: ProblemEntry, spec: ProblemSpec, base: tuple[Step, ...], label: str
) -> tuple[CodePart, ...] | None:
    """The entry's code parts, each in its problem's runtime; None (with issues) when a code part is
    in a problem without a solution to check it by, or asks for a kind its runtime cannot run."""
    parts: list[CodePart] = []
    for index, part in enumerate(shell.parts):
        if not isinstance(part, CodePart):
            continue
        where = (*base, "parts", index, "code")
        if not isinstance(spec, CodeProblem):
            found.add(
                "a code part belongs to a problem of `type: code` (with the `solution` it is checked by)", where, label
            )
        elif part.needs_runtime == "torch" and spec.runtime != "torch":
            found.add(f"{part.code} runs in the torch runtime: give the problem `runtime: torch`", where, label)
        elif part.module is not None and not _runs_code(shell, part.module):
            message = f"{part.module!r} is not a part of this problem answered with code"
            found.add(message, (*base, "parts", index, "module"), label)
        elif (edit := mutants.first_problem(part.mistakes, spec.solution)) is not None:
            number, field, message = edit
            found.add(message, (*base, "parts", index, "mistakes", number, field), label)
        else:
            parts.append(part.in_runtime(spec.sandbox_runtime))
    return tuple(parts) if len(parts) == sum(isinstance(part, CodePart) for part in shell.parts) else None


def _runs_code(shell: ProblemEntry, key: str) -> bool:
    """Whether the entry's part ``key`` is answered with code (a code part of its own module)."""
    return any(isinstance(part, CodePart) and part.key == key and part.module is None for part in shell.parts)


def _check_vary(found: _Found, shell: ProblemEntry, params: dict[str, Any], base: tuple[Step, ...], label: str) -> None:
    for draw_path, draw in shell.vary.items():
        where = (*base, "vary", draw_path)
        try:
            lookup(params, draw_path)
        except (KeyError, IndexError, ValueError, TypeError):
            found.add("varies a parameter the problem does not have", where, label, f"vary.{draw_path}", key=True)
            continue
        source = shell.vary.get(draw.same_as) if draw.same_as else None
        if draw.same_as and (source is None or source.same_as):
            found.add(
                f"same_as must name another drawn path, not {draw.same_as!r}",
                (*where, "same_as"),
                label,
                f"vary.{draw_path}",
            )


def _check_text(found: _Found, shell: ProblemEntry, params: dict[str, Any], base: tuple[Step, ...], label: str) -> None:
    for name in PLACEHOLDER.findall(shell.text):
        try:
            lookup(params, name)
        except (KeyError, IndexError, ValueError, TypeError):
            found.add(f"the text refers to {{{name}}}, which is not a parameter", (*base, "text"), label, "text")


def _check_titles(problems: list[Problem]) -> None:
    """Every problem has a title: the first entry's of its id, which later entries share; a file
    that gives none (set files written before titles were asked for stay valid) gets ``Problem ID``."""
    titles: dict[str, str] = {}
    for index, problem in enumerate(problems):
        if problem.title:
            titles.setdefault(problem.id, problem.title)
        else:
            problems[index] = replace(problem, title=titles.setdefault(problem.id, f"Problem {problem.id}"))


def _check_keys(found: _Found, problems: list[Problem]) -> None:
    """Entries may share an id (one question answered by two computations); keys may not."""
    seen: set[str] = set()
    for index, problem in enumerate(problems):
        for number, key in enumerate(problem.part_keys()):
            if key in seen:
                found.add(f"duplicate answer key {key!r}", ("problems", index, "parts", number, "key"), problem.id)
            seen.add(key)


def _check_parts(found: _Found, problems: list[Problem]) -> None:
    """No more parts, nor checks, nor code tests, than their budgets: the self-test grades each part
    on every variant, and a submission's code runs every test of the set."""
    parts = checks = tests = work = 0
    for index, problem in enumerate(problems):
        for part in problem.in_order():
            where: tuple[Step, ...] = ("problems", index, "parts", problem.position(part.key))
            parts += 1
            if isinstance(part, CodePart):
                tests += len(part.tests)
                if tests > MAX_CALLS and tests - len(part.tests) <= MAX_CALLS:
                    budget = budgets.over(MAX_CALLS, "the code tests of a set (the calls of one submission)")
                    found.add(f"{tests} code tests, {budget}", (*where, "tests"), problem.id)
                cost = sum(part.work(test) for test in part.tests)
                work += cost
                if work > MAX_SET_WORK and work - cost <= MAX_SET_WORK:
                    budget = budgets.over(MAX_SET_WORK, "the work of a set's code tests")
                    found.add(f"{work:,} multiply-adds, {budget}", (*where, "tests"), problem.id)
            if parts == budgets.MAX_PARTS + 1:
                found.add(
                    f"one part too many, {budgets.over(budgets.MAX_PARTS, 'the parts of a set')}", where, problem.id
                )
            for position, _ in enumerate(getattr(part, "checks", ())):
                checks += 1
                if checks == budgets.MAX_CHECKS + 1:
                    budget = budgets.over(budgets.MAX_CHECKS, "the checks of a set")
                    found.add(f"one check too many, {budget}", (*where, "checks", position), problem.id)


#: How a solver's error names what failed: ``q1.a: ...`` (a key) or ``problem 'q1': ...``.
_FAILED = re.compile(r"^(?:problem '(?P<problem>[A-Za-z0-9_]+)'|(?P<key>[A-Za-z0-9_]+(?:\.[A-Za-z0-9_]+)?)):")


def _check_solvable(found: _Found, problem_set: ProblemSet) -> None:
    """Every key solves on the declared numbers and on every probe variant; each failure once,
    at the setting at fault when the solver names one (else at the part or problem it names).
    The work is counted against the budget of a set: once over, the problem that went over is
    refused and nothing more is solved."""
    students = (None, *PROBE_STUDENTS) if problem_set.randomized else (None,)
    reported: set[tuple[Step, ...]] = set()
    with budgets.metered():
        for student in students:
            try:
                answers = problem_set.solve(student)
            except budgets.OverBudget as error:
                index = next((i for i, p in enumerate(problem_set.problems) if p.id == error.problem), None)
                found.add(str(error), ("problems", index) if index is not None else (), error.problem)
                return
            except (SolveError, ValueError) as error:
                _report_unsolved(found, problem_set, error, student, reported)
                continue
            if student is None:
                _check_tolerances(found, problem_set, answers)


def _check_tolerances(found: _Found, problem_set: ProblemSet, answers: dict[str, Answer]) -> None:
    """A tolerance only where one is used (reals, percentages, matrices, tensors): on a count, a
    shape or a formula it would be silently ignored, so it is refused at its line. The kind is the
    answer's own, known once solved (a quantity's, or the one the part asks it as)."""
    for index, problem in enumerate(problem_set.problems):
        for part in problem.parts:
            answer = answers.get(problem.key(part))
            if part.tolerance is None or answer is None or answer.kind in TOLERANT_KINDS:
                continue
            message = (
                f"{article(answer.kind)} answer is graded exactly: a tolerance applies to real, percent, matrix and "
                "tensor answers only (remove it, or ask for `kind: real`)"
            )
            where = ("problems", index, "parts", problem.position(part.key), "tolerance")
            found.add(message, where, problem.id, key=True)


def _report_unsolved(
    found: _Found,
    problem_set: ProblemSet,
    error: ValueError,
    student: str | None,
    reported: set[tuple[Step, ...]],
) -> None:
    path = _failed_at(problem_set, error)
    index = path[1] if len(path) > 1 and isinstance(path[1], int) else None
    problem = problem_set.problems[index] if index is not None else None
    field = _setting(error, problem)
    if index is not None and field is not None:
        inside = ["vary", field.removeprefix("vary.")] if field.startswith("vary.") else _steps(field)
        path = ("problems", index, *inside)
    if path in reported:
        return
    reported.add(path)
    who = f" (variant for {student!r})" if student else ""
    drawn = field is not None and field.startswith("vary.")  # at the draw's key
    found.add(f"answer undefined{who}: {error}", path, problem.id if problem else None, field, key=drawn)


def _failed_at(problem_set: ProblemSet, error: ValueError) -> tuple[Step, ...]:
    """The entry (or its part, at the field at fault: its quantity unless the error names
    another) a solver's error names: a :class:`SolveError`'s key, else the start of its message."""
    field = "quantity"
    if isinstance(error, SolveError) and error.key is not None:
        key: str | None = error.key
        field = error.field or field
    else:
        match = _FAILED.match(str(error))
        if match is None:
            return ()
        if match.group("problem"):
            for index, problem in enumerate(problem_set.problems):
                if problem.id == match.group("problem"):
                    return ("problems", index)
            return ()
        key = match.group("key")
    for index, problem in enumerate(problem_set.problems):
        for part in problem.parts:
            if problem.key(part) == key:
                return ("problems", index, "parts", problem.position(part.key), field)
        if problem.id == key:
            return ("problems", index)
    return ()


def _setting(error: BaseException | None, problem: Problem | None) -> str | None:
    """The field at fault, found among the causes of a solver's error: a layer's setting that
    cannot run on its input (``layers.2.groups``), or for a variant never valid the setting its
    last draw broke, named as the draw that sets it (``vary.layers.0.dilation``) if one does."""
    while error is not None:
        field: str | None = None
        if isinstance(error, LayerError):
            field = error.field
        elif isinstance(error, ValidationError) and problem is not None:
            field = _first_field(error, str(problem.params.get("type")))
        if field:
            return _drawn(field, problem)
        error = error.__cause__
    return None


def _first_field(error: ValidationError, tag: str) -> str | None:
    """The field of a validation error's first error, without the problem type in front (and
    with the field a check across fields names at the start of its message)."""
    first = error.errors()[0]
    loc = list(first["loc"])
    if loc[:1] == [tag]:
        loc = loc[1:]
    named = _NAMED.match(first["msg"])
    if named and first["type"] == "value_error":
        loc = [*loc, *_steps(named.group(1))]
    return ".".join(str(step) for step in loc) or None


def _drawn(field: str, problem: Problem | None) -> str:
    """``vary.PATH`` when a draw of the problem sets the field (its path read without the layer
    kinds pydantic puts in: ``layers.0.conv.dilation`` is ``layers.0.dilation``), else the field."""
    if problem is None or not problem.vary:
        return field
    data: Any = problem.params
    steps = []
    for step in field.split("."):
        if isinstance(data, dict) and step in data:
            data = data[step]
        elif isinstance(data, list) and step.isdigit() and int(step) < len(data):
            data = data[int(step)]
        else:
            continue  # a layer kind, or a setting left at its default
        steps.append(step)
    path = ".".join(steps)
    return f"vary.{path}" if path in problem.vary else field


def load_bank(folder: Path = BUILT_IN) -> dict[str, ProblemSet]:
    """Every set file in a folder, by set id: a new dict each call, of sets read once per process
    while the folder's files are unchanged (their names, sizes and modification times). A bank is
    parsed and every problem solved as it loads, a second and more of CPU; the sets are immutable,
    so the processes that load it in several places (a test run's modules, the CLI's commands)
    share one reading."""
    paths = sorted(folder.glob("*.yaml"))
    stamp = tuple((path.name, path.stat().st_mtime_ns, path.stat().st_size) for path in paths)
    return dict(_read_bank(folder, stamp))


@functools.lru_cache(maxsize=4)
def _read_bank(folder: Path, stamp: tuple[tuple[str, int, int], ...]) -> Mapping[str, ProblemSet]:
    bank: dict[str, ProblemSet] = {}
    for name, _mtime, _size in stamp:
        path = folder / name
        problem_set = load_set(path)
        if problem_set.id in bank:
            position = problem_set.where.find(("id",)) if problem_set.where else None
            line, column = (position.line, position.column) if position else (None, None)
            message = f"set id {problem_set.id!r} is already used by another file"
            raise SetFileError(path, [Issue(line, column, "id", message)])
        bank[problem_set.id] = problem_set
    return MappingProxyType(bank)
