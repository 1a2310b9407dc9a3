"""Objects that live as long as the process (modules, the problem bank, the app's routes) kept out
of the garbage collector's full collections: a process's start and every collection after it were
paying to scan them again and again."""

from __future__ import annotations

import gc
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager


def freeze_long_lived() -> None:
    """Collect what is garbage now, then freeze everything left out of later collections.

    Why: scanning the service's start-up objects in every full collection stalled requests
    (``bench/service.py``: p99 176 -> 111 ms, and about 10% more submissions/s)."""
    gc.collect()
    gc.freeze()


@contextmanager
def collector_paused() -> Iterator[None]:
    """The garbage collector off while long-lived objects are made (a command's modules imported,
    the app built), then those objects frozen (:func:`freeze_long_lived`). Its full collections,
    run again and again as the objects piled up, took a quarter of a second of the 1.6 s
    ``grader grade`` took to grade one submission."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        freeze_long_lived()
        if was_enabled:
            gc.enable()


_prepared: set[Callable[[], None]] = set()
_preparing = threading.Lock()


def prepared_once(prepare: Callable[[], None]) -> None:
    """Run ``prepare`` (the import of libraries few processes need: scikit-learn and SciPy for the
    grouping, SciPy's sparse matrices for a similarity report) the first time this process needs
    them, then freeze what it made (:func:`freeze_long_lived`); at once on later calls.

    Why not at start: imported by every service and worker as it started (in a thread beside it),
    they cost each start about 1-2 s of CPU and held its first ``/health`` back, most processes never
    grouping anything. Why the freeze: left in the collector, their objects made a worker under load
    run 3-4 full collections of 18-33 ms of CPU each where it runs one of 7-10 ms with them frozen.
    Objects of requests in flight at that moment are frozen too: reference counting still frees
    them, only a cycle among them outlives them."""
    if prepare in _prepared:
        return
    with _preparing:  # a second caller waits for the first's import rather than freezing twice
        if prepare in _prepared:
            return
        prepare()
        freeze_long_lived()
        _prepared.add(prepare)
