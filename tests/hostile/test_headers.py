"""What the attacker's afternoon found on the real service's responses: ``/docs`` framed and without
a policy, personal replies cacheable. Every response now says otherwise (``api/kit/headers.py``)."""

from __future__ import annotations

from hostile_service import Hostile


def test_docs_cannot_be_framed_and_run_no_inline_script(hostile: Hostile) -> None:
    docs = hostile.request("GET", "/docs", None)
    assert docs.status_code == 200
    policy = docs.headers["content-security-policy"]
    assert (
        "frame-ancestors 'none'" in policy
        and "script-src 'self'" in policy
        and "unsafe-inline" not in policy.split("script-src")[1].split(";")[0]
    )
    assert docs.headers["x-frame-options"] == "DENY"


def test_personal_replies_are_not_to_be_stored(hostile: Hostile) -> None:
    course, assignment = hostile.bystander_course, hostile.bystander_assignment
    for path in (
        f"/courses/{course}/assignments/{assignment}",
        f"/courses/{course}/assignments/{assignment}/submissions",
        f"/courses/{course}/assignments/{assignment}/gradebook?format=csv",
    ):
        response = hostile.api("GET", path, hostile.honest)
        assert response.status_code == 200, (path, response.text)
        assert response.headers["cache-control"] == "no-store", path
        assert "frame-ancestors 'none'" in response.headers["content-security-policy"], path
