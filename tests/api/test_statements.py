"""Statements run on the driver's cursor (``api.kit.statements``) read and fail as SQLAlchemy's own do."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import cast

import pytest
from sqlalchemy import Table, bindparam, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from api.kit.db import is_unique_violation
from api.kit.statements import Prepared
from api.models import Course, Submission

from factories import counted, unique

SUBMISSIONS = cast(Table, Submission.__table__)
COURSES = cast(Table, Course.__table__)


def test_rows_are_those_sqlalchemy_reads_with_every_type_processed(client, course, engine) -> None:
    aid = course.assignment()
    _, headers = course.student()
    answers = {"ex4.conv1_params": "3640", "ex3.max": [[9, 7], [8, 6]]}
    submitted = course.submit(aid, headers, answers, **{"Idempotency-Key": unique("k")})
    assert submitted.status_code == 201, submitted.text
    statement = select(*SUBMISSIONS.c).where(SUBMISSIONS.c.id == bindparam("wanted"))
    with Session(engine) as session:
        expected = dict(session.execute(statement, {"wanted": submitted.json()["id"]}).one()._mapping)
        rows = Prepared(statement).rows(session, {"wanted": submitted.json()["id"]})
    assert rows == [expected]
    row = rows[0]
    assert row["answers"] == answers and row["parts"] == submitted.json()["parts"]  # JSON read back
    assert row["submitted_at"].tzinfo is not None and row["late"] is False  # times and booleans typed


def test_a_broken_unique_key_is_sqlalchemys_integrity_error_and_the_statement_is_seen(engine) -> None:
    columns = {name: bindparam(name) for name in ("id", "title", "created_at", "time_zone")}  # defaults too
    made = Prepared(insert(COURSES).values(**columns))
    course_id = unique("c")
    with Session(engine) as session, counted(engine) as seen:
        made.rows(session, {"id": course_id, "title": "One", "created_at": datetime.now(UTC), "time_zone": "UTC"})
        with pytest.raises(IntegrityError) as refused:
            made.rows(session, {"id": course_id, "title": "Two", "created_at": datetime.now(UTC), "time_zone": "UTC"})
        session.rollback()
    assert is_unique_violation(refused.value)
    assert [s.split()[0].upper() for s in seen if s.split()[0].upper().startswith("INSERT")] == ["INSERT"] * 2
