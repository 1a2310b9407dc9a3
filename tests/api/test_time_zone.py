"""Timestamps read back as the instants stored, in UTC, whatever the PostgreSQL server's own time
zone: the service's sessions run in UTC (api.kit.db), and a session in another zone (a URL with its own
``options``) is turned into UTC as it is read (api.models.UTCDateTime)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import psycopg
import pytest
from sqlalchemy import Column, Engine, MetaData, Table, insert, make_url, select, text

from api.kit.config import Settings
from api.kit.db import make_engine
from api.models import UTCDateTime
from harness.postgres import PostgresServer

from factories import unique

MOMENT = datetime(2026, 3, 29, 0, 30, 15, 250000, tzinfo=UTC)  # (a night when Europe's clocks change)
TABLE = Table("moments", MetaData(), Column("at", UTCDateTime()))


@pytest.fixture
def new_york(pg_server: PostgresServer) -> Iterator[str]:
    """A database whose sessions default to New York time."""
    name = unique("tz")
    url = pg_server.create_database(name)
    with psycopg.connect(_libpq(url), autocommit=True) as connection:
        connection.execute(f"ALTER DATABASE {name} SET timezone = 'America/New_York'")
        connection.execute("CREATE TABLE moments (at timestamptz)")
    yield url
    pg_server.drop_database(name)


def _libpq(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def _stored_and_read(engine: Engine) -> tuple[str, datetime]:
    with engine.begin() as connection:
        connection.execute(TABLE.delete())
        connection.execute(insert(TABLE).values(at=MOMENT))
        zone = connection.execute(text("SHOW timezone")).scalar_one()
        return zone, connection.execute(select(TABLE.c.at)).scalar_one()


def test_the_services_sessions_run_in_utc_whatever_the_servers_zone(new_york: str) -> None:
    with psycopg.connect(_libpq(new_york)) as connection:  # (what a session without our options gets)
        assert connection.execute("SHOW timezone").fetchone() == ("America/New_York",)
    engine = make_engine(Settings(database_url=new_york))
    try:
        zone, read = _stored_and_read(engine)
    finally:
        engine.dispose()
    assert zone == "UTC"
    assert read == MOMENT and read.tzinfo is UTC


def test_a_session_in_another_zone_still_reads_utc_instants(new_york: str) -> None:
    own_options = make_url(new_york).update_query_dict({"options": "-c search_path=public"})
    engine = make_engine(Settings(database_url=own_options.render_as_string(hide_password=False)))
    try:
        zone, read = _stored_and_read(engine)
    finally:
        engine.dispose()
    assert zone == "America/New_York"
    assert read == MOMENT and read.tzinfo is UTC and read.isoformat() == "2026-03-29T00:30:15.250000+00:00"
