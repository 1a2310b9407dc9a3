"""Printouts pasted from numpy, torch and Jupyter read as the value they print (``np.int64(528)``,
``tensor(51264, grad_fn=<SumBackward0>)``, ``array([13, 26, 52])``, ``Out[3]: 2432``), and a
framed LaTeX answer as what is in its frame (``\\boxed{131136}``); anything else in a printout's
clothes (a call, a name, an expression around it) is still refused."""

from __future__ import annotations

import time
from fractions import Fraction

import pytest

from grader.engine import grade_submission
from grader.reading import Read, Unreadable, read_answer
from grader.reading.printouts import printed_value
from grader.results import Status
from problems.kinds import AnswerKind
from problems.loader import load_bank

K = AnswerKind
BANK = load_bank()

#: Each printout, as a template of the value it prints.
NUMBER_PRINTOUTS = [
    "np.int64({})",
    "numpy.int32({})",
    "np.float64({})",
    "np.float32({})",
    "tensor({})",
    "torch.tensor({})",
    "tensor({}, grad_fn=<SumBackward0>)",
    "tensor({}, device='cuda:0', grad_fn=<AddBackward0>)",
    "tensor({}, dtype=torch.float64, requires_grad=True)",
    "Out[3]: {}",
    "Out[12]: np.int64({})",
    "\\boxed{{{}}}",
    "$\\boxed{{{}}}$",
    "(5 \\cdot 5 \\cdot 3 + 1) \\cdot 32 = \\boxed{{{}}}",
]
#: Values as each library prints them: a whole number, a float with a point, in scientific notation.
VALUES = [("2432", Fraction(2432)), ("2432.", Fraction(2432)), ("2.4320e+03", Fraction(2432))]
NUMBER_CASES = [(template.format(text), value) for template in NUMBER_PRINTOUTS for text, value in VALUES]


@pytest.mark.parametrize(("raw", "value"), NUMBER_CASES, ids=[raw for raw, _ in NUMBER_CASES])
def test_a_printed_number_is_read_as_its_value(raw: str, value: Fraction) -> None:
    result = read_answer(raw, K.REAL)
    assert isinstance(result, Read) and result.value.value == value, result


@pytest.mark.parametrize(
    ("raw", "value"), [("np.float64(4.59375)", Fraction(147, 32)), ("np.float64(0.952)", Fraction(119, 125))]
)
def test_a_printed_decimal_keeps_its_digits(raw: str, value: Fraction) -> None:
    result = read_answer(raw, K.REAL)
    assert isinstance(result, Read) and result.value.value == value, result


LISTS = ["array([13, 26, 52])", "array([13, 26, 52], dtype=int64)", "tensor([13, 26, 52])", "Out[3]: [13, 26, 52]"]
LISTS += ["np.array([13, 26, 52])", "Out[4]: array([13, 26, 52])"]


@pytest.mark.parametrize("raw", LISTS)
def test_a_printed_list_is_read_as_its_items(raw: str) -> None:
    assert read_answer(raw, K.INTEGER_LIST) == Read((13, 26, 52), "13, 26, 52")


MATRICES = [
    "tensor([[1., 0.],\n        [0., 1.]], grad_fn=<ConvolutionBackward0>)",
    "tensor([[1., 0.], [0., 1.]], dtype=torch.float64)",
    "Out[3]: array([[1, 0], [0, 1]])",
    "array([[1., 0.],\n       [0., 1.]], dtype=float32)",
]


@pytest.mark.parametrize("raw", MATRICES)
def test_a_printed_matrix_is_read_as_its_elements(raw: str) -> None:
    result = read_answer(raw, K.MATRIX)
    assert isinstance(result, Read) and result.value.tolist() == [[1, 0], [0, 1]], result


@pytest.mark.parametrize("filler", [" ", "\n", " ,", ", grad_fn=<A>"])
def test_a_long_text_like_a_printout_costs_linear_work(filler: str) -> None:
    """A printout's regular expressions bound the space they skip: 19,000 characters of it took
    seven seconds when they did not."""
    for wrapper in ("tensor({}x)", "array({}x)", "np.int64({}x)", "Out[3]: {}"):
        text = wrapper.format(filler * (19_000 // len(filler)))
        started = time.perf_counter()
        printed_value(text)
        assert time.perf_counter() - started < 1.0, (wrapper, filler)


NOT_PRINTOUTS = [
    ("np.sum(x)", "np"),
    ("tensor(x)", "“x” is not a number"),
    ("np.int64(528) + 1", "np"),
    ("model.count_params()", "model"),
    ("Out[3]:", "no number"),
    ("tensor(51264, foo=1)", "giving foo a value"),
    ("\\boxed{2432} + 1", ""),
]


@pytest.mark.parametrize(("raw", "reason"), NOT_PRINTOUTS, ids=[raw for raw, _ in NOT_PRINTOUTS])
def test_what_is_not_a_printout_of_a_value_is_not_taken_for_one(raw: str, reason: str) -> None:
    result = read_answer(raw, K.INTEGER)
    if raw.startswith("\\boxed"):  # arithmetic after the frame: read as the arithmetic it is
        assert isinstance(result, Read) and result.value.value == 2433, result
        return
    assert isinstance(result, Unreadable) and reason in result.reason, result


def test_only_the_printouts_wrapping_is_taken_off() -> None:
    assert printed_value("max(3, 4)") == "max(3, 4)"
    assert printed_value("np.int64(528)") == "528"
    assert printed_value("Out[3]: 2432 parameters") == "2432 parameters"


# -- graded: c3d.params is 226,560 ------------------------------------------------------------------

GRADED = [
    ("np.int64(226560)", Status.CORRECT),
    ("tensor(226560)", Status.CORRECT),
    ("Out[5]: 226560", Status.CORRECT),
    ("\\boxed{226560}", Status.CORRECT),
    ("np.int64(226561)", Status.INCORRECT),
    ("tensor(226560.5000, grad_fn=<SumBackward0>)", Status.INCORRECT),
]


@pytest.mark.parametrize(("answer", "status"), GRADED, ids=[answer for answer, _ in GRADED])
def test_a_printout_is_graded_as_its_value(answer: str, status: Status) -> None:
    part = grade_submission(BANK["classic-exam"], {"c3d.params": answer}).parts["c3d.params"]
    assert part.status is status, (answer, part.feedback)
