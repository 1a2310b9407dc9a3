"""The problem sets a request may grade with: the built-in library (the package's set files) and
the versions courses uploaded, all kept in the database as text (:class:`api.models.SetVersion`).

A version is immutable and named by a hash of its text, so a parsed version is cached in the
process for as long as it lives: every replica parses a version from the same stored text, and
the hot path (a submission) finds its assignment's pinned version in a dictionary.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from typing import cast

from sqlalchemy import Table, select
from sqlalchemy.orm import Session

from api.kit.db import dialect_insert
from api.library.bank import Bank
from api.models import CheckStatus, CourseSet, SetVersion
from api.terms.rows import Terms
from problems.loader import SetFileError, parse_set, version_of
from problems.sets import ProblemSet

log = logging.getLogger("grader.api")

SET_VERSIONS = cast(Table, SetVersion.__table__)


class Library:
    """App-wide: the built-in sets (reloaded when their files change) and every version parsed."""

    def __init__(self, bank: Bank) -> None:
        self.bank = bank
        self._parsed: dict[str, ProblemSet] = {}
        self._unusable: set[str] = set()
        self._lock = threading.Lock()

    def built_in(self) -> dict[str, ProblemSet]:
        return self.bank.sets()

    def built_in_text(self, problem_set: ProblemSet) -> str | None:
        """The file text of a built-in set's current version (None once its file changed)."""
        for path in sorted(self.bank.folder.glob("*.yaml")):
            text = path.read_text(encoding="utf-8")
            if version_of(text) == problem_set.version:
                return text
        return None

    def version(self, session: Session, version: str) -> ProblemSet | None:
        """The set of that version: parsed once per process, from the built-in files or the database.
        A stored version was checked in full when it was uploaded (every key solved on every probe
        variant, the self-test run): it is parsed without solving it again, its answers solved
        when first graded."""
        found = self._parsed.get(version)
        if found is not None:
            return found
        for problem_set in self.built_in().values():
            if problem_set.version == version:
                return self._keep(problem_set)
        if version in self._unusable:
            return None
        text = session.scalar(select(SetVersion.text).where(SetVersion.version == version))
        if text is None:
            return None
        try:  # stored only once checked in full: read and validated again, within the budgets, but not solved here
            return self._keep(parse_set(text, f"stored version {version}", probes=False))
        except SetFileError as error:  # stored before a check it fails was added
            with self._lock:
                if version not in self._unusable:
                    self._unusable.add(version)
                    log.error("the stored set version %s no longer loads and is left out: %s", version, error)
            return None

    def _keep(self, problem_set: ProblemSet) -> ProblemSet:
        with self._lock:
            return self._parsed.setdefault(problem_set.version, problem_set)

    def remember(self, problem_set: ProblemSet) -> None:
        """A version just parsed (an upload): no need to parse it again."""
        self._keep(problem_set)


@dataclass(frozen=True)
class Sets:
    """The library as one request sees it (its session reads stored versions)."""

    library: Library
    session: Session

    def of(self, assignment: Terms) -> ProblemSet | None:
        """The set an assignment grades with: its pinned version (or, for an assignment from before
        versions were pinned, the built-in set of its id)."""
        if assignment.set_version is None:
            return self.library.built_in().get(assignment.problem_set)
        return self.library.version(self.session, assignment.set_version)

    def course_versions(self, course_id: str) -> dict[str, list[str]]:
        """The versions a course uploaded, by set id, oldest first."""
        rows = self.session.execute(
            select(CourseSet.set_id, CourseSet.version)
            .where(CourseSet.course_id == course_id)
            .order_by(CourseSet.uploaded_at, CourseSet.version)
        )
        versions: dict[str, list[str]] = {}
        for set_id, version in rows:
            versions.setdefault(set_id, []).append(version)
        return versions

    def usable(self, course_id: str, set_id: str, version: str | None = None) -> ProblemSet | None:
        """A set the course may use: that version of ``set_id`` (built-in, or uploaded by the course),
        or without ``version`` the newest one (the course's newest upload, else the built-in)."""
        uploaded = self.course_versions(course_id).get(set_id, [])
        built_in = self.library.built_in().get(set_id)
        if version is None:
            if uploaded:
                return self.library.version(self.session, uploaded[-1])
            return built_in
        if version in uploaded or (built_in is not None and built_in.version == version):
            return self.library.version(self.session, version)
        # an older built-in version still stored (an assignment pinned it before the file changed)
        stored = self.session.get(SetVersion, version)
        if stored is not None and stored.set_id == set_id and built_in is not None:
            return self.library.version(self.session, version)
        return None

    def text_of(self, version: str) -> str | None:
        """The stored text of a version (None for one not stored)."""
        return self.session.scalar(select(SetVersion.text).where(SetVersion.version == version))

    def store(self, problem_set: ProblemSet, text: str, *, built_in: bool = False) -> None:
        """Keeps a version's text (once: versions are immutable). An uploaded version with code
        parts is stored with its check queued (:mod:`api.set_checks` starts it); one without, and a
        built-in one (checked by the project's own tests), has passed."""
        status = CheckStatus.QUEUED if problem_set.code() and not built_in else CheckStatus.PASSED
        values = {"version": problem_set.version, "set_id": problem_set.id, "text": text, "check_status": status.value}
        # one statement: two uploads of one file at once store it once (and a stored check stays as it is)
        insert = dialect_insert(self.session, SET_VERSIONS).values(values)
        self.session.execute(insert.on_conflict_do_nothing(index_elements=["version"]))

    def pin(self, problem_set: ProblemSet) -> str:
        """Makes sure the version an assignment pins is stored; returns it."""
        if self.session.get(SetVersion, problem_set.version) is None:
            text = self.library.built_in_text(problem_set)
            if text is not None:
                self.store(problem_set, text, built_in=True)
        return problem_set.version
