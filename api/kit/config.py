"""One validated settings object, read from the environment once per process."""

from __future__ import annotations

import os
from collections.abc import Collection, Mapping
from typing import Self

from pydantic import BaseModel, ConfigDict, Field, field_validator

#: The most requests using the database at once, per process (``api.kit.slots.database_slots``:
#: sessions and /health; fewer where the pool has fewer connections, :attr:`Settings.db_slots`).
#: Waiting for a slot takes no worker thread, so the requests
#: holding one can always get a thread (the threadpool has 40) and a pooled connection: without the
#: limit, threads blocked on the pool or on SQLite's
#: write lock could starve the request holding it, and bursts overflowed the pool (a connection
#: opened and closed per request).
#: Few, because the requests share one interpreter lock: with 16 in flight per process, handing it
#: between their threads cost more than the requests themselves (4 slots served 40% more submissions
#: per second than 20, ``bench/service.py``; at a deadline beside busy processes, 16 put /health's p99
#: at 0.34 s). 8 rather than 4: a code submission was nine trips to PostgreSQL (eight since), each
#: waiting for its backend to be scheduled when the machine is busy, and with 4 slots the deadline's
#: POSTs queued for them (``bench/burst.py --beside-load 4``: medians up to 2.2 s; 0.04 to 0.43 s
#: with 8), while an idle service's submissions per second were the same within the runs' spread.
DB_CONCURRENCY = 8

#: The embedded database: a SQLite file in the working directory.
DEFAULT_DATABASE_URL = "sqlite:///./grader.db"


def _installed_packages() -> tuple[str, ...]:
    """``GRADER_CODE_PACKAGES``'s default: the sandbox's packages installed on this machine."""
    from sandbox.limits import installed_packages  # (found without importing them)

    return installed_packages()


class Settings(BaseModel):
    """Configuration of the service.

    ==========================  ==============================================================
    environment variable        meaning
    ==========================  ==============================================================
    ``DATABASE_URL``            SQLAlchemy URL; ``postgresql://...`` uses psycopg 3.
                                Default: the SQLite file ``./grader.db``.
    ``GRADER_MAX_BODY_BYTES``   largest request body accepted (413 above); default 1 MiB
    ``GRADER_DB_POOL_SIZE``     connections kept open per process; default 10
    ``GRADER_DB_MAX_OVERFLOW``  extra connections under load; default 20
    ``GRADER_DB_STATEMENT_``    longest a PostgreSQL statement may run or wait for a lock, in
    ``TIMEOUT_MS``              ms (503 past it); default 30000; 0: no limit (e.g. behind a
                                PgBouncer that refuses the ``options`` startup parameter)
    ``GRADER_REPLICAS``         the most ``grader serve`` replicas that will share the database
                                (each with its ``--workers`` processes); default 1. Only for the
                                connection budget ``grader serve`` checks at start
    ``GRADER_DB_RESERVED_``     PostgreSQL connections left for everything but the replicas:
    ``CONNECTIONS``             job workers (``grader worker``), ``grader db upgrade``, the
                                command line, an operator's ``psql``; default 10
    ``GRADER_SMTP_URL``         where mail goes (:mod:`api.kit.mail.smtp`):
                                ``smtp://user:password@host:587`` (STARTTLS, required unless
                                ``?starttls=false``), ``smtps://...:465`` (TLS from the start);
                                ``?verify=false`` skips certificate checks (a test relay only).
                                Unset: no mail; staff copy sign-in links from the page
    ``GRADER_MAIL_FROM``        the sender of those mails (``address`` or ``Name <address>``, an
                                ASCII address: :mod:`api.kit.mail.address`); default ``grader@localhost``
    ``GRADER_SIGN_IN_LINK_``    how long a sign-in link works; default 7
    ``DAYS``
    ``GRADER_PUBLIC_URL``       the service's address as browsers, mail readers and LMS platforms
                                reach it (``https://grader.example.edu``): the LTI URLs and the
                                links in mails are made from it, never from a request
                                (:mod:`api.kit.public_url`). ``grader serve`` on a loopback
                                interface defaults it to that address; on any other it is
                                required
    ``GRADER_LTI_KEY``          the key that encrypts the tool's LTI private keys in the database
                                (a Fernet key: ``grader lti new-kek`` prints one); LTI needs it
    ``GRADER_CODE_QUEUED_PER_`` code runs one student may have queued or running at once; a
    ``STUDENT``                 submission with code past it is refused (429, nothing stored);
                                default 3
    ``GRADER_CODE_SECONDS``     sandbox wall seconds a student's code may use per assignment per
                                window (a run is stopped when it runs out; a submission with code
                                is refused past it, 429); default 120
    ``GRADER_CODE_WINDOW_``     the window of that budget, in minutes; default 60
    ``MINUTES``
    ``GRADER_SET_CHECK_``       sandbox wall seconds one set check (an upload's code solutions
    ``SECONDS``                 and declared mistakes run on their tests) may use; past them it
                                is stopped and fails, saying why; default 300
    ``GRADER_SET_CHECK_``       sandbox wall seconds one instructor's set checks may use per
    ``INSTRUCTOR_SECONDS``      window (an upload past it is refused, 429; a check that reaches
                                it is stopped); default 1200
    ``GRADER_SET_CHECK_``       the window of that budget, in minutes (rolling: a check counts
    ``WINDOW_MINUTES``          for this long after it started); default 60
    ``GRADER_CODE_PACKAGES``    the packages a problem may add to its code's runtime
                                (``packages: [scipy]``), comma-separated, of those the sandbox
                                knows (scipy, matplotlib); a set naming another is refused at
                                upload. Default: those installed here; set but empty: none
    ``GRADER_METRICS_PORT``     a port of its own on which ``grader serve`` (the sum of its
                                processes) and ``grader worker`` (its own) answer Prometheus's
                                scrapes, without a token (:mod:`api.kit.metrics`); unset: none,
                                and ``GET /metrics`` answers staff tokens on the service's port
    ``GRADER_DEMO``             ``1``: the service runs the demo (set by ``grader serve --demo``
                                for its worker processes, never by hand): its sign-in page
                                offers one-click sign-in as each demo account
    ==========================  ==============================================================

    The budget (:mod:`api.kit.budget`): replicas × workers × (pool size + overflow) + reserved must
    fit PostgreSQL's ``max_connections`` less its ``superuser_reserved_connections``.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    database_url: str = DEFAULT_DATABASE_URL
    max_body_bytes: int = Field(default=1024 * 1024, ge=1024, le=64 * 1024 * 1024)
    db_pool_size: int = Field(default=10, ge=1, le=200)
    db_max_overflow: int = Field(default=20, ge=0, le=500)
    db_statement_timeout_ms: int = Field(default=30_000, ge=0, le=24 * 3600 * 1000)
    replicas: int = Field(default=1, ge=1, le=1000)
    db_reserved_connections: int = Field(default=10, ge=0, le=10_000)
    smtp_url: str | None = None
    mail_from: str = Field(default="grader@localhost", max_length=320)
    public_url: str | None = Field(default=None, pattern=r"^https?://[^/?#\s]+(/[^?#\s]*)?$")
    lti_key: str | None = Field(default=None, repr=False)
    sign_in_link_days: int = Field(default=7, ge=1, le=90)
    #: The code queue's share per student (:mod:`api.code_runs.shares`).
    code_queued_per_student: int = Field(default=3, ge=1, le=1000)
    code_seconds: float = Field(default=120.0, ge=1.0, le=24 * 3600.0)
    code_window_minutes: int = Field(default=60, ge=1, le=7 * 24 * 60)
    #: What an instructor's set checks may use of the sandbox (:mod:`api.set_checks.limits`).
    set_check_seconds: float = Field(default=300.0, ge=1.0, le=24 * 3600.0)
    set_check_instructor_seconds: float = Field(default=1200.0, ge=1.0, le=7 * 24 * 3600.0)
    set_check_window_minutes: int = Field(default=60, ge=1, le=7 * 24 * 60)
    #: The code workers' allow-list of packages (``sandbox.PACKAGES``); the service and the workers read alike.
    code_packages: tuple[str, ...] = Field(default_factory=_installed_packages)
    metrics_port: int | None = Field(default=None, ge=1, le=65535)
    #: Whether the service runs the demo (``grader serve --demo``): only then do its pages offer
    #: one-click sign-in as the demo accounts (:mod:`api.pages.accounts.demo`).
    demo: bool = False

    @field_validator("smtp_url")
    @classmethod
    def _smtp_url(cls, url: str | None) -> str | None:
        """Checked at start (a typo is an error now, not a lost mail later)."""
        if url is None:
            return None
        from api.kit.mail.smtp import SmtpSettings  # (parses the URL: its one definition)

        SmtpSettings.from_url(url)
        return url

    @field_validator("mail_from")
    @classmethod
    def _mail_from(cls, sender: str) -> str:
        """Checked at start: every mail's From (one address a relay takes, a name on one line)."""
        from api.kit.mail.address import sender_address  # (its one definition)

        sender_address(sender)
        return sender

    @field_validator("code_packages", mode="before")
    @classmethod
    def _known_packages(cls, packages: object) -> object:
        """Comma-separated in the environment; each one the sandbox knows, checked at start."""
        from sandbox.limits import PACKAGES  # (the sandbox's allow-list: its one definition)

        if isinstance(packages, str):
            packages = tuple(dict.fromkeys(name.strip() for name in packages.split(",") if name.strip()))
        if isinstance(packages, tuple | list):
            unknown = [name for name in packages if name not in PACKAGES]
            if unknown:
                raise ValueError(
                    f"GRADER_CODE_PACKAGES names {', '.join(map(str, unknown))}, which the sandbox does not offer "
                    f"(it offers {', '.join(PACKAGES)})"
                )
        return packages

    @field_validator("public_url")
    @classmethod
    def _no_trailing_slash(cls, url: str | None) -> str | None:
        return None if url is None else url.rstrip("/")

    @field_validator("database_url")
    @classmethod
    def _normalise_url(cls, url: str) -> str:
        """``postgres://`` and ``postgresql://`` mean psycopg 3 (the only PostgreSQL driver installed)."""
        url = url.strip()
        if not url:
            raise ValueError("DATABASE_URL is empty")
        for prefix in ("postgres://", "postgresql://"):
            if url.startswith(prefix):
                return "postgresql+psycopg://" + url.removeprefix(prefix)
        return url

    @property
    def db_slots(self) -> int:
        """Requests using the database at once per process: :data:`DB_CONCURRENCY`, or as many as
        the pool's connections where it has fewer (a deployment that budgets its connections keeps
        its pool small), so that no request holding a slot waits for a connection."""
        return min(DB_CONCURRENCY, self.db_pool_size + self.db_max_overflow)

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def is_embedded(self) -> bool:
        """True for the built-in SQLite default (``grader serve`` migrates it by itself)."""
        return self.is_sqlite

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Self:
        env = os.environ if environ is None else environ
        values: dict[str, str] = {}
        for field, variable in (
            ("database_url", "DATABASE_URL"),
            ("max_body_bytes", "GRADER_MAX_BODY_BYTES"),
            ("db_pool_size", "GRADER_DB_POOL_SIZE"),
            ("db_max_overflow", "GRADER_DB_MAX_OVERFLOW"),
            ("db_statement_timeout_ms", "GRADER_DB_STATEMENT_TIMEOUT_MS"),
            ("replicas", "GRADER_REPLICAS"),
            ("db_reserved_connections", "GRADER_DB_RESERVED_CONNECTIONS"),
            ("smtp_url", "GRADER_SMTP_URL"),
            ("mail_from", "GRADER_MAIL_FROM"),
            ("public_url", "GRADER_PUBLIC_URL"),
            ("sign_in_link_days", "GRADER_SIGN_IN_LINK_DAYS"),
            ("lti_key", "GRADER_LTI_KEY"),
            ("code_queued_per_student", "GRADER_CODE_QUEUED_PER_STUDENT"),
            ("code_seconds", "GRADER_CODE_SECONDS"),
            ("code_window_minutes", "GRADER_CODE_WINDOW_MINUTES"),
            ("metrics_port", "GRADER_METRICS_PORT"),
            ("set_check_seconds", "GRADER_SET_CHECK_SECONDS"),
            ("set_check_instructor_seconds", "GRADER_SET_CHECK_INSTRUCTOR_SECONDS"),
            ("set_check_window_minutes", "GRADER_SET_CHECK_WINDOW_MINUTES"),
            ("demo", "GRADER_DEMO"),
        ):
            if env.get(variable):
                values[field] = env[variable]
        if "GRADER_CODE_PACKAGES" in env:  # (set but empty: no package)
            values["code_packages"] = env["GRADER_CODE_PACKAGES"]
        return cls.model_validate(values)


def not_offered(refused: Collection[str], offered: Collection[str]) -> str:
    """Why code may not import ``refused``: the code workers' allow-list, as an instructor reads it."""
    listed = f"offer: {', '.join(offered)}" if offered else "offer no package"
    verb = "is" if len(refused) == 1 else "are"
    return f"{', '.join(refused)} {verb} not offered here; this server's code workers {listed}"
