"""Random window settings, valid or not, read from set files by the loader and given to torch.

Each case writes one set file's text (a network of one to four layers, or a conv2d, conv_transpose2d or
pool2d problem) and builds the same layers in torch, on a tensor of the input's shape. Torch is
the judge: the loader refuses a file exactly when torch refuses a module (an exception, or an
empty output), naming one of that layer's settings as the field, and the very setting when a
single one was drawn out of its range; a file the loader takes solves to torch's answer: per
layer instance the output shape, parameter count and MACs, for the single-layer problems the
output itself (integers in float64: exact).

Settings are drawn from ranges a little wider than the valid ones (kernels too large for the
input, groups that do not split the channels, output padding up to the stride, pooling padding
past half the kernel, 'same' with a stride and a dilation (Keras's refusal: torch has no strided
'same', so it is TensorFlow's padding before the module), average pooling with a dilation), and now and then
one setting is drawn from the values torch refuses on any input (0 or less for a kernel, stride
or dilation; negative padding; groups of 0).

Each case draws from ``numpy.random.default_rng((SEED, family, index))``: reproducible by id.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from problems.loader import SetFileError, load_set, parse_set
from problems.sets import ProblemSet
from problems.types.network import NetworkProblem
from problems.variants import draw_params

from torch_layers import Measured, Spec, keras_same, measure, torch_layer

SEED = 20_261_123
CHUNKS = 10
NETWORKS = 1000  # per chunk: 10,000 networks of 1–4 layers
PROBLEMS = 1000  # per chunk and problem type: 10,000 of each kind of single-layer problem

torch.set_num_threads(1)  # tiny tensors: threads only add overhead under pytest -n 2
pytestmark = [
    pytest.mark.filterwarnings("ignore:Initializing zero-element tensors"),  # a kernel of 0, refused anyway
    pytest.mark.filterwarnings("ignore:Using padding='same'"),
]

#: Values torch refuses on any input, per kind of setting.
OUT_OF_RANGE = {"positive": [0, -1], "non_negative": [-1, -2], "groups": [0]}
#: The settings of a window, the only fields a refusal may name.
SETTINGS = {"kernel", "stride", "padding", "dilation", "output_padding", "groups", "out_channels", "filters", "bias"}
FIELD = re.compile(r"field '([^']+)'")


@dataclass
class Draw:
    """Settings drawn for one case, now and then out of range on purpose."""

    rng: np.random.Generator
    spoil_rate: float = 0.03

    def int(self, lo: int, hi: int) -> int:
        return int(self.rng.integers(lo, hi + 1))

    def setting(self, name: str, lo: int, hi: int, rule: str) -> int | list[int]:
        """An int or, half of the time, a per-axis pair; now and then a value torch always refuses."""
        values = [self.int(lo, hi) for _ in range(1 if self.rng.random() < 0.5 else 2)]
        if self.rng.random() < self.spoil_rate:
            values[self.int(0, len(values) - 1)] = int(self.rng.choice(OUT_OF_RANGE[rule]))
        return values[0] if len(values) == 1 else values

    def top(self, valid: int) -> int:
        """The top of a range: the largest valid value, or (now and then) one more."""
        return valid + 1 if self.rng.random() < 0.15 else valid

    def groups(self, name: str, channels: int) -> int:
        """Groups that split the channels, or (now and then) any of 1–3, or 0."""
        if self.rng.random() < self.spoil_rate:
            return 0
        fitting = [g for g in (1, 2, 3) if channels % g == 0] if self.rng.random() < 0.85 else [1, 2, 3]
        return int(self.rng.choice(fitting))

    def out_channels(self, groups: int) -> int:
        return max(groups, 1) * self.int(1, 3) if self.rng.random() < 0.85 else self.int(1, 6)


def lowest(value: int | list[int]) -> int:
    return value if isinstance(value, int) else min(value)


def output_padding_top(draw: Draw, stride: int | list[int], dilation: int | list[int]) -> int:
    """The largest output padding valid on both axes (smaller than the stride or the dilation)."""
    s, d = (v if isinstance(v, list) else [v, v] for v in (stride, dilation))
    return draw.top(max(min(max(s[0], d[0]), max(s[1], d[1])) - 1, 0))


def written(problem: dict[str, Any], quantity: str) -> str:
    """The set file's text: JSON is YAML (flow style), and much faster to write than PyYAML's emitter."""
    entry = {"id": "q1", "title": "T", **problem, "parts": [{"key": "a", "quantity": quantity}]}
    return json.dumps({"id": "case", "title": "case", "problems": [entry]})


def load(text: str) -> ProblemSet | str:
    """The set the loader reads from the file's text (as ``load_set`` does once it has read the
    file: writing 40,000 files to disk took about a minute of the run), or the field it names when
    it refuses it."""
    try:
        return parse_set(text, "case.yaml")
    except SetFileError as error:
        named = FIELD.search(str(error))
        assert named, f"refused without naming a field: {error}"
        return named.group(1)


#: The settings torch refuses on any input when a number in them is below the bound.
BOUNDS = {"kernel": 1, "stride": 1, "dilation": 1, "groups": 1, "padding": 0, "output_padding": 0}


def out_of_range(settings: dict[str, Any]) -> list[str]:
    """The settings with a number below its bound (refused by torch on any input)."""

    def numbers(value: Any) -> list[int]:
        if isinstance(value, list):
            return [n for item in value for n in numbers(item)]
        return [value] if isinstance(value, int) and not isinstance(value, bool) else []

    return [name for name, low in BOUNDS.items() if any(n < low for n in numbers(settings.get(name)))]


def assert_names_the_setting(named: str, settings: dict[str, Any], case: Any) -> None:
    """The field is a setting; the one out of range when a single setting of that layer is (a
    setting out of range is found before any rule across settings or about the input)."""
    setting = named.rsplit(".", 1)[-1]
    assert setting in SETTINGS, f"{named!r} names no setting: {case}"
    spoiled = out_of_range(settings)
    if len(spoiled) == 1:
        assert setting == spoiled[0], f"{named!r}, but {spoiled[0]} is out of range: {case}"


# --- networks: layers as a set file writes them, against the same torch modules ---------------------


def draw_layer(draw: Draw, c: int) -> Spec:
    """A convolution, transposed convolution, separable convolution or pooling for ``c`` channels."""
    kind = str(draw.rng.choice(["conv"] * 4 + ["conv_transpose"] * 2 + ["separable"] + ["pool"] * 3))
    if kind == "conv":
        groups: int | str = draw.groups("groups", c)
        out = draw.out_channels(groups)
        if draw.rng.random() < 0.1:
            groups, out = "depthwise", c * draw.int(1, 2)
        stride = draw.setting("stride", 1, 3, "positive")
        padding: Any = draw.setting("padding", 0, 2, "non_negative")
        if draw.rng.random() < 0.15:
            padding = str(draw.rng.choice(["same", "valid"]))
            stride = 1 if draw.rng.random() < 0.8 else stride
        return {
            "kind": "conv",
            "out_channels": out,
            "kernel": draw.setting("kernel", 1, 5, "positive"),
            "stride": stride,
            "padding": padding,
            "dilation": draw.setting("dilation", 1, 3, "positive"),
            "groups": groups,
            "bias": bool(draw.rng.random() < 0.5),
        }
    if kind == "conv_transpose":
        stride, dilation = draw.setting("stride", 1, 3, "positive"), draw.setting("dilation", 1, 2, "positive")
        groups = draw.groups("groups", c)
        return {
            "kind": "conv_transpose",
            "out_channels": draw.out_channels(groups),
            "kernel": draw.setting("kernel", 1, 4, "positive"),
            "stride": stride,
            "padding": draw.setting("padding", 0, 2, "non_negative"),
            "output_padding": draw.setting(
                "output_padding", 0, output_padding_top(draw, stride, dilation), "non_negative"
            ),
            "dilation": dilation,
            "groups": groups,
            "bias": bool(draw.rng.random() < 0.5),
        }
    if kind == "separable":
        spec: Spec = {"kind": "separable", "out_channels": draw.int(1, 6), "bias": bool(draw.rng.random() < 0.5)}
        for name, lo, hi, rule in (("kernel", 1, 5, "positive"), ("stride", 1, 2, "positive")):
            spec[name] = draw.int(lo, hi)
            if draw.rng.random() < draw.spoil_rate:
                spec[name] = int(draw.rng.choice(OUT_OF_RANGE[rule]))
        spec["padding"] = str(draw.rng.choice(["same", "valid"])) if draw.rng.random() < 0.2 else draw.int(0, 2)
        return spec
    return draw_pool(draw)


def draw_pool(draw: Draw) -> Spec:
    mode = str(draw.rng.choice(["max", "avg", "min"]))
    kernel = draw.setting("kernel", 1, 4, "positive")
    spec: Spec = {
        "kind": "pool",
        "mode": mode,
        "kernel": kernel,
        "padding": draw.setting("padding", 0, draw.top(max(lowest(kernel), 0) // 2), "non_negative"),
        # average pooling has no dilation: now and then one anyway
        "dilation": 1 if mode == "avg" and draw.rng.random() < 0.85 else draw.setting("dilation", 1, 2, "positive"),
        "ceil_mode": bool(draw.rng.random() < 0.5),
        "count_include_pad": bool(draw.rng.random() < 0.5),
    }
    if draw.rng.random() < 0.7:
        spec["stride"] = draw.setting("stride", 1, 3, "positive")
    return spec


def torch_chain(shape: tuple[int, ...], specs: list[Spec]) -> tuple[list[Measured], int | None]:
    """Torch's measurements of every layer, and the index of the first layer it refuses (None)."""
    x = torch.zeros(1, *shape)
    found: list[Measured] = []
    for index, spec in enumerate(specs):
        try:
            x, measured = measure(spec, x)
        except (RuntimeError, ValueError, TypeError):
            return found, index
        found.extend(measured)
    return found, None


# 10 chunks of 1,000 seeded random networks (10,000): 1–4 layers on a 1–6 channel map of 1–12 pixels.
@pytest.mark.parametrize("chunk", range(CHUNKS))
def test_networks_are_refused_exactly_when_torch_refuses(chunk: int) -> None:
    """A network torch refuses is refused, naming a setting of the first layer torch refuses or of
    a later one wrong on any input; one torch takes gives torch's shapes, parameters and MACs."""
    refused = 0
    for index in range(NETWORKS):
        draw = Draw(np.random.default_rng((SEED, 1, chunk, index)))
        shape = (draw.int(1, 6), draw.int(3, 14), draw.int(3, 14))
        specs: list[Spec] = []
        c = shape[0]
        for _ in range(draw.int(1, 4)):
            specs.append(draw_layer(draw, c))
            c = specs[-1].get("out_channels", c)
        case = (shape, specs)
        measured, first_refused = torch_chain(shape, specs)
        network = {"type": "network", "input": list(shape), "input_layout": "CHW", "layers": specs}
        named = load(written(network, "output"))
        if first_refused is None:
            assert not isinstance(named, str), f"torch takes it, we refuse {named!r}: {case}"
            problem = named.problems[0].spec
            assert isinstance(problem, NetworkProblem)
            ours = [Measured(r.shape, r.params, r.macs) for r in problem.network().records]
            assert ours == measured, case
            continue
        refused += 1
        assert isinstance(named, str), f"torch refuses layer {first_refused}, we take it: {case}"
        assert_names_the_setting(named, specs[int(named.split(".")[1])], case)
        # every layer before the first one torch refuses ran in torch: none of them may be named
        assert int(named.split(".")[1]) >= first_refused, f"{named!r}, torch refused {first_refused}: {case}"
    assert 0.2 * NETWORKS < refused < 0.8 * NETWORKS, "the draws should mix valid and invalid networks"


# --- single-layer problems: images and filters, against torch.nn.functional ----------------------------


def image(draw: Draw, channels: int, h: int, w: int) -> list[Any]:
    values = draw.rng.integers(-3, 4, size=(channels, h, w)).tolist()
    return values[0] if channels == 1 and draw.rng.random() < 0.5 else values


def bias(draw: Draw, out: int) -> list[int] | None:
    """None, the right count, or (now and then) one too many or too few."""
    if draw.rng.random() < 0.5:
        return None
    count = out + int(draw.rng.choice([-1, 1])) if draw.rng.random() < 0.15 else out
    return draw.rng.integers(-2, 3, size=max(count, 0)).tolist()


@dataclass(frozen=True)
class Single:
    problem: dict[str, Any]
    #: torch's answer as (C, H, W), or the exception it raises
    run: Any


def draw_conv2d(draw: Draw) -> Single:
    c, h, w = draw.int(1, 4), draw.int(1, 7), draw.int(1, 7)
    groups = draw.groups("groups", c)
    kh, kw = draw.int(1, 4), draw.int(1, 4)
    problem: dict[str, Any] = {"type": "conv2d", "input": image(draw, c, h, w), "groups": groups}
    if groups == 1 and draw.rng.random() < 0.4:  # one kernel on every channel: one filter
        kernel = draw.rng.integers(-2, 3, size=(kh, kw))
        problem["kernel"] = kernel.tolist()
        weight = np.broadcast_to(kernel, (1, c, kh, kw))
    else:  # filters of C/groups channels, now and then of a count that does not fit
        per_group = max(c // max(groups, 1), 1) + (int(draw.rng.choice([-1, 1])) if draw.rng.random() < 0.1 else 0)
        weight = draw.rng.integers(-2, 3, size=(draw.out_channels(groups), max(per_group, 1), kh, kw))
        problem["filters"] = weight.tolist()
    stride = draw.setting("stride", 1, 3, "positive")
    padding: Any = draw.setting("padding", 0, 2, "non_negative")
    if draw.rng.random() < 0.15:
        padding, stride = "same", 1 if draw.rng.random() < 0.8 else stride
    dilation = draw.setting("dilation", 1, 3, "positive")
    problem.update(stride=stride, padding=padding, dilation=dilation)
    problem["bias"] = b = bias(draw, weight.shape[0])
    x = torch.tensor(np.asarray(problem["input"]), dtype=torch.float64).reshape(1, c, h, w)

    def run() -> torch.Tensor:
        tb = None if b is None else torch.tensor(b, dtype=torch.float64)
        pad = keras_same(x.shape, (kh, kw), stride, dilation) if padding == "same" else None
        padded = x if pad is None else pad(x)
        w = torch.tensor(weight, dtype=torch.float64)
        return F.conv2d(padded, w, tb, stride, padding if pad is None else 0, dilation, groups)[0]

    return Single(problem, run)


def draw_transposed(draw: Draw) -> Single:
    c, h, w = draw.int(1, 4), draw.int(1, 5), draw.int(1, 5)
    groups = draw.groups("groups", c)
    kh, kw = draw.int(1, 3), draw.int(1, 3)
    problem: dict[str, Any] = {"type": "conv_transpose2d", "input": image(draw, c, h, w), "groups": groups}
    if draw.rng.random() < 0.3:  # one kernel per input channel: C_out/groups = 1
        kernel = draw.rng.integers(-2, 3, size=(kh, kw))
        problem["kernel"] = kernel.tolist()
        weight = np.broadcast_to(kernel, (c, 1, kh, kw))
    else:  # (C_in, C_out/groups, kh, kw), now and then for another number of input channels
        rows = c + (int(draw.rng.choice([-1, 1])) if draw.rng.random() < 0.1 else 0)
        weight = draw.rng.integers(-2, 3, size=(max(rows, 1), draw.int(1, 3), kh, kw))
        problem["filters"] = weight.tolist()
    stride, dilation = draw.setting("stride", 1, 3, "positive"), draw.setting("dilation", 1, 2, "positive")
    settings = {
        "stride": stride,
        "padding": draw.setting("padding", 0, 2, "non_negative"),
        "output_padding": draw.setting("output_padding", 0, output_padding_top(draw, stride, dilation), "non_negative"),
        "dilation": dilation,
    }
    problem.update(settings)
    problem["bias"] = b = bias(draw, weight.shape[1] * max(groups, 1))
    x = torch.tensor(np.asarray(problem["input"]), dtype=torch.float64).reshape(1, c, h, w)

    def run() -> torch.Tensor:
        tb = None if b is None else torch.tensor(b, dtype=torch.float64)
        return F.conv_transpose2d(
            x, torch.tensor(weight, dtype=torch.float64), tb, settings["stride"], settings["padding"],
            settings["output_padding"], groups, settings["dilation"],
        )[0]  # fmt: skip

    return Single(problem, run)


def draw_pool2d(draw: Draw) -> Single:
    c, h, w = draw.int(1, 3), draw.int(1, 8), draw.int(1, 8)
    layer = draw_pool(draw)
    problem = {"type": "pool2d", "input": image(draw, c, h, w), **{k: v for k, v in layer.items() if k != "kind"}}
    x = torch.tensor(np.asarray(problem["input"]), dtype=torch.float64).reshape(1, c, h, w)

    def run() -> torch.Tensor:
        return torch_layer(layer, x.shape[1:])(x)[0]

    return Single(problem, run)


DRAWS = {"conv2d": draw_conv2d, "conv_transpose2d": draw_transposed, "pool2d": draw_pool2d}


# 10 chunks of 1,000 seeded random problems of each type (30,000): images of 1–4 channels, kernels
# or filters, bias (now and then of the wrong count), every setting of the layer.
@pytest.mark.parametrize("chunk", range(CHUNKS))
@pytest.mark.parametrize("kind", sorted(DRAWS))
def test_single_layer_problems_are_refused_exactly_when_torch_refuses(kind: str, chunk: int) -> None:
    """A problem torch refuses (or answers with ±inf: a pooling window over padding only, no
    homework answer) is refused, naming a setting; one torch takes solves to its output exactly."""
    refused = 0
    for index in range(PROBLEMS):
        draw = Draw(np.random.default_rng((SEED, 2, chunk, index, len(kind))))
        single = DRAWS[kind](draw)
        try:
            with torch.no_grad():
                expected: torch.Tensor | None = single.run()
        except (RuntimeError, ValueError, TypeError):
            expected = None
        if expected is not None and (0 in expected.shape or not torch.isfinite(expected).all()):
            expected = None
        named = load(written(single.problem, "output"))
        if expected is None:
            refused += 1
            assert isinstance(named, str), f"torch refuses it, we take it: {single.problem}"
            weights = ("input", "filters", "bias") + (("kernel",) if kind != "pool2d" else ())  # a matrix, no setting
            settings = {k: v for k, v in single.problem.items() if k not in weights}
            assert_names_the_setting(named, settings, single.problem)
            continue
        assert not isinstance(named, str), f"torch takes it, we refuse {named!r}: {single.problem}"
        quantities = named.problems[0].quantities
        out = np.asarray(quantities["output"].value).reshape(expected.shape)
        np.testing.assert_allclose(out, expected.numpy(), rtol=1e-12, atol=1e-12)
        assert quantities["shape"].value == tuple(expected.shape)
    assert 0.1 * PROBLEMS < refused < 0.9 * PROBLEMS, "the draws should mix valid and invalid problems"


# --- randomized sets: a draw torch refuses is drawn again, never served ---------------------------


#: A network whose draws torch refuses often: dilation 0, negative padding, kernels too large for the
#: input, groups that do not split the channels, output padding up to the stride, pooling padding past
#: half the kernel, average pooling with a dilation.
RISKY = {
    "type": "network",
    "input": [3, 9, 9],
    "input_layout": "CHW",
    "layers": [  # every setting written out: the torch modules take them as they are
        {
            "kind": "conv",
            "name": "conv",
            "out_channels": 6,
            "kernel": 3,
            "stride": 1,
            "padding": 1,
            "dilation": 1,
            "groups": 1,
            "bias": True,
        },
        {
            "kind": "conv_transpose",
            "name": "up",
            "out_channels": 4,
            "kernel": 3,
            "stride": 2,
            "padding": 1,
            "output_padding": 0,
            "dilation": 1,
            "groups": 1,
            "bias": False,
        },
        {
            "kind": "pool",
            "name": "pool",
            "mode": "max",
            "kernel": 2,
            "padding": 0,
            "dilation": 1,
            "ceil_mode": False,
            "count_include_pad": True,
        },
    ],
    "vary": {
        "input.1": {"int": [2, 12]},
        "input.2": {"same_as": "input.1"},
        "layers.0.kernel": {"int": [0, 7]},
        "layers.0.padding": {"int": [-1, 2]},
        "layers.0.dilation": {"choice": [0, 1, 2]},
        "layers.0.groups": {"choice": [1, 2, 3]},
        "layers.1.output_padding": {"int": [-1, 2]},
        "layers.2.mode": {"choice": ["max", "avg"]},
        "layers.2.padding": {"int": [0, 2]},
        "layers.2.dilation": {"choice": [1, 2]},
    },
}


def test_a_randomized_set_serves_only_variants_torch_accepts(tmp_path: Path) -> None:
    """Most draws of RISKY are refused by torch; every variant served (300 students) is one torch
    takes, with torch's shapes, parameters and MACs, and students get many different ones."""
    path = tmp_path / "case.yaml"
    entry = {"id": "q1", "title": "T", **RISKY, "parts": [{"key": "a", "quantity": "output"}]}
    path.write_text(json.dumps({"id": "risky", "title": "risky", "randomized": True, "problems": [entry]}))
    problem_set = load_set(path)
    served = set()
    for student in range(300):
        problem = problem_set.variant(f"student-{student}").problems[0]
        spec = problem.spec
        assert isinstance(spec, NetworkProblem)
        shape = spec.input_chw()
        measured, first_refused = torch_chain(shape, problem.params["layers"])
        assert first_refused is None, f"served a variant torch refuses: {problem.params}"
        assert [Measured(r.shape, r.params, r.macs) for r in spec.network().records] == measured
        served.add(json.dumps(problem.params, sort_keys=True))
    assert len(served) > 200
    # the draws torch refuses are common: the redraw is what keeps them away
    rng = np.random.default_rng(SEED)
    draws = [draw_params(RISKY, problem_set.problems[0].vary, rng) for _ in range(300)]
    refused = sum(torch_chain(tuple(d["input"]), d["layers"])[1] is not None for d in draws)
    assert refused > 150
