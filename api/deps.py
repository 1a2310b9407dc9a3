"""Dependencies: the session (one commit per request), the caller, the bank, load-or-404."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import fields
from typing import Annotated, TypeVar, cast

import anyio
from anyio.lowlevel import RunVar
from fastapi import Depends, Path, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import Engine, Table, bindparam, select
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from api.assignments.service import AssignmentRow, Terms
from api.bank import Bank
from api.config import DB_CONCURRENCY
from api.db import READS_ONLY, WRITES_ONCE, first_read
from api.errors import Forbidden, NotAuthenticated, NotFound
from api.models import ApiToken, Assignment, Role, Submission, User
from api.users.service import Caller, authenticate
from api.users.tokens import hash_token
from problems.sets import ProblemSet

READ_ONLY_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

_database_slots: RunVar[anyio.Semaphore] = RunVar("grader_database_slots")


def database_slots() -> anyio.Semaphore:
    """The event loop's :data:`api.config.DB_CONCURRENCY` slots: a request holds one while it
    uses the database (the sessions of :data:`SessionDep`, and the submit endpoint's connection).
    One semaphore per event loop, as anyio primitives belong to the loop that made them."""
    try:
        return _database_slots.get()
    except LookupError:
        slots = anyio.Semaphore(DB_CONCURRENCY)
        _database_slots.set(slots)
        return slots


async def get_session(request: Request) -> AsyncIterator[Session]:
    """Commits once when the endpoint returns, before the response is sent; rolls back on any error.

    On SQLite a request that may write takes the write lock as its transaction begins, unless its
    endpoint is marked :func:`api.db.reads_only`.

    ``async`` although sessions are sync: making a session does no I/O, so it happens in the event
    loop; the first statement (the caller's token, :func:`get_current_user`) begins the transaction
    in the threadpool, and the commit or rollback with the closing is one more hop at the end. A
    session without a transaction (:func:`_engine_for`) has nothing to commit, and giving its
    connection back to the pool sends nothing to the database: it is closed in the loop."""
    async with database_slots():
        bind = _engine_for(request)
        session: Session = request.app.state.sessionmaker(bind=bind)
        try:
            yield session
        except BaseException:
            with anyio.CancelScope(shield=True):
                await run_in_threadpool(_rollback_and_close, session)
            raise
        if bind is request.app.state.autocommit_engine:
            session.close()
        else:
            await run_in_threadpool(_commit_and_close, session)


def _engine_for(request: Request) -> Engine:
    """A transaction that takes SQLite's write lock as it begins for a request that may write; none
    (each statement commits by itself) for one that reads only, or whose one write is a single
    statement: for those a transaction would add two round trips and isolate nothing that READ
    COMMITTED, the service's level, does not already give each statement."""
    state, endpoint = request.app.state, request.scope.get("endpoint")
    reads = request.method in READ_ONLY_METHODS or getattr(endpoint, READS_ONLY, False)
    return state.autocommit_engine if reads or getattr(endpoint, WRITES_ONCE, False) else state.write_engine


def _commit_and_close(session: Session) -> None:
    try:
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def _rollback_and_close(session: Session) -> None:
    try:
        session.rollback()
    finally:
        session.close()


# scope="function": the commit happens before the response goes out, so a 201 means stored.
SessionDep = Annotated[Session, Depends(get_session, scope="function")]


# The dependencies that neither block nor compute are ``async def``: FastAPI runs a plain ``def``
# dependency in the threadpool, and each such hop (a thread wake-up and a GIL hand-over, twice)
# cost more than the work itself under load (``bench/service.py``).


async def get_bank(request: Request) -> dict[str, ProblemSet]:
    """The bank; looking for changed set files is a few ``stat`` calls at most once a second."""
    bank: Bank = request.app.state.bank
    return bank.sets()


BankDep = Annotated[dict[str, ProblemSet], Depends(get_bank)]

bearer = HTTPBearer(auto_error=False, description="An API token from `grader users create` or the roster import.")


Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]


def token_of(credentials: HTTPAuthorizationCredentials | None) -> str:
    """The bearer token sent (401 without one)."""
    if credentials is None or not credentials.credentials:
        raise NotAuthenticated("Not authenticated: send 'Authorization: Bearer TOKEN'.")
    return credentials.credentials


INVALID_TOKEN = "Invalid token."


def require_role(user: Caller, role: Role) -> Caller:
    """``user`` if it has ``role``; 403 otherwise."""
    if user.role != role:
        raise Forbidden(f"Only {role.value}s may do this.")
    return user


def get_current_user(request: Request, session: SessionDep, credentials: Credentials) -> Caller:
    """The caller (401 without a valid token): the first statement of every API request, so the
    one read that :func:`api.db.first_read` retries on a new connection. On a path about an
    assignment the same query reads the assignment (:func:`load_assignment` takes it from there)."""
    token = token_of(credentials)
    wanted = request.path_params.get("assignment_id")
    if wanted is None or not may_exist(wanted):
        caller = first_read(session, lambda: authenticate(session, token=token))
    else:
        found = first_read(session, lambda: _caller_and_assignment(session, token, wanted))
        caller, request.state.assignment = (None, None) if found is None else found
    if caller is None:
        raise NotAuthenticated(INVALID_TOKEN)
    return caller


_USERS, _TOKENS, _ASSIGNMENTS = (cast(Table, m.__table__) for m in (User, ApiToken, Assignment))
#: The caller by token hash and the assignment by id, in one statement built once (Core columns
#: run on the connection: an ORM query cost more than its round trip, ``bench/service.py``).
_CALLER_AND_ASSIGNMENT = (
    select(_USERS.c.id, _USERS.c.role, *(c.label(f"a_{c.name}") for c in _ASSIGNMENTS.c))
    .select_from(
        _TOKENS.join(_USERS, _USERS.c.id == _TOKENS.c.user_id).outerjoin(
            _ASSIGNMENTS, _ASSIGNMENTS.c.id == bindparam("assignment_id")
        )
    )
    .where(_TOKENS.c.token_hash == bindparam("token_hash"), _USERS.c.on_roster.is_(True))
)
_ASSIGNMENT_COLUMNS = tuple(field.name for field in fields(AssignmentRow))


def _caller_and_assignment(
    session: Session, token: str, assignment_id: str
) -> tuple[Caller, AssignmentRow | None] | None:
    parameters = {"token_hash": hash_token(token), "assignment_id": assignment_id}
    row = session.connection().execute(_CALLER_AND_ASSIGNMENT, parameters).first()
    if row is None:
        return None
    values = row._mapping
    assignment = None if values["a_id"] is None else AssignmentRow(**{c: values[f"a_{c}"] for c in _ASSIGNMENT_COLUMNS})
    return Caller(row.id, row.role), assignment


CurrentUser = Annotated[Caller, Depends(get_current_user)]


async def get_instructor(user: CurrentUser) -> Caller:
    return require_role(user, Role.INSTRUCTOR)


async def get_student(user: CurrentUser) -> Caller:
    return require_role(user, Role.STUDENT)


InstructorUser = Annotated[Caller, Depends(get_instructor)]
StudentUser = Annotated[Caller, Depends(get_student)]


ID_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,63}")
#: Larger ids cannot exist (and would overflow the database's integer).
MAX_ROW_ID = 2**31 - 1

Row = TypeVar("Row")


def may_exist(key: str | int) -> bool:
    """Whether a row could have this key: an id of the form ids take, a row number in range. Other
    keys are looked up nowhere (a NUL byte or a 40-digit number is an error to PostgreSQL)."""
    return ID_PATTERN.fullmatch(key) is not None if isinstance(key, str) else 1 <= key <= MAX_ROW_ID


def get_or_404(session: Session, model: type[Row], key: str | int, *, what: str) -> Row:
    """The row of ``model`` with primary key ``key``; 404 naming ``what`` if there is none."""
    row = session.get(model, key) if may_exist(key) else None
    if row is None:
        raise NotFound(f"No {what} {key!r}.")
    return row


async def get_student_id(student_id: str) -> str:
    """A student id in the path, 404 if no student can have it."""
    if not may_exist(student_id):
        raise NotFound(f"No student {student_id!r}.")
    return student_id


StudentIdPath = Annotated[str, Depends(get_student_id)]


async def load_assignment(assignment_id: str, request: Request, _user: CurrentUser) -> AssignmentRow:
    """Every signed-in account may see every assignment (one course per service). Read with the
    caller (:func:`get_current_user`), so this does no I/O."""
    assignment: AssignmentRow | None = getattr(request.state, "assignment", None)
    if assignment is None:
        raise NotFound(f"No assignment {assignment_id!r}.")
    return assignment


def load_submission(submission_id: Annotated[int, Path()], session: SessionDep, user: CurrentUser) -> Submission:
    submission = get_or_404(session, Submission, submission_id, what="submission")
    if user.role != Role.INSTRUCTOR and submission.student_id != user.id:
        raise Forbidden("This is another student's submission.")
    return submission


AssignmentDep = Annotated[AssignmentRow, Depends(load_assignment)]
SubmissionDep = Annotated[Submission, Depends(load_submission)]


def problem_set_of(assignment: Terms, bank: dict[str, ProblemSet]) -> ProblemSet:
    if assignment.problem_set not in bank:
        raise NotFound(f"The problem set {assignment.problem_set!r} of this assignment is no longer in the bank.")
    return bank[assignment.problem_set]
