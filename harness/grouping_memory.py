"""The memory that grouping answers (:func:`grader.grouping.group_answers`) adds at its peak,
measured in a fresh interpreter so that nothing of the caller's counts: the resident high-water
mark after grouping (Linux's ``VmHWM``) less the resident size just before (``VmRSS``), the
numerical libraries imported and warmed up first. For the benchmark and the test that holds the
bound. Not ``getrusage``'s ``ru_maxrss``, which survives ``execve``: started by a test process
holding 1.3 GB (PyTorch loaded), the child's "peak" was the parent's.

Run as ``python -m harness.grouping_memory`` with the answers as a JSON object on its input; it
prints the bytes added.
"""

from __future__ import annotations

import gc
import json
import resource
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

ROOT = Path(__file__).parents[1]


def peak_added(answers: Mapping[str, str], *, timeout: float = 600) -> int:
    """The resident memory, in bytes, that grouping ``answers`` adds at its peak (see the module)."""
    done = subprocess.run(
        [sys.executable, "-m", "harness.grouping_memory"],
        input=json.dumps(dict(answers)),
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=timeout,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    return int(done.stdout)


def _status(field: str) -> int | None:
    """A size from ``/proc/self/status`` (Linux), in bytes."""
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith(f"{field}:"):
                return int(line.split()[1]) * 1024
    return None


def _resident() -> int:
    """The resident size now (Linux), else the high-water mark so far (then only what grouping adds
    past it counts)."""
    return _status("VmRSS") or _peak()


def _peak() -> int:
    """This process's resident high-water mark: ``VmHWM`` (Linux), else ``ru_maxrss``."""
    found = _status("VmHWM")
    if found is not None:
        return found
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024  # bytes on macOS, KiB elsewhere


def main() -> None:
    from grader.grouping import group_answers, prepare

    prepare()
    group_answers({"a": "warm up", "b": "warm up the libraries", "c": "something else"})
    answers = json.loads(sys.stdin.read())
    gc.collect()
    before = _resident()
    group_answers(answers)
    print(_peak() - before)


if __name__ == "__main__":
    main()
