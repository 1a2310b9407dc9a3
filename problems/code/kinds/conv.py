"""Convolution, forward and backward: ``conv_forward(x, w, b, stride=1, pad=0)`` and
``conv_backward(dout, x, w, b, stride=1, pad=0)``, on batches, as PyTorch computes them
(cross-correlation, zero padding on every side)."""

from __future__ import annotations

from typing import ClassVar

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from problems.code.kinds.base import CodeKind, Drawn, Outputs, ShapeReading, draw_values
from problems.code.kinds.sizes import Side, map_readings
from problems.code.spec import CodeTest
from problems.solvers.backprop import conv_backward, input_gradient, weight_gradient
from problems.solvers.convolution import conv2d
from problems.solvers.sizes import conv_out
from problems.solvers.windows import padded, written_back


class ConvSettings(BaseModel):
    """A convolution test's settings."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    stride: int = Field(default=1, ge=1, le=16, description="The stride S, on both axes.")
    pad: int = Field(default=0, ge=0, le=16, description="Zeros added on every side, P.")


def batched(
    x: np.ndarray, w: np.ndarray, b: np.ndarray | None, stride: int, pad: int, flip: bool = False
) -> np.ndarray:
    """``conv2d`` over a batch: (N, C, H, W) → (N, F, H', W'), as float64."""
    return conv2d(x, w, b, stride, pad, flip=flip).astype(np.float64, copy=False)


def within(every: np.ndarray, start: int, extent: tuple[int, int], kernel: tuple[int, int], stride: int) -> np.ndarray:
    """The output at ``stride`` of the convolution of a part of the padded input (from ``start`` on
    both axes, ``extent`` long), read off ``every``, the outputs at stride 1 over the whole padded
    input: its windows are among theirs. The sizes by the size formula (which refuses a part
    smaller than the kernel, as the convolution would)."""
    rows, cols = (conv_out(n, k, stride) for n, k in zip(extent, kernel, strict=True))
    return every[
        :, :, start : start + (rows - 1) * stride + 1 : stride, start : start + (cols - 1) * stride + 1 : stride
    ]


class ConvKind(CodeKind):
    """What the forward and backward kinds share: x (N, C, H, W) and w (F, C, K_H, K_W), a stride
    and a padding, and the output's size by the size formula."""

    arrays: ClassVar[dict[str, int]] = {"x": 4, "w": 4}
    settings_model = ConvSettings

    def setting(self, test: CodeTest) -> ConvSettings:
        found = self.settings(test)
        assert isinstance(found, ConvSettings)
        return found

    def check(self, test: CodeTest) -> None:
        super().check(test)
        (_, c, h, w), (_, cw, kh, kw) = test.shapes["x"], test.shapes["w"]
        if c != cw:
            raise ValueError(f"shapes.w: the filters span {cw} channels, the input has {c}")
        pad = self.setting(test).pad
        if kh > h + 2 * pad or kw > w + 2 * pad:
            raise ValueError(
                f"shapes.w: a {kh}×{kw} kernel is larger than the padded {h + 2 * pad}×{w + 2 * pad} input"
            )

    def work(self, test: CodeTest) -> int:
        n, c, _, _ = test.shapes["x"]
        f, _, kh, kw = test.shapes["w"]
        _, _, h_out, w_out = self.out_shape(test)
        return n * f * h_out * w_out * c * kh * kw

    def out_shape(self, test: CodeTest) -> tuple[int, int, int, int]:
        n, _, h, w = test.shapes["x"]
        f, _, kh, kw = test.shapes["w"]
        s = self.setting(test)
        return n, f, (h + 2 * s.pad - kh) // s.stride + 1, (w + 2 * s.pad - kw) // s.stride + 1

    def sides(self, test: CodeTest) -> tuple[Side, Side]:
        _, _, h, w = test.shapes["x"]
        _, _, kh, kw = test.shapes["w"]
        s = self.setting(test)
        return Side("H", h, kh, s.stride, s.pad), Side("W", w, kw, s.stride, s.pad)

    def inputs(self, test: CodeTest, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        values = test.values
        x = draw_values(rng, test.shapes["x"], values.low, values.high, values.integers)
        w = draw_values(rng, test.shapes["w"], values.low, values.high, values.integers)
        b = draw_values(rng, test.shapes["w"][:1], values.low, values.high, values.integers)
        return x, w, b


class ConvForward(ConvKind):
    name = "conv.forward"
    function = "conv_forward"
    signature = "conv_forward(x, w, b, stride=1, pad=0) -> out"
    mutants = (
        "kernel-flipped",
        "padding-one-side",
        "padding-ignored",
        "bias-omitted",
        "missing-plus-one",
        "stride-ignored",
        "channel-order",
    )

    def draw(self, test: CodeTest, rng: np.random.Generator) -> Drawn:
        x, w, b = self.inputs(test, rng)
        s = self.setting(test)
        return Drawn((x, w, b, s.stride, s.pad), {"x": x, "w": w, "b": b})

    def reference(self, test: CodeTest, drawn: Drawn) -> Outputs:
        s = self.setting(test)
        return (batched(drawn.named["x"], drawn.named["w"], drawn.named["b"], s.stride, s.pad),)

    def mistakes(self, test: CodeTest, drawn: Drawn, reference: Outputs) -> list[tuple[str, Outputs]]:
        x, w, b = drawn.named["x"], drawn.named["w"], drawn.named["b"]
        s = self.setting(test)
        (right,) = reference
        # The kernel flipped and the bias left out read the same windows: one convolution with both
        # filter banks, the bias added to the flipped one's outputs.
        both = batched(x, np.concatenate([w[:, :, ::-1, ::-1], w]), None, s.stride, s.pad)
        flipped, unbiased = both[:, : w.shape[0]] + b.reshape(-1, 1, 1), both[:, w.shape[0] :]
        found: list[tuple[str, Outputs]] = [("kernel-flipped", (flipped,))]
        if right.shape[2] > 1 and right.shape[3] > 1:  # named before a padding on one side that gives the same
            found.append(("missing-plus-one", (right[:, :, :-1, :-1],)))
        # The outputs at stride 1 hold every window: an input padded on one side only (top and left,
        # or bottom and right), or not padded, is a part of the padded input, and its windows theirs.
        every = right if s.stride == 1 else batched(x, w, b, 1, s.pad)
        (h, wd), kernel = x.shape[2:], w.shape[2:]
        if s.pad:
            one_side = (h + s.pad, wd + s.pad)
            found += [
                ("padding-one-side", (within(every, 0, one_side, kernel, s.stride),)),
                ("padding-one-side", (within(every, s.pad, one_side, kernel, s.stride),)),
            ]
            if w.shape[2] <= x.shape[2] and w.shape[3] <= x.shape[3]:
                found.append(("padding-ignored", (within(every, s.pad, (h, wd), kernel, s.stride),)))
        found.append(("bias-omitted", (unbiased,)))
        if s.stride > 1:
            found.append(("stride-ignored", (every,)))
        found.append(("channel-order", (right.transpose(0, 2, 3, 1),)))
        return found

    def shapes(self, test: CodeTest) -> list[ShapeReading]:
        n, f, _, _ = self.out_shape(test)
        return map_readings(self.sides(test), n, f, "F")


class ConvBackward(ConvKind):
    name = "conv.backward"
    function = "conv_backward"
    signature = "conv_backward(dout, x, w, b, stride=1, pad=0) -> (dx, dw, db)"
    outputs = ("dx", "dw", "db")
    mutants = (
        "gradient-not-accumulated",
        "gradient-not-summed-over-batch",
        "padding-crop-empty",
        "backward-stride-ignored",
    )

    def work(self, test: CodeTest) -> int:
        return 3 * super().work(test)

    def draw(self, test: CodeTest, rng: np.random.Generator) -> Drawn:
        x, w, b = self.inputs(test, rng)
        values = test.values
        dout = draw_values(rng, self.out_shape(test), values.low, values.high, values.integers)
        s = self.setting(test)
        return Drawn((dout, x, w, b, s.stride, s.pad), {"dout": dout, "x": x, "w": w, "b": b})

    def reference(self, test: CodeTest, drawn: Drawn) -> Outputs:
        s = self.setting(test)
        return conv_backward(drawn.named["dout"], drawn.named["x"], drawn.named["w"], s.stride, s.pad)

    def mistakes(self, test: CodeTest, drawn: Drawn, reference: Outputs) -> list[tuple[str, Outputs]]:
        dout, x, w = drawn.named["dout"], drawn.named["x"], drawn.named["w"]
        s = self.setting(test)
        dx, dw, db = reference
        found: list[tuple[str, Outputs]] = [
            (
                "gradient-not-accumulated",
                tuple(right if wrong is None else wrong for wrong, right in zip(form, (dx, dw, db), strict=True)),
            )
            for form in overwritten(dout, x, w, s.stride, s.pad)
        ]
        if x.shape[0] > 1:
            image_dw = weight_gradient(dout, x, w.shape[2:], s.stride, s.pad, per_image=True)
            image_db = dout.sum(axis=(2, 3)).astype(np.float64)
            for image in (0, x.shape[0] - 1):
                found.append(("gradient-not-summed-over-batch", (dx, image_dw[image], image_db[image])))
            found.append(("gradient-not-summed-over-batch", (dx, dw / x.shape[0], db / x.shape[0])))
        # dw does not depend on the weights: a flipped kernel's is the reference's, flipped back
        flipped_dx = input_gradient(dout, w[:, :, ::-1, ::-1], x.shape, s.stride, s.pad)
        found.append(("kernel-flipped", (flipped_dx, dw[:, :, ::-1, ::-1], db)))
        if s.pad == 0:  # dx_pad[:, :, pad:-pad, pad:-pad]: right at any other padding, empty at 0
            found.append(("padding-crop-empty", (np.zeros((*x.shape[:2], 0, 0)), dw, db)))
        if s.stride > 1:  # the windows read at i, j rather than i·S, j·S (dout's size is right)
            slid_dx, slid_dw, _ = conv_backward(dout, x, w, 1, s.pad)
            found += [
                ("backward-stride-ignored", (slid_dx, slid_dw, db)),
                ("backward-stride-ignored", (slid_dx, dw, db)),
                ("backward-stride-ignored", (dx, slid_dw, db)),
            ]
        return found

    def shapes(self, test: CodeTest) -> list[ShapeReading]:
        n, c, h, w = test.shapes["x"]
        shape = tuple(test.shapes["w"])
        return [ShapeReading(None, ((n, c, h, w), shape, shape[:1]), "dx like x, dw like w, db one per filter")]


def overwritten(
    dout: np.ndarray, x: np.ndarray, w: np.ndarray, stride: int, pad: int
) -> list[tuple[np.ndarray | None, np.ndarray | None, np.ndarray | None]]:
    """The gradients a loop over the output's positions writes with ``=`` instead of ``+=``: each
    element keeps the last term written to it. Where the loop also runs over the filters (for dx)
    or the images (for dw and db), the last filter's or image's term; where those are vectorised,
    the sum over them at the last window. Any nesting of the loops leaves the same last writer.
    Each form changes one gradient (None: the others are right)."""
    n, _, h, wd = x.shape
    f, _, kh, kw = w.shape
    _, _, h_out, w_out = dout.shape
    xp = padded(x.astype(np.float64, copy=False), pad, pad, pad, pad)
    # What each window writes at its taps, (N, C, H_out, W_out, kh, kw): the last filter's term, or the sum of all
    last_filter = (
        dout[:, f - 1, np.newaxis, :, :, np.newaxis, np.newaxis] * w[f - 1][np.newaxis, :, np.newaxis, np.newaxis]
    )
    every_filter = np.einsum("nfij,fchw->ncijhw", dout, w)
    window = ((kh, kw), (stride, stride))
    per_filter, all_filters = (written_back(terms, xp.shape, *window) for terms in (last_filter, every_filter))
    top, left = (h_out - 1) * stride, (w_out - 1) * stride
    corner = xp[:, :, top : top + kh, left : left + kw]
    last = dout[:, :, h_out - 1, w_out - 1]
    crop = (slice(None), slice(None), slice(pad, pad + h), slice(pad, pad + wd))
    return [
        (per_filter[crop], None, None),
        (all_filters[crop], None, None),
        (None, last[n - 1][:, None, None, None] * corner[n - 1][np.newaxis], None),
        (None, np.einsum("nf,nchw->fchw", last, corner), None),
        (None, None, last[n - 1].astype(np.float64)),
        (None, None, last.sum(axis=0).astype(np.float64)),
    ]
