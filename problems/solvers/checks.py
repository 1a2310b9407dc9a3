"""The settings PyTorch refuses for a sliding window (``nn.Conv2d``, ``nn.ConvTranspose2d``,
``nn.MaxPool2d``, ``nn.AvgPool2d``), stated once for the layers of a network and the single-layer
problems alike. Each check quotes the numbers it refuses.

A setting wrong on any input (a stride of 0, a negative padding) is refused by the field's own
type (``Positive``, ``NonNegative``); a rule across fields by a function that names the field at
the start of its message (``output_padding: ...``), the form the set-file loader reports; a rule
that needs the input (groups that do not split its channels, a window larger than the padded
input) where the input is known.

>>> output_padding_fits(1, 2, 1)
>>> try:
...     output_padding_fits((0, 1), (2, 1), 1)
... except SettingError as error:
...     print(error)
output_padding: 1 along the width is not smaller than its stride 1 or dilation 1
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, TypeVar

from pydantic import AfterValidator

from problems.budgets import MAX_WINDOW, over

#: A setting per axis: one number for both, or (height, width).
IntPair = int | tuple[int, int]
AXES = ("height", "width")

T = TypeVar("T")


class SettingError(ValueError):
    """A setting refused: ``field`` names it; the message reads ``field: reason``."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field


def _axes(value: IntPair) -> tuple[int, int]:
    return (value, value) if isinstance(value, int) else value


def _numbers(value: Any) -> list[int]:
    """Every integer in a setting: one, a pair, or per-side pairs (words such as 'same' have none)."""
    if isinstance(value, int):
        return [value]
    if isinstance(value, tuple | list):
        return [n for item in value for n in _numbers(item)]
    return []


def _text(value: Any) -> str:
    """A setting as a set file writes it: ``[[0, -1], 1]``."""
    if isinstance(value, tuple | list):
        return "[" + ", ".join(_text(item) for item in value) + "]"
    return str(value)


def positive(value: T) -> T:
    """A kernel, stride or dilation: at least 1 on every axis."""
    if any(n < 1 for n in _numbers(value)):
        raise ValueError(f"must be at least 1 on every axis, not {_text(value)}")
    return value


def non_negative(value: T) -> T:
    """A padding of a window (zeros added, never pixels cropped): 0 or more on every side."""
    if any(n < 0 for n in _numbers(value)):
        raise ValueError(f"must not be negative, not {_text(value)}")
    return value


def within(limit: int, what: str) -> Callable[[T], T]:
    """A check that every number of a setting is at most ``limit`` either way (a budget of
    ``problems.budgets``, named as ``what`` in the refusal)."""

    def check(value: T) -> T:
        if any(abs(n) > limit for n in _numbers(value)):
            raise ValueError(f"{_text(value)} is {over(limit, what)}")
        return value

    return check


#: A window's kernel, stride, dilation or padding: within the budget on windows.
window = within(MAX_WINDOW, "a window's settings")

Positive = Annotated[IntPair, AfterValidator(positive), AfterValidator(window)]
NonNegative = Annotated[IntPair, AfterValidator(non_negative), AfterValidator(window)]


def output_padding_fits(output_padding: IntPair, stride: IntPair, dilation: IntPair) -> None:
    """A transposed convolution's output padding picks among the input sizes that a forward
    convolution maps to the same output, so PyTorch wants it smaller than the stride or the
    dilation, per axis."""
    for axis, op, s, d in zip(AXES, _axes(output_padding), _axes(stride), _axes(dilation), strict=True):
        if op >= max(s, d):
            reason = f"{op} along the {axis} is not smaller than its stride {s} or dilation {d}"
            raise SettingError("output_padding", reason)


def pool_padding_fits(padding: IntPair, kernel: IntPair) -> None:
    """PyTorch pads a pooling window by at most half its kernel, per axis."""
    for axis, p, k in zip(AXES, _axes(padding), _axes(kernel), strict=True):
        if 2 * p > k:
            raise SettingError("padding", f"{p} along the {axis} is more than half the kernel {k}")


def groups_split(groups: int, out_channels: int, in_channels: int | None = None) -> None:
    """Output channels (and input channels, once known) each split into whole groups."""
    for what, channels in (("input", in_channels), ("output", out_channels)):
        if channels is not None and channels % groups:
            raise SettingError("groups", f"{channels} {what} channels do not split into {groups} groups")


def same_fits(padding: object, stride: IntPair, dilation: IntPair) -> None:
    """``same`` padding at a stride is TensorFlow's (the output is ``⌈n/s⌉``); like Keras, not
    with a dilation too (PyTorch takes ``same`` at stride 1 only)."""
    if padding == "same" and max(_axes(stride)) > 1 and max(_axes(dilation)) > 1:
        reason = (
            f"'same' with stride {_text(stride)} and dilation {_text(dilation)}: a stride and a dilation "
            "above 1 together are refused (as Keras refuses them)"
        )
        raise SettingError("padding", reason)
