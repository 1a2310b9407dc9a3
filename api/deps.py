"""Dependencies: the session (one commit per request), the caller, the bank, load-or-404."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, TypeVar

import anyio
from fastapi import Depends, Path, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import Engine
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from api.access import (
    Access,
    Member,
    SubmissionAccess,
    member_of,
    read_access,
    read_submission_access,
    require_assignment,
    require_member,
)
from api.kit.db import READS_ONLY, WRITES, WRITES_ONCE, first_read
from api.kit.errors import Forbidden, NotAuthenticated, NotFound
from api.kit.ids import may_exist
from api.kit.slots import SLOT, Slot, database_slots
from api.library.course_sets import Sets
from api.models import CourseRole, Role, Submission
from api.terms.rows import AssignmentRow, Terms, with_extension
from api.users.service import Caller, authenticate
from problems.sets import ProblemSet

READ_ONLY_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@asynccontextmanager
async def request_session(request: Request, *, patient: bool = False) -> AsyncIterator[Session]:
    """The request's session: commits once when the block ends, rolls back on any error. Holds one
    of the :func:`api.kit.slots.database_slots` meanwhile (given back while the request computes off the
    database, :func:`api.kit.slots.connection_released`).

    On SQLite a request that may write takes the write lock as its transaction begins, unless its
    endpoint is marked :func:`api.kit.db.reads_only`.

    ``async`` although sessions are sync: making a session does no I/O, so it happens in the event
    loop; the first statement (the caller's token, :func:`get_current_user`) begins the transaction
    in the threadpool, and the commit or rollback with the closing is one more hop at the end. A
    session without a transaction (:func:`_engine_for`) has nothing to commit, and giving its
    connection back to the pool sends nothing to the database: it is closed in the loop.

    ``patient``: a read whose caller waits for a result anyway (``?wait=``) takes its slot behind
    the other requests waiting for one (:data:`api.kit.slots.PATIENCE`)."""
    slot = Slot(database_slots(request.app.state.settings.db_slots), patient=patient)
    await slot.take()
    try:
        bind = _engine_for(request)
        session: Session = request.app.state.sessionmaker(bind=bind)
        session.info[SLOT] = slot  # given back meanwhile by work off the database (api.kit.slots)
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
    finally:
        slot.give_back()
    await _after_commit(request, session)


async def get_session(request: Request) -> AsyncIterator[Session]:
    """:func:`request_session` as a dependency: the endpoint returns inside it, so its session has
    committed before the response goes out (``scope="function"``)."""
    async with request_session(request) as session:
        yield session


async def _after_commit(request: Request, session: Session) -> None:
    """What a committed transaction asks for by a key in its session's ``info``: the app's hook of
    that key (``app.state.after_commit``; telling the LMS sender that scores are due, say)."""
    for key, hook in request.app.state.after_commit.items():
        if session.info.get(key):
            await run_in_threadpool(hook)


def _engine_for(request: Request) -> Engine:
    """A transaction that takes SQLite's write lock as it begins for a request that may write; none
    (each statement commits by itself) for one that reads only, or whose one write is a single
    statement: for those a transaction would add two round trips and isolate nothing that READ
    COMMITTED, the service's level, does not already give each statement."""
    state, endpoint = request.app.state, request.scope.get("endpoint")
    reads = (request.method in READ_ONLY_METHODS and not getattr(endpoint, WRITES, False)) or getattr(
        endpoint, READS_ONLY, False
    )
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


async def get_sets(request: Request, session: SessionDep) -> Sets:
    """The problem sets, as this request's session reads them (:mod:`api.library.course_sets`)."""
    return Sets(request.app.state.library, session)


SetsDep = Annotated[Sets, Depends(get_sets)]

bearer = HTTPBearer(auto_error=False, description="An API token from `grader users create` or the roster import.")


#: The Authorization header's bearer credentials, if any.
Bearer = HTTPAuthorizationCredentials | None
Credentials = Annotated[Bearer, Depends(bearer)]


def token_of(credentials: Bearer) -> str:
    """The bearer token sent (401 without one)."""
    if credentials is None or not credentials.credentials:
        raise NotAuthenticated("Not authenticated: send 'Authorization: Bearer TOKEN'.")
    return credentials.credentials


INVALID_TOKEN = "Invalid token."


def get_current_user(request: Request, session: SessionDep, credentials: Credentials) -> Caller:
    """The caller (401 without a valid token): :func:`authenticate_request` as a dependency."""
    return authenticate_request(request, session, credentials)


def authenticate_request(request: Request, session: Session, credentials: Bearer) -> Caller:
    """The caller (401 without a valid token): the first statement of every API request, so the
    one read that :func:`api.kit.db.first_read` retries on a new connection. On a course's path the
    same statement reads the caller's role in the course, and on an assignment's path the
    assignment and the caller's extension (:func:`get_member`, :func:`load_assignment` take them
    from ``request.state``). It does I/O, so it runs in a worker thread: as the dependency
    :data:`CurrentUser`, or inside an endpoint that does its whole work in one thread (submitting)."""
    token = token_of(credentials)
    course = request.path_params.get("course_id")
    if course is None:
        found = first_read(session, lambda: authenticate(session, token=token))
        caller, used = (None, None) if found is None else found
    else:
        wanted = request.path_params.get("assignment_id")
        seen = first_read(session, lambda: read_access(session, token, course, wanted))
        caller, used = (None, None) if seen is None else (seen.caller, seen.token)
        request.state.access = seen
    if caller is None:
        raise NotAuthenticated(INVALID_TOKEN)
    if used is not None:
        request.app.state.token_uses.note(used)
    return caller


CurrentUser = Annotated[Caller, Depends(get_current_user)]


async def get_member(course_id: Annotated[str, Path()], request: Request, _user: CurrentUser) -> Member:
    """The caller as a member of the course in the path: 404, as if the course did not exist, for
    anyone who is not a member (an admin is one of every course). Read with the caller."""
    access: Access | None = request.state.access
    assert access is not None  # (read by get_current_user, which raised otherwise)
    return require_member(access, course_id)


MemberDep = Annotated[Member, Depends(get_member)]


async def get_staff(member: MemberDep) -> Member:
    if not member.is_staff:
        raise Forbidden("Only the course's staff (instructors and TAs) may do this.")
    return member


async def get_runner(member: MemberDep) -> Member:
    if not member.runs:
        raise Forbidden("Only the course's owner and instructors may do this.")
    return member


async def get_course_student(member: MemberDep) -> Member:
    return require_student(member)


def require_student(member: Member) -> Member:
    if member.role != CourseRole.STUDENT:
        raise Forbidden("Only the course's students may do this.")
    return member


async def get_course_creator(user: CurrentUser) -> Caller:
    if user.role not in (Role.INSTRUCTOR, Role.ADMIN):
        raise Forbidden("Only instructor and admin accounts may create courses.")
    return user


StaffMember = Annotated[Member, Depends(get_staff)]
RunnerMember = Annotated[Member, Depends(get_runner)]
StudentMember = Annotated[Member, Depends(get_course_student)]
CourseCreator = Annotated[Caller, Depends(get_course_creator)]


Row = TypeVar("Row")


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


async def get_member_id(member_id: str) -> str:
    """A member id in the path, 404 if no account can have it."""
    if not may_exist(member_id):
        raise NotFound(f"No member {member_id!r}.")
    return member_id


MemberIdPath = Annotated[str, Depends(get_member_id)]


async def load_assignment(assignment_id: str, request: Request, _member: MemberDep) -> AssignmentRow:
    """The assignment in the path, of the caller's course (read with the caller, so no I/O here)."""
    return require_assignment(request.state.access, assignment_id)


AssignmentDep = Annotated[AssignmentRow, Depends(load_assignment)]


async def student_terms(assignment: AssignmentDep, request: Request) -> Terms:
    """The assignment as it applies to the calling student: their extension's due date and attempt
    limit in place of the assignment's."""
    access: Access = request.state.access
    return with_extension(assignment, access.extension)


def student_and_terms(request: Request, session: Session, credentials: Bearer) -> tuple[Member, Terms]:
    """What :data:`StudentMember` and :data:`StudentTermsDep` give, checked in the same order, read
    in the calling worker thread: for an endpoint that does its whole work in one thread."""
    authenticate_request(request, session, credentials)
    access: Access = request.state.access
    student = require_student(require_member(access, request.path_params["course_id"]))
    assignment = require_assignment(access, request.path_params["assignment_id"])
    return student, with_extension(assignment, access.extension)


def load_submission(submission_id: Annotated[int, Path()], session: SessionDep, user: CurrentUser) -> Submission:
    """For its student, and for the staff of its course (403 for another member of the course; 404
    for anyone else, who may not know the course exists)."""
    submission = get_or_404(session, Submission, submission_id, what="submission")
    if submission.student_id != user.id:
        _staff_only(submission_id, member_of(session, user, submission.course_id))
    return submission


def readable_submission(
    request: Request, session: Session, credentials: Bearer, submission_id: int
) -> SubmissionAccess:
    """:func:`authenticate_request` and :func:`load_submission` in one statement, with what the
    reply needs (:func:`api.access.read_submission_access`), in the calling worker thread: for the
    reads of a submission, which each reader of a deadline's burst makes at least twice."""
    token = token_of(credentials)
    found = first_read(session, lambda: read_submission_access(session, token, submission_id))
    if found is None:
        raise NotAuthenticated(INVALID_TOKEN)
    if found.access.token is not None:
        request.app.state.token_uses.note(found.access.token)
    if found.submission is None:
        raise NotFound(f"No submission {submission_id!r}.")
    if found.submission["student_id"] != found.access.caller.id:
        _staff_only(submission_id, found.access.member)
    return found


def _staff_only(submission_id: int, member: Member | None) -> None:
    """Another student's submission: 403 for a member of its course who is not staff, 404 for
    anyone outside it."""
    if member is None:
        raise NotFound(f"No submission {submission_id!r}.")
    if not member.is_staff:
        raise Forbidden("This is another student's submission.")


StudentTermsDep = Annotated[Terms, Depends(student_terms)]
SubmissionDep = Annotated[Submission, Depends(load_submission)]


def problem_set_of(assignment: Terms, sets: Sets) -> ProblemSet:
    """The set the assignment grades with; 404 if it is gone (a built-in file removed)."""
    found = sets.of(assignment)
    if found is None:
        raise NotFound(f"The problem set {assignment.problem_set!r} of this assignment is no longer available.")
    return found
