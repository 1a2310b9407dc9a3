"""The SQLite service's code runner in a process of its own (:class:`CodeRunnerProcess`), as a
``grader worker --queue code`` is on PostgreSQL.

The runner (:class:`api.code_runs.local.LocalCodeRunner`) claims each run, hands it to a judging
process and writes its results: a few milliseconds of Python a run, in SQLAlchemy and the sqlite3
module. In the service's process that work held the interpreter the students' requests need: at a
deadline burst, a profile of the service found its runner's threads holding it 39% of the time
(3.3 s of 8.6 s). Here it runs in a child process with its own engine, library and judging
processes, and the service only tells it that code was queued.

It keeps the service's priority, unlike the judging: it holds SQLite's write lock while it writes,
and a runner lowered behind other busy processes would hold the students' ``POST`` behind that lock.

What the service needs back comes over the same pipe: the submissions whose results it wrote (the
readers waiting for them, :class:`api.code_runs.watch.ResultWatch`), that it wrote LMS scores (the
service's score sender), and its figures (runs graded, students' waits, sandboxes busy), counted
in the service's metrics.

Started with the service, so that the first code after a start is graded as fast as the next:
started at the first code queued instead, the runner's imports and problem bank put 2.6 s more
before that code's result (3.8 s rather than 1.2 s on a fresh service). Its judging processes start
at its first runs, as before: a service that grades no code starts no sandbox. A child that ends
unexpectedly is started again (at once, then with a growing pause if it keeps ending as it starts)
and resumes the runs it left ``running``, as a restarted service would. It ends with the service: at
the service's stop, after the runs under way; and however the service ends, as its pipe closes.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Callable
from multiprocessing import util
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any

from api.kit import metrics
from api.kit.config import Settings

log = logging.getLogger("grader.code")

#: Seconds the service waits for its runner's runs under way as it stops, before ending it.
STOP_SECONDS = 10.0
#: Pauses before starting again a runner that ended unexpectedly: the first, and the longest (a
#: runner that keeps ending as it starts, the database gone say, is not started in a loop).
RESTART_PAUSE = (0.5, 30.0)
#: A runner that ran this many seconds before it ended is started again after the first pause.
RAN_LONG_SECONDS = 60.0

# What the runner says (first item): results written, scores to send, a run's figures, a sandbox busy or free.
WRITTEN, SCORES, GRADED, BUSY = "written", "scores", "graded", "busy"
# What the service says: code was queued; stop after the runs under way.
WAKE, STOP = "wake", "stop"


class CodeRunnerProcess:
    """The service's side: the same ``start``/``wake``/``stop`` as the runner it stands for."""

    def __init__(
        self,
        settings: Settings,
        bank_folder: Path,
        *,
        bank_check_every: float,
        threads: int,
        written: Callable[[int], None] | None = None,
        scores_due: Callable[[], None] | None = None,
    ) -> None:
        """``bank_folder``, ``bank_check_every``: the built-in sets the runner loads, and how often it
        looks for changed files, as the service's bank does; ``threads``: the runs it grades at once."""
        self.settings = settings
        self.bank_folder = bank_folder
        self.bank_check_every = bank_check_every
        self.threads = threads
        self.written = written
        self.scores_due = scores_due
        self._lock = threading.Lock()
        self._process: BaseProcess | None = None
        self._connection: Connection | None = None
        self._stopped = threading.Event()  # (not started yet, or stopped: no runner is started)
        self._stopped.set()
        self._pause = RESTART_PAUSE[0]

    @property
    def pid(self) -> int | None:
        """The runner's process id, while one runs."""
        with self._lock:
            return self._process.pid if self._process is not None else None

    def start(self) -> None:
        """At the service's start: the runner started, which runs what is queued and resumes what
        a restart interrupted (``running`` rows)."""
        self._stopped.clear()
        self.wake()

    def wake(self) -> None:
        """Code was queued: the runner looks for it (started, if it was not; nothing before the
        service's start or after its stop)."""
        with self._lock:
            if self._stopped.is_set():
                return
            if self._process is None:
                self._spawn()  # (it looks as it starts)
                return
            connection = self._connection
        assert connection is not None
        # (ended just now: its listener starts it again, and it looks as it starts)
        with contextlib.suppress(OSError):
            connection.send((WAKE,))

    def stop(self, timeout: float = STOP_SECONDS) -> None:
        """Stops the runner after its runs under way (a run stopped midway is resumed at the next start)."""
        self._stopped.set()
        with self._lock:
            process, connection = self._process, self._connection
        if process is None or connection is None:
            return
        with contextlib.suppress(OSError):
            connection.send((STOP, timeout))
        process.join(timeout + 5.0)
        if process.is_alive():
            log.error("the code runner did not stop within %.0f s: ended", timeout + 5.0)
            process.kill()
            process.join()
        with self._lock:
            if self._process is process:
                self._process = self._connection = None
        connection.close()

    def _spawn(self) -> None:
        """A new runner, and the thread that listens to it (called holding the lock)."""
        ours, theirs = multiprocessing.Pipe()
        # spawn, not fork: the service has threads (a fork copies their locks as they are)
        process = multiprocessing.get_context("spawn").Process(
            target=serve,
            args=(theirs, self.settings, self.bank_folder, self.bank_check_every, self.threads),
            name="grader-code-runner",
            daemon=False,  # (a daemonic process may not start the judging processes it needs)
        )
        process.start()
        theirs.close()
        # a service that ends without its stop closes the pipe before multiprocessing, as the
        # interpreter exits, waits for its children: the runner then ends, rather than both wait
        util.Finalize(process, ours.close, exitpriority=10)
        self._process, self._connection = process, ours
        started = time.monotonic()
        threading.Thread(
            target=self._listen, args=(process, ours, started), name="grader-code-runner-listener", daemon=True
        ).start()

    def _listen(self, process: BaseProcess, connection: Connection, started: float) -> None:
        """What the runner says, until it ends; then, unless the service stops, a new one."""
        busy = 0  # (its sandboxes busy: a runner killed mid-run leaves them counted otherwise)
        while True:
            try:
                message = connection.recv()
            except (EOFError, OSError):
                break
            if message[0] == BUSY:
                busy += message[1]
            self._heard(message)
        if busy:
            metrics.SANDBOXES_BUSY.inc(-busy)
        process.join()
        if self._stopped.is_set():
            return
        ran = time.monotonic() - started
        pause = RESTART_PAUSE[0] if ran >= RAN_LONG_SECONDS else self._pause
        self._pause = min(pause * 2, RESTART_PAUSE[1])
        log.error(
            "the code runner ended (exit code %s) after %.0f s: started again in %.1f s", process.exitcode, ran, pause
        )
        if self._stopped.wait(pause):
            return
        with self._lock:
            if self._process is process and not self._stopped.is_set():
                self._spawn()
        connection.close()

    def _heard(self, message: tuple[Any, ...]) -> None:
        kind = message[0]
        if kind == WRITTEN and self.written is not None:
            self.written(message[1])
        elif kind == SCORES and self.scores_due is not None:
            self.scores_due()
        elif kind == GRADED:
            metrics.graded(message[1], message[2])
        elif kind == BUSY:
            metrics.SANDBOXES_BUSY.inc(message[1])


def serve(connection: Connection, settings: Settings, bank_folder: Path, bank_check_every: float, threads: int) -> None:
    """The runner's process: grades what is queued until told to stop, or until the service is gone."""
    # (imported here: the service's process does not need the runner's modules)
    from api.code_runs.judges import JudgeProcesses
    from api.code_runs.local import LocalCodeRunner
    from api.code_runs.run import CodeRuntime
    from api.code_runs.shares import CodeLimits
    from api.kit import score_changes
    from api.kit.db import make_engine, make_sessionmaker, writer
    from api.library.bank import Bank
    from api.library.course_sets import Library
    from api.lti.outbox import LMS_OUTBOX, SCORES_DUE

    # Ctrl-C at a terminal reaches the whole process group: the service stops this runner in order
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    sending = threading.Lock()

    def say(*message: Any) -> None:
        with sending:  # (the runner's threads say things at once)
            connection.send(message)

    score_changes.listen("lms", LMS_OUTBOX)  # the scores its runs change go to the LMS
    engine = make_engine(settings)
    judges = JudgeProcesses(processes=threads, packages=settings.code_packages, busy=lambda n: say(BUSY, n))
    runtime = CodeRuntime(
        make_sessionmaker(writer(engine)),
        Library(Bank(bank_folder, check_every=bank_check_every)),
        judges,
        scores_due=lambda: say(SCORES),
        scores_key=SCORES_DUE,
        limits=CodeLimits.of(settings),
        graded=lambda outcome, seconds: say(GRADED, outcome, seconds),
    )
    runner = LocalCodeRunner(runtime, threads=threads, written=lambda submission_id: say(WRITTEN, submission_id))
    runner.start()
    while True:
        try:
            message = connection.recv()
        except (EOFError, OSError):
            # the service is gone: so is this runner, now (its judging processes follow it), and
            # the runs it leaves are resumed at the service's next start
            os._exit(1)
        if message[0] == WAKE:
            runner.wake()
        elif message[0] == STOP:
            runner.stop(message[1])
            judges.close()
            engine.dispose()
            return
