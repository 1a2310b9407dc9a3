"""The sandbox tests' limits, and a way for a probe to report what it saw: the submission's
``probe()`` returns its observations as text, encoded as an array of bytes (the only thing that
crosses the wall)."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from sandbox import Call, CallResult, Limits, Sandbox, Status

LIMITS = Limits(
    memory_bytes=256 << 20,
    pids=24,
    wall_seconds=4.0,
    cpu_seconds=3,
    output_bytes=1 << 20,
    scratch_bytes=8 << 20,
)

# Prepended to every probe: report(text) is what its probe() returns.
REPORT = """
import numpy as _np
def report(*lines):
    return _np.frombuffer("\\n".join(str(line) for line in lines).encode(), dtype=_np.uint8)

def attempt(what, action):
    try:
        result = action()
    except BaseException as error:
        return f"{what}: {type(error).__name__}: {error}"
    return f"{what}: SUCCEEDED {result!r}"[:300]
"""

# Prepended to a module that writes to its results pipe itself (forging its answers): the
# write-only pipe of the two its process holds (its calls come in by the other).
RESULTS_CHANNEL = """
import fcntl as _fcntl, os as _os
def results_channel():
    for fd in sorted(int(name) for name in _os.listdir("/proc/self/fd")):
        try:
            if fd > 2 and _fcntl.fcntl(fd, _fcntl.F_GETFL) & _os.O_ACCMODE == _os.O_WRONLY:
                return fd
        except OSError:
            pass  # the listing's own, closed by now
    raise LookupError("no results pipe")
"""


#: A student's module's walk to everything it can reach from where it runs: each frame up its stack
#: and what its names hold, then every object the collector tracks (the module imports gc and sys).
REACHABLE = """
def _reachable():
    frame = sys._getframe()
    while frame is not None:
        yield frame
        yield from frame.f_locals.values()
        frame = frame.f_back
    yield from gc.get_objects()
"""


def require_bwrap() -> None:
    if shutil.which("bwrap", path="/usr/bin:/bin:/usr/local/bin") is None:
        pytest.fail("bubblewrap is needed for the sandbox's tests: run scripts/test-deps (as root) first")


def observed(result: CallResult) -> str:
    """The text a probe reported."""
    assert result.status is Status.OK, (result.status, result.message)
    return bytes(np.asarray(result.output, dtype=np.uint8)).decode()


def probe(box: Sandbox, body: str, *args: object) -> str:
    """Run ``body`` (a module defining ``probe``) and return what it reported."""
    (result,) = box.run(REPORT + body, [Call("probe", args)])  # type: ignore[arg-type]
    return observed(result)
