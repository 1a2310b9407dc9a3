"""Every relative link of the README and of ``docs/*.md`` resolves: the file it names exists inside
the repository, and an anchor (``#section``) names a heading of that file as GitHub writes it.
Links in code (fenced blocks, inline spans) are text, not links, and are left alone."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from harness.server import REPOSITORY

PAGES = sorted([REPOSITORY / "README.md", *(REPOSITORY / "docs").glob("*.md")])
# [text](target) and ![alt](target); a target may carry a title ("...") after a space
LINK = re.compile(r"!?\[(?:[^\[\]]|\[[^\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
FENCE = re.compile(r"^(```|~~~).*?^\1", re.M | re.S)
INLINE_CODE = re.compile(r"(`+)(?!`).+?(?<!`)\1", re.S)
HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*#*\s*$", re.M)
EXTERNAL = re.compile(r"^[a-z][a-z0-9+.-]*:", re.I)


@dataclass(frozen=True)
class Link:
    page: Path
    line: int
    target: str

    def __str__(self) -> str:
        return f"{self.page.relative_to(REPOSITORY)}:{self.line}: {self.target}"


def prose(text: str) -> str:
    """The text with its code blanked out, line breaks kept (so line numbers stay true)."""
    blank = lambda match: re.sub(r"[^\n]", " ", match.group(0))  # noqa: E731
    return INLINE_CODE.sub(blank, FENCE.sub(blank, text))


def slug(heading: str) -> str:
    """GitHub's anchor of a heading: lower case, markup and punctuation dropped, spaces made hyphens."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link keeps its text
    text = unicodedata.normalize("NFC", text).strip().lower()
    return "".join(c for c in text if c.isalnum() or c in "-_ ").replace(" ", "-")


def anchors(page: Path) -> set[str]:
    """The anchors of a page's headings, repeated ones numbered as GitHub numbers them (-1, -2...)."""
    seen: dict[str, int] = {}
    found = set()
    for match in HEADING.finditer(prose(page.read_text())):
        base = slug(match.group(1))
        count = seen.get(base, 0)
        seen[base] = count + 1
        found.add(base if count == 0 else f"{base}-{count}")
    return found


def links(page: Path) -> Iterator[Link]:
    text = prose(page.read_text())
    for match in LINK.finditer(text):
        target = match.group(1)
        if not EXTERNAL.match(target):
            yield Link(page, text.count("\n", 0, match.start()) + 1, target)


def broken(link: Link) -> str | None:
    """Why a link does not resolve, or None."""
    path, _, anchor = link.target.partition("#")
    target = (link.page.parent / path).resolve() if path else link.page
    if not target.is_relative_to(REPOSITORY):
        return "points outside the repository"
    if not target.exists():
        return "no such file"
    if anchor and target.suffix == ".md" and anchor not in anchors(target):
        return f"no heading with the anchor #{anchor} in {target.relative_to(REPOSITORY)}"
    return None


def test_the_guides_exist() -> None:
    names = {page.name for page in PAGES}
    assert {"README.md", "instructor.md", "ta.md", "student.md", "operator.md", "rest.md", "cli.md"} <= names


@pytest.mark.parametrize("page", PAGES, ids=lambda page: str(page.relative_to(REPOSITORY)))
def test_every_relative_link_resolves(page: Path) -> None:
    problems = [f"{link}: {why}" for link in links(page) if (why := broken(link))]
    assert not problems, "\n".join(problems)


def test_the_readme_links_every_guide() -> None:
    linked = {link.target.partition("#")[0] for link in links(REPOSITORY / "README.md")}
    guides = {f"docs/{page.name}" for page in PAGES if page.parent.name == "docs"}
    assert guides <= linked, f"guides the README does not link: {sorted(guides - linked)}"


def test_the_checker_sees_what_is_broken(tmp_path: Path) -> None:
    """The checker itself: a missing file and a missing anchor are caught; code is not a link."""
    page = REPOSITORY / "docs" / "any.md"  # never written: links are resolved against its folder
    assert broken(Link(page, 1, "no-such-guide.md")) == "no such file"
    assert broken(Link(page, 1, "../README.md#quick-start")) is None
    assert "no heading" in (broken(Link(page, 1, "../README.md#no-such-section")) or "")
    assert broken(Link(page, 1, "../../outside.md")) == "points outside the repository"
    assert slug("LMS: LTI 1.3 (Canvas, Moodle)") == "lms-lti-13-canvas-moodle"
    assert slug("The `Quantities` section") == "the-quantities-section"
    sample = tmp_path / "sample.md"
    sample.write_text("# Top\n\n`[not](a-link.md)`\n\n```\n[nor](this.md)\n```\n\n[real](#top) [x](y.md)\n")
    assert [link.target for link in links(sample)] == ["#top", "y.md"]
    assert anchors(sample) == {"top"}


def test_the_readme_is_a_quick_start_and_a_map() -> None:
    """Short enough to read at once, the quick start first (``make serve`` and ``make test``): the
    rest of what the README said lives in the guides it links."""
    text = (REPOSITORY / "README.md").read_text()
    assert len(text.encode()) <= 25_000, "move the detail into a guide under docs/"
    sections = re.findall(r"^## (.+)$", prose(text), re.M)
    assert sections[0] == "Quick start", sections
