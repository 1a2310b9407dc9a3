"""The service's own runners, on SQLite (the embedded default needs no worker process): a thread
per runner that runs its kinds of jobs of the ``jobs`` table, oldest first, with the same job code
as ``grader worker`` (:func:`api.jobs.run.run_job`; a set check's
:func:`api.set_checks.run.run_set_check`, in a runner of its own so that a long check never holds
back a regrade).

It wakes when a job is started (after the request's commit) and when the service starts, where it
also resumes the jobs a restart left running. Exactly-once does not depend on it being alone: with
``grader serve --workers N`` on SQLite, two processes may both resume a job, and the done-markers
make each submission regraded once all the same (the other runner just finds nothing left).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Collection

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from api.jobs.run import Runtime, run_job
from api.models import Job, JobKind, JobStatus

log = logging.getLogger("grader.jobs")

#: Runs (or resumes) one job to its end or until asked to stop (``stop()`` true), as ``run_job`` does.
RunOne = Callable[[int, Callable[[], bool]], object]


class LocalRunner:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        run: RunOne,
        *,
        kinds: Collection[str],
        name: str = "grader-jobs",
    ) -> None:
        self.sessions = sessions
        self._run = run
        self.kinds = tuple(kinds)
        self.name = name
        self._lock = threading.Lock()
        self._wanted = False
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()

    @classmethod
    def of_jobs(cls, runtime: Runtime) -> LocalRunner:
        """The runner of regrades, LTI syncs and similarity reports."""
        return cls(
            runtime.sessions,
            lambda job_id, stop: run_job(runtime, job_id, stop=stop),
            kinds=(JobKind.REGRADE.value, JobKind.LTI_SYNC.value, JobKind.SIMILARITY.value),
        )

    def start(self) -> None:
        """At the service's start: runs what is queued, and what a restart interrupted."""
        self._stopping.clear()
        self.wake()

    def wake(self) -> None:
        """Look for jobs to run (a thread is started unless one is at it)."""
        with self._lock:
            if self._stopping.is_set():
                return
            self._wanted = True
            if self._thread is None:
                self._thread = threading.Thread(target=self._work, name=self.name, daemon=True)
                self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Stops after the current chunk; the job stays running, and the next start resumes it."""
        self._stopping.set()
        with self._lock:
            thread = self._thread
        if thread is not None:
            thread.join(timeout)

    def _work(self) -> None:
        tried: set[int] = set()
        while True:
            with self._lock:
                if not self._wanted or self._stopping.is_set():
                    self._thread = None
                    return
                self._wanted = False
            for job_id in self._pending():
                if job_id in tried or self._stopping.is_set():
                    continue  # (a job whose failure could not be recorded is not retried in a loop)
                tried.add(job_id)
                try:
                    self._run(job_id, self._stopping.is_set)
                except Exception:
                    log.exception("job %s failed", job_id)
                with self._lock:
                    self._wanted = True  # look again: more may have been queued meanwhile

    def _pending(self) -> list[int]:
        with self.sessions() as session:
            active = [JobStatus.QUEUED.value, JobStatus.RUNNING.value]
            found = select(Job.id).where(Job.status.in_(active), Job.kind.in_(self.kinds)).order_by(Job.id)
            return list(session.scalars(found))
