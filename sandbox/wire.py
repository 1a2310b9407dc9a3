"""What crosses the sandbox's wall: length-prefixed frames of JSON or of one ``.npy`` array.

Nothing is ever unpickled: an array is read by :func:`read_array` only once its header says it is
a plain numeric array whose size is the frame's size (``allow_pickle=False`` besides), so an object
array, a pickle dressed as an array or a header that lies about its size is refused before any
byte of it is interpreted. Every read is capped by the caller's budget.
"""

from __future__ import annotations

import io
import json
import math
import os
import select
import struct
import time
from typing import Any

import numpy as np

_LENGTH = struct.Struct(">I")
MAX_JSON = 1 << 20
NUMERIC_KINDS = frozenset("biufc")


class WireError(ValueError):
    """A frame or an array that breaks the format (said in a sentence)."""


class TooLarge(WireError):
    """A frame beyond the budget left."""


def write_frame(fd: int, payload: bytes) -> None:
    write_all(fd, _LENGTH.pack(len(payload)) + payload)


def write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


class Deadline(TimeoutError):
    """The other side did not finish a frame in time."""


def read_exact(fd: int, size: int, deadline: float | None = None) -> bytes:
    """``size`` bytes from ``fd`` by ``deadline`` (``time.monotonic()``; Deadline after it);
    EOFError if the other side closed first."""
    chunks = bytearray()
    poller = select.poll()
    poller.register(fd, select.POLLIN)
    while len(chunks) < size:
        if deadline is not None:
            left = deadline - time.monotonic()
            if left <= 0 or not poller.poll(left * 1000):
                raise Deadline("no answer in time")
        chunk = os.read(fd, min(size - len(chunks), 1 << 20))
        if not chunk:
            raise EOFError("the other side of the pipe closed")
        chunks += chunk
    return bytes(chunks)


def read_frame(fd: int, budget: int, deadline: float | None = None) -> bytes:
    """One frame's payload, refused (:class:`TooLarge`) when longer than ``budget``."""
    (size,) = _LENGTH.unpack(read_exact(fd, _LENGTH.size, deadline))
    if size > budget:
        raise TooLarge(f"a frame of {size} bytes is over the {budget} bytes left")
    return read_exact(fd, size, deadline)


def encode_json(value: Any) -> bytes:
    return json.dumps(value, allow_nan=True, separators=(",", ":")).encode()


def decode_json(payload: bytes) -> Any:
    """A message's value (its size was capped by the frame's budget)."""
    try:
        return json.loads(payload)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise WireError(f"a message is not JSON: {error}") from None


def plain_array(value: Any) -> np.ndarray:
    """``value`` as an array of numbers or booleans, or WireError saying why it is not one."""
    try:
        array = np.asarray(value)
    except Exception as error:
        raise WireError(f"the value is not an array of numbers ({type(error).__name__})") from None
    if array.dtype.kind not in NUMERIC_KINDS:
        raise WireError(f"the value is not an array of numbers (its dtype is {array.dtype})")
    return array


def encode_array(value: Any) -> bytes:
    array = plain_array(value)
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=False)
    return buffer.getvalue()


def read_array(payload: bytes) -> np.ndarray:
    """The array in a ``.npy`` payload, refused unless it is plain numbers of exactly the payload's
    size. Its header is read once, then the data taken as it lies (a copy the caller owns)."""
    stream = io.BytesIO(payload)
    try:
        version = np.lib.format.read_magic(stream)
        if version == (1, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_1_0(stream)
        elif version == (2, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_2_0(stream)
        else:
            raise WireError(f"an array in .npy format {version} is refused")
    except WireError:
        raise
    except Exception as error:
        raise WireError(f"an output is not a plain .npy array ({error})") from None
    if dtype.hasobject or dtype.kind not in NUMERIC_KINDS or dtype.fields is not None:
        raise WireError(f"an output of dtype {dtype} is refused: only arrays of numbers cross the wall")
    expected = math.prod(shape) * dtype.itemsize
    if expected != len(payload) - stream.tell():
        raise WireError("an output's header does not match its size")
    data = np.frombuffer(payload, dtype=dtype, count=math.prod(shape), offset=stream.tell())
    return data.reshape(shape, order="F" if fortran else "C").copy(order="K")
