"""Which runner a service has: on PostgreSQL it only defers (``grader worker`` runs), on SQLite it
runs the jobs itself (:class:`api.jobs.local.LocalRunner`)."""

from __future__ import annotations

import functools
from dataclasses import dataclass

from sqlalchemy import Engine

from api.config import Settings
from api.db import make_sessionmaker, writer
from api.jobs.local import LocalRunner
from api.jobs.run import Runtime
from api.jobs.service import Deferrer
from api.library import Library


@dataclass(frozen=True)
class JobRunners:
    #: Defers a new job's procrastinate job in the request's transaction (PostgreSQL).
    defer: Deferrer | None
    #: The service's own runner (SQLite).
    runner: LocalRunner | None


def job_runners(settings: Settings, engine: Engine, library: Library) -> JobRunners:
    if engine.dialect.name == "sqlite":
        return JobRunners(defer=None, runner=LocalRunner(Runtime(make_sessionmaker(writer(engine)), library)))
    from api.jobs.queue import defer, make_queue  # (procrastinate is imported by PostgreSQL services only)

    return JobRunners(defer=functools.partial(defer, make_queue(settings.database_url)), runner=None)
