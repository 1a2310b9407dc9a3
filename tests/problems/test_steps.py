"""Worked steps: every part of every built-in set explains itself on many variants, ending on its
reference; the formulas in the steps are the arithmetic the solvers ran (read back by the
grader's reader, they give the step's value); and the wording of a few steps per quantity."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from grader.reading import Read, read_answer
from problems.kinds import AnswerKind
from problems.loader import BUILT_IN, load_bank
from problems.render import to_json
from problems.solutions import solutions, step_issues
from problems.solvers import counts, sizes
from problems.solvers.steps import Derivations, Trace, render
from problems.types.convolution import Conv2dProblem
from problems.types.detection import YoloProblem
from problems.types.network import NetworkProblem
from problems.types.pooling import PoolProblem

BANK = load_bank(BUILT_IN)
SEEDS = [f"steps-{i}" for i in range(12)]


@pytest.mark.parametrize("set_id", sorted(BANK))
def test_every_part_of_every_variant_ends_on_its_reference(set_id: str) -> None:
    problem_set = BANK[set_id]
    for student in (None, *SEEDS) if problem_set.randomized else (None,):
        answers = problem_set.solve(student)
        found = solutions(problem_set, student)
        assert set(found) == set(answers)
        for key, answer in answers.items():
            assert found[key], key
            assert found[key][-1].value == to_json(answer.kind, answer.value), (key, student)
            assert all(step.text for step in found[key])
        assert step_issues(problem_set, student) == {}


@pytest.mark.parametrize("set_id", sorted(BANK))
def test_every_quantity_a_problem_computes_has_steps(set_id: str) -> None:
    """Not only the quantities parts ask for: a new quantity without steps fails here."""
    for problem in BANK[set_id].problems:
        steps = Derivations()
        quantities = problem.spec.solve(steps=steps)
        missing = sorted(set(quantities) - set(steps))
        assert not missing, f"{problem.id}: no steps for {missing[:5]}"
        for name, quantity in quantities.items():
            assert steps[name][-1].value == to_json(quantity.kind, quantity.value), (problem.id, name)


def _read(text: str) -> Fraction:
    found = read_answer(text, AnswerKind.INTEGER, (), None)
    assert isinstance(found, Read), text
    return found.value.value


sides = st.integers(1, 300)
windows = st.integers(1, 9)


@given(n=sides, k=windows, s=st.integers(1, 5), p=st.integers(0, 4), d=st.integers(1, 3))
def test_a_size_step_is_the_arithmetic_the_solver_ran(n: int, k: int, s: int, p: int, d: int) -> None:
    """The formula with the numbers, read back as a student's working, is the solver's value."""
    try:
        plain = sizes.conv_out(n, k, s, p, d)
    except sizes.SizeError:
        return
    trace = Trace()
    assert sizes.conv_out_steps(trace, "H", n, k, s, p, d) == plain
    (step,) = trace.steps
    numbers = step.text.split(" = ")[-2] if step.text.count(" = ") >= 2 else str(plain)
    assert _read(numbers) == plain
    assert step.value == plain


@given(c_in=st.integers(1, 512), c_out=st.integers(1, 512), k=windows, bias=st.booleans())
def test_a_count_step_is_the_arithmetic_the_solver_ran(c_in: int, c_out: int, k: int, bias: bool) -> None:
    trace = Trace()
    found = counts.conv_params(
        trace.given("C_in", c_in), trace.given("C_out", c_out), trace.given("K", k), k, bias=bias
    )
    assert int(found) == counts.conv_params(c_in, c_out, k, k, bias=bias)
    assert _read(render(found, numbers=True)) == int(found)


def test_a_trace_that_records_nothing_hands_back_plain_integers() -> None:
    trace = Trace(record=False)
    value = sizes.conv_out(trace.given("H", 128), trace.given("K", 3), trace.given("S", 2))
    assert type(value) is int and value == 63
    assert trace.steps == []


# Golden wording: a size, a parameter count, MACs, a receptive field, a YOLO depth, entries.
def test_wording_of_a_size() -> None:
    trace = Trace()
    sizes.conv_out_steps(trace, "H", 224, 7, 2, 3)
    assert (
        trace.steps[0].text == "H_out = ⌊(H + P + P − (K − 1) − 1)/S⌋ + 1 = ⌊(224 + 3 + 3 − (7 − 1) − 1)/2⌋ + 1 = 112"
    )
    assert trace.steps[0].tex == (
        r"H_{out} = \left\lfloor \frac{H + P + P - (K - 1) - 1}{S} \right\rfloor + 1 = "
        r"\left\lfloor \frac{224 + 3 + 3 - (7 - 1) - 1}{2} \right\rfloor + 1 = 112"
    )


def test_wording_of_a_ceil_mode_pool_and_a_transposed_size() -> None:
    trace = Trace()
    sizes.pool_out_steps(trace, "W", 5, 2, 2, ceil_mode=True)
    sizes.transposed_out_steps(trace, "H", 4, 3, 2, 1, 1)
    assert [s.text for s in trace.steps] == [
        "W_out = ⌊(W − (K − 1) − 1 + S − 1)/S⌋ + 1 = ⌊(5 − (2 − 1) − 1 + 2 − 1)/2⌋ + 1 = 3",
        "H_out = (H − 1)·S − 2·P + K − 1 + P_out + 1 = (4 − 1)·2 − 2·1 + 3 − 1 + 1 + 1 = 8",
    ]


NETWORK = NetworkProblem.model_validate(
    {
        "type": "network",
        "input": [32, 32, 3],
        "layers": [
            {"kind": "conv", "name": "conv1", "out_channels": 16, "kernel": 3, "padding": 1},
            {"kind": "pool", "name": "pool1", "kernel": 2},
            {"kind": "conv", "name": "conv2", "out_channels": 32, "kernel": 3, "stride": 2, "bias": False},
        ],
    }
)


def _network_steps() -> Derivations:
    steps = Derivations()
    NETWORK.solve(steps=steps)
    return steps


def test_wording_of_a_layer_s_parameters_and_macs() -> None:
    steps = _network_steps()
    assert [s.text for s in steps["params.conv1"]] == ["parameters = C_out·C_in·K·K + C_out = 16·3·3·3 + 16 = 448"]
    assert [s.text for s in steps["params.conv2"]] == ["parameters = C_out·C_in·K·K = 32·16·3·3 = 4,608"]
    assert steps["macs.conv2"][-1].text == "MACs = H_out·W_out·C_out·C_in·K·K = 7·7·32·16·3·3 = 225,792"
    assert steps["flops.conv2"][-1].text == "FLOPs = 2·MACs = 2·225792 = 451,584"
    total = steps["params.total"]
    assert total[-1].text == "parameters of total: 448 + 4,608 = 5,056" and total[-1].value == 5056


def test_wording_of_a_network_shape_layer_by_layer() -> None:
    texts = [s.text for s in _network_steps()["shape.conv2"]]
    assert texts[0] == "The input is 3×32×32 (C×H×W)."
    assert texts[1].startswith("conv1: 3×32×32 → 16×32×32: H_out = ")
    assert texts[2].startswith("pool1: 16×32×32 → 16×16×16: H_out = ⌊(H − (K − 1) − 1)/S⌋ + 1")
    assert texts[3] == "conv2: H_out = ⌊(H − (K − 1) − 1)/S⌋ + 1 = ⌊(16 − (3 − 1) − 1)/2⌋ + 1 = 7"
    assert texts[-1] == "conv2 gives 32×7×7 (C×H×W)"


def test_wording_of_a_receptive_field() -> None:
    steps = _network_steps()["rf.conv2"]
    assert [s.text for s in steps] == [
        "At the input a pixel sees itself: field 1, jump 1.",
        "conv1: r = r_in + (k − 1)·j_in = 1 + (3 − 1)·1 = 3; j = j_in·s = 1·1 = 1 (field 3, jump 1)",
        "pool1: r = r_in + (k − 1)·j_in = 3 + (2 − 1)·1 = 4; j = j_in·s = 1·2 = 2 (field 4, jump 2)",
        "conv2: r = r_in + (k − 1)·j_in = 4 + (3 − 1)·2 = 8; j = j_in·s = 2·2 = 4 (field 8, jump 4)",
    ]
    assert steps[-1].value == 8


def test_wording_of_a_yolo_depth() -> None:
    steps = Derivations()
    YoloProblem(version="v3", classes=80).solve(steps=steps)
    assert [s.text for s in steps["depth"]] == ["depth per cell = A·(5 + C) = 3·(5 + 80) = 255"]
    assert steps["grid.3"][-1].text == "S_3 = ⌊I/8⌋ = ⌊416/8⌋ = 52"
    assert steps["boxes"][-1].value == 10647


def test_wording_of_convolution_entries_and_the_rule_for_the_rest() -> None:
    steps = Derivations()
    problem = Conv2dProblem(input=[[1, 2, 0], [0, 1, 3], [4, 0, 1]], kernel=[[1, 0], [0, -1]], padding=0)
    output = problem.solve(steps=steps)["output"].value
    texts = [s.text for s in steps["output"]]
    assert texts[2] == f"out[1][1] = 1·1 + 2·0 + 0·0 + 1·(-1) = {int(output[0][0])}"
    assert texts[3] == f"out[1][2] = 2·1 + 0·0 + 1·0 + 3·(-1) = {int(output[0][1])}"
    assert texts[-1].startswith("Every other entry likewise, the window moved 1 pixel(s) at a time")
    assert steps["output"][-1].value == [[0, -1], [0, 0]]


def test_wording_of_pooled_entries() -> None:
    steps = Derivations()
    PoolProblem(input=[[1, 3, 2, 0], [4, 2, 1, 1], [0, 1, 5, 6], [2, 2, 7, 8]], mode="avg", kernel=2).solve(steps)
    assert steps["max"][2].text == "out[1][1] = max(1, 3, 4, 2) = 4"
    assert steps["avg"][2].text == "out[1][1] = (1 + 3 + 4 + 2)/4 = 2.5"
    assert steps["output"] == steps["avg"]


def test_a_mistake_s_steps_part_from_the_reference_where_it_goes_wrong() -> None:
    from problems.solvers.steps import MistakenSteps

    mistaken = MistakenSteps()
    NETWORK.mistakes(steps=mistaken)
    right = _network_steps()["shape.conv1"]
    wrong = mistaken["missing-plus-one"]["shape.conv1"]
    assert right[0] == wrong[0]  # the input: the same
    assert "+ 1" in right[1].text and "+ 1" not in wrong[1].text.split(" = ")[1]


def test_a_rounded_up_size_reads_as_a_ceiling_and_a_crop_as_a_negative_number() -> None:
    trace = Trace()
    sizes.conv_out_steps(trace, "H", 128, 3, 2, rule="ceil")
    assert trace.steps[0].text == "H_out = ⌈(H − (K − 1) − 1)/S⌉ + 1 = ⌈(128 − (3 − 1) − 1)/2⌉ + 1 = 64"
    crop = Trace()
    crop.equation("H_out", crop.given("H", 10) + crop.given("P_top", -2))
    assert crop.steps[0].text == "H_out = H + P_top = 10 + (−2) = 8"
    assert _read(render(crop.given("H", 10) + crop.given("P", -2), numbers=True).replace("−", "-")) == 8


def test_a_traced_value_leaves_as_a_plain_integer() -> None:
    import copy
    import pickle

    traced = Trace().given("K", 3) * 2
    assert traced == 6 and type(pickle.loads(pickle.dumps(traced))) is int and type(copy.copy(traced)) is int


def test_a_new_layer_without_steps_solves_but_fails_loudly_when_asked_for_steps() -> None:
    """The mechanism for the layers other branches add: without a trace they solve as before;
    asked for steps, a layer that takes no trace, or writes none, is refused, never skipped."""
    from typing import Literal

    from problems.solvers.assumptions import CORRECT, Assumptions
    from problems.solvers.layers import LayerBase, Shape
    from problems.solvers.network import run
    from problems.solvers.steps import NO_TRACE, MissingSteps

    class Crop(LayerBase):  # written before traces: no ``trace`` parameter
        kind: Literal["crop"] = "crop"

        def output_shape(self, shape: Shape, assume: Assumptions = CORRECT) -> Shape:  # type: ignore[override]
            return (shape[0], shape[1] - 2, shape[2] - 2)

    class Silent(Crop):  # takes a trace, writes nothing in it
        def output_shape(self, shape: Shape, assume: Assumptions = CORRECT, trace: Trace = NO_TRACE) -> Shape:
            return (shape[0], shape[1] - 2, shape[2] - 2)

    for layer in (Crop(), Silent()):
        assert run((3, 8, 8), [layer]).output_shape == (3, 6, 6)  # type: ignore[list-item]
    with pytest.raises(TypeError):
        run((3, 8, 8), [Crop()], working=True)  # type: ignore[list-item]
    with pytest.raises(MissingSteps):
        run((3, 8, 8), [Silent()], working=True)  # type: ignore[list-item]


def test_wording_of_round_three_measures() -> None:
    """Values, memory, TensorFlow's padding, batch norm's state and a fan-in, from the set of
    classic exam questions."""
    found = solutions(load_bank()["classic-exam"], None)
    assert found["alexnet.values"][-1].text == "values of conv1 = C·H·W = 96·55·55 = 290,400"
    assert found["alexnet.memory"][-1].text == "bytes in float32 = values·4 = 290400·4 = 1,161,600"
    assert [s.text for s in found["keras.bottom"]][-1] == "P_bottom = P_H − ⌊P_H/2⌋ = 1 − ⌊1/2⌋ = 1"
    assert found["keras.top"][-1].value == 0
    assert [s.text for s in found["batchnorm.state"]] == [
        "buffers = 2·C + 1 = 2·64 + 1 = 129",
        "state = parameters + buffers = 128 + 129 = 257",
    ]
    assert [s.text for s in found["unshared.fan_in"]] == ["fan-in = C_in·K·K = 1·3·3 = 9"]
