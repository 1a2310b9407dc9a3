"""Reading problem-set files (YAML), refusing a wrong one with a message that names the
file, the problem and the field."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from problems.parts import Part
from problems.sets import PLACEHOLDER, SPEC, Problem, ProblemSet, SolveError
from problems.solvers.layers import LayerError
from problems.variants import Draw, lookup

BUILT_IN = Path(__file__).parent / "sets"
#: Students whose variants are generated at load time to prove a randomized set always solves.
PROBE_STUDENTS = tuple(f"probe-{i}" for i in range(8))


@dataclass(frozen=True)
class Issue:
    """One thing wrong in a set file: where (line and column from 1, when known; the field's path)
    and why."""

    line: int | None
    column: int | None
    field: str | None
    message: str
    problem: str | None = None


class SetFileError(ValueError):
    """A set file that cannot be used, with where and why (``issues``, for programs)."""

    def __init__(self, path: Path | str, message: str, problem: str | None = None, field: str | None = None):
        self.issues = [Issue(None, None, field, message, problem)]
        where = [str(path)]
        if problem:
            where.append(f"problem {problem!r}")
        if field:
            where.append(f"field {field!r}")
        super().__init__(f"{': '.join(where)}: {message}")


class _ProblemFile(BaseModel):
    model_config = ConfigDict(extra="allow")
    id: str = Field(pattern=r"^[A-Za-z0-9_]+$")
    title: str = ""
    text: str = ""
    parts: list[Part] = Field(min_length=1)
    vary: dict[str, Draw] = Field(default_factory=dict)


class _SetFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    title: str
    source: str = ""
    randomized: bool = False
    problems: list[dict[str, Any]] = Field(min_length=1)


if TYPE_CHECKING:
    _SafeLoader = yaml.SafeLoader
else:  # libyaml's parser when PyYAML was built with it: several times faster on the larger set files
    _SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _UniqueKeyLoader(_SafeLoader):
    """YAML that refuses a key given twice in one mapping instead of keeping the last."""


def _mapping(loader: _UniqueKeyLoader, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise yaml.constructor.ConstructorError(None, None, f"duplicate key {key!r}", key_node.start_mark)
        seen.add(key)
    return loader.construct_mapping(node, deep=deep)


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)


#: A check across fields (a model validator) names the field at the start of its message.
_NAMED = re.compile(r"^Value error, ([A-Za-z0-9_.]+): (.*)$", re.DOTALL)


def _field(error: ValidationError, tag: str | None = None) -> tuple[str, str]:
    """The first error's field path (without the union tag pydantic puts in front) and message."""
    first = error.errors()[0]
    loc = list(first["loc"])
    if tag is not None and loc[:1] == [tag]:
        loc = loc[1:]
    if first["type"] == "union_tag_invalid":
        loc = ["type"]
    message = first["msg"]
    named = _NAMED.match(message)
    if named and first["type"] == "value_error":
        loc, message = [*loc, named.group(1)], named.group(2)
    elif first["type"] == "value_error":
        message = message.removeprefix("Value error, ")
    return ".".join(str(p) for p in loc), message


def version_of(text: str) -> str:
    """A set file's version: a hash of its text, so that equal files are one version."""
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def load_set(path: Path) -> ProblemSet:
    """Load and check one set file: every key must solve, for every probe student if randomized."""
    return parse_set(path.read_text(encoding="utf-8"), str(path))


def parse_set(text: str, source: str = "<upload>") -> ProblemSet:
    """Check a set file's text as :func:`load_set` checks a file (``source`` names it in errors)."""
    path = source
    try:
        raw = yaml.load(text, Loader=_UniqueKeyLoader)
    except yaml.YAMLError as error:
        refusal = SetFileError(path, f"not valid YAML: {error}")
        mark = getattr(error, "problem_mark", None)
        if mark is not None:
            refusal.issues = [Issue(mark.line + 1, mark.column + 1, None, f"not valid YAML: {error}")]
        raise refusal from None
    try:
        header = _SetFile.model_validate(raw)
    except ValidationError as error:
        field, message = _field(error)
        raise SetFileError(path, message, field=field) from None
    problems = [_problem(path, entry, index) for index, entry in enumerate(header.problems)]
    # Entries may share an id (one question answered by two computations); keys may not.
    _check_unique(path, [p.key(part) for p in problems for part in p.parts], "answer key")
    result = ProblemSet(
        header.id,
        header.title,
        tuple(problems),
        header.randomized,
        header.source,
        version_of(text),
    )
    _check_solvable(path, result)
    return result


def _problem(path: Path | str, entry: Any, index: int) -> Problem:
    label = entry.get("id", f"#{index + 1}") if isinstance(entry, dict) else f"#{index + 1}"
    try:
        shell = _ProblemFile.model_validate(entry)
    except ValidationError as error:
        field, message = _field(error)
        raise SetFileError(path, message, label, field) from None
    params = dict(shell.model_extra or {})
    if "type" not in params:
        raise SetFileError(path, "missing the problem type", label, "type")
    try:
        spec = SPEC.validate_python(params)
    except ValidationError as error:
        field, message = _field(error, params["type"])
        raise SetFileError(path, message, label, field) from None
    for draw_path in shell.vary:
        try:
            lookup(params, draw_path)
        except (KeyError, IndexError, ValueError, TypeError):
            raise SetFileError(
                path, "varies a parameter the problem does not have", label, f"vary.{draw_path}"
            ) from None
    for draw_path, draw in shell.vary.items():
        source = shell.vary.get(draw.same_as) if draw.same_as else None
        if draw.same_as and (source is None or source.same_as):
            raise SetFileError(
                path, f"same_as must name another drawn path, not {draw.same_as!r}", label, f"vary.{draw_path}"
            )
    for name in PLACEHOLDER.findall(shell.text):
        try:
            lookup(params, name)
        except (KeyError, IndexError, ValueError, TypeError):
            raise SetFileError(
                path, f"the text refers to {{{name}}}, which is not a parameter", label, "text"
            ) from None
    return Problem(shell.id, tuple(shell.parts), params, spec, shell.title, shell.text, shell.vary)


def _check_unique(path: Path | str, names: Iterable[str], what: str, problem: str | None = None) -> None:
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise SetFileError(path, f"duplicate {what} {name!r}", problem)
        seen.add(name)


def _check_solvable(path: Path | str, problem_set: ProblemSet) -> None:
    students = (None, *PROBE_STUDENTS) if problem_set.randomized else (None,)
    problems = {p.id: p for p in problem_set.problems}
    for student in students:
        try:
            problem_set.solve(student)
        except (SolveError, ValueError) as error:
            problem = problems.get(str(error).split(":")[0].split(".")[0])
            who = f" (variant for {student!r})" if student else ""
            field = _setting(error, problem)
            label = problem.id if problem else None
            raise SetFileError(path, f"answer undefined{who}: {error}", label, field) from None


def _setting(error: BaseException | None, problem: Problem | None) -> str | None:
    """The field at fault, found among the causes of a solver's error: a layer's setting that
    cannot run on its input (``layers.2.groups``), or for a variant never valid the setting its
    last draw broke, named as the draw that sets it (``vary.layers.0.dilation``) if one does."""
    while error is not None:
        field: str | None = None
        if isinstance(error, LayerError):
            field = error.field
        elif isinstance(error, ValidationError) and problem is not None:
            field = _field(error, str(problem.params.get("type")))[0]
        if field:
            return _drawn(field, problem)
        error = error.__cause__
    return None


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
    """Every set file in a folder, by set id."""
    bank: dict[str, ProblemSet] = {}
    for path in sorted(folder.glob("*.yaml")):
        problem_set = load_set(path)
        if problem_set.id in bank:
            raise SetFileError(path, f"set id {problem_set.id!r} is already used by another file")
        bank[problem_set.id] = problem_set
    return bank
