"""One student sending the largest answers the service accepts, over many connections at once, to
every door that grades without using an attempt: the REST preview, refused submissions (REST and
the page's form), the page's live preview and "Check", and the practice form. The grading work is
the account's budget (:mod:`api.kit.quotas`): past it the student is answered 429 with a sentence and
``Retry-After``, and meanwhile a student of another course keeps submitting and ``/health`` keeps
answering, each within :data:`BYSTANDER_BOUND`."""

from __future__ import annotations

import itertools
import multiprocessing
import re
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import httpx
import pytest

from hostile_service import ATTACK_PATIENCE, Hostile, bystanders

#: The most a bystander's request may take while the attack is served.
BYSTANDER_BOUND = 2.0
#: Problems of the set attacked: each asks for one small matrix (a 2×2 convolution output).
PARTS = 50
#: Answers sent so far: each request's answers are new, so that no cache of the service's spares
#: it the reading, nor keeps what it read (the module's service fails past its memory bound).
SENT = itertools.count()
#: Sentences of the 429 (API ``detail``, page or fragment).
BUSY = re.compile(r"[Tt]oo much grading")


def _heavy_set() -> str:
    problem = (
        "  - id: p{i}\n    type: conv2d\n    input: [[1, 2, 3, 4], [5, 6, 7, 8], [9, 8, 7, 6], [5, 4, 3, 2]]\n"
        "    kernel: [[1, 0, 1], [0, 1, 0], [1, 0, 1]]\n    parts:\n      - {{key: out, quantity: output}}\n"
    )
    return "id: matrices\ntitle: Matrices\nproblems:\n" + "".join(problem.format(i=i) for i in range(PARTS))


#: The rows of a largest answer below its first.
_ROWS = "".join("\n" + " ".join(str((row * column) % 10) for column in range(100)) for row in range(1, 100))


def largest(number: int) -> str:
    """The largest answer accepted (``api.submissions.schemas.MAX_TEXT``: 20,000 characters), a
    100×100 matrix of digits (the most elements reading takes, each read before it is compared),
    whose first row writes ``number``."""
    return " ".join(f"{number:0100d}") + _ROWS


def largest_answers() -> dict[str, str]:
    """Every part answered with a new largest answer (about 1 MB: the body limit holds 50 of them)."""
    return {f"p{i}.out": largest(next(SENT)) for i in range(PARTS)}


def refused_answers() -> dict[str, str]:
    """The same with one answer that cannot be read: refused (422), no attempt used, yet all read."""
    return {**largest_answers(), "p0.out": "a matrix"}


@dataclass
class Student:
    token: str
    cookies: httpx.Cookies
    csrf: str


@dataclass(frozen=True)
class Reply:
    door: str
    status: int
    seconds: float
    text: str
    retry_after: str | None


@pytest.fixture(scope="module")
def student(hostile: Hostile) -> Student:
    """A student of the attacker's course, whose assignment grades a set of 50 matrix parts, open to
    practice (its answers released: a fixed set's one variant is the graded one); signed in to the
    pages too."""
    uploaded = hostile.upload(_heavy_set())
    assert uploaded.status_code == 201, uploaded.text[:2000]
    made = hostile.api(
        "POST",
        f"/courses/{hostile.attacker_course}/assignments",
        json={"id": "matrices", "problem_set": "matrices", "practice": "always", "release_answers": "immediately"},
    )
    assert made.status_code == 201, made.text
    token = str(hostile.enrol(hostile.attacker_course, "greedy")["token"])
    with httpx.Client(base_url=hostile.url, timeout=ATTACK_PATIENCE) as browser:
        form = browser.get("/")
        csrf = re.search(r'name="csrf" value="([0-9a-f]+)"', form.text)
        assert csrf, form.text[:2000]
        signed = browser.post("/sign-in", data={"token": token, "csrf": csrf.group(1)})
        assert signed.status_code == 303, signed.text[:2000]
        page = browser.get(f"/courses/{hostile.attacker_course}/assignments/matrices")
        assert page.status_code == 200, page.text[:2000]
        found = re.search(r'name="csrf" value="([0-9a-f]+)"', page.text)
        assert found, page.text[:2000]
        return Student(token, httpx.Cookies(browser.cookies), found.group(1))


def _doors(hostile: Hostile, student: Student) -> dict[str, Callable[[httpx.Client], httpx.Request]]:
    """Each door a student can grade through without using an attempt, with the largest answers:
    the request built (its body encoded) before the attack, so that the client spends no time on it
    meanwhile."""
    api = f"/api/v1/courses/{hostile.attacker_course}/assignments/matrices"
    page = f"/courses/{hostile.attacker_course}/assignments/matrices"
    bearer = {"Authorization": f"Bearer {student.token}"}
    htmx = {"HX-Request": "true", "X-CSRF-Token": student.csrf}
    form = {"csrf": student.csrf}
    post = "POST"
    return {
        "REST preview": lambda c: c.build_request(
            post, f"{api}/preview", json={"answers": largest_answers()}, headers=bearer
        ),
        "REST refused submission": lambda c: c.build_request(
            post, f"{api}/submissions", json={"answers": refused_answers()}, headers=bearer
        ),
        "practice": lambda c: c.build_request(
            post, f"{page}/practice", data={**form, "seed": "7", **largest_answers()}
        ),
        "page check": lambda c: c.build_request(post, page, data={**form, "action": "check", **largest_answers()}),
        "page refused submission": lambda c: c.build_request(
            post, page, data={**form, "action": "submit", **refused_answers()}
        ),
        # (htmx posts the whole form; the preview reads the one answer being typed)
        "live preview": lambda c: c.build_request(
            post, f"{page}/preview", params={"key": "p1.out"}, data=largest_answers(), headers=htmx
        ),
    }


def _prepared_attack(hostile: Hostile, student: Student, connections: int) -> Callable[[], list[Reply]]:
    """``connections`` connections of the student at once, each sending the largest answers through
    every door once (each starting at another door, so that every door is asked at once), from a
    process of their own, as from another machine: the client's threads do not take the
    bystanders' interpreter lock. Each request is built (its body encoded) here; the attack is sent
    when the function returned is called, which returns the replies once they are all in."""
    doors = list(_doors(hostile, student).items())
    fork = multiprocessing.get_context("fork")
    ready, go, replies = fork.Event(), fork.Event(), fork.Queue()
    built, start = threading.Barrier(connections + 1), threading.Barrier(connections + 1)

    def connection(index: int) -> list[tuple[str, int, float, str, str | None]]:
        seen = []
        with httpx.Client(base_url=hostile.url, timeout=ATTACK_PATIENCE, cookies=student.cookies) as client:
            requests = [
                (door, build(client))
                for door, build in (doors[(index + step) % len(doors)] for step in range(len(doors)))
            ]
            built.wait()
            start.wait()
            for door, request in requests:
                response = client.send(request)
                text = response.content[:4000].decode("utf-8", "replace")
                seen.append(
                    (
                        door,
                        response.status_code,
                        response.elapsed.total_seconds(),
                        text,
                        response.headers.get("Retry-After"),
                    )
                )
        return seen

    def attacker() -> None:
        with ThreadPoolExecutor(connections) as pool:
            sent = [pool.submit(connection, index) for index in range(connections)]
            built.wait()
            ready.set()
            go.wait()
            start.wait()
            try:
                replies.put([reply for future in sent for reply in future.result()])
            except Exception as error:  # told to the test rather than lost with this process
                replies.put(repr(error))

    process = fork.Process(target=attacker, daemon=True)
    process.start()
    assert ready.wait(ATTACK_PATIENCE * 4), "the attacker did not get ready"

    def attack() -> list[Reply]:
        go.set()
        try:
            seen = replies.get(timeout=ATTACK_PATIENCE * 4)
            assert isinstance(seen, list), seen
            return [Reply(*reply) for reply in seen]
        finally:
            process.join(ATTACK_PATIENCE)
            if process.is_alive():
                process.kill()

    return attack


@pytest.mark.parametrize("connections", [8, 32])
def test_one_students_grading_at_once_stalls_nobody_and_is_refused_past_its_budget(
    hostile: Hostile, student: Student, connections: int
) -> None:
    attack = _prepared_attack(hostile, student, connections)
    with bystanders(hostile) as watch:
        replies = attack()
    health = max(seconds for _, seconds in watch.health)
    submitting = max(seconds for _, seconds in watch.submissions)
    figures = (
        f"{connections} connections: slowest /health {health:.2f} s, slowest bystander submission "
        f"{submitting:.2f} s; the student's replies: "
        + ", ".join(f"{status}: {sum(r.status == status for r in replies)}" for status in {r.status for r in replies})
    )
    print(figures)
    watch.assert_unharmed()
    assert health < BYSTANDER_BOUND and submitting < BYSTANDER_BOUND, figures
    expected = {
        "REST preview": {200, 429},
        "REST refused submission": {422, 429},
        "practice": {200, 429},
        "page check": {200, 429},
        "page refused submission": {422, 429},
        "live preview": {200, 429},
    }
    for reply in replies:
        assert reply.status in expected[reply.door], (reply.door, reply.status, reply.text[:500])
    refused = [reply for reply in replies if reply.status == 429]
    # One grading of the student's at a time, each of at least 0.3 s of CPU but the live preview's:
    # serving all the others would take longer than 0.3 s each, one after the other, while the
    # budget grants 1.5 s and 0.1 s a second (api.kit.quotas): some of them must have been refused.
    assert refused, figures
    for reply in refused:
        assert BUSY.search(reply.text), (reply.door, reply.text[:500])
        assert reply.retry_after is not None and int(reply.retry_after) >= 1, reply
