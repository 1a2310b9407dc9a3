"""A class that sends the longest answers a written part takes, 1,000 of them and no two alike, and
three graders who open the part's grading queue at once: the queue comes with its suggested groups
of similar answers (TF-IDF vectors and clustering over every answer) within the service's bound on
resident memory, while a student of another course keeps submitting and ``/health`` keeps
answering. Grouping these answers once took 4.9 GiB, three graders at once more."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx

from harness.free_response import long_answers
from harness.local_http import LOCAL

from hostile_service import ATTACK_PATIENCE, PEAK_RESIDENT_BOUND, Hostile, bystanders

STUDENTS = 1000
#: A written part of the built-in ``architectures-in-words``, taking answers of up to 3,000 characters.
KEY = "w1.differences"
LENGTH = 3000
#: How long a grader's first read of the queue (the groups suggested) may take before the test
#: counts it as hung: a generous bound, far above the seconds it takes (bench/grouping.py).
GROUPING_PATIENCE = ATTACK_PATIENCE * 8


def test_a_thousand_long_answers_are_grouped_for_three_graders_within_the_memory_bound(hostile: Hostile) -> None:
    course = hostile.attacker_course
    made = hostile.api(
        "POST", f"/courses/{course}/assignments", json={"id": "essays", "problem_set": "architectures-in-words"}
    )
    assert made.status_code == 201, made.text
    roster = [{"id": f"essayist-{n:04d}", "name": f"Essayist {n}"} for n in range(STUDENTS)]
    roster += [{"id": f"grader-{n}", "name": f"Grader {n}", "role": "ta"} for n in range(2)]
    enrolled = hostile.api("POST", f"/courses/{course}/members", json={"members": roster})
    assert enrolled.status_code == 200, enrolled.text
    tokens = {member["id"]: member["token"] for member in enrolled.json()["members"]}
    answers = list(long_answers(STUDENTS, LENGTH).values())
    assert len(set(answers)) == STUDENTS and {len(answer) for answer in answers} == {LENGTH}

    def submit(n: int) -> int:
        return LOCAL.post(
            f"{hostile.url}/api/v1/courses/{course}/assignments/essays/submissions",
            json={"answers": {KEY: answers[n]}},
            headers={"Authorization": f"Bearer {tokens[f'essayist-{n:04d}']}"},
            timeout=ATTACK_PATIENCE,
        ).status_code

    with ThreadPoolExecutor(4) as pool:
        assert set(pool.map(submit, range(STUDENTS))) == {201}

    graders = [hostile.attacker, tokens["grader-0"], tokens["grader-1"]]

    def open_queue(token: str) -> httpx.Response:
        # grouping 1,000 long answers takes seconds, many more on a machine loaded to several times
        # its cores: the wait is a hang guard, the memory bound is what is tested
        path = f"/courses/{course}/assignments/essays/grading/{KEY}"
        return hostile.api("GET", path, token, timeout=GROUPING_PATIENCE)

    with bystanders(hostile) as watch, ThreadPoolExecutor(len(graders)) as pool:
        queues = list(pool.map(open_queue, graders))
    for reply in queues:
        assert reply.status_code == 200, reply.text[:500]
    bodies: list[Any] = [reply.json() for reply in queues]
    first = bodies[0]
    assert first["total"] == STUDENTS and {entry["answer"] for entry in first["entries"]} == set(answers)
    assert sorted(member for group in first["groups"] for member in group["members"]) == sorted(
        entry["submission"] for entry in first["entries"]
    )
    assert all(body["groups"] == first["groups"] for body in bodies)  # made once, for all three
    watch.assert_unharmed()
    assert hostile.peak_resident() < PEAK_RESIDENT_BOUND, f"peak resident {hostile.peak_resident() / 2**20:.0f} MiB"
