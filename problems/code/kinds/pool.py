"""Max pooling, forward and backward: ``max_pool_forward(x, size, stride)`` and
``max_pool_backward(dout, x, size, stride)``, on batches without padding, as PyTorch's
``max_pool2d`` and its gradient."""

from __future__ import annotations

from typing import ClassVar

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from problems.code.kinds.base import Arg, CodeKind, Drawn, Outputs, ShapeReading, draw_values
from problems.code.kinds.sizes import Side, map_readings
from problems.code.spec import CodeTest
from problems.solvers.backprop import max_pool_backward
from problems.solvers.pooling import pool2d
from problems.solvers.windows import added_back, taps, written_back


class PoolSettings(BaseModel):
    """A pooling test's settings."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    size: int = Field(ge=1, le=16, description="The window's side K.")
    stride: int | None = Field(default=None, ge=1, le=16, description="The stride S; by default the window's side.")


def pooled(x: np.ndarray, size: int, stride: int, kind: str = "max") -> np.ndarray:
    """``pool2d`` over a batch: (N, C, H, W) → (N, C, H', W'), as float64."""
    return pool2d(x, kind, size, stride).astype(np.float64, copy=False)


def ceiled(x: np.ndarray, size: int, stride: int) -> np.ndarray | None:
    """The max pool whose output size rounds up, ⌈(H − K)/S⌉ + 1, its last windows cut by the
    input's edge (numpy's slices stop there): PyTorch's ceil mode. None where rounding changes
    nothing, or a last window would start past the edge (ceil mode drops it)."""
    _, _, h, w = x.shape
    h_out, w_out = -(-(h - size) // stride) + 1, -(-(w - size) // stride) + 1
    same = (h_out, w_out) == ((h - size) // stride + 1, (w - size) // stride + 1)
    past = (h_out - 1) * stride >= h or (w_out - 1) * stride >= w
    if same or past:
        return None
    return pool2d(x, "max", size, stride, ceil_mode=True).astype(np.float64, copy=False)


def window_assigned(dout: np.ndarray, x: np.ndarray, size: int, stride: int) -> np.ndarray:
    """``dx`` of a max pool's backward pass that writes each window whole with ``=``
    (``dx[..., r:r+K, s:s+K] = mask * dout[..., i, j]``), row by row: where windows overlap, a
    later window's zeros erase what an earlier one wrote."""
    n, c, h_out, w_out = dout.shape
    read = taps(x, (size, size), (stride, stride), (1, 1), (h_out, w_out)).reshape(n, c, h_out, w_out, -1)
    mask = np.zeros(read.shape)
    np.put_along_axis(mask, read.argmax(axis=-1)[..., np.newaxis], 1.0, axis=-1)
    written = (mask * dout[..., np.newaxis]).reshape(n, c, h_out, w_out, size, size)
    return written_back(written, x.shape, (size, size), (stride, stride))


class PoolKind(CodeKind):
    """What the forward and backward kinds share: x (N, C, H, W), a window and a stride."""

    arrays: ClassVar[dict[str, int]] = {"x": 4}
    settings_model = PoolSettings

    def window(self, test: CodeTest) -> tuple[int, int]:
        """The window's side and the stride."""
        found = self.settings(test)
        assert isinstance(found, PoolSettings)
        return found.size, found.stride or found.size

    def bound(self, test: CodeTest, drawn: Drawn) -> dict[str, Arg]:
        """The window's side and the stride it applies (the side, when the test gives none)."""
        size, stride = self.window(test)
        return {"size": size, "stride": stride, **drawn.named}

    def check(self, test: CodeTest) -> None:
        super().check(test)
        _, _, h, w = test.shapes["x"]
        size, _ = self.window(test)
        if size > min(h, w):
            raise ValueError(f"size: a {size}×{size} window is larger than the {h}×{w} input")

    def work(self, test: CodeTest) -> int:
        size, _ = self.window(test)
        n, c, h_out, w_out = self.out_shape(test)
        return 4 * n * c * h_out * w_out * size * size

    def out_shape(self, test: CodeTest) -> tuple[int, int, int, int]:
        n, c, h, w = test.shapes["x"]
        size, stride = self.window(test)
        return n, c, (h - size) // stride + 1, (w - size) // stride + 1

    def sides(self, test: CodeTest) -> tuple[Side, Side]:
        _, _, h, w = test.shapes["x"]
        size, stride = self.window(test)
        return Side("H", h, size, stride, 0), Side("W", w, size, stride, 0)


class PoolForward(PoolKind):
    name = "pool.forward"
    function = "max_pool_forward"
    signature = "max_pool_forward(x, size, stride) -> out"
    mutants = ("missing-plus-one", "stride-ignored", "channel-order", "pooling-type-swapped", "pool-size-ceil")

    def draw(self, test: CodeTest, rng: np.random.Generator) -> Drawn:
        values = test.values
        x = draw_values(rng, test.shapes["x"], values.low, values.high, values.integers)
        size, stride = self.window(test)
        return Drawn((x, size, stride), {"x": x})

    def reference(self, test: CodeTest, drawn: Drawn) -> Outputs:
        return (pooled(drawn.named["x"], *self.window(test)),)

    def mistakes(self, test: CodeTest, drawn: Drawn, reference: Outputs) -> list[tuple[str, Outputs]]:
        x = drawn.named["x"]
        size, stride = self.window(test)
        (right,) = reference
        found: list[tuple[str, Outputs]] = [("pooling-type-swapped", (pooled(x, size, stride, "avg"),))]
        if right.shape[2] > 1 and right.shape[3] > 1:
            found.append(("missing-plus-one", (right[:, :, :-1, :-1],)))
        if stride > 1:
            found.append(("stride-ignored", (pooled(x, size, 1),)))
        rounded_up = ceiled(x, size, stride)
        if rounded_up is not None:
            found.append(("pool-size-ceil", (rounded_up,)))
        found.append(("channel-order", (right.transpose(0, 2, 3, 1),)))
        return found

    def shapes(self, test: CodeTest) -> list[ShapeReading]:
        n, c, _, _ = self.out_shape(test)
        return map_readings(self.sides(test), n, c, "C")


class PoolBackward(PoolKind):
    name = "pool.backward"
    function = "max_pool_backward"
    signature = "max_pool_backward(dout, x, size, stride) -> dx"
    outputs = ("dx",)
    mutants = ("pool-gradient-to-all", "pool-window-assigned", "backward-stride-ignored")
    integers_allowed = False

    def draw(self, test: CodeTest, rng: np.random.Generator) -> Drawn:
        values = test.values
        x = draw_values(rng, test.shapes["x"], values.low, values.high, False)
        dout = draw_values(rng, self.out_shape(test), values.low, values.high, False)
        size, stride = self.window(test)
        return Drawn((dout, x, size, stride), {"dout": dout, "x": x})

    def reference(self, test: CodeTest, drawn: Drawn) -> Outputs:
        return (max_pool_backward(drawn.named["dout"], drawn.named["x"], *self.window(test)),)

    def mistakes(self, test: CodeTest, drawn: Drawn, reference: Outputs) -> list[tuple[str, Outputs]]:
        dout, x = drawn.named["dout"], drawn.named["x"]
        size, stride = self.window(test)
        spread = added_back(dout[..., np.newaxis, np.newaxis], x.shape, (size, size), (stride, stride))
        last = max_pool_backward(dout, x, size, stride, accumulate=False)
        found: list[tuple[str, Outputs]] = [
            ("pool-gradient-to-all", (spread,)),
            ("pool-gradient-to-all", (spread / (size * size),)),
            ("gradient-not-accumulated", (last,)),
        ]
        if stride < size:  # windows overlap: a window written whole with = erases the one before
            found.append(("pool-window-assigned", (window_assigned(dout, x, size, stride),)))
        if stride > 1:  # the windows read at i, j rather than i·S, j·S
            found.append(("backward-stride-ignored", (max_pool_backward(dout, x, size, 1),)))
        return found

    def shapes(self, test: CodeTest) -> list[ShapeReading]:
        return [ShapeReading(None, (tuple(test.shapes["x"]),), "dx has the shape of x")]
