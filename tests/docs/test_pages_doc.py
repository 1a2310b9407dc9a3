"""docs/pages.md names every address the pages answer with GET: a page added without its line in
the table (or among the downloads and fragments) fails here, as /admin/accounts once did."""

from __future__ import annotations

import re
from pathlib import Path

from api.pages import ROUTERS

PAGES_DOC = Path(__file__).resolve().parents[2] / "docs" / "pages.md"
#: How the doc writes an assignment's pages: ``…/A/gradebook`` for the full path.
ASSIGNMENT = "/courses/C/assignments/A"


def documented_paths(text: str) -> set[str]:
    """Every path the doc writes in backticks, the query left off and ``…/A`` spelled out."""
    found = set()
    for written in re.findall(r"`((?:/|…/A)[^`\s]*)`", text):
        found.add(written.split("?", 1)[0].replace("…/A", ASSIGNMENT, 1))
    return found


def test_every_get_route_of_the_pages_is_in_docs_pages_md() -> None:
    documented = documented_paths(PAGES_DOC.read_text(encoding="utf-8"))
    missing = []
    for router in ROUTERS:
        for route in router.routes:
            if "GET" not in getattr(route, "methods", set()):
                continue
            path: str = route.path  # type: ignore[attr-defined]
            pattern = re.sub(r"\{[^}]+\}", "[^/]+", path)
            if not any(re.fullmatch(pattern, written) for written in documented):
                missing.append(path)
    assert missing == [], f"docs/pages.md does not name {missing}"
