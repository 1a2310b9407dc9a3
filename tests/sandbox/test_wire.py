"""What crosses the wall, read on the trusted side: plain arrays only, never a pickle, always within
the budget; and the seccomp programs' shape. No sandbox needed."""

from __future__ import annotations

import io
import os
import pickle
from pathlib import Path

import numpy as np
import pytest

from sandbox import seccomp, wire


class Planted:
    """Unpickling it would create a file: the proof that a pickle was loaded."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __reduce__(self) -> tuple[object, tuple[str, str]]:
        return (open, (str(self.path), "w"))


def npy(array: np.ndarray, *, allow_pickle: bool = False) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=allow_pickle)
    return buffer.getvalue()


@pytest.mark.parametrize(
    "array",
    [
        np.array([[1.5, np.nan], [np.inf, -np.inf]]),
        np.arange(6, dtype=np.int16).reshape(2, 3),
        np.array([True, False]),
        np.array([1 + 2j], dtype=np.complex64),
        np.float32(3.5),
        np.zeros((0, 4)),
        np.asfortranarray(np.arange(6.0).reshape(2, 3)),
    ],
)
def test_plain_arrays_come_through_as_they_were(array: np.ndarray) -> None:
    back = wire.read_array(wire.encode_array(array))
    assert back.dtype == np.asarray(array).dtype
    np.testing.assert_array_equal(back, array)


def test_a_pickled_array_is_refused_unread(tmp_path: Path) -> None:
    marker = tmp_path / "unpickled"
    payload = npy(np.array([Planted(marker)], dtype=object), allow_pickle=True)
    with pytest.raises(wire.WireError, match="dtype object is refused"):
        wire.read_array(payload)
    assert not marker.exists()


def test_a_bare_pickle_is_refused_unread(tmp_path: Path) -> None:
    marker = tmp_path / "unpickled"
    with pytest.raises(wire.WireError, match=r"not a plain \.npy array"):
        wire.read_array(pickle.dumps(Planted(marker)))
    assert not marker.exists()


@pytest.mark.parametrize(
    "array",
    [np.array([("a", 1)], dtype=[("name", "U1"), ("n", "i4")]), np.array(["text"]), np.array([b"bytes"])],
)
def test_arrays_that_are_not_numbers_are_refused(array: np.ndarray) -> None:
    with pytest.raises(wire.WireError, match="refused"):
        wire.read_array(npy(array))


def test_a_header_that_lies_about_its_size_is_refused() -> None:
    honest = npy(np.zeros(1000))
    header_end = honest.index(b"\n") + 1
    lying = honest[:header_end].replace(b"(1000,)", b"(9999,)") + honest[header_end:]
    with pytest.raises(wire.WireError, match="does not match its size"):
        wire.read_array(lying)
    with pytest.raises(wire.WireError, match="does not match its size"):
        wire.read_array(honest[:-8])


def test_a_frame_over_the_budget_is_refused_before_it_is_read() -> None:
    read_end, write_end = os.pipe()
    try:
        wire.write_frame(write_end, b"x" * 100)
        with pytest.raises(wire.TooLarge):
            wire.read_frame(read_end, 99)
    finally:
        os.close(read_end)
        os.close(write_end)


def test_values_that_are_not_arrays_of_numbers_are_named() -> None:
    with pytest.raises(wire.WireError, match="not an array of numbers"):
        wire.encode_array({"a": 1})
    with pytest.raises(wire.WireError, match="not an array of numbers"):
        wire.encode_array([np.zeros(2), np.zeros(3)])  # ragged


@pytest.mark.parametrize("machine", ["x86_64", "aarch64"])
def test_the_filters_assemble_for_both_architectures(machine: str) -> None:
    for rules in (seccomp.walls_filter(), seccomp.signals_filter(12345)):
        program = seccomp.compile_filter(rules, machine)
        assert len(program) % 8 == 0 and 0 < len(program) // 8 < 4096


def test_the_signal_filter_compares_the_low_32_bits_of_a_pid() -> None:
    (kill, *_) = seccomp.signals_filter(7)
    assert kill.allowed == (7, 0, 0xFFFFFFF9)  # itself, its group as 0, its group as -7
