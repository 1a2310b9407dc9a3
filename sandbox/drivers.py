"""Drivers: an instructor's code that calls the student's module, run inside the sandbox beside it.

A code part of the instructor's own (any function, any signature, several calls, a cache handed
from a forward pass to a backward one) gives a ``driver``: the body of a function, in which
``student`` is the student's loaded module, every input and setting of the test is a name, ``np``
is numpy (and ``torch`` the runtime's torch), ``printed()`` is what the student's code has printed
so far and ``read_arrays(text)`` the arrays printed in a text. It ends with ``return {NAME:
value}``; only those values leave, each as a plain array (:func:`run_driver`, the probe
``@driver``). The driver is trusted no more than the student's code: it runs in the same walled
process, and the service judges what comes out. Its text never enters that process: the service
compiles it (:func:`compiled`) and hands over the code, with each test's inputs, as that test
starts; so no frame or object a student's function can reach holds the text (the code's names and
constants are there, as they must be for it to run).

When the student's code does not fit the driver, the error says what a student can act on: which
of their functions was called, the line of their own code that raised, what their function
returned; never the driver's text (its frames are not quoted) nor a test's inputs.
"""

from __future__ import annotations

import builtins
import functools
import io
import linecache
import marshal
import math
import re
import sys
import textwrap
import traceback
import types
from typing import Any

import numpy as np

#: The reserved name a call gives to run a driver (a probe: the module is handed in first).
DRIVER = "@driver"
#: The file name the student's module is compiled under (its frames are the student's lines).
SUBMISSION = "submission.py"
#: The file name a driver is compiled under (its frames are never quoted).
DRIVER_FILE = "<driver>"
#: Characters of a driver's text the sandbox compiles (a set's driver has at most 10,000).
MAX_DRIVER = 64 * 1024
#: What ``printed()`` keeps of the student's printing: its first 64 kB.
MAX_PRINTED = 64 * 1024
#: Arrays ``read_arrays`` reads from one text, and elements in all.
MAX_READ_ARRAYS = 256
MAX_READ_ELEMENTS = 1_000_000


class DriverError(Exception):
    """A test that could not be run to its end, in a sentence a student can act on."""


class Printed(io.TextIOBase):
    """``sys.stdout`` of a submission's process: keeps the first :data:`MAX_PRINTED` characters."""

    def __init__(self) -> None:
        super().__init__()
        self._parts: list[str] = []
        self._size = 0

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        if self._size < MAX_PRINTED:
            kept = str(text)[: MAX_PRINTED - self._size]
            self._parts.append(kept)
            self._size += len(kept)
        return len(text)

    def text(self) -> str:
        return "".join(self._parts)


_printed = Printed()


def capture(source: str) -> None:
    """Before the student's module runs: its printing is kept for ``printed()``, and its lines are
    known to tracebacks (so an error names the student's own line)."""
    global _printed
    _printed = Printed()
    sys.stdout = _printed
    lines = source.splitlines(keepends=True)
    linecache.cache[SUBMISSION] = (len(source), None, lines, SUBMISSION)


def printed() -> str:
    """What the student's code has printed so far, at import and in the calls (its first 64 kB)."""
    return _printed.text()


# --- reading printed arrays -------------------------------------------------------------------

_NUMBER = r"[-+]?(?:(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?|nan|inf)"
_TOKEN = re.compile(rf"\s*(?:(\[)|(\])|({_NUMBER})|(,)|(\.\.\.))", re.IGNORECASE)


def read_arrays(text: str) -> list[np.ndarray]:
    """The arrays printed in ``text``, in order: numpy's form (``[[1. 2.]\\n [3. 4.]]``), its
    ``repr`` (``array([[1, 2], [3, 4]])``), torch's (``tensor([...], dtype=...)``) and Python's
    lists. A bracketed block that is not numbers (prose in brackets) is passed over, as is the text
    between blocks; an array printed in summary (``...``) or ragged rows cannot be read: ValueError."""
    found: list[np.ndarray] = []
    elements = 0
    at = 0
    while (start := text.find("[", at)) >= 0 and len(found) < MAX_READ_ARRAYS:
        end = _closing(text, start)
        if end < 0:
            break
        block = text[start : end + 1]
        array = _block(block)
        at = end + 1
        if array is None:
            at = start + 1  # not an array: an inner block may still be one
            continue
        elements += array.size
        if elements > MAX_READ_ELEMENTS:
            raise ValueError(f"the text holds over {MAX_READ_ELEMENTS:,} printed numbers")
        found.append(array)
    return found


def _closing(text: str, start: int) -> int:
    depth = 0
    for index in range(start, len(text)):
        if text[index] == "[":
            depth += 1
        elif text[index] == "]":
            depth -= 1
            if depth == 0:
                return index
    return -1


def _block(block: str) -> np.ndarray | None:
    """One bracketed block as an array, or None when it holds anything but numbers."""
    stack: list[list[Any]] = [[]]
    at = 0
    while at < len(block):
        match = _TOKEN.match(block, at)
        if match is None:
            if block[at:].strip() == "":
                break
            return None
        opening, closing, number, _, ellipsis = match.groups()
        if ellipsis:
            raise ValueError("an array printed in summary (with `...`) cannot be read: print it whole")
        if opening:
            stack.append([])
        elif closing:
            if len(stack) < 2:
                return None
            done = stack.pop()
            stack[-1].append(done)
        elif number:
            stack[-1].append(float(number) if _is_real(number) else int(number))
        at = match.end()
    if len(stack) != 1 or len(stack[0]) != 1:
        return None
    try:
        array = np.array(stack[0][0])
    except ValueError:  # numbers in rows of different lengths: not read as anything
        raise ValueError(
            f"a printed list of rows of different lengths cannot be read as an array: {block[:60]}"
        ) from None
    if array.dtype == object or (array.size == 0 and not isinstance(stack[0][0], list)):
        return None
    return array


def _is_real(number: str) -> bool:
    return any(mark in number.lower() for mark in (".", "e", "nan", "inf"))


# --- running a driver ---------------------------------------------------------------------------


def describe(value: Any, depth: int = 0) -> str:
    """What a value is, as a student reads it: ``array 2×3×5×5``, ``a tuple (array 2×3, dict)``."""
    if isinstance(value, np.ndarray):
        return "array " + ("×".join(str(side) for side in value.shape) if value.shape else "(a scalar)")
    torch = sys.modules.get("torch")
    if torch is not None and isinstance(value, torch.Tensor):
        return "tensor " + ("×".join(str(side) for side in value.shape) if value.dim() else "(a scalar)")
    if value is None:
        return "None"
    if isinstance(value, bool | int | float | complex | np.generic):
        return f"{type(value).__name__} {value!r}"[:60]
    if isinstance(value, tuple | list):
        if depth > 0 or len(value) > 6:
            return f"a {type(value).__name__} of {len(value)}"
        inner = ", ".join(describe(item, depth + 1) for item in value)
        return f"a {type(value).__name__} ({inner})"
    return type(value).__name__


class _Student:
    """The student's module as the driver sees it: each function called is noted with what it
    returned, so that an error after it can say so."""

    def __init__(self, module: types.ModuleType) -> None:
        self._module = module
        self.last: tuple[str, Any] | None = None
        self.calling: str | None = None

    def __getattr__(self, name: str) -> Any:
        try:
            found = getattr(self._module, name)
        except AttributeError:
            defined = sorted(
                key
                for key, value in vars(self._module).items()
                if not key.startswith("_") and callable(value) and not isinstance(value, types.ModuleType)
            )
            listed = ", ".join(f"`{key}`" for key in defined[:12]) or "nothing callable"
            raise DriverError(f"your module has no `{name}` (it defines {listed})") from None
        if not callable(found) or isinstance(found, type):
            return found

        def called(*args: Any, **kwargs: Any) -> Any:
            self.calling = name
            returned = found(*args, **kwargs)
            self.calling, self.last = None, (name, returned)
            return returned

        return called


def _student_line(error: BaseException) -> str:
    """``line 12 of your code (`out[i] = ...`)`` for the innermost frame of the student's module."""
    found = ""
    for frame in traceback.extract_tb(error.__traceback__):
        if frame.filename == SUBMISSION:
            text = (frame.line or "").strip()
            shown = text if len(text) <= 80 else text[:77] + "..."
            found = f"line {frame.lineno} of your code" + (f" (`{shown}`)" if shown else "")
    return found


def _explained(error: BaseException, student: _Student) -> str:
    if isinstance(error, DriverError):
        return str(error)
    what = traceback.format_exception_only(type(error), error)[-1].strip()[:300]
    where = _student_line(error)
    if student.calling is not None:
        return f"calling `{student.calling}`: {what}" + (f", at {where}" if where else "")
    if where:
        return f"{what}, at {where}"
    if student.last is not None:
        name, returned = student.last
        return f"`{name}` returned {describe(returned)}, which the test could not use: {what}"
    return what


def _as_array(name: str, value: Any) -> np.ndarray:
    torch = sys.modules.get("torch")
    if torch is not None and isinstance(value, torch.Tensor):
        value = value.detach().cpu().numpy()
    elif isinstance(value, list | tuple) and torch is not None:
        value = [item.detach().cpu().numpy() if isinstance(item, torch.Tensor) else item for item in value]
    try:
        array = np.asarray(value)
    except (ValueError, TypeError):
        array = np.asarray(None, dtype=object)
    if array.dtype == object or array.dtype.kind not in "biuf":
        raise DriverError(f"`{name}` is {describe(value)}, not an array of numbers")
    return array


@functools.lru_cache(maxsize=256)
def compiled(driver: str) -> bytes:
    """The driver's body as the code of a module defining ``__driver__``, marshalled: what the
    service hands the sandbox's process in place of the text. A set's check has compiled it apart
    already (so this raises only for a set that skipped its check), and a set's driver has at most
    10,000 characters: compiling it here takes well under a millisecond, once per text and process."""
    if len(driver) > MAX_DRIVER:
        raise ValueError(f"a driver of {len(driver)} characters, over the {MAX_DRIVER} the sandbox takes")
    body = "def __driver__():\n" + textwrap.indent(driver, "    ") + "\n"
    return marshal.dumps(compile(body, DRIVER_FILE, "exec"))


def run_driver(module: types.ModuleType, driver: types.CodeType, outputs: str, **bound: Any) -> tuple[np.ndarray, ...]:
    """The probe ``@driver``: run the compiled body ``driver`` (:func:`compiled`, loaded) with the
    student's ``module`` as ``student`` and ``bound`` as names; return its outputs named in
    ``outputs`` (comma-separated), in that order."""
    student = _Student(module)
    scope: dict[str, Any] = {
        "__builtins__": builtins,
        "__name__": "driver",
        **bound,
        "student": student,
        "np": np,
        "math": math,
        "printed": printed,
        "read_arrays": read_arrays,
    }
    if "torch" in sys.modules:
        scope["torch"] = sys.modules["torch"]
    exec(driver, scope)
    try:
        returned = scope["__driver__"]()
    except Exception as error:
        raise DriverError(_explained(error, student)) from None
    if not isinstance(returned, dict):
        raise DriverError(f"the test's driver returned {describe(returned)}, not a dict of outputs")
    names = [name for name in outputs.split(",") if name]
    missing = [name for name in names if name not in returned]
    if missing:
        raise DriverError(f"the test's driver returned no `{missing[0]}`")
    return tuple(_as_array(name, returned[name]) for name in names)
