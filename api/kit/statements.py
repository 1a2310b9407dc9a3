"""Statements compiled once and run on the driver's cursor, for the few on the busiest path (the
caller's access, storing a submission) and for many rows (a big course's scores).

SQLAlchemy's execution of a compiled statement (an execution context, a result with its metadata
read from the cursor's description, the events) cost several times the driver's own work on a
statement of one row (``bench/service.py``). A :class:`Prepared` statement is compiled once per
dialect, with its types' bind and result processors, and runs on the session's connection, in its
transaction (SQLAlchemy begins it as for any statement, so SQLite's ``BEGIN IMMEDIATE`` is kept);
a driver's error is raised as SQLAlchemy's, a lost connection invalidated as SQLAlchemy does, so
:func:`api.kit.db.first_read` and :func:`api.kit.db.is_unique_violation` work on it unchanged; and the
engine's ``before_cursor_execute`` and ``after_cursor_execute`` listeners see it as any other.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session
from sqlalchemy.schema import ColumnDefault
from sqlalchemy.sql import Insert
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.expression import ClauseElement, ColumnElement, ReturnsRows

Processor = Callable[[Any], Any] | None


@dataclass(slots=True)
class _Compiled:
    sql: str
    compiled: SQLCompiler
    binds: Mapping[str, Processor]
    #: The bind names in order, for a driver with positional parameters (SQLite); None for named.
    order: tuple[str, ...] | None
    columns: tuple[ColumnElement[Any], ...]
    names: tuple[str, ...]
    #: An INSERT's columns of a plain default value (``default="grader"``), by bind name: put in where
    #: the parameters leave them out, as SQLAlchemy's execution does (it is bypassed here).
    defaults: Mapping[str, Any]
    #: The columns' result processors, made at the first run from the cursor's description (some
    #: depend on the type the driver reports, as SQLAlchemy's own cached result metadata does).
    results: tuple[Processor, ...] | None = None

    def processors(self, dialect: Dialect, description: Sequence[Sequence[Any]]) -> tuple[Processor, ...]:
        if self.results is None:
            self.results = tuple(
                column.type.dialect_impl(dialect).result_processor(dialect, described[1])
                for column, described in zip(self.columns, description, strict=True)
            )
        return self.results


def _scalar_defaults(statement: ClauseElement, binds: Mapping[str, Processor]) -> dict[str, Any]:
    if not isinstance(statement, Insert):
        return {}
    return {
        column.key: column.default.arg
        for column in statement.table.columns
        if column.key in binds and isinstance(column.default, ColumnDefault) and column.default.is_scalar
    }


class Prepared:
    """``statement`` (a Core ``SELECT``, or an ``INSERT``, ``RETURNING`` or not) ready to run on the
    driver; or, for a statement whose construct is the backend's own (an ``INSERT ... ON
    CONFLICT``), a function that builds it for the backend it is given the name of, called once per
    backend."""

    def __init__(self, statement: ClauseElement | Callable[[str], ClauseElement]) -> None:
        self._statement = statement
        self._compiled: dict[str, _Compiled] = {}

    def _for(self, dialect: Dialect) -> _Compiled:
        found = self._compiled.get(dialect.name)
        if found is None:
            statement = self._statement if isinstance(self._statement, ClauseElement) else self._statement(dialect.name)
            compiled = statement.compile(dialect=dialect)
            assert isinstance(compiled, SQLCompiler)
            binds = {
                name: bind.type.dialect_impl(dialect).bind_processor(dialect) for name, bind in compiled.binds.items()
            }
            columns = tuple(statement.exported_columns) if isinstance(statement, ReturnsRows) else ()
            names = tuple(str(column.key) for column in columns)
            order = tuple(compiled.positiontup or ()) if dialect.positional else None
            defaults = _scalar_defaults(statement, binds)
            found = self._compiled[dialect.name] = _Compiled(
                compiled.string, compiled, binds, order, columns, names, defaults
            )
        return found

    def rows(self, session: Session, parameters: Mapping[str, Any]) -> list[dict[str, Any]]:
        """The rows the statement returns, each a dict by column key, in the session's transaction."""
        names, fetched, processors = self._run(session, parameters)
        return [_processed(names, processors, row) for row in fetched]

    def tuples(self, session: Session, parameters: Mapping[str, Any]) -> list[tuple[Any, ...]]:
        """The rows as tuples in the statement's column order: for many rows, where a dict per row
        would cost more than reading it (``bench/course_views.py``)."""
        _, fetched, processors = self._run(session, parameters)
        active = [(index, process) for index, process in enumerate(processors) if process is not None]
        if not active:
            return [tuple(row) for row in fetched]
        rows = []
        for row in fetched:
            values = list(row)
            for index, process in active:
                values[index] = process(values[index])
            rows.append(tuple(values))
        return rows

    def _run(
        self, session: Session, parameters: Mapping[str, Any]
    ) -> tuple[tuple[str, ...], Sequence[Sequence[Any]], tuple[Processor, ...]]:
        """The columns' keys, the driver's rows, and the columns' result processors."""
        connection = session.connection()
        dialect = connection.dialect
        compiled = self._for(dialect)
        values = compiled.compiled.construct_params({**compiled.defaults, **parameters})
        for name, process in compiled.binds.items():
            if process is not None and name in values:
                values[name] = process(values[name])
        arguments: Sequence[Any] | Mapping[str, Any] = (
            values if compiled.order is None else [values[name] for name in compiled.order]
        )
        dbapi_connection = connection.connection.dbapi_connection
        assert dbapi_connection is not None
        cursor = dbapi_connection.cursor()
        events = connection.dispatch
        try:
            if events.before_cursor_execute:  # listeners see the statement as they see any other
                events.before_cursor_execute(connection, cursor, compiled.sql, arguments, None, False)
            cursor.execute(compiled.sql, arguments)
            fetched = cursor.fetchall() if compiled.names else []
            # (the description once: psycopg builds it anew at each call, a column at a time)
            processors = compiled.results or (compiled.processors(dialect, cursor.description) if fetched else ())
            if events.after_cursor_execute:
                events.after_cursor_execute(connection, cursor, compiled.sql, arguments, None, False)
        except dialect.loaded_dbapi.Error as error:
            lost = dialect.is_disconnect(error, dbapi_connection, cursor)
            if lost:
                connection.invalidate(error)
            raise DBAPIError.instance(
                compiled.sql, arguments, error, dialect.loaded_dbapi.Error, connection_invalidated=lost, dialect=dialect
            ) from error
        finally:
            cursor.close()
        return compiled.names, fetched, processors


def _processed(names: tuple[str, ...], processors: tuple[Processor, ...], row: Sequence[Any]) -> dict[str, Any]:
    return {
        name: value if process is None else process(value)
        for name, process, value in zip(names, processors, row, strict=True)
    }
