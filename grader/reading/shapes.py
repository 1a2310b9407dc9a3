"""Shapes as students write them: ``126x126x16``, ``126 × 126 × 16``, ``(126, 126, 16)``,
``[126, 126, 16]``, ``126 \\times 126 \\times 16``, ``126 by 126 by 16``, ``126 126 16``,
``torch.Size([1, 16, 126, 126])``; sizes named by their axes in any order (``H=63, W=63, C=16``,
``height 63, width 63, 16 channels``), put in the part's layout; lists of shapes one per line,
or separated by semicolons, arrows or commas; and shapes of formulas (``H × W × N``, ``H x W x N``,
``H by W by N``, ``H W N``)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from grader.reading.claims import set_aside
from grader.reading.expression import evaluate
from grader.reading.grammar import hyphen_range
from grader.reading.numbers import LETTER_TIMES
from grader.reading.text import check_size, plain, result_part
from grader.reading.values import MAX_ELEMENTS, ReadError
from problems.kinds import JSON, Layout

if TYPE_CHECKING:
    import sympy

MAX_SIDES = 8
MAX_SIDE = 10**12

#: Sizes separated one way: by times signs, or by commas (``3, 126x126x16`` is neither).
_SIMPLE = re.compile(r"\s*\d{1,12}(?:(?:\s*(?:[x×*]|by)\s*\d{1,12}){1,7}|(?:\s*,\s*\d{1,12}){1,7})\s*")
_SIDE_BREAK = re.compile(r"\s*(?:[x×,*]|by)\s*")
_WRAPPER = re.compile(r"^\s*(?:torch\.)?Size\s*\(\s*|^\s*(?:shape|output|out|size)\s*[:=]?\s*", re.IGNORECASE)
#: A trailing note of the layout, such as "(H×W×C)" or "HWC".
_LAYOUT_NOTE = re.compile(r"\s*[(\[]?\s*[CHWN](?:\s*[x×*,]?\s*[CHWN]){1,3}\s*[)\]]?\s*$")
#: A bullet or number in front of a list line ("- ", "1.", "(2)"); labels go at the line's last ':'.
_ENUMERATION = re.compile(r"^\s*(?:\(?\d{1,3}[.)]|[-•*]\s)\s*")
#: "by" between sizes: ``2 by 2``, ``H by W by N``.
_BY = re.compile(r"(?<=[\w)}\s])\s*\b[bB][yY]\b\s*(?=[\w({\\])")
_OPERATORS = "+-*/^="
#: Shapes of sizes separated by spaces, the shapes separated by commas: ``10 10 40, 5 5 40``.
_SPACED_SHAPES = re.compile(r"\s*\d{1,12}(?:\s+\d{1,12}){1,7}\s*(?:,\s*\d{1,12}(?:\s+\d{1,12}){1,7}\s*)+")
#: A size named by its axis: ``H=63``, ``H: 63``, ``height 63``, ``63 channels``.
_NAMED = re.compile(
    r"\s*(?:(?P<name>[A-Za-z]+)\s*[=:]?\s*(?P<size>\d{1,12})|(?P<size2>\d{1,12})\s*(?P<name2>[A-Za-z]+))\s*"
)
_AXES = {"h": "H", "height": "H", "w": "W", "width": "W", "c": "C", "channel": "C", "channels": "C", "depth": "C"}
_AXES |= {"n": "N", "batch": "N", "t": "T", "time": "T", "frames": "T", "l": "L", "length": "L"}
#: Between named sizes: a comma, a semicolon, "and", or spaces before the next ``name=`` (``H=63 W=63``).
_COMPONENT_BREAK = re.compile(r",|;|\band\b|\s+(?=[A-Za-z]+\s*[=:]\s*\d)")
#: Words after a shape (``126x126x16 feature map``, ``… (output)``): a unit or a note without numbers.
_TRAILING_WORDS = re.compile(r"(?<=[\d)\]])\s*(?:\(\s*[A-Za-z][A-Za-z\s\-']*\)|[A-Za-z][A-Za-z\s\-']*)\s*\.?$")
#: Words that make what follows a shape a range, a choice, a hedge or more sizes, not a unit.
_NOT_UNITS = {"or", "and", "to", "than", "between", "either", "maybe", "perhaps", "probably", "about", "approx"}
_NOT_UNITS |= {"approximately", "roughly", "around", "so", "more", "less", "least", "most", "by", "x", "times", "per"}
_NOT_UNITS |= {"each", "of", "plus", "minus", "one", "two", "three", "four", "thousand", "million", "k", "m", "not"}
#: Axes labelled in the order the sizes are written: before them (``C×H×W = …``, ``[N, C, H, W]: …``)
#: or in a note after them (``16×126×126 (CHW)``), in plain notation.
_AXES_LABEL = r"[(\[]?\s*(?P<axes>[NCHW](?:\s*[x*,]?\s*[NCHW]){1,3})\s*[)\]]?"
_LABELLED_BEFORE = re.compile(rf"\s*{_AXES_LABEL}\s*[=:]\s*(?P<sizes>[^=]*\d[^=]*)", re.S)
_LABELLED_AFTER = re.compile(rf"(?P<sizes>[^=]*\d.*?)\s*{_AXES_LABEL}\s*\.?\s*", re.S)
_SHAPE_BREAK = re.compile(r"\n|;|->|=>|→|⟶|\\to\b|\\rightarrow|\\Rightarrow|\|")


def read_shape(raw: JSON, layout: Layout | None = None) -> tuple[int, ...]:
    """A shape as a tuple of whole sizes, in the order written (named sizes, and sizes whose order
    the student labels, ``C×H×W = 128×28×28``: in ``layout``)."""
    if isinstance(raw, list):
        if len(raw) > MAX_SIDES:
            raise ReadError(f"A shape has at most {MAX_SIDES} sizes.")
        return tuple(_side(item) for item in raw)
    if not isinstance(raw, str):
        raise ReadError("A shape is expected, like 126 × 126 × 16.")
    text = check_size(raw, 1_000)
    if _SIMPLE.fullmatch(text):
        return tuple(int(side) for side in _SIDE_BREAK.split(text.strip()))
    labelled = _labelled(plain(text), layout or Layout.HWC)
    return labelled if labelled is not None else _written(text, layout)


def _labelled(text: str, layout: Layout) -> tuple[int, ...] | None:
    """Sizes in the order their axes are labelled (``C×H×W = 128×28×28``, ``[N, C, H, W] = [1, 512,
    7, 7]``, ``16×126×126 (CHW)``), put in the layout's order, a batch ``N`` kept in front (a batch
    is no size of one image: grading names it), a map's ``H × W`` in that order (as a flat shape is
    kept); None when the text labels no order. A label before the sizes that names other axes than
    the layout's, or another number of them, is refused; a note after them that names another
    number keeps the sizes as written, as it always has."""
    before = _LABELLED_BEFORE.fullmatch(text)
    found = before or _LABELLED_AFTER.fullmatch(text)
    if found is None:
        return None
    axes = re.sub(r"[^NCHW]", "", found.group("axes"))
    if len(set(axes)) != len(axes):
        return None
    sizes = _written(found.group("sizes"), layout)
    shown = " × ".join(axes)
    if len(sizes) != len(axes):
        if before is None:
            return sizes
        raise ReadError(
            f"The labels {shown} name {len(axes)} sizes, and the shape gives {len(sizes)}: give one size each."
        )
    core = set(axes) - {"N"}
    order = layout.value if core == set(layout.value) else "HW" if core == {"H", "W"} else None
    if order is None:
        wanted = " × ".join(layout.value)
        raise ReadError(f"The labels {shown} are not the axes of this shape: give it as {wanted}.")
    named = dict(zip(axes, sizes, strict=True))
    return (*((named["N"],) if "N" in named else ()), *(named[axis] for axis in order))


def _written(text: str, layout: Layout | None) -> tuple[int, ...]:
    """The sizes as written, in that order (named sizes: in ``layout``)."""
    if _SIMPLE.fullmatch(text):
        return tuple(int(side) for side in _SIDE_BREAK.split(text.strip()))
    plained = plain(text)
    named = _components(plained, layout or Layout.HWC)
    if named is not None:
        return named
    worked = "=" in plained and _product_worked(plain(LETTER_TIMES.sub("*", text)))
    text = _shape_text(text)
    sides = _sides(text)
    if worked and len(sides) == 1:
        raise ReadError(f"The working multiplies sizes into one number ({sides[0]}): give the shape (126 × 126 × 16).")
    if len(sides) > MAX_SIDES:
        raise ReadError(f"A shape has at most {MAX_SIDES} sizes.")
    return _worked_last(tuple(_side(side) for side in sides[:-1]), sides[-1])


def _worked_last(first: tuple[int, ...], last: str) -> tuple[int, ...]:
    """The sizes, the last without a bracket of working after it (``252×252 (504/2)``): the working
    is set aside, never multiplied in, where it gives one of the sizes (which one it works out
    cannot be told, ``126×126×16 (128-3+1)``), and refused where it gives none of them."""
    head, aside = set_aside(last)
    if not first or aside is None or not aside.working:
        return (*first, _side(last))
    sizes = (*first, _side(head))
    worked = evaluate(aside.text[1:-1])
    if worked not in sizes:
        shown = " × ".join(map(str, sizes))
        raise ReadError(f"The working {aside.text} gives {worked}, none of the sizes of {shown}: give the shape alone.")
    return sizes


def read_shape_list(raw: JSON) -> list[tuple[int, ...]]:
    """Several shapes: a JSON list of shapes, or text with one shape per line (or ``;``,
    arrows, or commas between shapes written with ×)."""
    if isinstance(raw, list):
        if len(raw) > MAX_ELEMENTS // MAX_SIDES:
            raise ReadError("Too many shapes in the answer.")
        return [read_shape(item) for item in raw]
    if not isinstance(raw, str):
        raise ReadError("A list of shapes is expected, one per line.")
    text = check_size(raw)
    groups = _bracket_groups(text)
    if groups is None:
        groups = [piece for piece in _SHAPE_BREAK.split(text) if piece.strip()]
        if len(groups) == 1 and (re.search(r"[x×*]|\\times|\bby\b", groups[0]) or _SPACED_SHAPES.fullmatch(groups[0])):
            groups = [piece for piece in re.split(r",(?![^()\[\]]*[)\]])", groups[0]) if piece.strip()]
    shapes = [read_shape(_unlabelled(group)) for group in groups]
    if not shapes:
        raise ReadError("There is no shape in the answer.")
    return shapes


def read_formula_shape(raw: JSON, symbols: tuple[str, ...]) -> tuple[sympy.Expr, ...]:
    """Sizes given as formulas, separated by ×, x (when x is not a symbol) or commas."""
    from grader.reading.formulas import Symbolic, formula  # (sympy: imported where a formula is read)

    if isinstance(raw, list):
        items = [str(item) for item in raw]
    elif isinstance(raw, str):
        text = check_size(raw, 1_000)
        text = result_part(re.sub(r"\\times|×|✕", " ⊗ ", text.replace("\\left", "").replace("\\right", "")))
        text = text.strip().removeprefix("(").removesuffix(")") if _outer(text, "(") else text
        text = text.strip().removeprefix("[").removesuffix("]") if _outer(text, "[") else text
        reader = Symbolic(symbols)
        if reader.free("x"):
            text = re.sub(r"(?<=[\w)}\s])\s*[xX]\s*(?=[\w({\\])", " ⊗ ", text)
        if reader.free("by"):
            text = _BY.sub(" ⊗ ", text)
        items = _top_level_split(text, "⊗,")
        if len(items) == 1:
            items = _spaced(plain(text)) or _top_level_split(plain(text), "*")
    else:
        raise ReadError("A shape in symbols is expected, like H × W × N.")
    if len(items) > MAX_SIDES:
        raise ReadError(f"A shape has at most {MAX_SIDES} sizes.")
    return tuple(formula(plain(item), symbols) for item in items)


def _components(text: str, layout: Layout) -> tuple[int, ...] | None:
    """Sizes named by their axes, in the layout's order; None when no size is named. Every size
    must be named, each axis of the layout once: a shape with a size missing is refused."""
    pieces = [piece for piece in _COMPONENT_BREAK.split(text) if piece.strip()]
    matches = [_NAMED.fullmatch(piece) for piece in pieces]
    named = [(m, _AXES.get((m.group("name") or m.group("name2")).lower())) for m in matches if m is not None]
    if not any(axis for _, axis in named):
        return None
    if len(named) == len(pieces) and not all(axis for _, axis in named):
        unknown = next((m.group("name") or m.group("name2")) for m, axis in named if axis is None)
        wanted = " × ".join(layout.value)
        raise ReadError(f"“{unknown}” is not an axis of this shape: name its sizes {wanted} (H=63, W=63, C=16).")
    if len(named) < len(pieces):
        raise ReadError("Some sizes are named by their axis and some are not: name every size (H=63, W=63, C=16).")
    sizes: dict[str, int] = {}
    for match, axis in named:
        assert axis is not None
        if axis in sizes:
            raise ReadError(f"{axis} is given twice.")
        sizes[axis] = _side(match.group("size") or match.group("size2"))
    axes = _named_order(layout, sizes)
    missing = [axis for axis in axes if axis not in sizes]
    extra = [axis for axis in sizes if axis not in axes]
    if missing or extra:
        wanted = " × ".join(axes)
        problem = f"{', '.join(missing)} is not given" if missing else f"{', '.join(extra)} is not an axis here"
        raise ReadError(f"The shape names its sizes, but {problem}: give {wanted}.")
    return tuple(sizes[axis] for axis in axes)


def _named_order(layout: Layout, sizes: dict[str, int]) -> str:
    """The axes named sizes are put in: the layout's, or, for a clip (with T) or a sequence (with
    L), the order ``Layout.arrange`` writes them in (channels last where the layout puts them last)."""
    last = layout.value.endswith("C")
    if "T" in sizes:
        return "THWC" if last else "CTHW"
    if "L" in sizes:
        return "LC" if last else "CL"
    return layout.value


def _spaced(text: str) -> list[str] | None:
    """Sizes separated by spaces alone (``H W N``, ``H/2 W/2 N``), or None: a space beside an
    operator (``H + 2 W``) is part of one formula."""
    pieces = text.split()
    if len(pieces) < 2 or any(piece[0] in _OPERATORS or piece[-1] in _OPERATORS for piece in pieces):
        return None
    return pieces


def _unlabelled(line: str) -> str:
    """A line of a list without its bullet, number and label: ``- 1. After 3×3 Convolution: 10×10×40``."""
    if ":" in line:
        return line.rsplit(":", 1)[1]
    for _ in range(3):
        line = _ENUMERATION.sub("", line, count=1)
    return line


def _shape_text(text: str) -> str:
    text = text.rsplit(":", 1)[1] if ":" in text else text
    text = result_part(plain(LETTER_TIMES.sub("*", text)))
    wrapped = _WRAPPER.match(text)
    if wrapped:
        text = text[wrapped.end() :].strip()
        text = text[:-1] if "Size" in wrapped.group() and text.endswith(")") else text
    text = _LAYOUT_NOTE.sub("", text) if re.search(r"\d", text) else text
    text = _without_unit(text)
    while _outer(text, "(") or _outer(text, "["):
        text = text.strip()[1:-1]
    return text.strip()


def _product_worked(text: str) -> bool:
    """Whether a working multiplies before its last ``=`` (``32 x 32 x 16 = 16384``): its result,
    one number, is then the count of a shape's elements, not one side of a square map as in
    ``(252 - 3)/1 + 1 = 250``."""
    before = [piece for piece in text.split("=") if piece.strip()][:-1]
    return bool(before) and "*" in before[-1]


def _without_unit(text: str) -> str:
    """The shape without the words after it (``feature map``, ``(output)``), which say what it is;
    words that make it a range, a choice or a hedge (``or so``, ``or 124x124x16``) are refused,
    and so is a note with a number in it (it fails to read as a size)."""
    text = text[:-1] if text.endswith((").", "].")) else text
    found = _TRAILING_WORDS.search(text)
    if found is None:
        return text
    words = re.findall(r"[A-Za-z]+", found.group())
    for word in words:
        if word.lower() in _NOT_UNITS:
            raise ReadError(f"“{word}” after the shape makes it a range, a choice or a guess: give the one shape.")
    return text[: found.start()]


def _sides(text: str) -> list[str]:
    """The sizes, separated by commas or by times signs, never both: in ``3, 126x126x16`` or
    ``(2*63, 126, 16)`` a × may separate sizes or multiply, so either is refused. With times signs
    between sizes, a size that is a sum (``128-3+1 x 126``) must be bracketed: ``x`` binds looser
    than ``+`` as a separator and tighter as a product, so the unbracketed form is refused."""
    commas, times = _top_level(text, ","), _top_level(text, "*")
    if commas and times:
        raise ReadError("The sizes are separated by both commas and × signs: separate them one way (126 × 126 × 16).")
    sides = _top_level_split(text, "," if commas else "*")
    if len(sides) == 1 and re.fullmatch(r"\d+(?:\s+\d+)+\.?", text):
        sides = text.rstrip(".").split()
    for side in sides:
        if "^" in side and (times or len(sides) == 1):
            raise ReadError(_power_in_shape(side, single=len(sides) == 1))
        ranged = hyphen_range(side)
        if ranged:
            raise ReadError(ranged)
        if len(sides) > 1 and times and _top_level(side.lstrip("+-").lstrip(), "+-"):
            raise ReadError(f"Is “{side}” one size? Bracket a size that is a sum: ({side}) × ….")
    return sides


def _power_in_shape(side: str, *, single: bool) -> str:
    """Why a power among sizes separated by × (or alone) is refused: ``16²`` may be one size of
    256 or two sizes of 16 (``16² × 256`` is then 256 × 256 or 16 × 16 × 256), and ``64^3``
    alone is a number or a cube; only sizes separated by commas may be powers, each size then
    being the one number between two commas (``(2^4, 2^4, 256)``)."""
    shown = re.sub(r"\^\((\d+)\)", r"^\1", side)
    if single:
        return f"{shown} is a number, not a shape: write each size, like 64 × 64 × 64 for a cube of side 64."
    return (
        f"“{shown}” could be one size or several equal sizes: write each size (16 × 16 × 256), "
        "or separate the sizes with commas."
    )


def _top_level(text: str, characters: str) -> bool:
    """Whether any of ``characters`` occurs outside brackets (a sign after an operator excluded)."""
    depth, previous = 0, "*"
    for char in text:
        if char in "([{":
            depth += 1
        elif char in ")]}":
            depth -= 1
        elif depth == 0 and char in characters and not (char in "+-" and previous in "*/^(,"):
            return True
        if char != " ":
            previous = char
    return False


def _side(item: JSON) -> int:
    if isinstance(item, bool):
        raise ReadError("A shape's sizes are whole numbers.")
    if isinstance(item, int):
        value = item
    elif isinstance(item, float) and item.is_integer():
        value = int(item)
    elif isinstance(item, str) and item.strip():
        number = evaluate(item)
        if number.denominator != 1:
            raise ReadError(f"A shape's sizes are whole numbers, and {item.strip()} is not.")
        value = number.numerator
    else:
        raise ReadError("A shape's sizes are whole numbers.")
    if value < 0:
        raise ReadError(f"A shape's sizes cannot be negative, and {value} is.")
    if value > MAX_SIDE:
        raise ReadError(f"A size of {value:,} is far beyond any feature map.")
    return value


def _outer(text: str, opening: str) -> bool:
    """Whether the whole text is one bracketed group."""
    text = text.strip()
    closing = {"(": ")", "[": "]"}[opening]
    if not (text.startswith(opening) and text.endswith(closing)):
        return False
    depth = 0
    for index, char in enumerate(text):
        depth += char == opening
        depth -= char == closing
        if depth == 0 and index < len(text) - 1:
            return False
    return True


def _top_level_split(text: str, separators: str) -> list[str]:
    """Split on separators outside brackets; empty pieces are an error."""
    pieces: list[str] = []
    current: list[str] = []
    depth = 0
    for char in text:
        if char in "([{":
            depth += 1
        elif char in ")]}":
            depth -= 1
        if depth == 0 and char in separators:
            pieces.append("".join(current))
            current = []
        else:
            current.append(char)
    pieces.append("".join(current))
    if any(not piece.strip() for piece in pieces):
        raise ReadError("A size is missing between two separators.")
    return [piece.strip() for piece in pieces]


def _bracket_groups(text: str) -> list[str] | None:
    """``[[10, 10, 40], [5, 5, 40]]`` or ``(10, 10, 40), (5, 5, 40)``: the inner groups, or None."""
    stripped = text.strip()
    if stripped.startswith("[[") or stripped.startswith("(("):
        stripped = stripped[1:-1]
    groups = re.findall(r"[(\[]([^()\[\]]*)[)\]]", stripped)
    if len(groups) < 2:
        return None
    leftover = re.sub(r"[(\[][^()\[\]]*[)\]]", "", stripped)
    if leftover.strip(" ,;\n"):
        return None
    return groups
