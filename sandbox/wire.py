"""What crosses the sandbox's wall: length-prefixed frames of JSON or of one array (a JSON header,
then the array's bytes).

Nothing is ever unpickled or evaluated: an array is read by :func:`read_array` only once its
header says it is a plain numeric array whose size is the frame's size, so an object array, a
pickle dressed as an array or a header that lies about its size is refused before any byte of it is
interpreted. Every read is capped by the caller's budget.
"""

from __future__ import annotations

import functools
import json
import math
import os
import re
import select
import socket
import stat
import struct
import time
from collections.abc import Sequence
from typing import Any, Literal

import numpy as np

_LENGTH = struct.Struct(">I")
MAX_JSON = 1 << 20
#: Bytes a control message may have (:func:`send_message`): a pid, a signal, a few seconds.
MAX_MESSAGE = 4096
NUMERIC_KINDS = frozenset("biufc")
#: The dtypes that cross the wall, as numpy writes them (``'<f8'``, ``'|b1'``, ``'<c16'``).
_NUMERIC_DTYPE = re.compile(r"[<>|][biufc][1-9][0-9]?")
#: Bytes an array's header may have (a shape of 32 sizes is well under).
MAX_ARRAY_HEADER = 1024


class WireError(ValueError):
    """A frame or an array that breaks the format (said in a sentence)."""


class TooLarge(WireError):
    """A frame beyond the budget left."""


def framed(payloads: Sequence[bytes]) -> bytes:
    """Payloads as the frames of one message (each after its length)."""
    return b"".join(part for payload in payloads for part in (_LENGTH.pack(len(payload)), payload))


def write_frames(fd: int, payloads: Sequence[bytes]) -> None:
    """One message (a JSON frame and the arrays that go with it) in one ``write``: its reader is
    woken once, not once a frame."""
    write_all(fd, framed(payloads))


def write_frame(fd: int, payload: bytes) -> None:
    write_frames(fd, (payload,))


def write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


class Deadline(TimeoutError):
    """The other side did not finish a frame in time."""


def write_all_by(fd: int, data: bytes, deadline: float) -> None:
    """``data`` written to ``fd`` (non-blocking) by ``deadline``: Deadline when the reader does not
    take it in time, BrokenPipeError when the reader is gone."""
    view = memoryview(data)
    poller = select.poll()
    poller.register(fd, select.POLLOUT)
    while view:
        try:
            view = view[os.write(fd, view) :]
            continue
        except BlockingIOError:
            pass
        left = deadline - time.monotonic()
        if left <= 0 or not poller.poll(left * 1000):
            raise Deadline("the request was not read in time")


def send_message(sock: socket.socket, value: Any, fds: Sequence[int] = ()) -> None:
    """One control message (a packet of a ``SOCK_SEQPACKET`` socket), with ``fds`` passed along."""
    data = encode_json(value)
    if fds:
        socket.send_fds(sock, [data], list(fds))
    else:
        sock.send(data)


def receive_message(sock: socket.socket, deadline: float | None = None, fds: int = 0) -> tuple[Any, list[int]]:
    """The next control message and the descriptors it passed (at most ``fds``, each a pipe, else
    WireError), by ``deadline`` (Deadline after it); None when the other side closed the socket."""
    if deadline is not None:
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([sock], [], [], left)[0]:
            raise Deadline("no message in time")
    # room for one descriptor more than allowed, so that one too many is seen and refused
    data, passed, flags, _ = socket.recv_fds(sock, MAX_MESSAGE, fds + 1)
    if flags & (socket.MSG_TRUNC | socket.MSG_CTRUNC) or len(passed) > fds:
        _close(passed)
        raise WireError("a control message is over its size")
    if not data:
        _close(passed)
        return None, []
    if not all(stat.S_ISFIFO(os.fstat(fd).st_mode) for fd in passed):
        _close(passed)
        raise WireError("a control message passed something other than a pipe")
    try:
        return decode_json(data), passed
    except WireError:
        _close(passed)
        raise


def _close(fds: Sequence[int]) -> None:
    for fd in fds:
        os.close(fd)


class Frames:
    """The frames arriving on ``fd``, read through a buffer: one ``read`` takes whatever has arrived
    (a request and its fifty arrays, a call's answer and its outputs), where reading each frame's
    length and payload apart took two ``poll`` and two ``read`` calls a frame. The buffer holds at
    most :data:`CHUNK` bytes beyond the frame being read, and a frame's length is checked against
    the caller's budget before its payload is read. One reader per descriptor for as long as it is
    read: bytes read ahead belong to the next frames."""

    CHUNK = 1 << 20

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self._buffer = bytearray()
        self._poller = select.poll()
        self._poller.register(fd, select.POLLIN)

    def frame(self, budget: int, deadline: float | None = None) -> bytes:
        """The next frame's payload by ``deadline`` (``time.monotonic()``; :class:`Deadline` after
        it), refused (:class:`TooLarge`) when longer than ``budget``; EOFError if the other side
        closed first."""
        self._fill(_LENGTH.size, deadline)
        (size,) = _LENGTH.unpack_from(self._buffer)
        if size > budget:
            raise TooLarge(f"a frame of {size} bytes is over the {budget} bytes left")
        end = _LENGTH.size + size
        self._fill(end, deadline)
        with memoryview(self._buffer) as view:
            payload = bytes(view[_LENGTH.size : end])
        del self._buffer[:end]
        return payload

    def _fill(self, size: int, deadline: float | None) -> None:
        while len(self._buffer) < size:
            if deadline is not None:
                left = deadline - time.monotonic()
                if left <= 0 or not self._poller.poll(left * 1000):
                    raise Deadline("no answer in time")
            chunk = os.read(self.fd, min(max(size - len(self._buffer), 1 << 16), self.CHUNK))
            if not chunk:
                raise EOFError("the other side of the pipe closed")
            self._buffer += chunk


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
    """An array as it crosses the wall: its header's length, its header (JSON: ``dtype``, ``shape``,
    ``fortran``), then its bytes as they lie in memory."""
    array = plain_array(value)
    fortran = bool(array.ndim > 1 and array.flags.f_contiguous and not array.flags.c_contiguous)
    header = encode_json({"dtype": array.dtype.str, "shape": array.shape, "fortran": fortran})
    return _LENGTH.pack(len(header)) + header + array.tobytes(order="F" if fortran else "C")


def read_array(payload: bytes) -> np.ndarray:
    """The array in a payload of :func:`encode_array`, refused unless its header is a plain numeric
    dtype and a shape whose size is exactly the payload's. The header is JSON, read as data (the
    ``.npy`` format's is a Python literal, which numpy evaluates with ``ast``: a tenth of a
    millisecond an array, about as long as the rest of a small call's round trip); the data is taken
    as it lies (a copy the caller owns)."""
    if len(payload) < _LENGTH.size:
        raise WireError("an array is shorter than its header")
    (size,) = _LENGTH.unpack_from(payload)
    start = _LENGTH.size + size
    if size > MAX_ARRAY_HEADER or start > len(payload):
        raise WireError("an array's header is not a plain array's")
    dtype, shape, count, order = _array_header(payload[_LENGTH.size : start])
    if count * dtype.itemsize != len(payload) - start:
        raise WireError("an array's header does not match its size")
    data = np.frombuffer(payload, dtype=dtype, count=count, offset=start)
    return data.reshape(shape, order=order).copy(order="K")


@functools.lru_cache(maxsize=512)
def _array_header(text: bytes) -> tuple[np.dtype[Any], tuple[int, ...], int, Literal["C", "F"]]:
    """An array's header, checked (a numeric dtype, a shape of at most 32 sizes, an order): its
    dtype, shape, number of elements and order. Remembered by its text (at most 512 of at most
    :data:`MAX_ARRAY_HEADER` bytes): a homework's fifty arrays have a dozen headers, and a class's
    outputs the same ones, so most are read once per process; a refusal is not remembered."""
    try:
        header = json.loads(text)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise WireError("an array's header is not a plain array's") from None
    if not isinstance(header, dict) or set(header) != {"dtype", "shape", "fortran"}:
        raise WireError("an array's header is not a plain array's")
    dtype, shape = header["dtype"], header["shape"]
    if not isinstance(dtype, str) or not _NUMERIC_DTYPE.fullmatch(dtype):
        raise WireError(f"an array of dtype {str(dtype)[:20]!r} is refused: only arrays of numbers cross the wall")
    if (
        not isinstance(shape, list)
        or len(shape) > 32
        or not all(type(side) is int and side >= 0 for side in shape)
        or not isinstance(header["fortran"], bool)
    ):
        raise WireError("an array's header is not a plain array's")
    return np.dtype(dtype), tuple(shape), math.prod(shape), "F" if header["fortran"] else "C"
