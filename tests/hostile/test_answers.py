"""Answers built to be slow to grade, sent by students at once: each graded (or refused) within
its budget while a student of another course keeps submitting and ``/health`` keeps answering."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import httpx

from harness.local_http import LOCAL

from hostile_service import ATTACK_PATIENCE, Hostile, bystanders

SIX = "(H+W+M+N+K+1)(H+W+M+N+K+2)(H+W+M+N+K+3)(H+W+M+N+K+4)(H+W+M+N+K+5)(H+W+M+N+K+6)"
#: Formula answers to the symbolic MACs of a standard convolution (mobilenet-yolo q1a.macs): a
#: squared product of six factors took about 11 s to compare; the others are its neighbours.
SLOW_FORMULAS = [
    f"({SIX})^2",
    f"({SIX})^2 + ({SIX.replace('+1)', '+7)')})^2",
    f"⌊({SIX})^2/7⌋",
    "(((((((7^12)^12)^12)^12)^12)^12)^12)H",
]


def test_slow_formula_answers_sent_at_once_are_graded_without_stalling_anyone(hostile: Hostile) -> None:
    hostile.api(
        "POST",
        f"/courses/{hostile.attacker_course}/assignments",
        json={"id": "formulas", "problem_set": "mobilenet-yolo"},
    )
    students = [hostile.enrol(hostile.attacker_course, f"slow-{i}")["token"] for i in range(len(SLOW_FORMULAS))]
    path = f"/api/v1/courses/{hostile.attacker_course}/assignments/formulas/submissions"

    def send(index: int) -> httpx.Response:
        answers = {"q1a.macs": SLOW_FORMULAS[index]}
        return LOCAL.post(
            f"{hostile.url}{path}",
            json={"answers": answers},
            headers={"Authorization": f"Bearer {students[index]}"},
            timeout=ATTACK_PATIENCE,
        )

    with bystanders(hostile) as watch, ThreadPoolExecutor(len(SLOW_FORMULAS)) as pool:
        replies = list(pool.map(send, range(len(SLOW_FORMULAS))))
    for formula, reply in zip(SLOW_FORMULAS, replies, strict=True):
        # graded as wrong, or refused as unreadable with a sentence: never a 5xx nor a hang
        assert reply.status_code in (201, 422), (formula, reply.status_code, reply.text[:500])
        if reply.status_code == 201:
            part = reply.json()["parts"]["q1a.macs"]
            assert part["status"] in ("incorrect", "invalid"), (formula, part)
        else:
            assert reply.json()["detail"]["unreadable"]["q1a.macs"], reply.text
    watch.assert_unharmed()
