"""Reusable blocks in a network's set-file entry: ``blocks:`` names lists of steps whose values
may be placeholders (``$width``); a block or repeat step that says ``use: NAME`` and
``with: {width: 64}`` gets those steps with the placeholders filled. Expanded before validation,
so every later check sees plain steps (and names the field as ``layers.4.layers.2``).

    blocks:
      basic:
        - {kind: conv, name: conv1, out_channels: $width, kernel: 3, padding: 1}
    layers:
      - {kind: repeat, name: layer1, times: 2, use: basic, with: {width: 64}}
"""

from __future__ import annotations

import re
from typing import Any

from problems.budgets import MAX_NODES, over

PLACEHOLDER = re.compile(r"^\$([A-Za-z_][A-Za-z0-9_]*)$")
#: Blocks may use blocks; deeper than this is a circle.
MAX_DEPTH = 16


def expand(data: Any) -> Any:
    """A network entry with every ``use`` replaced by the steps it names (a copy; other input
    is returned as it is for validation to refuse)."""
    if not isinstance(data, dict) or ("blocks" not in data and not _uses(data.get("layers"))):
        return data
    blocks = data.get("blocks") or {}
    if not isinstance(blocks, dict) or not all(isinstance(b, list) for b in blocks.values()):
        raise ValueError("blocks: a mapping of block names to lists of steps")
    return {**data, "layers": _steps(data.get("layers"), _Blocks(blocks), "layers", 0)}


class _Blocks(dict[str, list[Any]]):
    """The blocks by name, and the values their uses have made so far: blocks that use blocks
    several times each multiply (ten uses of a block of ten uses of ...), so the values made are
    counted against the budget on a file's nodes as they are made."""

    made = 0

    def make(self, count: int, where: str) -> None:
        self.made += count
        if self.made > MAX_NODES:
            budget = over(MAX_NODES, "the nodes of a set file")
            raise ValueError(f"{where}.use: the blocks used make more than {MAX_NODES:,} values, {budget}")


def _uses(steps: Any) -> bool:
    return isinstance(steps, list) and any(isinstance(s, dict) and "use" in s for s in steps)


def _steps(steps: Any, blocks: _Blocks, where: str, depth: int) -> Any:
    if not isinstance(steps, list):
        return steps
    return [_step(step, blocks, f"{where}.{i}", depth) for i, step in enumerate(steps)]


def _step(step: Any, blocks: _Blocks, where: str, depth: int) -> Any:
    if not isinstance(step, dict):
        return step
    step = dict(step)
    if "use" in step:
        if depth >= MAX_DEPTH:
            raise ValueError(f"{where}.use: blocks use each other in a circle")
        step.setdefault("kind", "block")
        if step["kind"] not in ("block", "repeat") or "layers" in step:
            raise ValueError(f"{where}.use: only a block or a repeat uses a block, in place of its layers")
        values = step.pop("with", None) or {}
        step["layers"] = _used(step.pop("use"), values, blocks, where, depth)
        if isinstance(step.get("first"), dict):
            first = step["first"]
            if set(first) - {"use", "with"} or "use" not in first:
                raise ValueError(f"{where}.first: a list of steps, or {{use: BLOCK, with: {{...}}}}")
            own = first.get("with") or {}
            # the repeat's values carry over to the first instance's block, which may not need them all
            inherited = {k: v for k, v in values.items() if k in _placeholders(blocks.get(first["use"], []))}
            step["first"] = _used(first["use"], {**inherited, **own}, blocks, f"{where}.first", depth)
    for part in ("layers", "first"):
        if part in step:
            step[part] = _steps(step[part], blocks, f"{where}.{part}", depth + 1)
    return step


def _used(name: Any, values: Any, blocks: _Blocks, where: str, depth: int) -> list[Any]:
    if not isinstance(name, str) or name not in blocks:
        raise ValueError(f"{where}.use: no block named {name!r} (blocks: {', '.join(sorted(blocks)) or 'none'})")
    if not isinstance(values, dict):
        raise ValueError(f"{where}.with: a mapping of placeholder names to values")
    needed = _placeholders(blocks[name])
    missing = sorted(needed - set(values))
    if missing:
        raise ValueError(f"{where}.with: block {name!r} needs a value for {', '.join('$' + m for m in missing)}")
    unused = sorted(set(values) - needed)
    if unused:
        raise ValueError(f"{where}.with.{unused[0]}: block {name!r} has no ${unused[0]}")
    blocks.make(_size(blocks[name], {key: _size(value, {}) for key, value in values.items()}), where)
    filled = _fill(blocks[name], values)
    assert isinstance(filled, list)
    return [_step(step, blocks, f"{where}.layers.{i}", depth + 1) for i, step in enumerate(filled)]


def _placeholders(value: Any) -> set[str]:
    if isinstance(value, str):
        match = PLACEHOLDER.match(value)
        return {match.group(1)} if match else set()
    if isinstance(value, list):
        return set().union(*(_placeholders(v) for v in value)) if value else set()
    if isinstance(value, dict):
        return set().union(*(_placeholders(v) for v in value.values())) if value else set()
    return set()


def _size(value: Any, filled: dict[str, int]) -> int:
    """Values in a block once filled: each placeholder counts as many as the value that fills
    it has (``filled``, by placeholder name)."""
    if isinstance(value, list):
        return 1 + sum(_size(v, filled) for v in value)
    if isinstance(value, dict):
        return 1 + sum(1 + _size(v, filled) for v in value.values())
    match = PLACEHOLDER.match(value) if isinstance(value, str) else None
    return filled.get(match.group(1), 1) if match else 1


def _fill(value: Any, values: dict[str, Any]) -> Any:
    if isinstance(value, str):
        match = PLACEHOLDER.match(value)
        return values[match.group(1)] if match else value
    if isinstance(value, list):
        return [_fill(v, values) for v in value]
    if isinstance(value, dict):
        return {k: _fill(v, values) for k, v in value.items()}
    return value
