"""Where things are in a set file: its YAML node tree (composed with marks), walked by the
paths pydantic's errors give (``("problems", 2, "layers", 0, "conv", "kernel")``).

A path may hold steps that are no node of the file: the tag of a discriminated union
(``conv`` above), the name of a union's member (``tuple[int, int]``), a field that is missing,
or the steps of a network block expanded from a template. Those are passed over, so that a
position is always that of the deepest node the path reaches: the nearest existing ancestor.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import yaml

Step = str | int
Path = Sequence[Step]


@dataclass(frozen=True)
class Position:
    """1-based line and column of a node's first character."""

    line: int
    column: int


def _position(node: yaml.Node) -> Position:
    return Position(node.start_mark.line + 1, node.start_mark.column + 1)


class SourceMap:
    """The positions of a set file's nodes, found by field path."""

    def __init__(self, root: yaml.Node | None):
        self.root = root

    def find(self, path: Path, *, key: bool = False) -> Position | None:
        """The node the path leads to (its key, with ``key``, when the path ends on a mapping
        key: where an unknown field is), or the nearest one on the way."""
        if self.root is None:
            return None
        node, key_node = self.root, None
        for step in path:
            found = _child(node, step)
            if found is not None:
                key_node, node = found
            else:
                key_node = None
        return _position(key_node if key and key_node is not None else node)

    def matched(self, path: Path) -> list[bool]:
        """For each step of the path, whether it leads to a node of the file."""
        node, found = self.root, []
        for step in path:
            child = _child(node, step) if node is not None else None
            found.append(child is not None)
            if child is not None:
                node = child[1]
        return found

    def duplicates(self) -> Iterator[tuple[tuple[Step, ...], str, Position]]:
        """Every key given twice in one mapping: the mapping's path, the key, the second key's position."""
        if self.root is not None:
            yield from _duplicates(self.root, (), set())


def _child(node: yaml.Node, step: Step) -> tuple[yaml.Node | None, yaml.Node] | None:
    """The (key node, value node) a step leads to from ``node``, or None if it leads nowhere."""
    if isinstance(node, yaml.MappingNode) and isinstance(step, str):
        for key_node, value_node in reversed(node.value):  # the last of a duplicated key is the one used
            if isinstance(key_node, yaml.ScalarNode) and key_node.value == step:
                return key_node, value_node
    elif isinstance(node, yaml.SequenceNode) and isinstance(step, int) and 0 <= step < len(node.value):
        return None, node.value[step]
    return None


def _duplicates(
    node: yaml.Node, path: tuple[Step, ...], visited: set[int]
) -> Iterator[tuple[tuple[Step, ...], str, Position]]:
    if id(node) in visited:  # an alias: its node was walked where its anchor is
        return
    visited.add(id(node))
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key_node, value_node in node.value:
            name = key_node.value if isinstance(key_node, yaml.ScalarNode) else None
            if name is not None and name in seen:
                yield path, name, _position(key_node)
            if name is not None:
                seen.add(name)
            yield from _duplicates(value_node, (*path, name if name is not None else "?"), visited)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            yield from _duplicates(item, (*path, index), visited)


class EntryMap(SourceMap):
    """A set file's positions found by the index of a problem among the set's problems, which is not
    its place in the file when problems sit in pools (``("problems", 3)`` may be the node at
    ``("problems", 2, "pool", "problems", 1)``): the checks that run on a made set, and the set's
    self-tests, name problems by that index."""

    def __init__(self, root: yaml.Node | None, entries: Sequence[tuple[Step, ...]]):
        super().__init__(root)
        self.entries = tuple(entries)

    def find(self, path: Path, *, key: bool = False) -> Position | None:
        return super().find(self._in_file(path), key=key)

    def matched(self, path: Path) -> list[bool]:
        return super().matched(self._in_file(path))

    def _in_file(self, path: Path) -> Path:
        if len(path) >= 2 and path[0] == "problems" and isinstance(path[1], int) and path[1] < len(self.entries):
            return (*self.entries[path[1]], *path[2:])
        return path
