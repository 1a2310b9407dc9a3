"""What the sandbox is asked to run and what it answers: plain, frozen values on the trusted side."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

import numpy as np

# An argument: an array, or a plain scalar (JSON's kinds); arrays as a JSON header and their bytes, scalars as JSON.
Value = np.ndarray | int | float | bool | str | None


class Status(enum.StrEnum):
    OK = "ok"
    ERROR = "error"  # the code raised: the exception's last line
    TIMEOUT = "timeout"  # over its wall time (or, past it, its CPU time: a process of several threads)
    MEMORY = "memory"  # over the memory limit
    OUTPUT_TOO_LARGE = "output-too-large"
    REFUSED = "refused"  # not run (a syntax error) or an output that is not plain arrays


@dataclass(frozen=True)
class Call:
    """Call ``function`` (a name in the student's module, dotted for an attribute: ``Net.forward``)
    with these arguments. ``seconds``: the wall time this call may take (a driver's test that trains
    a network takes longer than a layer's); None, the sandbox's per-call limit
    (``Limits.call_limits``)."""

    function: str
    args: tuple[Value, ...] = ()
    kwargs: dict[str, Value] = field(default_factory=dict)
    seconds: float | None = None


@dataclass(frozen=True)
class CallResult:
    """One call's outcome. ``outputs`` holds the returned array (one), or the returned tuple's arrays
    (``returned_tuple``); ``message`` says what went wrong otherwise. NaN and inf are values like any
    other: the judge decides."""

    status: Status
    outputs: tuple[np.ndarray, ...] = ()
    returned_tuple: bool = False
    message: str = ""
    seconds: float = 0.0

    @property
    def output(self) -> np.ndarray | tuple[np.ndarray, ...]:
        """What the function returned: the array, or the tuple of arrays."""
        return self.outputs if self.returned_tuple else self.outputs[0]
