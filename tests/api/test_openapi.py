"""The OpenAPI document at /docs describes every endpoint of the contract, with examples."""

from __future__ import annotations

from typing import Any

import jsonschema_rs
import pytest

from grader.results import Status

C = "/api/v1/courses/{course_id}"
A = C + "/assignments/{assignment_id}"
CONTRACT = {
    ("get", "/health"),
    ("get", "/metrics"),
    ("post", "/api/v1/courses"),
    ("get", "/api/v1/courses"),
    ("get", C),  # an addition to the contract: one course, with its time zone
    ("patch", C),
    ("post", C + "/members"),
    ("get", C + "/members"),
    ("delete", C + "/members/{member_id}"),
    ("post", C + "/members/{member_id}/token"),  # an addition to the contract
    ("get", C + "/problem-sets"),
    ("post", C + "/problem-sets"),
    ("get", C + "/problem-sets/{set_id}"),
    ("get", C + "/problem-sets/{set_id}/preview"),
    ("post", C + "/assignments"),
    ("get", C + "/assignments"),
    ("get", A),
    ("patch", A),
    ("delete", A),  # archives (v4)
    ("put", A + "/extensions/{student_id}"),
    ("delete", A + "/extensions/{student_id}"),  # an addition to the contract
    ("post", A + "/submissions"),
    ("post", A + "/preview"),
    ("post", A + "/start"),  # v5: timed assignments
    ("get", A + "/clock"),
    ("put", A + "/draft"),
    ("get", A + "/draft"),
    ("post", A + "/attempts/{student_id}/unlock"),  # v6: the exam room
    ("put", C + "/accommodations/{name}"),  # v6: accommodations
    ("get", C + "/accommodations"),  # an addition to the contract: the labels and who holds them
    ("delete", C + "/accommodations/{name}"),  # an addition to the contract
    ("put", C + "/students/{student_id}/accommodations"),
    ("get", A + "/attempts"),  # v6: the proctor's
    ("post", A + "/time"),
    ("post", A + "/attempts/{student_id}/end"),
    ("post", A + "/signals"),
    ("get", A + "/submissions"),
    ("get", "/api/v1/submissions/{submission_id}"),
    ("get", A + "/gradebook"),
    ("get", C + "/gradebook"),  # v5: the course gradebook (also at /gradebook.csv, as a file)
    ("get", A + "/stats"),
    ("post", A + "/regrade"),
    ("post", A + "/similarity"),  # v6: the similarity report
    ("get", A + "/similarity"),
    ("get", "/api/v1/jobs/{job_id}"),
    ("post", C + "/members/{member_id}/sign-in-link"),
    ("post", C + "/sign-in-links"),  # an addition to the contract
    ("get", C + "/mails"),  # an addition to the contract
    ("get", "/api/v1/account/tokens"),  # an addition to the contract: /account's REST twin
    ("post", "/api/v1/account/tokens"),  # an addition to the contract
    ("delete", "/api/v1/account/tokens/{token_id}"),  # an addition to the contract
    ("post", "/api/v1/lti/platforms"),
    ("get", "/api/v1/lti/platforms"),
    ("post", "/api/v1/lti/registrations"),  # an addition to the contract: LTI Dynamic Registration
    ("get", "/api/v1/courses/{course_id}/lti"),
    ("post", "/api/v1/courses/{course_id}/lti/sync"),
    ("get", A + "/grading/{key}"),
    ("put", A + "/grading/{key}/groups"),  # an addition to the contract: staff confirm, split, move groups
    ("get", A + "/rubrics/{key}"),
    ("put", A + "/rubrics/{key}"),
    ("put", "/api/v1/submissions/{submission_id}/parts/{key}/grading"),
    ("get", "/api/v1/submissions/{submission_id}/parts/{key}/grading"),  # an addition: the grading's history
    ("post", A + "/grading/release"),
    ("post", "/api/v1/submissions/{submission_id}/parts/{key}/regrade-request"),
    ("post", "/api/v1/submissions/{submission_id}/parts/{key}/regrade-request/reply"),  # an addition: staff answer
}


def test_docs_page_and_every_contract_endpoint_documented(client) -> None:
    assert client.get("/docs").status_code == 200
    spec = client.get("/openapi.json").json()
    operations = {(method, path): op for path, item in spec["paths"].items() for method, op in item.items()}
    assert set(operations) == CONTRACT
    schemas = spec["components"]["schemas"]
    for (method, path), operation in operations.items():
        assert operation.get("summary"), (method, path)
        body = operation.get("requestBody")
        if body:
            if "application/yaml" in body["content"]:  # a set file
                assert body["content"]["application/yaml"]["example"], f"{method} {path}: no example"
            else:
                ref = body["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
                assert schemas[ref].get("examples"), f"{method} {path}: the request body has no example"
        if path.startswith("/api/"):
            assert operation.get("security"), (method, path)


# Every status each operation can answer besides its success (tests/api/test_authorization.py and
# tests/api/test_schemathesis.py check that the service answers no other).
ERRORS = {
    ("get", "/health"): {503},
    ("get", "/metrics"): {401, 403, 503},
    ("post", "/api/v1/courses"): {401, 403, 409, 413, 422, 503},
    ("get", "/api/v1/courses"): {401, 503},
    ("get", C): {401, 404, 422, 503},
    ("patch", C): {401, 403, 404, 413, 422, 503},
    ("post", C + "/members"): {401, 403, 404, 409, 413, 422, 503},
    ("get", C + "/members"): {401, 403, 404, 422, 503},
    ("delete", C + "/members/{member_id}"): {401, 403, 404, 409, 422, 503},
    ("post", C + "/members/{member_id}/token"): {401, 403, 404, 422, 503},
    ("get", C + "/problem-sets"): {401, 403, 404, 422, 503},
    ("post", C + "/problem-sets"): {401, 403, 404, 413, 422, 429, 503},
    ("get", C + "/problem-sets/{set_id}"): {401, 403, 404, 422, 503},
    ("get", C + "/problem-sets/{set_id}/preview"): {401, 403, 404, 422, 503},
    ("post", C + "/assignments"): {401, 403, 404, 409, 413, 422, 503},
    ("get", C + "/assignments"): {401, 403, 404, 422, 503},
    ("get", A): {401, 403, 404, 422, 503},
    ("patch", A): {401, 403, 404, 409, 413, 422, 503},
    ("delete", A): {401, 403, 404, 422, 503},
    ("put", A + "/extensions/{student_id}"): {401, 403, 404, 413, 422, 503},
    ("delete", A + "/extensions/{student_id}"): {401, 403, 404, 422, 503},
    ("get", C + "/accommodations"): {401, 403, 404, 422, 503},
    ("put", C + "/accommodations/{name}"): {401, 403, 404, 413, 422, 503},
    ("delete", C + "/accommodations/{name}"): {401, 403, 404, 422, 503},
    ("put", C + "/students/{student_id}/accommodations"): {401, 403, 404, 413, 422, 503},
    ("post", A + "/submissions"): {401, 403, 404, 409, 413, 422, 429, 503},
    ("post", A + "/preview"): {401, 403, 404, 413, 422, 429, 503},
    ("post", A + "/start"): {401, 403, 404, 409, 422, 503},
    ("get", A + "/clock"): {401, 403, 404, 422, 503},
    ("put", A + "/draft"): {401, 403, 404, 409, 413, 422, 503},
    ("get", A + "/draft"): {401, 403, 404, 422, 503},
    ("post", A + "/attempts/{student_id}/unlock"): {401, 403, 404, 422, 503},
    ("get", A + "/attempts"): {401, 403, 404, 422, 503},
    ("post", A + "/time"): {401, 403, 404, 409, 422, 503},
    ("post", A + "/attempts/{student_id}/end"): {401, 403, 404, 409, 422, 503},
    ("post", A + "/signals"): {401, 403, 404, 409, 422, 503},
    ("get", A + "/submissions"): {401, 403, 404, 422, 503},
    ("get", "/api/v1/submissions/{submission_id}"): {401, 403, 404, 422, 503},
    ("get", A + "/gradebook"): {401, 403, 404, 422, 503},
    ("get", C + "/gradebook"): {401, 403, 404, 422, 503},
    ("get", A + "/stats"): {401, 403, 404, 422, 503},
    ("post", A + "/regrade"): {401, 403, 404, 409, 422, 503},
    ("post", A + "/similarity"): {401, 404, 413, 422, 503},
    ("get", A + "/similarity"): {401, 404, 422, 503},
    ("get", "/api/v1/jobs/{job_id}"): {401, 404, 422, 503},
    ("post", C + "/members/{member_id}/sign-in-link"): {401, 403, 404, 409, 413, 422, 503},
    ("post", C + "/sign-in-links"): {401, 403, 404, 413, 422, 503},
    ("get", C + "/mails"): {401, 403, 404, 422, 503},
    ("get", "/api/v1/account/tokens"): {401, 503},
    ("post", "/api/v1/account/tokens"): {401, 409, 413, 422, 503},
    ("delete", "/api/v1/account/tokens/{token_id}"): {401, 404, 422, 503},
    ("post", "/api/v1/lti/platforms"): {401, 403, 409, 413, 422, 503},
    ("get", "/api/v1/lti/platforms"): {401, 403, 503},
    ("post", "/api/v1/lti/registrations"): {401, 403, 409, 503},
    ("get", "/api/v1/courses/{course_id}/lti"): {401, 403, 404, 422, 503},
    ("post", "/api/v1/courses/{course_id}/lti/sync"): {401, 403, 404, 422, 503},
    ("get", A + "/grading/{key}"): {401, 403, 404, 422, 503},
    ("put", A + "/grading/{key}/groups"): {401, 403, 404, 413, 422, 503},
    ("get", A + "/rubrics/{key}"): {401, 403, 404, 422, 503},
    ("put", A + "/rubrics/{key}"): {401, 403, 404, 413, 422, 503},
    ("put", "/api/v1/submissions/{submission_id}/parts/{key}/grading"): {401, 403, 404, 409, 413, 422, 503},
    ("get", "/api/v1/submissions/{submission_id}/parts/{key}/grading"): {401, 403, 404, 422, 503},
    ("post", A + "/grading/release"): {401, 403, 404, 409, 422, 503},
    ("post", "/api/v1/submissions/{submission_id}/parts/{key}/regrade-request"): {401, 403, 404, 409, 413, 422, 503},
    ("post", "/api/v1/submissions/{submission_id}/parts/{key}/regrade-request/reply"): {
        *(401, 403, 404, 409, 413, 422, 503)
    },
}
SUBMIT = ("post", A + "/submissions")
UPLOAD = ("post", C + "/problem-sets")


@pytest.fixture(scope="module")
def spec(client) -> dict[str, Any]:
    return client.get("/openapi.json").json()


def operations(spec: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {(method, path): op for path, item in spec["paths"].items() for method, op in item.items()}


def validator(spec: dict[str, Any], schema: dict[str, Any]) -> Any:
    """A JSON schema validator for ``schema``, which may refer to the document's components."""
    return jsonschema_rs.validator_for({**schema, "components": spec["components"]})


def test_every_operation_documents_each_status_it_can_answer(spec) -> None:
    assert set(ERRORS) == set(operations(spec))
    for key, operation in operations(spec).items():
        documented = {int(status) for status in operation["responses"]} - {200, 201, 202, 204}
        assert documented == ERRORS[key], key
        for status, response in operation["responses"].items():
            if status == "204":
                continue
            if key == ("get", "/metrics") and status == "200":  # Prometheus's text format
                assert set(response["content"]) == {"text/plain"}
                continue
            assert response["content"]["application/json"]["schema"], (key, status)
            if status == "401":
                assert response["headers"]["WWW-Authenticate"]["required"] is True
            if status == "503":
                assert response["headers"]["Retry-After"]["required"] is True


def test_the_operations_are_grouped_by_tags_listed_in_the_order_of_a_course(spec) -> None:
    """The routers are mounted busiest first; the document keeps its own order (``api.app.TAGS``)."""
    used = {tag for operation in operations(spec).values() for tag in operation["tags"]}
    listed = [tag["name"] for tag in spec["tags"]]
    assert used == set(listed) and listed[:3] == ["courses", "assignments", "submissions"]


def test_the_422_schema_is_the_shape_the_service_sends(spec) -> None:
    schemas = spec["components"]["schemas"]
    assert "HTTPValidationError" not in schemas  # FastAPI's own, which says what is not sent
    assert schemas["ValidationErrorOut"]["properties"]["detail"]["items"] == {
        "$ref": "#/components/schemas/InvalidField"
    }
    field = schemas["InvalidField"]
    assert set(field["required"]) == set(field["properties"]) == {"type", "loc", "msg"}
    assert field["additionalProperties"] is False  # input, ctx and url are not echoed
    for key, operation in operations(spec).items():
        if 422 in ERRORS[key]:
            variants = operation["responses"]["422"]["content"]["application/json"]["schema"]["anyOf"]
            bodies = {v["$ref"].rsplit("/", 1)[-1] for v in variants}
            own = {SUBMIT: {"SubmitRefusalOut"}, UPLOAD: {"SetRefusalOut"}}.get(key, set())
            assert bodies == {"ValidationErrorOut", "ErrorOut"} | own


def test_graded_and_previewed_parts_are_typed(spec) -> None:
    schemas = spec["components"]["schemas"]
    part = {"$ref": "#/components/schemas/GradedPartOut"}
    assert schemas["SubmissionOut"]["properties"]["parts"]["additionalProperties"] == part
    assert schemas["EarlierGradeOut"]["properties"]["parts"]["additionalProperties"] == part
    graded = schemas["GradedPartOut"]
    assert set(graded["required"]) == {
        "score", "max_score", "status", "feedback", "misconception", "read_as", "tolerance", "follow_through"
    }  # fmt: skip
    assert schemas["Status"]["enum"] == [s.value for s in Status]
    preview = {"$ref": "#/components/schemas/PreviewPartOut"}
    assert schemas["PreviewOut"]["properties"]["parts"]["additionalProperties"] == preview
    assert schemas["SubmitRefusal"]["properties"]["parts"]["additionalProperties"] == preview


def test_token_replies_document_that_they_are_not_cached(spec) -> None:
    for key in (("post", C + "/members"), ("post", C + "/members/{member_id}/token")):
        headers = operations(spec)[key]["responses"]["200"]["headers"]
        assert headers["Cache-Control"]["schema"]["enum"] == ["no-store"], key


def test_error_bodies_sent_match_their_documented_schemas(client, course, spec) -> None:
    """A 422 of each kind, a 401, a 404 and a 413, each checked against the operation's schema."""
    assignment = course.assignment()
    _, student = course.student()
    submit = f"{course.path}/assignments/{assignment}/submissions"
    sent = [
        (SUBMIT, client.post(submit, json={"answers": {"ex5.params": "3 +"}}, headers=student)),  # refusal
        (SUBMIT, client.post(submit, json={"answers": []}, headers=student)),  # wrong shape
        (SUBMIT, client.post(submit, content=b"{", headers={**student, "content-type": "application/json"})),
        (SUBMIT, client.post(submit, json={"answers": {}})),  # no token
        (SUBMIT, client.post(submit, json={"answers": {"x": "y" * 70_000}}, headers=student)),  # too large
        (("get", "/api/v1/submissions/{submission_id}"), client.get("/api/v1/submissions/x", headers=student)),
        (("get", A), client.get(f"{course.path}/assignments/nope", headers=student)),
        (
            ("post", C + "/assignments"),
            client.post(f"{course.path}/assignments", json={"id": "a"}, headers=course.instructor),
        ),
    ]
    statuses = set()
    for key, response in sent:
        statuses.add(response.status_code)
        schema = operations(spec)[key]["responses"][str(response.status_code)]["content"]["application/json"]["schema"]
        errors = [error.message for error in validator(spec, schema).iter_errors(response.json())]
        assert not errors, (key, response.status_code, response.json(), errors)
    assert statuses == {401, 404, 413, 422}


def test_a_regrade_documents_its_202_and_the_job_it_starts(spec) -> None:
    ops = operations(spec)
    started = ops[("post", A + "/regrade")]["responses"]
    assert set(started) & {"200", "201"} == set()
    assert started["202"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/JobStarted"}
    job = ops[("get", "/api/v1/jobs/{job_id}")]["responses"]["200"]["content"]["application/json"]["schema"]
    assert job == {"$ref": "#/components/schemas/JobOut"}
    schema = spec["components"]["schemas"]["JobOut"]
    assert {"id", "kind", "status", "done", "total"} <= set(schema["required"])
    assert schema["properties"]["status"]["enum"] == ["queued", "running", "done", "failed"]
    assert "error" in schema["properties"]
