"""What crosses the wall, read on the trusted side: plain arrays only, never a pickle, always within
the budget; and the seccomp programs' shape. No sandbox needed."""

from __future__ import annotations

import json
import os
import pickle
import struct
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


def framed(header: object, data: bytes = b"") -> bytes:
    """An array payload as :func:`sandbox.wire.encode_array` frames one, with any header."""
    encoded = json.dumps(header).encode()
    return struct.pack(">I", len(encoded)) + encoded + data


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
        np.arange(24.0).reshape(2, 3, 4)[:, ::2, 1:],
        np.arange(4, dtype=">i4"),
        np.array(7, dtype=np.uint8),
    ],
)
def test_plain_arrays_come_through_as_they_were(array: np.ndarray) -> None:
    back = wire.read_array(wire.encode_array(array))
    assert back.dtype == np.asarray(array).dtype
    np.testing.assert_array_equal(back, array)


def test_a_pickled_array_is_refused_unread(tmp_path: Path) -> None:
    marker = tmp_path / "unpickled"
    pickled = pickle.dumps(np.array([Planted(marker)], dtype=object))
    with pytest.raises(wire.WireError, match=r"dtype '\|O' is refused"):
        wire.read_array(framed({"dtype": "|O", "shape": [1], "fortran": False}, pickled))
    assert not marker.exists()


def test_a_bare_pickle_is_refused_unread(tmp_path: Path) -> None:
    marker = tmp_path / "unpickled"
    with pytest.raises(wire.WireError, match="not a plain array's"):
        wire.read_array(pickle.dumps(Planted(marker)))
    assert not marker.exists()


@pytest.mark.parametrize("dtype", ["[('name', '<U1'), ('n', '<i4')]", "<U4", "|S5", "<M8[s]", "<f8 ", "f8", "O"])
def test_arrays_that_are_not_numbers_are_refused(dtype: str) -> None:
    with pytest.raises(wire.WireError, match="refused"):
        wire.read_array(framed({"dtype": dtype, "shape": [1], "fortran": False}, b"x" * 8))


@pytest.mark.parametrize(
    "header",
    [
        {"dtype": "<f8", "shape": [1], "fortran": False, "more": 1},
        {"dtype": "<f8", "shape": [1.0], "fortran": False},
        {"dtype": "<f8", "shape": [True], "fortran": False},
        {"dtype": "<f8", "shape": [-1], "fortran": False},
        {"dtype": "<f8", "shape": [1] * 33, "fortran": False},
        {"dtype": "<f8", "shape": [1], "fortran": "no"},
        [1, 2],
    ],
)
def test_a_header_that_is_not_a_plain_arrays_is_refused(header: object) -> None:
    with pytest.raises(wire.WireError, match="not a plain array's"):
        wire.read_array(framed(header, b"x" * 8))


def test_a_header_that_lies_about_its_size_is_refused() -> None:
    honest = wire.encode_array(np.zeros(1000))
    lying = honest.replace(b"[1000]", b"[9999]")
    with pytest.raises(wire.WireError, match="does not match its size"):
        wire.read_array(lying)
    with pytest.raises(wire.WireError, match="does not match its size"):
        wire.read_array(honest[:-8])
    with pytest.raises(wire.WireError, match="not a plain array's"):
        wire.read_array(honest[:10])  # (cut inside its header)
    with pytest.raises(wire.WireError, match="not a plain array's"):
        wire.read_array(struct.pack(">I", 1 << 30) + honest[4:])  # (a header longer than any)


def test_a_header_is_read_once_per_text_and_a_refusal_every_time() -> None:
    """Headers are remembered by their text (a homework's fifty arrays have a dozen): the same dtype
    and shape is read from the memo, with its own bytes; a refused header is refused again."""
    first, second = np.arange(6.0).reshape(2, 3), np.arange(6.0, 12.0).reshape(2, 3)
    wire.read_array(wire.encode_array(first))
    hits = wire._array_header.cache_info().hits
    back = wire.read_array(wire.encode_array(second))
    assert wire._array_header.cache_info().hits == hits + 1
    assert back.tolist() == second.tolist() and back.flags.writeable
    pickled = framed({"dtype": "|O", "shape": [1], "fortran": False}, b"x" * 8)
    for _ in range(2):
        with pytest.raises(wire.WireError, match="refused"):
            wire.read_array(pickled)


def test_a_frame_over_the_budget_is_refused_before_it_is_read() -> None:
    read_end, write_end = os.pipe()
    try:
        wire.write_frame(write_end, b"x" * 100)
        with pytest.raises(wire.TooLarge):
            wire.Frames(read_end).frame(99)
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
