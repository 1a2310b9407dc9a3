"""The OpenAPI document at /docs describes every endpoint of the contract, with examples."""

from __future__ import annotations

CONTRACT = {
    ("get", "/health"),
    ("get", "/api/v1/problem-sets"),
    ("post", "/api/v1/students"),
    ("post", "/api/v1/students/{student_id}/token"),  # an addition to the contract
    ("delete", "/api/v1/students/{student_id}"),  # an addition to the contract
    ("post", "/api/v1/assignments"),
    ("get", "/api/v1/assignments"),
    ("get", "/api/v1/assignments/{assignment_id}"),
    ("post", "/api/v1/assignments/{assignment_id}/submissions"),
    ("post", "/api/v1/assignments/{assignment_id}/preview"),
    ("get", "/api/v1/assignments/{assignment_id}/submissions"),
    ("get", "/api/v1/submissions/{submission_id}"),
    ("get", "/api/v1/assignments/{assignment_id}/gradebook"),
    ("get", "/api/v1/assignments/{assignment_id}/stats"),
    ("post", "/api/v1/assignments/{assignment_id}/regrade"),
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
            ref = body["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
            assert schemas[ref].get("examples"), f"{method} {path}: the request body has no example"
        if path.startswith("/api/"):
            assert operation.get("security"), (method, path)
