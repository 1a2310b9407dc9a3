"""Convolution and transposed convolution of small images, computed element by element."""

from __future__ import annotations

from typing import Literal

import numpy as np
from pydantic import model_validator

from problems.kinds import AnswerKind
from problems.solvers.convolution import conv2d
from problems.solvers.layers import IntPair, pair
from problems.solvers.transposed import conv_transpose2d
from problems.types.base import ImageInput, Matrix, Number, Quantity, exact, image_text, matrix_text


class _Filtered(ImageInput):
    """An image and its filters: one ``kernel`` applied to every input channel and summed,
    or explicit ``filters`` (each a stack of matrices, one per input channel of its group)."""

    kernel: Matrix | None = None
    filters: list[list[Matrix]] | None = None
    bias: list[Number] | None = None
    stride: IntPair = 1
    dilation: IntPair = 1
    groups: int = 1

    @model_validator(mode="after")
    def _one_weight_form(self) -> _Filtered:
        if (self.kernel is None) == (self.filters is None):
            raise ValueError("give exactly one of 'kernel' and 'filters'")
        if self.bias is not None and len(self.bias) != self.weights().shape[0]:
            raise ValueError(f"{len(self.bias)} biases for {self.weights().shape[0]} filters")
        return self

    def weights(self) -> np.ndarray:
        """Filters as (N, C/groups, kh, kw)."""
        if self.filters is not None:
            return np.asarray(self.filters)
        channels = self.image().shape[0] // self.groups
        kernel = np.asarray(self.kernel)
        return np.broadcast_to(kernel, (1, channels, *kernel.shape)).copy()

    def bias_array(self) -> np.ndarray | None:
        return None if self.bias is None else np.asarray(self.bias)

    def weight_text(self) -> str:
        if self.kernel is not None:
            every = " on every channel" if self.image().shape[0] > 1 else ""
            return f"kernel K = {matrix_text(self.kernel)}{every}"
        return "; ".join(
            f"filter {i + 1} = " + " | ".join(matrix_text(m) for m in f) for i, f in enumerate(self.filters or [])
        )

    def settings_text(self, extra: str = "") -> str:
        parts = [
            f"stride {_axes(self.stride)}",
            extra,
            f"dilation {_axes(self.dilation)}" if pair(self.dilation) != (1, 1) else "",
        ]
        if self.groups != 1:
            parts.append(f"{self.groups} groups")
        if self.bias is not None:
            parts.append(f"bias {self.bias}")
        return ", ".join(p for p in parts if p)

    def answers(self, out: np.ndarray) -> dict[str, Quantity]:
        shape = tuple(int(s) for s in out.shape)
        matrix = out.shape[0] == 1
        return {
            "output": Quantity(AnswerKind.MATRIX, exact(out[0])) if matrix else Quantity(AnswerKind.TENSOR, exact(out)),
            "shape": Quantity(AnswerKind.SHAPE, shape),
        }


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:]


def _axes(value: IntPair | str) -> str:
    if isinstance(value, str):
        return f"'{value}'"
    h, w = pair(value)
    return str(h) if h == w else f"{h}×{w}"


class Conv2dProblem(_Filtered):
    """Convolution (cross-correlation, as in deep learning) or, with ``flip``, true convolution."""

    type: Literal["conv2d"] = "conv2d"
    padding: IntPair | Literal["same"] = 0
    flip: bool = False

    def solve(self) -> dict[str, Quantity]:
        out = conv2d(
            self.image(),
            self.weights(),
            self.bias_array(),
            self.stride,
            self.padding,
            self.dilation,
            self.groups,
            self.flip,
        )
        return self.answers(out)

    def mistakes(self) -> dict[str, dict[str, Quantity]]:
        """Kernel flipped when it should not be, or not when it should; padding left out."""
        found = {
            "kernel-not-flipped" if self.flip else "kernel-flipped": self.model_copy(update={"flip": not self.flip})
        }
        if self.padding != 0:
            found["padding-ignored"] = self.model_copy(update={"padding": 0})
        solved: dict[str, dict[str, Quantity]] = {}
        for code, spec in found.items():
            try:
                solved[code] = spec.solve()
            except ValueError:
                continue
        return solved

    def describe(self) -> str:
        operation = "true convolution (kernel flipped by 180°)" if self.flip else "convolution (no kernel flip)"
        return (
            f"Input {image_text(self)}. {_sentence(self.weight_text())}. {_sentence(operation)}, "
            f"{self.settings_text(f'zero padding {_axes(self.padding)}')}."
        )


class ConvTransposeProblem(_Filtered):
    """Transposed convolution; ``filters`` are (C_out/groups, kh, kw) stacks per input channel."""

    type: Literal["conv_transpose2d"] = "conv_transpose2d"
    padding: IntPair = 0
    output_padding: IntPair = 0

    def weights(self) -> np.ndarray:
        """Filters as (C_in, C_out/groups, kh, kw); one ``kernel`` gives a single output channel."""
        if self.filters is not None:
            return np.asarray(self.filters)
        channels = self.image().shape[0]
        kernel = np.asarray(self.kernel)
        return np.broadcast_to(kernel, (channels, 1, *kernel.shape)).copy()

    def solve(self) -> dict[str, Quantity]:
        out = conv_transpose2d(
            self.image(),
            self.weights(),
            self.bias_array(),
            self.stride,
            self.padding,
            self.output_padding,
            self.dilation,
            self.groups,
        )
        return self.answers(out)

    def describe(self) -> str:
        extra = f"padding {_axes(self.padding)}"
        if pair(self.output_padding) != (0, 0):
            extra += f", output padding {_axes(self.output_padding)}"
        return (
            f"Input {image_text(self)}. {_sentence(self.weight_text())}. Transposed convolution, "
            f"{self.settings_text(extra)}."
        )
