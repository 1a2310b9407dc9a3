"""Max, average and min pooling of a small image, channel by channel."""

from __future__ import annotations

from typing import Literal, Self

import numpy as np
from pydantic import model_validator

from problems.budgets import MAX_ELEMENTS, MAX_MACS, over
from problems.kinds import AnswerKind
from problems.solvers import sizes
from problems.solvers.checks import SettingError
from problems.solvers.layers import PoolWindow, pair
from problems.solvers.pooling import PoolKind, pool2d
from problems.solvers.steps import NO_TRACE, Derivations, MistakenSteps, Step, Trace
from problems.types.base import ImageInput, Quantity, conclusion, exact, image_text

MODE_NAMES = {"max": "max", "avg": "average", "min": "min"}


class PoolProblem(PoolWindow, ImageInput):
    """All three pooling modes are solved: ``output`` is the declared mode, and ``max``, ``avg``,
    ``min`` (and ``max.R`` per named channel) are there for parts that ask for each (``avg`` only
    without dilation, which average pooling does not have)."""

    type: Literal["pool2d"] = "pool2d"

    @model_validator(mode="after")
    def _fits_the_input(self) -> Self:
        """At least one output pixel per axis, and a real pixel in every window (the window's own
        settings are ``PoolWindow``'s)."""
        _, h, w = self.image().shape
        k, p, d = pair(self.kernel), pair(self.padding), pair(self.dilation)
        s = pair(self.stride if self.stride is not None else self.kernel)
        try:
            h_out, w_out = (
                sizes.pool_out(n, k[axis], s[axis], p[axis], d[axis], self.ceil_mode) for axis, n in enumerate((h, w))
            )
        except sizes.SizeError as error:
            raise SettingError("kernel", str(error)) from None
        output = self.image().shape[0] * h_out * w_out
        if output > MAX_ELEMENTS:
            budget = over(MAX_ELEMENTS, "the elements of a matrix")
            raise SettingError("input", f"the output has {output:,} elements, {budget}")
        if output * k[0] * k[1] > MAX_MACS:
            budget = over(MAX_MACS, "the work of an image problem")
            raise SettingError("kernel", f"pooling reads {output * k[0] * k[1]:,} pixels, {budget}")
        if self.dilated:  # a dilated window may step over every pixel: PyTorch's max is −inf there
            try:
                pool2d(self.image(), "max", self.kernel, self.stride, self.padding, self.dilation, self.ceil_mode)
            except sizes.SizeError as error:
                raise SettingError("dilation", str(error)) from None
        return self

    def _pool(self, image: np.ndarray, mode: PoolKind, trace: Trace = NO_TRACE) -> np.ndarray:
        return exact(
            pool2d(
                image,
                mode,
                self.kernel,
                self.stride,
                self.padding,
                self.dilation,
                self.ceil_mode,
                self.count_include_pad,
                trace,
            )
        )

    def solve(self, steps: Derivations | None = None) -> dict[str, Quantity]:
        image = self.image()
        found: dict[str, Quantity] = {}
        for mode in PoolKind:
            if mode is PoolKind.AVG and self.dilated:
                continue
            trace = Trace() if steps is not None else NO_TRACE
            out = self._pool(image, mode, trace)
            if steps is not None:
                steps[mode.value] = self._worked(mode, trace.steps, out)
                for index, name in enumerate(self.channel_names() or []):
                    alone = Trace()
                    self._pool(image[index : index + 1], mode, alone)
                    steps[f"{mode.value}.{name}"] = self._worked(mode, alone.steps, out[index], f" of channel {name}")
            found[mode.value] = (
                Quantity(AnswerKind.MATRIX, out[0]) if out.shape[0] == 1 else Quantity(AnswerKind.TENSOR, out)
            )
            for index, name in enumerate(self.channel_names() or []):
                found[f"{mode.value}.{name}"] = Quantity(AnswerKind.MATRIX, out[index])
        declared = found[self.mode]
        found["output"] = declared
        for name in self.channel_names() or []:
            found[f"output.{name}"] = found[f"{self.mode}.{name}"]
        shape = declared.value.shape if declared.kind is AnswerKind.TENSOR else (1, *declared.value.shape)
        found["shape"] = Quantity(AnswerKind.SHAPE, tuple(int(s) for s in shape))
        if steps is not None:
            steps["output"] = steps[self.mode]
            for name in self.channel_names() or []:
                steps[f"output.{name}"] = steps[f"{self.mode}.{name}"]
            sizes_steps = tuple(s for s in steps[self.mode] if s.text.startswith(("H_out", "W_out")))
            channels = f"{shape[0]} channel{'s' if shape[0] > 1 else ''}, each pooled alone"
            steps["shape"] = (
                *sizes_steps,
                conclusion(f"{channels}: the shape is {'×'.join(map(str, shape))} (C×H×W)", found["shape"]),
            )
        return found

    def _worked(self, mode: PoolKind, worked: list[Step], out: np.ndarray, which: str = "") -> tuple[Step, ...]:
        """The sizes and the first windows, then the rule for the rest."""
        stride = self.stride if self.stride is not None else self.kernel
        value = out[0] if out.ndim == 3 and out.shape[0] == 1 else out
        quantity = Quantity(AnswerKind.MATRIX if value.ndim == 2 else AnswerKind.TENSOR, value)
        moved = f"the window moved {stride} pixel(s) at a time"
        rule = f"Every other entry likewise, {moved}: the {MODE_NAMES[mode.value]} pooling{which}"
        return (*worked, conclusion(rule, quantity))

    def mistakes(self, steps: MistakenSteps | None = None) -> dict[str, dict[str, Quantity]]:
        """Max and average pooling swapped: each mode's answer is the other's."""
        if self.mode == "min" or self.dilated:
            return {}
        worked = Derivations() if steps is not None else None
        found = self.solve() if worked is None else self.solve(worked)
        other = {"max": "avg", "avg": "max", "output": "avg" if self.mode == "max" else "max"}
        swapped: dict[str, Quantity] = {}
        for name in found:
            mode, _, channel = name.partition(".")
            if mode in other:
                source = f"{other[mode]}.{channel}" if channel else other[mode]
                swapped[name] = found[source]
                if steps is not None and worked is not None:  # the other mode's working, as the student did
                    steps.collector("pooling-type-swapped")[name] = worked[source]
        return {"pooling-type-swapped": swapped}

    def describe(self) -> str:
        stride = self.stride if self.stride is not None else self.kernel
        kh, kw = pair(self.kernel)
        text = f"Input {image_text(self)}. {kh}×{kw} {MODE_NAMES[self.mode]} pooling, stride {stride}"
        if pair(self.padding) != (0, 0):
            text += f", padding {self.padding}"
        if self.ceil_mode:
            text += ", ceil mode"
        return text + "."
