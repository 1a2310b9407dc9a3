"""Convolution and transposed convolution of small images, computed element by element."""

from __future__ import annotations

from typing import Annotated, Literal, Self

import numpy as np
from pydantic import AfterValidator, Field, field_validator, model_validator

from problems.budgets import MAX_ELEMENTS, MAX_MACS, over
from problems.kinds import AnswerKind
from problems.solvers import checks, sizes
from problems.solvers.checks import NonNegative, Positive, SettingError
from problems.solvers.convolution import conv2d
from problems.solvers.layers import IntPair, pair
from problems.solvers.steps import NO_TRACE, Derivations, MistakenSteps, Trace
from problems.solvers.transposed import conv_transpose2d
from problems.types.base import (
    ImageInput,
    Matrix,
    Number,
    Quantity,
    check_elements,
    check_matrix,
    conclusion,
    exact,
    image_text,
    matrix_text,
)


class _Filtered(ImageInput):
    """An image and its filters: one ``kernel`` applied to every input channel and summed,
    or explicit ``filters`` (each a stack of matrices, one per input channel of its group)."""

    kernel: Matrix | None = None
    filters: list[list[Matrix]] | None = None
    bias: list[Number] | None = None
    stride: Positive = 1
    dilation: Positive = 1
    groups: int = Field(default=1, gt=0)

    @field_validator("kernel")
    @classmethod
    def _rectangular_kernel(cls, value: Matrix | None) -> Matrix | None:
        if value is not None:
            check_elements(sum(len(row) for row in value), "the kernel")
        return None if value is None else check_matrix(value)

    @field_validator("filters")
    @classmethod
    def _within_budget(cls, value: list[list[Matrix]] | None) -> list[list[Matrix]] | None:
        if value is not None:
            check_elements(sum(len(row) for f in value for m in f for row in m), "the filters")
        return value

    @model_validator(mode="after")
    def _as_torch_allows(self) -> Self:
        """One weight form; filters that fit the input in its groups; an output of at least one
        pixel; one bias per output channel; the work within the budgets."""
        if (self.kernel is None) == (self.filters is None):
            raise ValueError("give exactly one of 'kernel' and 'filters'")
        if self.kernel is not None:  # it stands for a filter of one matrix per channel: counted before made
            try:
                weights = self.image().shape[0] * len(self.kernel) * len(self.kernel[0])
                check_elements(weights, "the kernel on every channel")
            except ValueError as error:
                raise SettingError("kernel", str(error)) from None
        try:
            weights = self.weights()
        except ValueError:  # numpy refuses a ragged stack
            raise SettingError("filters", "every filter needs one shape: matrices of one size per channel") from None
        if weights.ndim != 4 or 0 in weights.shape:
            raise SettingError("filters", "every filter is a non-empty stack of matrices (one per channel)")
        channels = self.image().shape[0]
        if channels % self.groups:
            raise SettingError("groups", f"{channels} input channels do not split into {self.groups} groups")
        self.check_filters(weights, channels)
        self.check_size(weights)
        self.check_work(weights)
        if self.bias is not None and len(self.bias) != self.out_channels():
            raise SettingError("bias", f"{len(self.bias)} biases for {self.out_channels()} output channels")
        return self

    def check_filters(self, weights: np.ndarray, channels: int) -> None:
        """Refuse filters that do not fit ``channels`` input channels (a ``SettingError``)."""
        raise NotImplementedError

    def check_size(self, weights: np.ndarray) -> None:
        """Refuse settings that leave no output pixel (a ``SettingError``)."""
        raise NotImplementedError

    def check_work(self, weights: np.ndarray) -> None:
        """Refuse an output, or a computation, over the budgets of image problems: at the padding
        when the same problem without it is within them, else at the input."""
        over = self._over_budget(weights, padded=True)
        if over is not None:
            raise SettingError("padding" if self._over_budget(weights, padded=False) is None else "input", over)

    def _over_budget(self, weights: np.ndarray, padded: bool) -> str | None:
        output, macs = self.work(weights, padded)
        if output > MAX_ELEMENTS:
            return f"the output has {output:,} elements, {over(MAX_ELEMENTS, 'the elements of a matrix')}"
        if macs > MAX_MACS:
            return f"the output takes {macs:,} multiply-accumulates, {over(MAX_MACS, 'the work of an image problem')}"
        return None

    def work(self, weights: np.ndarray, padded: bool = True) -> tuple[int, int]:
        """Elements of the output, and multiply-accumulates with the arrays filled on the way."""
        raise NotImplementedError

    def out_channels(self) -> int:
        return int(self.weights().shape[0])

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

    def answers(
        self, out: np.ndarray, trace: Trace = NO_TRACE, steps: Derivations | None = None
    ) -> dict[str, Quantity]:
        """The output and its shape; with ``steps``, their working from ``trace`` (the sizes, then
        the first entries), and the rule for the rest."""
        shape = tuple(int(s) for s in out.shape)
        matrix = out.shape[0] == 1
        found = {
            "output": Quantity(AnswerKind.MATRIX, exact(out[0])) if matrix else Quantity(AnswerKind.TENSOR, exact(out)),
            "shape": Quantity(AnswerKind.SHAPE, shape),
        }
        if steps is not None:
            sizes_steps = tuple(s for s in trace.steps if s.text.startswith(("H_out", "W_out")))
            channels = f"{shape[0]} output channel{'s' if shape[0] > 1 else ''}"
            steps["shape"] = (
                *sizes_steps,
                conclusion(
                    f"{channels} of {shape[1]}×{shape[2]}: the shape is {'×'.join(map(str, shape))} (C×H×W)",
                    found["shape"],
                ),
            )
            rule = (
                f"Every other entry likewise, the window moved {_axes(self.stride)} pixel(s) at a time"
                if isinstance(self, Conv2dProblem)
                else "Every other entry likewise: the sum of the stamps that land on it"
            )
            steps["output"] = (*trace.steps, conclusion(f"{rule}: the {shape[1]}×{shape[2]} output", found["output"]))
        return found


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
    padding: Annotated[
        IntPair | Literal["same"], AfterValidator(checks.non_negative), AfterValidator(checks.window)
    ] = 0
    flip: bool = False

    def check_filters(self, weights: np.ndarray, channels: int) -> None:
        n, per_group = weights.shape[:2]
        if per_group != channels // self.groups:
            raise SettingError(
                "filters",
                f"filters of {per_group} channels for {channels} input channels in {self.groups} groups "
                f"(each filter needs {channels // self.groups})",
            )
        checks.groups_split(self.groups, n, channels)

    def check_size(self, weights: np.ndarray) -> None:
        if self.padding == "same":
            checks.same_fits(self.padding, self.stride, self.dilation)
            return
        _, h, w = self.image().shape
        (sh, sw), (ph, pw), (dh, dw) = pair(self.stride), pair(self.padding), pair(self.dilation)
        try:
            sizes.conv_out(h, int(weights.shape[2]), sh, ph, dh)
            sizes.conv_out(w, int(weights.shape[3]), sw, pw, dw)
        except sizes.SizeError as error:
            raise SettingError("kernel", str(error)) from None

    def work(self, weights: np.ndarray, padded: bool = True) -> tuple[int, int]:
        """``N·H_out·W_out`` outputs; ``N·H_out·W_out·(C/g)·kh·kw`` MACs, and the padded input."""
        c, h, w = self.image().shape
        n, per_group, kh, kw = (int(size) for size in weights.shape)
        (sh, sw), (dh, dw) = pair(self.stride), pair(self.dilation)
        if self.padding == "same":
            (top, bottom), (left, right) = sizes.same_padding_at(h, kh, sh, dh), sizes.same_padding_at(w, kw, sw, dw)
        else:
            (top, left) = pair(self.padding)
            bottom, right = top, left
        if not padded:
            top = bottom = left = right = 0
        try:
            h_out = sizes.conv_out(h, kh, sh, top, dh, bottom)
            w_out = sizes.conv_out(w, kw, sw, left, dw, right)
        except sizes.SizeError:
            return 0, 0
        output = n * h_out * w_out
        return output, output * per_group * kh * kw + c * (h + top + bottom) * (w + left + right)

    def solve(self, steps: Derivations | None = None) -> dict[str, Quantity]:
        trace = Trace() if steps is not None else NO_TRACE
        out = conv2d(
            self.image(),
            self.weights(),
            self.bias_array(),
            self.stride,
            self.padding,
            self.dilation,
            self.groups,
            self.flip,
            trace,
        )
        return self.answers(out, trace, steps)

    def mistakes(self, steps: MistakenSteps | None = None) -> dict[str, dict[str, Quantity]]:
        """Kernel flipped when it should not be, or not when it should; padding (or 'same') left out."""
        found = {
            "kernel-not-flipped" if self.flip else "kernel-flipped": self.model_copy(update={"flip": not self.flip})
        }
        if self.padding != 0:  # 'same' left out is its own mistake: the student took it for 'valid'
            found["same-padding-ignored" if self.padding == "same" else "padding-ignored"] = self.model_copy(
                update={"padding": 0}
            )
        symmetric = self._same_as_symmetric()
        if symmetric is not None:
            found["same-padding-symmetric"] = self.model_copy(update={"padding": symmetric})
        solved: dict[str, dict[str, Quantity]] = {}
        for code, spec in found.items():
            try:
                solved[code] = spec.solve(None if steps is None else steps.collector(code))
            except ValueError:
                continue
        return solved

    def _same_as_symmetric(self) -> tuple[int, int] | None:
        """``same`` padding taken as symmetric: the larger side on both, where the sides differ."""
        if self.padding != "same":
            return None
        _, h, w = self.image().shape
        kh, kw = self.weights().shape[2:]
        (sh, sw), (dh, dw) = pair(self.stride), pair(self.dilation)
        rows, cols = sizes.same_padding_at(h, int(kh), sh, dh), sizes.same_padding_at(w, int(kw), sw, dw)
        if rows[0] == rows[1] and cols[0] == cols[1]:
            return None
        return max(rows), max(cols)

    def describe(self) -> str:
        operation = "true convolution (kernel flipped by 180°)" if self.flip else "convolution (no kernel flip)"
        return (
            f"Input {image_text(self)}. {_sentence(self.weight_text())}. {_sentence(operation)}, "
            f"{self.settings_text(f'zero padding {_axes(self.padding)}')}."
        )


class ConvTransposeProblem(_Filtered):
    """Transposed convolution; ``filters`` are (C_out/groups, kh, kw) stacks per input channel."""

    type: Literal["conv_transpose2d"] = "conv_transpose2d"
    padding: NonNegative = 0
    output_padding: NonNegative = 0

    def check_filters(self, weights: np.ndarray, channels: int) -> None:
        if weights.shape[0] != channels:
            raise SettingError("filters", f"{weights.shape[0]} filters for {channels} input channels (one per channel)")
        checks.output_padding_fits(self.output_padding, self.stride, self.dilation)

    def check_size(self, weights: np.ndarray) -> None:
        _, h, w = self.image().shape
        kh, kw = (int(k) for k in weights.shape[2:])
        (sh, sw), (ph, pw) = pair(self.stride), pair(self.padding)
        (oph, opw), (dh, dw) = pair(self.output_padding), pair(self.dilation)
        try:
            sizes.transposed_out(h, kh, sh, ph, oph, dh)
            sizes.transposed_out(w, kw, sw, pw, opw, dw)
        except sizes.SizeError as error:
            raise SettingError("padding", str(error)) from None

    def work(self, weights: np.ndarray, padded: bool = True) -> tuple[int, int]:
        """``C_out·H_out·W_out`` outputs; ``C_in·H·W·(C_out/g)·kh·kw`` MACs, and the output before
        the padding crops it."""
        c, h, w = self.image().shape
        _, per_group, kh, kw = (int(size) for size in weights.shape)
        (sh, sw), (ph, pw) = pair(self.stride), pair(self.padding) if padded else (0, 0)
        (oph, opw), (dh, dw) = pair(self.output_padding), pair(self.dilation)
        full_h = (h - 1) * sh + dh * (kh - 1) + 1 + oph
        full_w = (w - 1) * sw + dw * (kw - 1) + 1 + opw
        output = per_group * self.groups * max(full_h - 2 * ph, 0) * max(full_w - 2 * pw, 0)
        return output, c * h * w * per_group * kh * kw + per_group * self.groups * full_h * full_w

    def out_channels(self) -> int:
        """The filters are (C_in, C_out/groups, kh, kw): the bias counts C_out."""
        return int(self.weights().shape[1]) * self.groups

    def weights(self) -> np.ndarray:
        """Filters as (C_in, C_out/groups, kh, kw); one ``kernel`` gives a single output channel."""
        if self.filters is not None:
            return np.asarray(self.filters)
        channels = self.image().shape[0]
        kernel = np.asarray(self.kernel)
        return np.broadcast_to(kernel, (channels, 1, *kernel.shape)).copy()

    def solve(self, steps: Derivations | None = None) -> dict[str, Quantity]:
        trace = Trace() if steps is not None else NO_TRACE
        out = conv_transpose2d(
            self.image(),
            self.weights(),
            self.bias_array(),
            self.stride,
            self.padding,
            self.output_padding,
            self.dilation,
            self.groups,
            trace,
        )
        return self.answers(out, trace, steps)

    def describe(self) -> str:
        extra = f"padding {_axes(self.padding)}"
        if pair(self.output_padding) != (0, 0):
            extra += f", output padding {_axes(self.output_padding)}"
        return (
            f"Input {image_text(self)}. {_sentence(self.weight_text())}. Transposed convolution, "
            f"{self.settings_text(extra)}."
        )
