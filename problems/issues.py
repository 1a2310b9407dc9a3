"""What is wrong with a set file, and where: every issue a check finds, each with the line and
column of the YAML node at fault, so that an editor (or the upload page) can point at it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Issue:
    """One problem of a set file.

    ``line`` and ``column`` are 1-based, of the offending YAML node (None when the issue is the
    whole file's, e.g. a file that cannot be read). ``field`` is the dotted path of the field at
    fault: inside a problem entry relative to that entry (``layers.0.conv.kernel``, with the
    layer kind pydantic reads it under), otherwise from the file's top (``title``). ``problem``
    is the id of the entry the issue lies in, if any.
    """

    line: int | None
    column: int | None
    field: str | None
    message: str
    problem: str | None = None

    @property
    def where(self) -> str | None:
        """The field qualified by its problem (``q1.layers.0.kernel``), as ``grader sets validate`` prints it."""
        names = [name for name in (self.problem, self.field) if name]
        return ".".join(names) or None

    @property
    def position(self) -> str:
        """``:LINE:COL`` (empty when the place is not known)."""
        if self.line is None:
            return ""
        return f":{self.line}" + (f":{self.column}" if self.column is not None else "")

    def located(self, source: str) -> str:
        """``FILE:LINE:COL: WHERE: MESSAGE``, the form compilers print and editors jump to."""
        where = f" {self.where}:" if self.where else ""
        return f"{source}{self.position}:{where} {self.message}"

    def __str__(self) -> str:
        """The issue in words: ``problem 'q1': field 'stride': MESSAGE``."""
        where = [f"problem {self.problem!r}"] if self.problem else []
        if self.field:
            where.append(f"field {self.field!r}")
        return ": ".join([*where, self.message])


class SetFileError(ValueError):
    """A set file that cannot be used: every issue found, one line each in the message."""

    def __init__(self, source: Path | str, issues: Sequence[Issue]):
        self.source = str(source)
        self.issues = list(issues)
        super().__init__("\n".join(f"{self.source}{issue.position}: {issue}" for issue in self.issues))
