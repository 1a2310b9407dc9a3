"""Drivers in the sandbox: an instructor's code calling the student's module with CS231n's own
signatures (a ``conv_param`` dict, an ``(out, cache)`` return, the backward pass through the
student's own cache), the arrays a student printed read back, and the errors a student reads when
their code does not fit: their function, their line, what it returned; never the driver's text."""

from __future__ import annotations

import marshal

import numpy as np
import pytest

from harness.student_code import CS231N_CONV_LOOPS
from sandbox import Call, Sandbox, Status
from sandbox.drivers import DRIVER, read_arrays
from tests.sandbox.probes import probe

CS231N = CS231N_CONV_LOOPS

DRIVER_TEXT = """
out, cache = student.conv_forward_naive(x, w, b, {"stride": stride, "pad": pad})
dx, dw, db = student.conv_backward_naive(dout, cache)
return {"out": out, "dx": dx, "dw": dw, "db": db}
"""


def _call(driver: str, outputs: str, **bound: object) -> Call:
    return Call(DRIVER, (driver, outputs), dict(bound))  # type: ignore[arg-type]


def _inputs(rng: np.random.Generator) -> dict[str, object]:
    x, w, b = rng.normal(size=(2, 3, 5, 5)), rng.normal(size=(2, 3, 3, 3)), rng.normal(size=2)
    return {"x": x, "w": w, "b": b, "dout": rng.normal(size=(2, 2, 5, 5)), "stride": 1, "pad": 1}


def _oracle(source: str, driver: str, names: str, bound: dict[str, object]) -> tuple[np.ndarray, ...]:
    """The same driver on the same module, run here (test code, trusted): what the sandbox must return."""
    from sandbox import drivers

    module: dict[str, object] = {}
    exec(compile(source, "oracle.py", "exec"), module)
    import types

    loaded = types.ModuleType("oracle")
    loaded.__dict__.update(module)
    return drivers.run_driver(loaded, marshal.loads(drivers.compiled(driver)), names, **bound)


def test_cs231n_signatures_run_through_the_students_own_cache(sandbox: Sandbox) -> None:
    bound = _inputs(np.random.default_rng(5))
    [result] = sandbox.run(CS231N, [_call(DRIVER_TEXT, "out,dx,dw,db", **bound)])
    assert result.status is Status.OK, result.message
    expected = _oracle(CS231N, DRIVER_TEXT, "out,dx,dw,db", bound)
    assert len(result.outputs) == 4
    for got, want in zip(result.outputs, expected, strict=True):
        np.testing.assert_allclose(got, want)
    # and against an independent reference: the forward pass as torch computes it
    torch = pytest.importorskip("torch")
    x, w, b = (torch.tensor(bound[name]) for name in ("x", "w", "b"))
    reference = torch.nn.functional.conv2d(x, w, b, stride=1, padding=1).numpy()
    np.testing.assert_allclose(result.outputs[0], reference, rtol=1e-10)


def test_a_student_whose_return_does_not_fit_is_told_what_they_returned(sandbox: Sandbox) -> None:
    extra = CS231N.replace("    return out, cache", "    return out, cache, H_out")
    [result] = sandbox.run(extra, [_call(DRIVER_TEXT, "out,dx,dw,db", **_inputs(np.random.default_rng(1)))])
    assert result.status is Status.ERROR
    assert result.message.startswith(
        "`conv_forward_naive` returned a tuple (array 2×2×5×5, a tuple of 4, int 5), which the test could not use: "
        "ValueError: too many values to unpack (expected 2)"
    ), result.message
    assert "student." not in result.message and "conv_param" not in result.message  # no driver text


def test_a_cache_that_does_not_fit_is_found_at_the_students_own_line(sandbox: Sandbox) -> None:
    """Returning ``out`` alone unpacks along the batch (two images), so the error surfaces in the
    student's backward pass, at their line."""
    alone = CS231N.replace("    return out, cache", "    return out")
    [result] = sandbox.run(alone, [_call(DRIVER_TEXT, "out,dx,dw,db", **_inputs(np.random.default_rng(1)))])
    assert result.status is Status.ERROR
    line = alone.splitlines().index("    x, w, b, conv_param = cache") + 1
    assert result.message == (
        "calling `conv_backward_naive`: ValueError: not enough values to unpack (expected 4, got 2), at line "
        f"{line} of your code (`x, w, b, conv_param = cache`)"
    ), result.message


def test_an_error_in_the_students_code_names_their_line(sandbox: Sandbox) -> None:
    broken = CS231N.replace("    db = np.zeros_like(b)", "    db = dout.sum(axis=(0, 2, 3, 4))")
    line = broken.splitlines().index("    db = dout.sum(axis=(0, 2, 3, 4))") + 1
    [result] = sandbox.run(broken, [_call(DRIVER_TEXT, "out,dx,dw,db", **_inputs(np.random.default_rng(2)))])
    assert result.status is Status.ERROR
    assert result.message.startswith("calling `conv_backward_naive`: AxisError") or "axis 4" in result.message
    assert f"line {line} of your code (`db = dout.sum(axis=(0, 2, 3, 4))`)" in result.message, result.message


def test_a_missing_function_is_named_with_what_the_module_defines(sandbox: Sandbox) -> None:
    renamed = CS231N.replace("def conv_backward_naive", "def conv_backward")
    [result] = sandbox.run(renamed, [_call(DRIVER_TEXT, "out,dx,dw,db", **_inputs(np.random.default_rng(3)))])
    assert result.status is Status.ERROR
    assert (
        result.message == "your module has no `conv_backward_naive` (it defines `conv_backward`, `conv_forward_naive`)"
    )


def test_an_output_that_is_not_numbers_is_refused_by_name(sandbox: Sandbox) -> None:
    driver = 'out, cache = student.conv_forward_naive(x, w, b, {"stride": 1, "pad": 1})\nreturn {"out": cache}\n'
    [result] = sandbox.run(CS231N, [_call(driver, "out", **_inputs(np.random.default_rng(4)))])
    assert result.status is Status.ERROR
    assert result.message.startswith("`out` is a tuple (array 2×3×5×5, array 2×3×3×3, array 2, dict"), result.message


PRINTING = """
import numpy as np
x = np.array([[1.5, -2.0], [3.0, 4.25]])
print("the input:")
print(x)
def transposed(k):
    out = np.kron(x, k)
    print("step 1:", out.shape)
    print(repr(out))
    return None
"""


def test_what_the_student_printed_is_read_back_as_arrays(sandbox: Sandbox) -> None:
    driver = """
student.transposed(k)
found = read_arrays(printed())
return {"first": found[0], "last": found[-1]}
"""
    k = np.array([[1.0, 0.0], [0.0, 2.0]])
    [result] = sandbox.run(PRINTING, [_call(driver, "first,last", k=k)])
    assert result.status is Status.OK, result.message
    first, last = result.outputs
    np.testing.assert_array_equal(first, [[1.5, -2.0], [3.0, 4.25]])
    np.testing.assert_array_equal(last, np.kron(first, k))


@pytest.mark.parametrize(
    ("text", "arrays"),
    [
        ("[[1. 2.]\n [3. 4.]]", [[[1.0, 2.0], [3.0, 4.0]]]),
        ("out:\n[[ 1  2  3]\n [-4  5  6]]\nand then [0.5 1e-3]", [[[1, 2, 3], [-4, 5, 6]], [0.5, 0.001]]),
        ("array([[1, 2],\n       [3, 4]])", [[[1, 2], [3, 4]]]),
        ("tensor([[1., 2.],\n        [3., 4.]], dtype=torch.float64)", [[[1.0, 2.0], [3.0, 4.0]]]),
        ("[nan inf -inf]", [[np.nan, np.inf, -np.inf]]),
        ("see [the notes] then [1, 2, 3]", [[1, 2, 3]]),
    ],
)
def test_read_arrays_reads_numpy_torch_and_list_printouts(text: str, arrays: list[object]) -> None:
    found = read_arrays(text)
    assert len(found) == len(arrays)
    for got, want in zip(found, arrays, strict=True):
        np.testing.assert_array_equal(got, np.asarray(want))


def test_an_array_printed_in_summary_or_ragged_cannot_be_read() -> None:
    with pytest.raises(ValueError, match="summary"):
        read_arrays("[   0    1    2 ... 9997 9998 9999]")
    with pytest.raises(ValueError, match="rows of different lengths"):
        read_arrays("[[1, 2], [3]]")


def test_a_driver_is_walled_like_the_students_code(sandbox: Sandbox) -> None:
    """The driver is the instructor's, but runs in the student's walled process: what a driver
    (or a student's code it calls) tries is refused like a student's own attempt."""
    driver = """
import os, signal
seen = []
for what, attempt in (("kill", lambda: os.kill(2, signal.SIGKILL)), ("read", lambda: open("/etc/shadow").read())):
    try:
        attempt()
        seen.append(1.0)
    except OSError:
        seen.append(0.0)
return {"seen": seen}
"""
    worker = sandbox.worker_pid
    [result] = sandbox.run("x = 1\n", [_call(driver, "seen")])
    assert result.status is Status.OK, result.message
    assert result.outputs[0].tolist() == [0.0, 0.0]
    assert probe(sandbox, "def probe():\n    return report('alive')\n") == "alive"
    assert sandbox.worker_pid == worker
