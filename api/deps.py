"""Dependencies: the session (one commit per request), the caller, the bank, load-or-404."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Annotated, TypeVar

import anyio
from anyio.lowlevel import RunVar
from fastapi import Depends, Path, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from api.assignments.service import Terms
from api.bank import Bank
from api.config import DB_CONCURRENCY
from api.db import READS_ONLY, first_read
from api.errors import Forbidden, NotAuthenticated, NotFound
from api.models import Assignment, Role, Submission
from api.users.service import Caller, authenticate
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
    in the threadpool, and the commit or rollback with the closing is one more hop at the end."""
    async with database_slots():
        state = request.app.state
        reads_only = getattr(request.scope.get("endpoint"), READS_ONLY, False)
        writes = request.method not in READ_ONLY_METHODS and not reads_only
        session: Session = state.sessionmaker(bind=state.write_engine if writes else state.engine)
        try:
            yield session
        except BaseException:
            with anyio.CancelScope(shield=True):
                await run_in_threadpool(_rollback_and_close, session)
            raise
        await run_in_threadpool(_commit_and_close, session)


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


def get_current_user(session: SessionDep, credentials: Credentials) -> Caller:
    """The caller (401 without a valid token): the first statement of every API request, so the
    one read that :func:`api.db.first_read` retries on a new connection."""
    token = token_of(credentials)
    caller = first_read(session, lambda: authenticate(session, token=token))
    if caller is None:
        raise NotAuthenticated(INVALID_TOKEN)
    return caller


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


def load_assignment(assignment_id: str, session: SessionDep, _user: CurrentUser) -> Assignment:
    """Every signed-in account may see every assignment (one course per service)."""
    return get_or_404(session, Assignment, assignment_id, what="assignment")


def load_submission(submission_id: Annotated[int, Path()], session: SessionDep, user: CurrentUser) -> Submission:
    submission = get_or_404(session, Submission, submission_id, what="submission")
    if user.role != Role.INSTRUCTOR and submission.student_id != user.id:
        raise Forbidden("This is another student's submission.")
    return submission


AssignmentDep = Annotated[Assignment, Depends(load_assignment)]
SubmissionDep = Annotated[Submission, Depends(load_submission)]


def problem_set_of(assignment: Terms, bank: dict[str, ProblemSet]) -> ProblemSet:
    if assignment.problem_set not in bank:
        raise NotFound(f"The problem set {assignment.problem_set!r} of this assignment is no longer in the bank.")
    return bank[assignment.problem_set]
