"""A course's problem sets as the REST API and the pages use them: the library a course may use,
uploading a set file (checked as ``grader sets validate`` checks it, then stored as a version),
previewing any variant, and creating an assignment that pins a version."""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, datetime

from api.assignments import service
from api.assignments.schemas import AssignmentCreate, ProblemSetOut, SetCheckOut, SetPreview
from api.kit.config import not_offered
from api.kit.db import upsert
from api.kit.errors import NotFound, Unprocessable
from api.kit.ids import may_exist
from api.kit.slots import connection_released
from api.library.course_sets import Sets
from api.models import Assignment, CourseSet
from api.set_checks.limits import CheckLimits
from api.set_checks.service import (
    PASSED,
    CheckDeferrer,
    SetCheck,
    begin_check,
    checks_of,
    issue_json,
    require_passed,
)
from grader.code.check import compile_issues
from grader.selftest import check_set
from problems.loader import Issue, SetFileError, parse_set
from problems.sets import ProblemSet
from problems.types.code import CodeProblem
from problems.variants import variant_key

#: The preview's variant parameters: a seed (as ``grader problems show --seed``) and an id's length.
MAX_SEED = 2**31 - 1
MAX_ID_LENGTH = 64
#: Where a file's top-level ``id:`` is, for the refusal of an id the library already uses.
_TOP_LEVEL_ID = re.compile(r"^id\s*:", re.MULTILINE)


@dataclass(frozen=True)
class Uploaded:
    """What an upload stored: the set, whether the version is new to the course, and its check
    (``started``: by this upload, whose runner is woken once the request has committed)."""

    problem_set: ProblemSet
    new: bool
    check: SetCheck
    started: bool

    @property
    def status_code(self) -> int:
        """202 while the version's check is not over; else 201 for a version new to the course, 200
        for one it had."""
        if not self.check.over:
            return 202
        return 201 if self.new else 200


def upload(
    sets: Sets,
    *,
    course_id: str,
    text: str,
    uploaded_by: str,
    packages: Collection[str] = (),
    limits: CheckLimits | None = None,
    defer_check: CheckDeferrer | None = None,
) -> Uploaded:
    """The set of ``text``, stored as a version of the course's set of that id (nothing changes
    for a file that does not validate: :class:`Unprocessable` lists each issue with its line).

    What costs little is checked here, so a bad file is refused at once: the schema, every probe
    variant solved, the set's own answer tests, its modules compiled (apart, never in this
    process), and the packages its problems name (``packages``, the code workers' allow-list
    ``GRADER_CODE_PACKAGES``). Running its code parts' solutions and mistakes on their tests is the
    version's check, a job (:mod:`api.set_checks`) started here unless the version has one that did
    not fail; ``limits`` bound it, and an instructor past them is refused (429) with nothing stored.
    ``defer_check``: defers the job in this transaction (PostgreSQL)."""
    with connection_released(sets.session, slot_too=True):
        try:
            problem_set = parse_set(text, "upload")
        except SetFileError as error:
            raise Unprocessable([issue_json(issue) for issue in error.issues]) from None
        failed = check_set(problem_set)  # the set's own checks and every part's own answers, as validate runs them
        failed += packages_refused(problem_set, packages)
        if not failed and problem_set.code():
            failed = compile_issues(problem_set)
    if failed:
        raise Unprocessable([issue_json(issue) for issue in failed])
    if problem_set.id in sets.library.built_in():
        line = text[: found.start()].count("\n") + 1 if (found := _TOP_LEVEL_ID.search(text)) else None
        message = f"{problem_set.id!r} is the id of a built-in set; give the course's own set another id"
        raise Unprocessable([issue_json(Issue(line, 1 if line else None, "id", message))])
    known = problem_set.version in sets.course_versions(course_id).get(problem_set.id, [])
    sets.store(problem_set, text)
    check, started = begin_check(
        sets.session,
        problem_set=problem_set,
        course_id=course_id,
        user_id=uploaded_by,
        limits=limits or CheckLimits(),
        defer=defer_check,
        now=datetime.now(UTC),
    )
    if not known:
        values = {"course_id": course_id, "set_id": problem_set.id, "version": problem_set.version}
        upsert(sets.session, CourseSet, {**values, "uploaded_by": uploaded_by}, keys=tuple(values))
    sets.library.remember(problem_set)
    return Uploaded(problem_set, not known, check, started)


def packages_refused(problem_set: ProblemSet, offered: Collection[str]) -> list[Issue]:
    """An issue at the ``packages`` of each problem naming a package outside ``offered``, the code
    workers' allow-list: its code could not be run here, nor by the workers."""
    issues = []
    for index, problem in enumerate(problem_set.problems):
        asked = problem.spec.packages if isinstance(problem.spec, CodeProblem) else ()
        refused = [package for package in asked if package not in offered]
        if not refused:
            continue
        where = problem_set.where.find(("problems", index, "packages")) if problem_set.where is not None else None
        line, column = (where.line, where.column) if where else (None, None)
        issues.append(Issue(line, column, "packages", not_offered(refused, offered), problem.id))
    return issues


def set_out(problem_set: ProblemSet, *, built_in: bool, versions: list[str], check: SetCheck) -> ProblemSetOut:
    return ProblemSetOut(
        id=problem_set.id,
        title=problem_set.title,
        version=problem_set.version,
        built_in=built_in,
        versions=versions,
        randomized=problem_set.randomized,
        source=problem_set.source,
        keys=problem_set.answer_keys(),
        max_score=service.max_score(problem_set),
        check=SetCheckOut.model_validate(check),
    )


def course_library(sets: Sets, course_id: str) -> list[ProblemSetOut]:
    """The built-in sets, then the course's own, each with its newest version (and that version's
    check) and every version the course may use (oldest first)."""
    found = [set_out(s, built_in=True, versions=[s.version], check=PASSED) for s in sets.library.built_in().values()]
    own = []
    for versions in sets.course_versions(course_id).values():
        newest = sets.library.version(sets.session, versions[-1])
        if newest is not None:
            own.append((newest, versions))
    checks = checks_of(sets.session, [newest.version for newest, _ in own])
    found += [set_out(s, built_in=False, versions=versions, check=checks[s.version]) for s, versions in own]
    return found


def course_set(sets: Sets, *, course_id: str, set_id: str, version: str | None) -> ProblemSetOut:
    """One set the course may use, at ``version`` (its newest without one), with that version's
    check; :class:`NotFound` otherwise."""
    found = sets.usable(course_id, set_id, version) if may_exist(set_id) else None
    if found is None:
        raise NotFound(f"No problem set {set_id!r}" + (f" of version {version!r}" if version else "") + ".")
    uploaded = sets.course_versions(course_id).get(set_id, [])
    built_in = found.version not in uploaded
    versions = uploaded or [found.version]
    check = checks_of(sets.session, [found.version])[found.version]
    return set_out(found, built_in=built_in, versions=versions, check=check)


def usable(sets: Sets, course_id: str, set_id: str, version: str | None) -> ProblemSet:
    """The set (and version) the course may use: :class:`Unprocessable` naming what it may use
    otherwise, :class:`api.kit.errors.Conflict` for a version whose check has not passed."""
    found = sets.usable(course_id, set_id, version) if may_exist(set_id) else None
    if found is not None:
        require_passed(sets.session, found, course_versions=sets.course_versions(course_id).get(set_id, []))
        return found
    if version is not None and sets.usable(course_id, set_id) is not None:
        raise Unprocessable(f"The problem set {set_id!r} has no version {version!r} this course may use.")
    names = sorted({*sets.library.built_in(), *sets.course_versions(course_id)})
    raise Unprocessable(f"No problem set {set_id!r}; the course may use: {', '.join(names)}.")


def preview(
    sets: Sets,
    *,
    course_id: str,
    set_id: str,
    version: str | None,
    student: str | None,
    seed: int | None,
    assignment_id: str | None = None,
) -> SetPreview:
    """The statements and reference answers of the declared numbers, of the variant of ``seed``,
    or of ``student``: drawn from the secret of ``assignment_id`` (the student's numbers in that
    assignment, which must use the set), else from the student's id (as ``grader problems show SET
    --student ID`` would); :class:`NotFound` for a set the course may not use, an assignment of
    another set or an unknown one."""
    problem_set = sets.usable(course_id, set_id, version) if may_exist(set_id) else None
    if problem_set is None:
        raise NotFound(f"No problem set {set_id!r}" + (f" of version {version!r}" if version else "") + ".")
    secret = None
    if assignment_id is not None:
        assignment = sets.session.get(Assignment, (course_id, assignment_id)) if may_exist(assignment_id) else None
        if assignment is None or assignment.problem_set != set_id:
            raise NotFound(f"No assignment {assignment_id!r} of the set {set_id!r} in course {course_id!r}.")
        secret = assignment.variant_secret
    # (a choice part's options are shuffled per student whether or not the set varies its numbers)
    options = variant_key(seed=seed) if seed is not None else variant_key(student=student, secret=secret)
    if seed is not None or secret is not None:  # (of a set with pools, that draw's problems; never by the id alone)
        problem_set = problem_set.drawn(options)
    variant = None
    if problem_set.randomized and seed is not None:
        variant = variant_key(seed=seed)
    elif problem_set.randomized and student is not None:
        variant = variant_key(student=student, secret=secret)
    return SetPreview(
        id=problem_set.id,
        version=problem_set.version,
        variant=variant,
        max_score=service.max_score(problem_set),
        problems=service.statements(problem_set, variant, options),
        reference=service.reference_answers(problem_set, variant),
    )


def create_assignment(sets: Sets, *, course_id: str, created_by: str, body: AssignmentCreate) -> Assignment:
    """The assignment ``body`` describes, pinning the version of its set (stored if it was not)."""
    problem_set = usable(sets, course_id, body.problem_set, body.version)
    sets.pin(problem_set)
    return service.create_assignment(
        sets.session,
        problem_set=problem_set,
        course_id=course_id,
        created_by=created_by,
        assignment_id=body.id,
        title=body.title,
        due_at=body.due_at,
        max_attempts=body.max_attempts,
        release_answers=body.release_answers.value,
        grade_policy=body.grade_policy.value,
        late_penalty=None if body.late_penalty is None else body.late_penalty.model_dump(),
        practice=body.practice.value,
        opens_at=body.opens_at,
        closes_at=body.closes_at,
        published=body.published,
        grace_minutes=body.grace_minutes,
        category=body.category,
        feedback=body.feedback.value,
        time_limit=body.time_limit,
        access=None if body.access is None else body.access.model_dump(exclude_unset=True),
    )
