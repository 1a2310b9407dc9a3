"""The service's own code runner, on SQLite (the embedded default needs no worker process): a few
threads that run the queued :class:`api.models.CodeRun` rows, with the same job code as ``grader
worker --queue code`` (:func:`api.code_runs.run.run_code`), in a process the service starts
(:mod:`api.jobs.code_runner_process`). The next run is the
student's share's (:func:`api.code_runs.shares.next_run`): one run per student at a time, the
lowest turn first, then the oldest.

Woken when a transaction queued code (after its commit), and at the service's start, where it also
resumes the runs a restart interrupted (``running`` rows). Its threads never take the same row;
two service processes on one SQLite may, and the job code writes each result once all the same.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from api.code_runs.run import CodeRuntime, run_code
from api.code_runs.shares import next_run

log = logging.getLogger("grader.code")


class LocalCodeRunner:
    def __init__(self, runtime: CodeRuntime, *, threads: int = 2, written: Callable[[int], None] | None = None) -> None:
        """``written``: told each submission whose results a run wrote (the readers waiting for
        them, :class:`api.code_runs.watch.ResultWatch`)."""
        self.runtime = runtime
        self.threads = threads
        self.written = written
        self._lock = threading.Lock()
        self._wanted = threading.Condition(self._lock)
        self._taken: dict[int, str] = {}  # submission → student, of the runs under way here
        self._failed: set[int] = set()
        self._resume = False
        self._look = False
        self._stopping = False
        self._workers: list[threading.Thread] = []

    def start(self) -> None:
        """At the service's start: runs what is queued, and what a restart interrupted."""
        with self._lock:
            self._stopping, self._resume, self._look = False, True, True
            self._wanted.notify_all()
            if any(worker.is_alive() for worker in self._workers):
                return  # (started already: its threads look again)
            self._workers = [
                threading.Thread(target=self._work, name=f"grader-code-{n}", daemon=True) for n in range(self.threads)
            ]
            for worker in self._workers:
                worker.start()

    def wake(self) -> None:
        """Code was queued: look for it."""
        with self._lock:
            self._look = True
            self._wanted.notify_all()

    def stop(self, timeout: float = 10.0) -> None:
        """Stops after the runs under way (a run stopped midway is resumed at the next start)."""
        with self._lock:
            self._stopping = True
            self._wanted.notify_all()
            workers, self._workers = self._workers, []
        for worker in workers:
            worker.join(timeout)

    def _work(self) -> None:
        while True:
            with self._lock:
                while not self._look and not self._stopping:
                    self._wanted.wait()
                if self._stopping:
                    return
                found = self._next()
                if found is None:
                    self._look = False
                    continue
                submission_id, student_id = found
                self._taken[submission_id] = student_id
            try:
                done = run_code(self.runtime, submission_id)
                failed = False
                if done == "written" and self.written is not None:
                    self.written(submission_id)
            except Exception:  # (the database away, say: not retried in a loop; the next start tries again)
                log.exception("the code run of submission %s failed", submission_id)
                failed = True
            with self._lock:
                del self._taken[submission_id]
                if failed:
                    self._failed.add(submission_id)
                self._look = True  # (the student's next run may be taken now)
                self._wanted.notify_all()

    def _next(self) -> tuple[int, str] | None:
        """The next run no thread of this runner has taken, with its student (at the start, the
        ``running`` ones first)."""
        with self.runtime.sessions() as session:
            found = next_run(session, taken=self._taken, skip=self._taken.keys() | self._failed, resume=self._resume)
        if found is None:
            self._resume = False
        return found
