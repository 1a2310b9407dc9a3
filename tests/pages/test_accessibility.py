"""Every page of the demo course, as each role reaches it, in Chromium: axe-core finds no serious or
critical WCAG 2.1 A/AA violation, and on a 390 px phone no page scrolls sideways.

The pages are found the way a person finds them: from each role's start page, every link that
stays on the service is followed (one representative per route and assignment kind, so eleven
assignments do not mean eleven visits of the same template). One browser, one context; the roles
take turns in it. axe-core is the test-only copy under ``tests/pages/vendor`` (its manifest pins
the version and hashes), added as an init script: those are not subject to the pages' CSP, and the
product serves no test asset."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from fastapi.routing import APIRoute
from playwright.sync_api import BrowserContext, Page, expect

from api.demo.course import COURSE, EXAM
from api.demo.work import CLOSED, WRITTEN_SET
from api.pages import ROUTERS
from harness.server import VENV_BIN, ServerProcess, free_port, server_env
from problems.loader import load_bank

from live_service import chromium, new_account

VENDOR = Path(__file__).parent / "vendor"
PHONE, DESKTOP = 390, 1280
#: The axe-core rules of WCAG 2.1 levels A and AA.
WCAG_TAGS = {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}
#: Of those, the rules whose outcome depends on the layout, run again at a phone's width (the rest
#: give the same answer at any width): scrollers appear there, and wrapped text meets new backgrounds.
PHONE_RULES = {"type": "rule", "values": ["scrollable-region-focusable", "color-contrast"]}
BLOCKING = {"serious", "critical"}
#: The demo's staff course page, its sixteen assignments listed, at a desktop's width: it was 5,610 px
#: tall while its rows stacked four lines of links and the create form stood open (now about 3,350;
#: the midterm's row, whose set's long title is cut to 60 characters, added 200 px before it was).
DASHBOARD_HEIGHT = 3_500
#: The assignments whose pages stand for all the others: one open with graded work, the closed
#: one (answers released, practice open, worked solutions), the one of written answers and the one
#: of code (a student's module submitted and run in the sandbox, its tests shown).
CODE_SET, CODE_KEY = "numpy-convolution", "conv.forward"
SAMPLED = {"conv-pool-basics", CLOSED, WRITTEN_SET, CODE_SET}
SOLUTION = load_bank()[CODE_SET].solution_of(CODE_KEY)
#: Not pages of this service's templates, or not pages at all: /docs is Swagger UI's, the rest are
#: downloads, the JSON API and the static files.
NOT_CRAWLED = re.compile(r"^/(docs|api/|static/|openapi\.json)|/download$|\.(csv|json|yaml)$")
ASSIGNMENT = re.compile(r"^/courses/[^/]+/assignments/([^/]+)")
#: The pages' GET routes the walk does not reach, and why: Swagger UI's page, a CSV download, a
#: job's progress (a page only while a regrade or an LMS sync runs), a code part's result (a
#: fragment of the assignment page, which htmx polls and the walk examines within that page) and a
#: set check's box (a fragment of the problem-sets page after an upload; the demo uploads no set).
UNWALKED_ROUTES = {
    "/docs",
    "/courses/{course_id}/assignments/{assignment_id}/submissions/{submission_id}/code/{key}",
    "/courses/{course_id}/assignments/{assignment_id}/gradebook/download",
    "/courses/{course_id}/gradebook/download",
    "/courses/{course_id}/assignments/{assignment_id}/regrade/{job_id}",
    "/courses/{course_id}/lti/sync/{job_id}",
    "/courses/{course_id}/problem-sets/{set_id}/check",
    "/courses/{course_id}/assignments/{assignment_id}/proctor/table",  # (polled by htmx: walked within its page)
    "/courses/{course_id}/members",  # (a reload after the roster import: a redirect to the roster, no link)
    "/courses/{course_id}/assignments/{assignment_id}/similarity.csv",
    # (a pair of a computed report; the demo computes none: tests/pages/test_similarity_browser.py)
    "/courses/{course_id}/assignments/{assignment_id}/similarity/compare",
}


def axe_source() -> str:
    """The vendored axe-core, checked against its manifest's hash before it runs."""
    (package,) = json.loads((VENDOR / "MANIFEST.json").read_text())["packages"]
    pinned = package["files"]["axe.min.js"]["sha256"]
    source = (VENDOR / package["directory"] / "axe.min.js").read_bytes()
    assert hashlib.sha256(source).hexdigest() == pinned, "axe.min.js differs from its manifest"
    return source.decode()


#: axe.run on the whole document with the WCAG 2.1 A/AA rules: each violation as its rule, impact,
#: help and the selectors of its nodes.
RUN_AXE = """async (only) => {
  const results = await axe.run(document, {runOnly: only, resultTypes: ["violations"]});
  return results.violations.map((v) => ({
    rule: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => n.target.join(" ")),
  }));
}"""


#: The outermost elements wider than the viewport, as selectors: what makes a page scroll sideways.
OVERFLOWING = """() => {
  const name = (e) =>
    e.tagName.toLowerCase() + (e.id ? "#" + e.id : "") + [...e.classList].map((c) => "." + c).join("");
  const over = (e) => e.getBoundingClientRect().right > innerWidth + 0.5;
  const clipped = (e) => {
    for (let a = e.parentElement; a && a !== document.body; a = a.parentElement) {
      if (getComputedStyle(a).overflowX !== "visible") return true;
    }
    return false;
  };
  const free = (e) => ["absolute", "fixed"].includes(getComputedStyle(e).position) || !clipped(e);
  return [...document.body.querySelectorAll("*")].filter((e) => over(e) && !over(e.parentElement) && free(e))
    .slice(0, 5).map((e) => name(e.parentElement) + " > " + name(e));
}"""


@dataclass
class Finding:
    role: str
    path: str
    width: int
    rule: str
    impact: str
    help: str
    nodes: list[str]

    def __str__(self) -> str:
        shown = ", ".join(self.nodes[:5]) + (f" (+{len(self.nodes) - 5})" if len(self.nodes) > 5 else "")
        return f"{self.role} {self.path} @{self.width}px: {self.rule} [{self.impact}] {self.help}: {shown}"


@dataclass
class Walk:
    """What the walk saw: the pages each role visited, axe-core's violations, and each page's
    scrolling width on a phone."""

    visited: dict[str, list[str]] = field(default_factory=dict)
    seen: dict[str, set[str]] = field(default_factory=dict)
    violations: list[Finding] = field(default_factory=list)
    phone_widths: dict[tuple[str, str], int] = field(default_factory=dict)
    desktop_heights: dict[tuple[str, str], int] = field(default_factory=dict)
    too_wide: dict[tuple[str, str], tuple[int, list[str]]] = field(default_factory=dict)


def route_key(path: str) -> str | None:
    """The page a path stands for (assignment pages: per sampled assignment), or None if not visited."""
    if NOT_CRAWLED.search(path):
        return None
    found = ASSIGNMENT.match(path)
    if found and found.group(1) not in SAMPLED and not path.endswith("/proctor"):  # (the exam's proctor page)
        return None
    return re.sub(r"/gradebook/students/[^/]+$", "/gradebook/students/*", path)


def examine(page: Page, role: str, path: str, walk: Walk) -> None:
    """axe-core at a desktop's width, then at a phone's (the layout's rules) with the page's scrolling width."""
    for width, rules in ((DESKTOP, WCAG_TAGS), (PHONE, PHONE_RULES)):
        page.set_viewport_size({"width": width, "height": 800})
        if width == DESKTOP:
            walk.desktop_heights[(role, path)] = page.evaluate("document.scrollingElement.scrollHeight")
        for violation in page.evaluate(RUN_AXE, rules):
            if violation["impact"] in BLOCKING:
                walk.violations.append(Finding(role, path, width, **violation))
    scrolls = page.evaluate("document.scrollingElement.scrollWidth")
    walk.phone_widths[(role, path)] = scrolls
    if scrolls > PHONE:
        walk.too_wide[(role, path)] = (scrolls, page.evaluate(OVERFLOWING))
    page.set_viewport_size({"width": DESKTOP, "height": 800})


def crawl(page: Page, base: str, role: str, start: str, walk: Walk, limit: int = 40) -> None:
    """Visits ``start`` and every same-origin page linked from the pages visited, breadth first."""
    seen = walk.seen.setdefault(role, set())
    queue = [start]
    visited = walk.visited.setdefault(role, [])
    while queue and len(visited) < limit:
        path = queue.pop(0)
        key = route_key(urlsplit(path).path)
        if key is None or key in seen:
            continue
        seen.add(key)
        response = page.goto(base + path)
        assert response is not None and response.status < 500, f"{role} {path}: {response and response.status}"
        if urlsplit(page.url).path == "/" and path != "/":
            continue  # (sent to sign in: not this role's page)
        page.wait_for_load_state("load")
        visited.append(path)
        examine(page, role, path, walk)
        hrefs: list[str] = page.eval_on_selector_all(
            "a[href]", "links => links.map((a) => a.href).filter((h) => h.startsWith(location.origin))"
        )
        for href in hrefs:
            parts = urlsplit(href)
            queue.append(parts.path + (f"?{parts.query}" if parts.query else ""))


def sign_in_as(page: Page, base: str, context: BrowserContext, *, demo_account: str = "", token: str = "") -> None:
    context.clear_cookies()
    page.goto(base + "/")
    if demo_account:
        page.get_by_role("button", name=demo_account).click()
    else:
        page.get_by_label("API token").fill(token)
        page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()


def submit_code(page: Page, course_url: str) -> None:
    """The student's module for the code assignment submitted from its page, and run: the walk then
    finds the page with its code result (the tests' table, the hidden tests' count)."""
    page.goto(f"{course_url}/assignments/{CODE_SET}")
    page.get_by_label("Upload your module").first.set_input_files(
        files=[{"name": "conv.py", "mimeType": "text/x-python", "buffer": SOLUTION.encode()}]
    )
    page.get_by_role("button", name="Submit").click()
    # (the demo's own work gave the student code results already: this attempt's page, then its run)
    expect(page.get_by_role("heading", name=re.compile(r"^Attempt \d+ submitted$"))).to_be_visible()
    expect(page.locator(".code-result").first).to_have_attribute("data-status", "correct", timeout=60_000)


@pytest.fixture
def walk(tmp_path: Path) -> Iterator[Walk]:
    """The demo course served, and every role's pages walked once in one browser."""
    workdir = tmp_path
    database_url = f"sqlite:///{workdir / 'grader.db'}"
    port = free_port()
    command = [str(VENV_BIN / "grader"), "serve", "--demo", "--port", str(port)]
    env = server_env(DATABASE_URL=database_url)
    with ServerProcess(command, port=port, env=env, cwd=workdir, log=workdir / "server.log") as server:
        server.wait_healthy()
        admin = new_account(database_url, "admin", "Grace Admin")
        base, course = server.base_url, f"/courses/{COURSE[0]}"
        result = Walk()
        with chromium(workdir / "profile") as context:
            context.add_init_script(axe_source())
            page = context.new_page()
            crawl(page, base, "visitor", "/", result)
            crawl(page, base, "visitor", "/signin/not-a-real-link", result)
            for role, account in (
                ("student", "Alice Example"),
                ("ta", "Demo Assistant"),
                ("instructor", "Demo Instructor"),
            ):
                sign_in_as(page, base, context, demo_account=account)
                if role == "student":
                    submit_code(page, base + course)
                crawl(page, base, role, course, result)
                if role != "student":
                    crawl(page, base, role, f"{course}/assignments/{EXAM[0]}/proctor", result)
                crawl(page, base, role, "/account", result)
                crawl(page, base, role, "/courses/no-such-course", result)  # the error page
            # an administrator sees the course's pages as its instructor does: only the rest is walked
            result.seen["admin"] = set(result.seen["instructor"])
            sign_in_as(page, base, context, token=admin)
            crawl(page, base, "admin", "/", result)
            crawl(page, base, "admin", "/admin/lti", result)
            crawl(page, base, "admin", "/admin/accounts", result)
            crawl(page, base, "admin", course, result)
        yield result


def test_the_vendored_axe_core_is_the_files_its_manifest_pins() -> None:
    (package,) = json.loads((VENDOR / "MANIFEST.json").read_text())["packages"]
    assert package["source"] == f"https://registry.npmjs.org/axe-core/-/axe-core-{package['version']}.tgz"
    assert "LICENSE" in package["files"]
    directory = VENDOR / package["directory"]
    assert {p.name for p in directory.iterdir()} == set(package["files"])
    for name, pinned in package["files"].items():
        content = (directory / name).read_bytes()
        assert (hashlib.sha256(content).hexdigest(), len(content)) == (pinned["sha256"], pinned["bytes"]), name


def page_routes() -> set[str]:
    return {
        route.path
        for router in ROUTERS
        for route in router.routes
        if isinstance(route, APIRoute) and "GET" in route.methods
    }


def unreached_routes(walk: Walk) -> set[str]:
    """The pages' GET routes (but :data:`UNWALKED_ROUTES`) no visited path matches."""
    visited = {urlsplit(path).path for paths in walk.visited.values() for path in paths}
    unreached = set()
    for route in page_routes() - UNWALKED_ROUTES:
        segments = ("[^/]+" if part.startswith("{") else re.escape(part) for part in route.split("/"))
        pattern = re.compile("^" + "/".join(segments) + "$")
        if not any(pattern.match(path) for path in visited):
            unreached.add(route)
    return unreached


def test_every_page_of_every_role_passes_axe_core_and_fits_a_390_px_phone(walk: Walk) -> None:
    """One test over one walk (so that parallel workers do not each walk): every page is reached;
    none has a serious or critical WCAG 2.1 A/AA violation; none scrolls sideways on a phone, the
    student's table of assignments included; the staff course page stays short. Every kind of
    problem found is reported at once."""
    assert {"visitor", "student", "ta", "instructor", "admin"} == set(walk.visited)
    assert "/admin/lti" in walk.visited["admin"] and "/admin/accounts" in walk.visited["admin"]
    assert ("student", f"/courses/{COURSE[0]}") in walk.phone_widths  # the table of the student's assignments
    assert len(walk.phone_widths) == sum(map(len, walk.visited.values()))  # every visited page measured
    assert ("instructor", f"/courses/{COURSE[0]}") in walk.desktop_heights
    problems = {
        "routes no link reaches": sorted(unreached_routes(walk)),
        "axe-core, serious or critical": [str(finding) for finding in walk.violations],
        f"the staff course page taller than {DASHBOARD_HEIGHT} px at {DESKTOP} px": [
            f"{role} {path}: {height} px"
            for (role, path), height in walk.desktop_heights.items()
            if role == "instructor" and path == f"/courses/{COURSE[0]}" and height > DASHBOARD_HEIGHT
        ],
        f"wider than {PHONE} px (scrolling width, what sticks out)": [
            f"{role} {path}: {width} px, {culprits}" for (role, path), (width, culprits) in walk.too_wide.items()
        ],
    }
    assert {kind: found for kind, found in problems.items() if found} == {}, json.dumps(problems, indent=1)
