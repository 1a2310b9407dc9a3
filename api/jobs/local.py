"""The service's own runner, on SQLite (the embedded default needs no worker process): one thread
per process that runs the jobs of the ``jobs`` table, oldest first, with the same job code as
``grader worker`` (:func:`api.jobs.run.run_job`).

It wakes when a job is started (after the request's commit) and when the service starts, where it
also resumes the jobs a restart left running. Exactly-once does not depend on it being alone: with
``grader serve --workers N`` on SQLite, two processes may both resume a job, and the done-markers
make each submission regraded once all the same (the other runner just finds nothing left).
"""

from __future__ import annotations

import logging
import threading

from sqlalchemy import select

from api.jobs.run import Runtime, run_job
from api.models import Job, JobStatus

log = logging.getLogger("grader.jobs")


class LocalRunner:
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self._lock = threading.Lock()
        self._wanted = False
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()

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
                self._thread = threading.Thread(target=self._work, name="grader-jobs", daemon=True)
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
                    run_job(self.runtime, job_id, stop=self._stopping.is_set)
                except Exception:
                    log.exception("job %s failed", job_id)
                with self._lock:
                    self._wanted = True  # look again: more may have been queued meanwhile

    def _pending(self) -> list[int]:
        with self.runtime.sessions() as session:
            active = [JobStatus.QUEUED.value, JobStatus.RUNNING.value]
            return list(session.scalars(select(Job.id).where(Job.status.in_(active)).order_by(Job.id)))
