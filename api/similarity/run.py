"""The job that computes an assignment's similarity report, one function for both runners (the
service's own on SQLite, ``grader worker`` on PostgreSQL): :func:`run_similarity`.

Never on the submit path, and no database connection held while computing:

1. claimed in a short transaction (the job ``running``), then read in short sessions: the set
   version, what was asked (parts, starter), each student's latest submission, and which of those
   have no fingerprints yet;
2. the new ones fingerprinted with no session open, and written in one transaction
   (``similarity_documents`` and their ``similarity_prints``; a part already written by another
   runner is left as it is; a module sent once for several parts is stored once, under its first
   part). A late submission is so lexed once, and the class never again;
3. the class's fingerprints read back (one row per text, only the asked parts'), the pairs ranked
   with no session open (:mod:`grader.code_similarity`: rarity weights, the starter and the
   solutions weighing nothing), then the ranked pairs described from their stored fingerprints
   (hashes, positions and lines) and their texts, none lexed again. Every pair's score and evidence
   is taken anew, as the class's size and each fingerprint's rarity change with every submission:
   the report after a late submission is the report of the whole class made afresh;
4. the report written with the job ``done``.

Bounded: at most :data:`MAX_STUDENTS` students (more fails the job with a sentence), each part's
text lexed up to :data:`grader.code_similarity.tokens.MAX_CHARS` characters, at most
:data:`MAX_WORDS` names and comments kept per part, :data:`grader.code_similarity.report.LIMIT`
pairs ranked.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

import numpy as np
from sqlalchemy import Table, func, select
from sqlalchemy.orm import Session, sessionmaker

from api.kit.collector import prepared_once
from api.kit.db import dialect_insert
from api.library.course_sets import Library
from api.models import Job, JobStatus, SimilarityDocument, SimilarityPrint, SimilarityReport, Submission
from api.similarity.references import MAX_REFERENCE_STUDENTS, latest_of_references, mark_references
from api.similarity.stored import CHUNK, read_answers, reading
from api.similarity.written import merged, written_parts, written_report
from grader.code_similarity.evidence import words
from grader.code_similarity.index import Index
from grader.code_similarity.report import LIMIT, Document, Similarity, clusters, describe, rank, read, read_stored
from grader.code_similarity.report import Submission as Code
from grader.code_similarity.tokens import code_of, lex
from grader.code_similarity.winnow import Located, fingerprint
from problems.sets import ProblemSet, TwoModules

log = logging.getLogger("grader.jobs")

JOBS, SUBMISSIONS, DOCUMENTS, PRINTS, REPORTS = (
    cast(Table, m.__table__) for m in (Job, Submission, SimilarityDocument, SimilarityPrint, SimilarityReport)
)

#: Students a report compares at most (each one's latest submission).
MAX_STUDENTS = 5000
#: Names and comments kept per fingerprinted part (the rare ones are shown as evidence).
MAX_WORDS = 500
#: What a job's error is cut to.
MAX_ERROR = 2000
#: No fingerprints.
_NONE = np.zeros(0, dtype=np.int64)


class SimilarityFailed(Exception):
    """A report that cannot be made, said in a sentence (the job is marked failed with it)."""


@dataclass(frozen=True)
class Fingerprints:
    """A part's fingerprints as stored: the distinct hashes, the code's tokens, its names and
    comments, and every fingerprint with its place (describing a pair reads them, not the text's
    tokens)."""

    hashes: list[int]
    tokens: int
    words: list[str]
    located: Located


def fingerprint_part(text: str) -> Fingerprints:
    """A code part's fingerprints (its text, or a notebook's code cells)."""
    printed = fingerprint(lex(code_of(text)))
    held = sorted(words(printed), key=lambda word: (-len(word), word))[:MAX_WORDS]
    return Fingerprints(sorted(set(printed.hashes.tolist())), len(printed.stream), held, printed.located())


def packed(located: Located) -> bytes:
    """Fingerprints as ``similarity_documents.fingerprints`` holds them: their hashes, starts,
    first and last lines, four rows of 64-bit little-endian integers."""
    rows = np.stack([located.hashes, located.starts, located.first, located.last])
    return rows.astype("<i8").tobytes()


def unpacked(stored: bytes | None) -> Located:
    """``similarity_documents.fingerprints`` read back."""
    rows = np.frombuffer(stored or b"", dtype="<i8").astype(np.int64).reshape(4, -1)
    return Located(rows[0], rows[1], rows[2], rows[3])


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


def _import_sparse() -> None:
    """SciPy's sparse matrices, for the pairs' product (:meth:`grader.code_similarity.index.Index.pairs`)."""
    import scipy.sparse  # noqa: F401  (0.2-0.4 s: by a process's first report, not by every start)


def run_similarity(sessions: sessionmaker[Session], library: Library, job_id: int) -> str:
    """Runs the job to its end; its final status. A report that cannot be made fails the job with
    a sentence; any other error fails it with its name, and is raised again."""
    try:
        with sessions.begin() as session:
            claimed = _claim(session, job_id)
        if claimed is None:
            return _status(sessions, job_id)
        with reading(sessions) as session:
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
        prepared_once(_import_sparse)
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
    #: Earlier assignments compared against (:mod:`api.similarity.references`).
    references: list[dict[str, str]] | None = None


def _claim(session: Session, job_id: int) -> _Claimed | None:
    job = session.get(Job, job_id, with_for_update=True)
    if job is None or job.status in (JobStatus.DONE, JobStatus.FAILED) or job.assignment_id is None:
        return None
    asked = session.execute(  # (what was asked, not the last report: a report is not read to make the next)
        select(REPORTS.c.parts, REPORTS.c.starter, REPORTS.c.reference_assignments).where(
            REPORTS.c.course_id == job.course_id, REPORTS.c.assignment_id == job.assignment_id
        )
    ).first()
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
    transaction; how many submissions were. A text answering several parts is stored under the
    first (the others name it); a submission with no code gets an empty row (``""``), so that it
    is not read again."""
    documents: list[dict[str, Any]] = []
    prints: list[dict[str, Any]] = []
    where = {"course_id": job.course_id, "assignment_id": job.assignment_id}
    for submission_id, answers in new:
        texts = code_answers(problem_set, answers)
        first: dict[str, tuple[str, Fingerprints]] = {}  # a text → the first part it answers, its fingerprints
        for key, text in texts.items():
            row = {"submission_id": submission_id, "part": key, **where}
            if text in first:  # (a module sent once answers each of its parts)
                same_as, found = first[text]
                documents.append({**row, "tokens": found.tokens, "words": [], "fingerprints": None, "same_as": same_as})
                continue
            found = fingerprint_part(text)
            first[text] = (key, found)
            stored = {"tokens": found.tokens, "words": found.words, "fingerprints": packed(found.located)}
            documents.append({**row, **stored, "same_as": None})
            prints += [{**row, "hash": h} for h in found.hashes]
        if not texts:
            empty = {"tokens": 0, "words": [], "fingerprints": None, "same_as": None}
            documents.append({"submission_id": submission_id, "part": "", **empty, **where})
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
        _write_prints(session, [row for row in prints if (row["submission_id"], row["part"]) in mine])
    return len(new)


#: The index's columns, in the order :func:`_write_prints` copies them.
PRINT_COLUMNS = ("submission_id", "part", "hash", "course_id", "assignment_id")


def _write_prints(session: Session, rows: Sequence[Mapping[str, Any]]) -> None:
    """The index's rows written: on PostgreSQL by ``COPY`` (a class's 140,000 rows: the
    statements' parameters were a fifth of a first report's CPU), on SQLite by executemany."""
    if session.get_bind().dialect.name == "postgresql":
        driver = session.connection().connection.driver_connection
        assert driver is not None  # (a connection checked out)
        statement = f"COPY {PRINTS.name} ({', '.join(PRINT_COLUMNS)}) FROM STDIN"
        with driver.cursor() as cursor, cursor.copy(statement) as copy:
            for row in rows:
                copy.write_row(tuple(row[column] for column in PRINT_COLUMNS))
        return
    for start in range(0, len(rows), CHUNK):
        session.execute(PRINTS.insert(), rows[start : start + CHUNK])


def _report(
    sessions: sessionmaker[Session],
    job: _Claimed,
    problem_set: ProblemSet,
    latest: Mapping[int, str],
    references: Mapping[int, str] | None = None,
) -> dict[str, Any]:
    """The report from the fingerprints in the database (one row per text), pairs ranked with no
    session open, then the ranked pairs' texts read and described with their stored fingerprints."""
    code_keys = list(problem_set.code())
    parts = [key for key in code_keys if job.parts is None or key in job.parts]
    stored: dict[int, dict[str, Any]] = {}
    graded: dict[int, list[str]] = {}
    with reading(sessions) as session:
        documents = select(
            DOCUMENTS.c.submission_id,
            DOCUMENTS.c.part,
            DOCUMENTS.c.same_as,
            DOCUMENTS.c.tokens,
            DOCUMENTS.c.fingerprints,
            DOCUMENTS.c.words,
        ).where(DOCUMENTS.c.course_id == job.course_id, DOCUMENTS.c.assignment_id == job.assignment_id)
        for row in session.execute(documents):
            if row.submission_id in latest:
                stored.setdefault(int(row.submission_id), {})[str(row.part)] = row
        ids = sorted(latest)
        for start in range(0, len(ids), CHUNK):
            rows = session.execute(
                select(SUBMISSIONS.c.id, SUBMISSIONS.c.parts).where(SUBMISSIONS.c.id.in_(ids[start : start + CHUNK]))
            )
            graded.update((int(row.id), mistakes_of(problem_set, row.parts or {})) for row in rows)
    references = references or {}
    referenced = read_answers(sessions, references)
    # computed with no session open
    located: dict[int, dict[str, tuple[Located, int]]] = {}
    said: dict[int, set[str]] = {}
    for submission_id, by_part in stored.items():
        # (a part naming another holds that one's text: each text counted once)
        owner = {key: by_part[key].same_as or key for key in parts if key in by_part}
        owned = {key: by_part[key] for key in set(owner.values()) & by_part.keys()}
        of_text = {key: (unpacked(row.fingerprints), int(row.tokens)) for key, row in owned.items()}
        located[submission_id] = {key: of_text[text] for key, text in owner.items() if text in of_text}
        said[submission_id] = {word for row in owned.values() for word in row.words or ()}
    similarity = Similarity(parts)
    starters = [job.starter] if job.starter else []
    starters += list(dict.fromkeys(problem_set.solution_of(key) for key in code_keys))
    similarity.ignore(starters)
    index: Index = similarity.index
    numbers: dict[int, int] = {}
    for submission_id in sorted(latest):
        held = [prints.hashes for prints, _ in located.get(submission_id, {}).values()]
        numbers[submission_id] = index.add(latest[submission_id], np.concatenate(held or [_NONE]))
    reference_words: list[set[str]] = []
    for submission_id, name in sorted(references.items()):  # (lexed each report: not in this index)
        printed = [fingerprint_part(text) for text in set(_code_of(problem_set, referenced[submission_id], parts))]
        hashes = np.array(sorted({h for found in printed for h in found.hashes}), dtype=np.int64)
        numbers[submission_id] = index.add(name, hashes, reference=True)
        reference_words.append({word for found in printed for word in found.words})
    everyone = {**latest, **references}
    mistakes = {latest[submission_id]: made for submission_id, made in graded.items()}
    ranked, by_mistake = rank(index, limit=LIMIT, mistakes=mistakes)
    needed = {number for pair in ranked for number in (pair.first, pair.second)}
    ids_of = {number: submission_id for submission_id, number in numbers.items()}
    answers = read_answers(sessions, (ids_of[number] for number in needed if ids_of[number] not in referenced))
    texts: dict[int, Document] = {}
    for number in needed:
        submission_id = ids_of[number]
        if submission_id in referenced:  # (lexed: its fingerprints are not stored)
            texts[number] = read(
                Code(everyone[submission_id], code_answers(problem_set, referenced[submission_id])), parts
            )
            continue
        code = Code(latest[submission_id], code_answers(problem_set, answers.get(submission_id, {})))
        texts[number] = read_stored(
            code, parts, located.get(submission_id, {}).__getitem__, said.get(submission_id, set())
        )
    held_words = [said.get(submission_id, set()) for submission_id in sorted(latest)] + reference_words
    report = describe(index, ranked, by_mistake, texts, held_words)
    found = report.to_json()
    pairs = cast(list[dict[str, Any]], found["pairs"])
    pairs.sort(key=lambda pair: (-pair["score"], pair["students"]))  # (by the score shown: ties by name)
    written_keys = written_parts(problem_set, job.parts)
    written = written_report(sessions, problem_set, written_keys, latest, references)  # (apart: api.similarity.written)
    mark_references([*pairs, *written], set(references.values()))
    linked = [_Linked(_sorted(*pair["students"]), pair["score"]) for pair in merged(pairs, written)]
    found.update(pairs=pairs, written=written, clusters=clusters(linked), parts=parts + written_keys)
    found["submissions"] = {everyone[submission_id]: submission_id for submission_id in sorted(everyone)}
    found["references"] = job.references or []
    return found


def _sorted(first: str, second: str) -> tuple[str, str]:
    return (first, second) if first <= second else (second, first)


def _code_of(problem_set: ProblemSet, answers: Mapping[str, Any], parts: Sequence[str]) -> list[str]:
    return [text for key, text in code_answers(problem_set, answers).items() if key in parts]


@dataclass(frozen=True)
class _Linked:
    students: tuple[str, str]
    score: float


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
