"""Dependencies: the session (one commit per request), the caller, the bank, load-or-404."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Annotated, Protocol, TypeVar

import anyio
from anyio.lowlevel import RunVar
from fastapi import Depends, Path, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from api.assignments.service import Terms
from api.bank import Bank
from api.config import DB_CONCURRENCY
from api.db import READS_ONLY, SQLITE_WRITE
from api.errors import Forbidden, NotAuthenticated, NotFound
from api.models import Assignment, Role, Submission, User
from api.users.service import authenticate
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

    On SQLite a request that may write takes the write lock at once, unless its endpoint is
    marked :func:`api.db.reads_only`.

    ``async`` although sessions are sync: making a session does no I/O, so it happens in the event
    loop, and what does talk to the database (taking SQLite's lock; the commit or rollback with the
    closing) runs in the threadpool, one hop at each end instead of a hop for every step."""
    async with database_slots():
        session: Session = request.app.state.sessionmaker()
        try:
            reads_only = getattr(request.scope.get("endpoint"), READS_ONLY, False)
            writes = request.method not in READ_ONLY_METHODS and not reads_only
            if writes and session.get_bind().dialect.name == "sqlite":
                await run_in_threadpool(session.connection, execution_options={SQLITE_WRITE: True})
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


async def get_token(credentials: Credentials) -> str:
    return token_of(credentials)


#: The bearer token, 401 without one: a dependency, so that it is checked before the body is.
BearerToken = Annotated[str, Depends(get_token)]

INVALID_TOKEN = "Invalid token."


def user_of(session: Session, credentials: HTTPAuthorizationCredentials | None, role: Role | None = None) -> User:
    """The caller (401 without a valid token), in ``role`` if given (403 otherwise)."""
    user = authenticate(session, token=token_of(credentials))
    if user is None:
        raise NotAuthenticated(INVALID_TOKEN)
    return user if role is None else require_role(user, role)


class HasRole(Protocol):
    @property
    def role(self) -> str: ...


Caller = TypeVar("Caller", bound=HasRole)


def require_role(user: Caller, role: Role) -> Caller:
    """``user`` (an account, or what the submit endpoint reads of one) if it has ``role``."""
    if user.role != role:
        raise Forbidden(f"Only {role.value}s may do this.")
    return user


def get_current_user(session: SessionDep, credentials: Credentials) -> User:
    return user_of(session, credentials)


CurrentUser = Annotated[User, Depends(get_current_user)]


async def get_instructor(user: CurrentUser) -> User:
    return require_role(user, Role.INSTRUCTOR)


async def get_student(user: CurrentUser) -> User:
    return require_role(user, Role.STUDENT)


InstructorUser = Annotated[User, Depends(get_instructor)]
StudentUser = Annotated[User, Depends(get_student)]


ID_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,63}")
#: Larger ids cannot exist (and would overflow the database's integer).
MAX_ROW_ID = 2**31 - 1


def load_assignment(assignment_id: str, session: SessionDep, _user: CurrentUser) -> Assignment:
    """Every signed-in account may see every assignment (one course per service)."""
    return assignment_of(session, assignment_id)


def assignment_of(session: Session, assignment_id: str) -> Assignment:
    assignment = session.get(Assignment, assignment_id) if ID_PATTERN.fullmatch(assignment_id) else None
    if assignment is None:
        raise NotFound(f"No assignment {assignment_id!r}.")
    return assignment


def load_submission(submission_id: Annotated[int, Path()], session: SessionDep, user: CurrentUser) -> Submission:
    submission = session.get(Submission, submission_id) if 1 <= submission_id <= MAX_ROW_ID else None
    if submission is None:
        raise NotFound(f"No submission {submission_id}.")
    if user.role != Role.INSTRUCTOR and submission.student_id != user.id:
        raise Forbidden("This is another student's submission.")
    return submission


AssignmentDep = Annotated[Assignment, Depends(load_assignment)]
SubmissionDep = Annotated[Submission, Depends(load_submission)]


def problem_set_of(assignment: Terms, bank: dict[str, ProblemSet]) -> ProblemSet:
    if assignment.problem_set not in bank:
        raise NotFound(f"The problem set {assignment.problem_set!r} of this assignment is no longer in the bank.")
    return bank[assignment.problem_set]
