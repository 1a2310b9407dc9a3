"""The job that computes an assignment's similarity report, one function for both runners (the
service's own on SQLite, ``grader worker`` on PostgreSQL): :func:`run_similarity`.

Never on the submit path, and no database connection held while computing:

1. claimed in a short transaction (the job ``running``), then read in short sessions: the set
   version, what was asked (parts, starter), each student's latest submission, and which of those
   have no fingerprints yet;
2. the new ones fingerprinted with no session open, and written in one transaction
   (``similarity_documents`` and their ``similarity_prints``; a part already written by another
   runner is left as it is). A late submission is so lexed once, and the class never again;
3. the index read back (fingerprint → submission rows, only the asked parts), the pairs ranked with
   no session open (:mod:`grader.code_similarity`: rarity weights, the starter and the solutions
   weighing nothing), then the texts of the ranked pairs alone read to describe them (a pair the
   last report described, of the same two submissions, keeps its evidence: a report asked again
   after a late submission lexes only the pairs that submission brings);
4. the report written with the job ``done``.

Bounded: at most :data:`MAX_STUDENTS` students (more fails the job with a sentence), each part's
text lexed up to :data:`grader.code_similarity.tokens.MAX_CHARS` characters, at most
:data:`MAX_WORDS` names and comments kept per part, :data:`grader.code_similarity.report.LIMIT`
pairs ranked.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

import numpy as np
from sqlalchemy import Table, func, select
from sqlalchemy.orm import Session, sessionmaker

from api.kit.db import SQLITE_WRITE, dialect_insert
from api.library.course_sets import Library
from api.models import Job, JobStatus, SimilarityDocument, SimilarityPrint, SimilarityReport, Submission
from api.similarity.references import MAX_REFERENCE_STUDENTS, latest_of_references, mark_references
from api.similarity.written import merged, written_parts, written_report
from grader.code_similarity.evidence import words
from grader.code_similarity.index import Index
from grader.code_similarity.report import LIMIT, Document, Similarity, clusters, describe, rank, read
from grader.code_similarity.report import Submission as Code
from grader.code_similarity.tokens import code_of, lex
from grader.code_similarity.winnow import fingerprint
from problems.sets import ProblemSet, TwoModules

log = logging.getLogger("grader.jobs")

JOBS, SUBMISSIONS, DOCUMENTS, PRINTS, REPORTS = (
    cast(Table, m.__table__) for m in (Job, Submission, SimilarityDocument, SimilarityPrint, SimilarityReport)
)

#: Students a report compares at most (each one's latest submission).
MAX_STUDENTS = 5000
#: Names and comments kept per fingerprinted part (the rare ones are shown as evidence).
MAX_WORDS = 500
#: Rows per statement when fingerprints are written or submissions read.
CHUNK = 500
#: What a job's error is cut to.
MAX_ERROR = 2000


class SimilarityFailed(Exception):
    """A report that cannot be made, said in a sentence (the job is marked failed with it)."""


@dataclass(frozen=True)
class Fingerprints:
    """A part's fingerprints as stored: the distinct hashes, the code's tokens, its names and comments."""

    hashes: list[int]
    tokens: int
    words: list[str]


def fingerprint_part(text: str) -> Fingerprints:
    """A code part's fingerprints (its text, or a notebook's code cells)."""
    printed = fingerprint(lex(code_of(text)))
    held = sorted(words(printed), key=lambda word: (-len(word), word))[:MAX_WORDS]
    return Fingerprints(sorted(set(printed.hashes.tolist())), len(printed.stream), held)


def code_answers(problem_set: ProblemSet, answers: Mapping[str, Any]) -> dict[str, str]:
    """A submission's code parts' texts by part key (a module sent once under its problem's id
    answers each of its parts)."""
    try:
        per_part = problem_set.per_part(answers)
    except TwoModules:
        per_part = dict(answers)
    return {key: value for key in problem_set.code() if isinstance(value := per_part.get(key), str) and value.strip()}


def mistakes_of(problem_set: ProblemSet, graded: Mapping[str, Any]) -> list[str]:
    """A submission's failed tests of code parts, from its stored grade: by named mistake, or else
    by the test's name and feedback (the values it got), so that the same wrong values on a hidden
    test count as the same mistake."""
    made: list[str] = []
    for key in problem_set.code():
        part = graded.get(key)
        tests = part.get("tests") if isinstance(part, dict) else None
        for test in tests if isinstance(tests, list) else []:
            if isinstance(test, dict) and test.get("status") not in ("passed", None):
                what = test.get("misconception") or f"{test.get('name')}: {test.get('feedback')}"
                made.append(f"{key}: {what}")
    return made


def run_similarity(sessions: sessionmaker[Session], library: Library, job_id: int) -> str:
    """Runs the job to its end; its final status. A report that cannot be made fails the job with
    a sentence; any other error fails it with its name, and is raised again."""
    try:
        with sessions.begin() as session:
            claimed = _claim(session, job_id)
        if claimed is None:
            return _status(sessions, job_id)
        with _reading(sessions) as session:
            problem_set = library.version(session, claimed.set_version)
            if problem_set is None:
                raise SimilarityFailed(f"The problem set version {claimed.set_version} is no longer available.")
            latest = _latest(session, claimed)
            if len(latest) > MAX_STUDENTS:
                raise SimilarityFailed(f"More than {MAX_STUDENTS} students submitted: too many for one report.")
            new = _unprinted(session, claimed, latest)
            references = latest_of_references(session, claimed.references)
            if len(references) > MAX_REFERENCE_STUDENTS:
                raise SimilarityFailed(f"More than {MAX_REFERENCE_STUDENTS} students in the references: too many.")
        added = _fingerprint_new(sessions, claimed, problem_set, new)
        report = _report(sessions, claimed, problem_set, latest, references)
        with sessions.begin() as session:
            return _finish(session, claimed, report, latest, added)
    except SimilarityFailed as failed:
        _fail(sessions, job_id, str(failed))
        return JobStatus.FAILED.value
    except Exception as error:
        _fail(sessions, job_id, f"{type(error).__name__}: {error}")
        raise


@dataclass(frozen=True)
class _Claimed:
    job_id: int
    course_id: str
    assignment_id: str
    set_version: str
    parts: list[str] | None
    starter: str | None
    #: The last report (its pairs' evidence is kept where nothing changed: :func:`_described`).
    previous: dict[str, Any] | None
    #: Earlier assignments compared against (:mod:`api.similarity.references`).
    references: list[dict[str, str]] | None = None


@contextmanager
def _reading(sessions: sessionmaker[Session]) -> Iterator[Session]:
    """A short read, its connection back in the pool at the block's end (on SQLite, no write lock)."""
    with sessions() as session:
        session.connection(execution_options={SQLITE_WRITE: False})
        yield session


def _claim(session: Session, job_id: int) -> _Claimed | None:
    job = session.get(Job, job_id, with_for_update=True)
    if job is None or job.status in (JobStatus.DONE, JobStatus.FAILED) or job.assignment_id is None:
        return None
    asked = session.get(SimilarityReport, (job.course_id, job.assignment_id))
    job.status = JobStatus.RUNNING.value
    job.started_at = job.started_at or datetime.now(UTC)
    assert job.set_version is not None  # (fixed when asked for)
    return _Claimed(
        job.id,
        job.course_id,
        job.assignment_id,
        job.set_version,
        asked.parts if asked is not None else None,
        asked.starter if asked is not None else None,
        asked.report if asked is not None else None,
        asked.reference_assignments if asked is not None else None,
    )


def _status(sessions: sessionmaker[Session], job_id: int) -> str:
    with sessions() as session:
        return session.scalar(select(JOBS.c.status).where(JOBS.c.id == job_id)) or "gone"


def _latest(session: Session, job: _Claimed) -> dict[int, str]:
    """Each student's latest submission: id → student."""
    latest = (
        select(func.max(SUBMISSIONS.c.id).label("id"), SUBMISSIONS.c.student_id)
        .where(SUBMISSIONS.c.course_id == job.course_id, SUBMISSIONS.c.assignment_id == job.assignment_id)
        .group_by(SUBMISSIONS.c.student_id)
    )
    return {int(row.id): str(row.student_id) for row in session.execute(latest)}


def _unprinted(session: Session, job: _Claimed, latest: Mapping[int, str]) -> list[tuple[int, dict[str, Any]]]:
    """The latest submissions that have no fingerprints yet, with their answers."""
    printed = set(
        session.scalars(
            select(DOCUMENTS.c.submission_id)
            .where(DOCUMENTS.c.course_id == job.course_id, DOCUMENTS.c.assignment_id == job.assignment_id)
            .distinct()
        )
    )
    wanted = sorted(set(latest) - printed)
    found: list[tuple[int, dict[str, Any]]] = []
    for start in range(0, len(wanted), CHUNK):
        ids = wanted[start : start + CHUNK]
        rows = session.execute(select(SUBMISSIONS.c.id, SUBMISSIONS.c.answers).where(SUBMISSIONS.c.id.in_(ids)))
        found += [(int(row.id), dict(row.answers or {})) for row in rows]
    return found


def _fingerprint_new(
    sessions: sessionmaker[Session], job: _Claimed, problem_set: ProblemSet, new: Sequence[tuple[int, dict[str, Any]]]
) -> int:
    """The new submissions' code parts fingerprinted (no session open), then written in one
    transaction; how many submissions were. A submission with no code gets an empty row (``""``),
    so that it is not read again."""
    documents: list[dict[str, Any]] = []
    prints: list[dict[str, Any]] = []
    where = {"course_id": job.course_id, "assignment_id": job.assignment_id}
    for submission_id, answers in new:
        texts = code_answers(problem_set, answers)
        done: dict[str, Fingerprints] = {}
        for key, text in texts.items():
            found = done.get(text) or fingerprint_part(text)  # (a module sent once answers each of its parts)
            done[text] = found
            documents.append(
                {"submission_id": submission_id, "part": key, "tokens": found.tokens, "words": found.words, **where}
            )
            prints += [{"submission_id": submission_id, "part": key, "hash": h, **where} for h in found.hashes]
        if not texts:
            documents.append({"submission_id": submission_id, "part": "", "tokens": 0, "words": [], **where})
    if not documents:
        return 0
    with sessions.begin() as session:
        mine: set[tuple[int, str]] = set()
        for start in range(0, len(documents), CHUNK):
            inserted = session.execute(
                dialect_insert(session, DOCUMENTS)
                .values(documents[start : start + CHUNK])
                .on_conflict_do_nothing()
                .returning(DOCUMENTS.c.submission_id, DOCUMENTS.c.part)
            )
            mine |= {(int(row.submission_id), str(row.part)) for row in inserted}
        kept = [row for row in prints if (row["submission_id"], row["part"]) in mine]
        for start in range(0, len(kept), CHUNK):
            session.execute(PRINTS.insert(), kept[start : start + CHUNK])
    return len(new)


def _report(
    sessions: sessionmaker[Session],
    job: _Claimed,
    problem_set: ProblemSet,
    latest: Mapping[int, str],
    references: Mapping[int, str] | None = None,
) -> dict[str, Any]:
    """The report from the index in the database: fingerprints read by submission, pairs ranked
    with no session open, then the ranked pairs' texts read to describe them."""
    code_keys = list(problem_set.code())
    parts = [key for key in code_keys if job.parts is None or key in job.parts]
    scope = (
        (PRINTS.c.course_id == job.course_id) & (PRINTS.c.assignment_id == job.assignment_id) & PRINTS.c.part.in_(parts)
    )
    held: dict[int, list[int]] = {}
    said: dict[int, set[str]] = {}
    graded: dict[int, list[str]] = {}
    with _reading(sessions) as session:
        # (distinct: a module sent once answers each of its parts, and is stored under each; the
        # index counts a fingerprint once a submission)
        held_prints = select(PRINTS.c.submission_id, PRINTS.c.hash).where(scope).distinct()
        for submission_id, h in session.execute(held_prints):
            if submission_id in latest:
                held.setdefault(int(submission_id), []).append(int(h))
        documents = select(DOCUMENTS.c.submission_id, DOCUMENTS.c.words).where(
            DOCUMENTS.c.course_id == job.course_id,
            DOCUMENTS.c.assignment_id == job.assignment_id,
            DOCUMENTS.c.part.in_(parts),
        )
        for submission_id, held_words in session.execute(documents):
            if submission_id in latest:
                said.setdefault(int(submission_id), set()).update(held_words or ())
        ids = sorted(latest)
        for start in range(0, len(ids), CHUNK):
            rows = session.execute(
                select(SUBMISSIONS.c.id, SUBMISSIONS.c.parts).where(SUBMISSIONS.c.id.in_(ids[start : start + CHUNK]))
            )
            graded.update((int(row.id), mistakes_of(problem_set, row.parts or {})) for row in rows)
    references = references or {}
    referenced = _read_answers(sessions, references)
    # computed with no session open
    similarity = Similarity(parts)
    starters = [job.starter] if job.starter else []
    starters += list(dict.fromkeys(problem_set.solution_of(key) for key in code_keys))
    similarity.ignore(starters)
    index: Index = similarity.index
    numbers: dict[int, int] = {}
    for submission_id in sorted(latest):
        numbers[submission_id] = index.add(latest[submission_id], np.array(held.get(submission_id, []), dtype=np.int64))
    reference_words: list[set[str]] = []
    for submission_id, name in sorted(references.items()):
        printed = [fingerprint_part(text) for text in set(_code_of(problem_set, referenced[submission_id], parts))]
        hashes = np.array(sorted({h for found in printed for h in found.hashes}), dtype=np.int64)
        numbers[submission_id] = index.add(name, hashes, reference=True)
        reference_words.append({word for found in printed for word in found.words})
    everyone = {**latest, **references}
    mistakes = {latest[submission_id]: made for submission_id, made in graded.items()}
    ranked, by_mistake = rank(index, limit=LIMIT, mistakes=mistakes)
    asked = {"parts": parts, "starter": hashlib.sha256((job.starter or "").encode()).hexdigest()}
    kept = _described(job.previous, asked, latest)
    named = [(pair, _sorted(index.names[pair.first], index.names[pair.second])) for pair in ranked]
    reused = [(students, pair.score) for pair, students in named if students in kept]
    fresh = [pair for pair, students in named if students not in kept]
    needed = {number for pair in fresh for number in (pair.first, pair.second)}
    ids_of = {number: submission_id for submission_id, number in numbers.items()}
    with _reading(sessions) as session:
        wanted = [ids_of[number] for number in needed if ids_of[number] not in referenced]
        answers = {
            int(row.id): dict(row.answers or {})
            for row in session.execute(
                select(SUBMISSIONS.c.id, SUBMISSIONS.c.answers).where(SUBMISSIONS.c.id.in_(wanted))
            )
        }
    answers.update(referenced)
    texts: dict[int, Document] = {
        number: read(Code(everyone[ids_of[number]], code_answers(problem_set, answers.get(ids_of[number], {}))), parts)
        for number in needed
    }
    held_words = [said.get(submission_id, set()) for submission_id in sorted(latest)] + reference_words
    report = describe(index, fresh, by_mistake, texts, held_words)
    found = report.to_json()
    pairs: list[dict[str, Any]] = cast(list[dict[str, Any]], found["pairs"]) + [
        {**kept[pair], "score": round(score, 4), "same_mistakes": list(by_mistake.get(pair, ()))}
        for pair, score in reused
    ]
    pairs.sort(key=lambda pair: (-pair["score"], pair["students"]))
    written_keys = written_parts(problem_set, job.parts)
    written = written_report(sessions, problem_set, written_keys, latest, references)  # (apart: api.similarity.written)
    mark_references([*pairs, *written], set(references.values()))
    linked = [_Linked(_sorted(*pair["students"]), pair["score"]) for pair in merged(pairs, written)]
    found.update(pairs=pairs, written=written, clusters=clusters(linked), parts=parts + written_keys, asked=asked)
    found["submissions"] = {everyone[submission_id]: submission_id for submission_id in sorted(everyone)}
    found["references"] = job.references or []
    return found


def _read_answers(sessions: sessionmaker[Session], ids: Mapping[int, str]) -> dict[int, dict[str, Any]]:
    """Submissions' answers by id (the references', each report: they are not in its index)."""
    found: dict[int, dict[str, Any]] = {}
    wanted = sorted(ids)
    for start in range(0, len(wanted), CHUNK):
        with _reading(sessions) as session:
            chunk = wanted[start : start + CHUNK]
            rows = session.execute(select(SUBMISSIONS.c.id, SUBMISSIONS.c.answers).where(SUBMISSIONS.c.id.in_(chunk)))
            found.update((int(row.id), dict(row.answers or {})) for row in rows)
    return found


def _code_of(problem_set: ProblemSet, answers: Mapping[str, Any], parts: Sequence[str]) -> list[str]:
    return [text for key, text in code_answers(problem_set, answers).items() if key in parts]


@dataclass(frozen=True)
class _Linked:
    students: tuple[str, str]
    score: float


def _sorted(first: str, second: str) -> tuple[str, str]:
    return (first, second) if first <= second else (second, first)


def _described(
    previous: Mapping[str, Any] | None, asked: Mapping[str, Any], latest: Mapping[int, str]
) -> dict[tuple[str, str], dict[str, Any]]:
    """The previous report's pairs whose two submissions it compared are still the students'
    latest, asked the same way: their evidence (blocks, fragments, names, comments) is kept, their
    score and same mistakes taken anew. A late submission's report then lexes only the pairs it
    brings (describing a pair lexes both texts, the most of a report's work after the first)."""
    if not previous or previous.get("asked") != asked:
        return {}
    now = {student: submission_id for submission_id, student in latest.items()}
    then = previous.get("submissions") or {}
    return {
        (pair["students"][0], pair["students"][1]): pair
        for pair in previous.get("pairs", [])
        if all(then.get(student) == now.get(student) is not None for student in pair["students"])
    }


def _finish(session: Session, job: _Claimed, report: dict[str, Any], latest: Mapping[int, str], added: int) -> str:
    """The report written and the job done, unless someone else ended the job first."""
    finished = session.scalar(
        JOBS.update()
        .where(JOBS.c.id == job.job_id, JOBS.c.status == JobStatus.RUNNING.value)
        .values(status=JobStatus.DONE.value, done=added, total=len(latest), finished_at=datetime.now(UTC))
        .returning(JOBS.c.status)
    )
    if finished is None:
        return session.scalar(select(JOBS.c.status).where(JOBS.c.id == job.job_id)) or "gone"
    session.execute(
        REPORTS.update()
        .where(REPORTS.c.course_id == job.course_id, REPORTS.c.assignment_id == job.assignment_id)
        .values(
            report=report,
            submissions=len(latest),
            last_submission=max(latest, default=0),
            computed_at=datetime.now(UTC),
        )
    )
    return str(finished)


def _fail(sessions: sessionmaker[Session], job_id: int, message: str) -> None:
    log.error("similarity job %s failed: %s", job_id, message)
    try:
        with sessions.begin() as session:
            session.execute(
                JOBS.update()
                .where(JOBS.c.id == job_id, JOBS.c.status.in_([JobStatus.QUEUED.value, JobStatus.RUNNING.value]))
                .values(status=JobStatus.FAILED.value, error=message[:MAX_ERROR], finished_at=datetime.now(UTC))
            )
    except Exception:
        log.exception("similarity job %s: could not record its failure", job_id)
