"""An instructor attacking accounts outside their course, and a student reading references early,
against the real service: each attack as it was found, refused, and the victim unharmed."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import httpx

from hostile_service import Hostile


def test_importing_an_admin_renames_and_re_emails_nobody(hostile: Hostile) -> None:
    me = hostile.api("GET", "/courses", hostile.admin)
    assert me.status_code == 200
    joined = hostile.api(
        "POST",
        f"/courses/{hostile.attacker_course}/members",
        json={"members": [{"id": "the-admin", "name": "Pwned", "email": "mallory@example.edu"}]},
    )
    assert joined.status_code == 200, joined.text
    member = joined.json()["members"][0]
    assert (member["name"], member["email"], member["token"]) == ("The Admin", None, None)
    # imported as a student, the admin still runs the course
    roster = hostile.api("GET", f"/courses/{hostile.attacker_course}/members", hostile.admin)
    assert roster.status_code == 200
    assert {m["id"]: m["name"] for m in roster.json()}["the-admin"] == "The Admin"


def test_an_account_in_no_course_is_not_taken_over_by_importing_it(hostile: Hostile) -> None:
    """A student dropped from the honest course (their earlier work stays there) is imported by the
    attacker, who then asks for a new token: refused, and the student's own token still works."""
    victim = hostile.enrol(hostile.bystander_course, "victim", hostile.honest)
    victim_token = victim["token"]
    submitted = hostile.api(
        "POST",
        f"/courses/{hostile.bystander_course}/assignments/{hostile.bystander_assignment}/submissions",
        victim_token,
        json={"answers": {"ex4.conv1_params": "3640"}},
    )
    assert submitted.status_code == 201
    dropped = hostile.api("DELETE", f"/courses/{hostile.bystander_course}/members/victim", hostile.honest)
    assert dropped.status_code == 204
    hostile.enrol(hostile.attacker_course, "victim")
    taken = hostile.api("POST", f"/courses/{hostile.attacker_course}/members/victim/token")
    assert taken.status_code == 403, taken.text
    assert hostile.api("GET", "/courses", victim_token).status_code == 200
    # nor may the attacker read the dropped student's earlier work by any other door
    earlier = submitted.json()["id"]
    assert hostile.api("GET", f"/submissions/{earlier}").status_code == 404


def test_a_student_with_an_extension_does_not_get_the_references_early(hostile: Hostile) -> None:
    course = hostile.attacker_course
    now = datetime.now(UTC)
    made = hostile.api(
        "POST",
        f"/courses/{course}/assignments",
        json={
            "id": "early",
            "problem_set": "conv-pool-basics",
            "release_answers": "after_close",
            "due_at": (now - timedelta(hours=2)).isoformat(),
            "closes_at": (now - timedelta(hours=1)).isoformat(),
        },
    )
    assert made.status_code == 201, made.text
    student = hostile.enrol(course, "late-student")
    granted = hostile.api(
        "PUT",
        f"/courses/{course}/assignments/early/extensions/late-student",
        json={"due_at": (now + timedelta(days=2)).isoformat()},
    )
    assert granted.status_code == 200, granted.text
    detail = hostile.api("GET", f"/courses/{course}/assignments/early", student["token"]).json()
    assert detail["reference"] is None and detail["answers_released"] is False


def test_practice_on_a_fixed_set_does_not_hand_out_its_answers(hostile: Hostile) -> None:
    """With the defaults (answers never released, practice after the due date, late work accepted),
    practice on a set that is not randomized would show the worked solutions of the graded numbers
    to a student who can still submit them."""
    course = hostile.attacker_course
    due = datetime.now(UTC) - timedelta(days=1)
    made = hostile.api(
        "POST",
        f"/courses/{course}/assignments",
        json={"id": "fixed-practice", "problem_set": "conv-pool-basics", "due_at": due.isoformat()},
    )
    assert made.status_code == 201, made.text
    student = hostile.enrol(course, "practising-student")
    path = f"/courses/{course}/assignments/fixed-practice/practice"
    with httpx.Client(base_url=hostile.url, timeout=30) as browser:
        form = browser.get("/")
        (csrf,) = re.findall(r'name="csrf" value="([0-9a-f]+)"', form.text)
        signed_in = browser.post("/sign-in", data={"token": student["token"], "csrf": csrf})
        assert signed_in.status_code == 303, signed_in.text
        practice = browser.get(f"{path}?seed=1")
    assert practice.status_code == 403 and "opens only once the answers are released" in practice.text
    assert "Worked solution" not in practice.text and "3,640" not in practice.text
    late = hostile.api(
        "POST",
        f"/courses/{course}/assignments/fixed-practice/submissions",
        student["token"],
        json={"answers": {"ex4.conv1_params": "3640"}},
    )
    assert late.status_code == 201 and late.json()["late"] is True and late.json()["reference"] is None
