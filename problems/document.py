"""A set file's text read as YAML: its data and its node tree (``SourceMap``), or the issue that
stops it, within the budgets on size and nesting (``problems.budgets``).

libyaml builds its node tree recursively in C, so a file nested a few thousand levels deep
overflows the C stack (a crash, not an exception), and PyYAML's own composer and constructor
recurse in Python. The file's events are therefore streamed first (libyaml's parser keeps its
own stack, and yields one event at a time): the nesting depth and the node count, each alias
counted as the nodes it repeats, are checked as they come, and the file is refused at the first
event over a budget, before any tree is built. Only a file within them is composed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import yaml

from problems.budgets import MAX_DEPTH, MAX_NODES, MAX_TEXT, over
from problems.issues import Issue, SetFileError
from problems.positions import SourceMap

if TYPE_CHECKING:
    _SafeLoader = yaml.SafeLoader
else:  # libyaml's parser when PyYAML was built with it: several times faster on the larger set files
    _SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

#: Plain scalars of at most this many characters have their tags remembered (a number, a word).
_SHORT = 32
#: How many such tags are remembered, by text, for the process.
_TAGS_KEPT = 4096
_TAGS: dict[str, str] = {}


class _Loader(_SafeLoader):
    """The safe loader, resolving a short plain scalar's tag (int, float, bool, null or str, found
    by trying a row of regular expressions) once per distinct text: a set file's numbers repeat (an
    image of small integers), and resolving took a third of composing one. The tag of a plain
    scalar depends on its text alone: the safe loader has no path resolvers."""

    def resolve(self, kind: type[yaml.Node], value: Any, implicit: Any) -> Any:
        if kind is not yaml.ScalarNode or not implicit[0] or len(value) > _SHORT:
            return super().resolve(kind, value, implicit)  # type: ignore[no-untyped-call]  # untyped in the stubs
        tag = _TAGS.get(value)
        if tag is None:
            tag = super().resolve(kind, value, implicit)  # type: ignore[no-untyped-call]
            if len(_TAGS) < _TAGS_KEPT:
                _TAGS[value] = tag
        return tag


#: The events that count, by exact class (PyYAML's parsers, C and Python, make no subclasses of
#: them): one lookup per event, the loop's cost per scalar, where a file spends most of its events.
_SCALAR, _OPEN, _CLOSE, _ALIAS = range(4)
_KINDS: dict[type, int] = {
    yaml.ScalarEvent: _SCALAR,
    yaml.SequenceStartEvent: _OPEN,
    yaml.MappingStartEvent: _OPEN,
    yaml.SequenceEndEvent: _CLOSE,
    yaml.MappingEndEvent: _CLOSE,
    yaml.AliasEvent: _ALIAS,
}


def compose(text: str, source: str) -> tuple[Any, SourceMap]:
    """The file's data and its node tree; a file that is not YAML, or is over a budget, is
    refused at the place of the fault."""
    if len(text) > MAX_TEXT:
        message = f"the file has {len(text):,} characters, {over(MAX_TEXT, 'the characters of a set file')}"
        raise SetFileError(source, [Issue(None, None, None, message)])
    _within_budgets(text, source)
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        data = _construct(loader, node, source) if node is not None else None
    except yaml.MarkedYAMLError as error:
        raise SetFileError(source, [_yaml_issue(error)]) from None
    except yaml.YAMLError as error:
        raise SetFileError(source, [Issue(None, None, None, f"not valid YAML: {error}")]) from None
    finally:
        loader.dispose()
    return data, SourceMap(node)


@dataclass(slots=True)
class _Open:
    """A mapping or list whose end has not come yet: its nodes so far and its height."""

    anchor: str | None
    nodes: int = 1
    height: int = 1


#: libyaml's own limit on nesting (0.2.6 and later), met while its scanner looks ahead, before
#: the events that would show the file over :data:`MAX_DEPTH` have come.
_LIBYAML_DEPTH = "exceeded maximum nesting depth"


def _within_budgets(text: str, source: str, loader_class: type[yaml.SafeLoader] = _SafeLoader) -> None:
    """Stream the file's events, refusing it at the first one past a budget (or at a YAML error).
    A file that libyaml refuses for its own nesting limit is streamed again by PyYAML's own parser,
    which has none and keeps its own stack: the refusal is then ours, at the level past the budget."""
    loader = loader_class(text)
    next_event = loader.get_event
    stack: list[_Open] = []
    anchored: dict[str, tuple[int, int]] = {}  # anchor → (nodes, height) of its node
    nodes = 0
    try:
        while True:
            event = next_event()  # type: ignore[no-untyped-call]  # PyYAML's stubs leave it untyped
            kind = _KINDS.get(type(event))
            if kind is None:
                if event is None or isinstance(event, yaml.StreamEndEvent):
                    return
                continue  # the stream's and documents' starts and ends
            if kind == _SCALAR:
                if event.anchor is not None:
                    anchored[event.anchor] = (1, 1)
                size, height, depth = 1, 1, len(stack) + 1
            elif kind == _CLOSE:
                done = stack.pop()
                if done.anchor is not None:
                    anchored[done.anchor] = (done.nodes, done.height)
                if stack:
                    stack[-1].nodes += done.nodes
                    stack[-1].height = max(stack[-1].height, done.height + 1)
                continue
            elif kind == _OPEN:
                size, height, depth = 1, 1, len(stack) + 1
            else:  # an alias: the nodes it repeats, as high as its anchor's node
                if any(frame.anchor == event.anchor for frame in stack):
                    raise _refused(event, f"the alias *{event.anchor} is inside its anchor: a value containing itself")
                size, height = anchored.get(event.anchor or "", (1, 1))
                depth = len(stack) + height
            nodes += size
            if depth > MAX_DEPTH:
                raise _refused(event, f"nested more than {MAX_DEPTH} levels deep, {over(MAX_DEPTH, 'nesting')}")
            if nodes > MAX_NODES:
                raise _refused(event, f"more than {MAX_NODES:,} nodes, {over(MAX_NODES, 'the nodes of a set file')}")
            if kind == _OPEN:
                stack.append(_Open(event.anchor))
            elif stack:
                frame = stack[-1]
                frame.nodes += size
                if frame.height <= height:
                    frame.height = height + 1
    except yaml.MarkedYAMLError as error:
        if error.problem == _LIBYAML_DEPTH and loader_class is not yaml.SafeLoader:
            _within_budgets(text, source, yaml.SafeLoader)
        raise SetFileError(source, [_yaml_issue(error)]) from None
    except yaml.YAMLError as error:
        raise SetFileError(source, [Issue(None, None, None, f"not valid YAML: {error}")]) from None
    except _Refusal as refusal:
        raise SetFileError(source, [refusal.issue]) from None
    finally:
        loader.dispose()


class _Refusal(Exception):
    def __init__(self, issue: Issue) -> None:
        self.issue = issue


def _refused(event: yaml.Event, message: str) -> _Refusal:
    mark = event.start_mark
    line, column = (mark.line + 1, mark.column + 1) if mark is not None else (None, None)
    return _Refusal(Issue(line, column, None, message))


def _construct(loader: Any, node: yaml.Node, source: str) -> Any:
    """The data of the tree. A scalar YAML reads but Python cannot hold (an integer of more than
    4,300 digits, the 45th of a month) is refused at its place."""
    try:
        return loader.construct_document(node)
    except (ValueError, OverflowError) as error:
        where = _failing_scalar(node)
        line, column = (where.start_mark.line + 1, where.start_mark.column + 1) if where else (None, None)
        raise SetFileError(source, [Issue(line, column, None, f"not a value: {error}")]) from None


def _failing_scalar(root: yaml.Node) -> yaml.Node | None:
    """The first scalar that cannot be constructed alone (the tree is within the budgets)."""
    stack, seen = [root], set()
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, yaml.ScalarNode):
            try:
                yaml.SafeLoader("").construct_object(node, deep=True)
            except (ValueError, OverflowError, yaml.YAMLError):
                return node
        elif isinstance(node, yaml.SequenceNode):
            stack.extend(reversed(node.value))
        elif isinstance(node, yaml.MappingNode):
            stack.extend(item for pair in reversed(node.value) for item in reversed(pair))
    return None


def _yaml_issue(error: yaml.MarkedYAMLError) -> Issue:
    mark = error.problem_mark or error.context_mark
    context = error.context or ""
    if context and error.context_mark and error.problem_mark and error.context_mark.line != error.problem_mark.line:
        context += f" (from line {error.context_mark.line + 1}, column {error.context_mark.column + 1})"
    reason = ", ".join(str(p) for p in (context, error.problem) if p)
    line, column = (mark.line + 1, mark.column + 1) if mark else (None, None)
    return Issue(line, column, None, f"not valid YAML: {reason}")
