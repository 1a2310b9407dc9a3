"""A course's own problem sets: uploaded as versions (immutable, named by a hash of the file),
pinned by assignments, moved to a new version by PATCH and a regrade that says what changed."""

from __future__ import annotations

from pathlib import Path

from factories import finished_job, set_file, unique

YAML = {"Content-Type": "application/yaml"}


def _upload(client, course, text: str, headers: dict[str, str] | None = None):
    return client.post(
        f"{course.path}/problem-sets", content=text.encode(), headers={**YAML, **(headers or course.instructor)}
    )


def _regraded(client, course, hw: str) -> dict:
    """The regrade's job, once over."""
    response = client.post(f"{hw}/regrade", headers=course.instructor)
    assert response.status_code == 202, response.text
    return finished_job(client, response.json()["job"], course.instructor)


def test_upload_assign_submit_new_version_patch_and_regrade(client, course) -> None:
    set_id = unique("mine-")
    first = _upload(client, course, set_file(set_id, out_channels=16))
    assert first.status_code == 201, first.text
    v1 = first.json()
    assert (v1["id"], v1["built_in"], v1["keys"], v1["versions"]) == (
        set_id,
        False,
        ["q1.params", "q1.shape"],
        [v1["version"]],
    )
    assert _upload(client, course, set_file(set_id, out_channels=16)).status_code == 200  # unchanged: same version

    aid = course.assignment(problem_set=set_id)
    hw = f"{course.path}/assignments/{aid}"
    assert client.get(hw, headers=course.instructor).json()["set_version"] == v1["version"]
    (_, headers) = course.student()
    right_for_v1 = {"q1.params": str(3 * 3 * 3 * 16 + 16), "q1.shape": "32x32x16"}
    graded = course.submit(aid, headers, right_for_v1).json()
    assert (graded["score"], graded["set_version"]) == (2, v1["version"])

    second = _upload(client, course, set_file(set_id, out_channels=32))
    assert second.status_code == 201
    v2 = second.json()
    assert v2["versions"] == [v1["version"], v2["version"]] and v2["version"] != v1["version"]
    # the assignment keeps its version until told otherwise; a new assignment takes the newest
    assert client.get(hw, headers=course.instructor).json()["set_version"] == v1["version"]
    assert _regraded(client, course, hw)["changed"] == 0
    other = course.assignment(problem_set=set_id)
    assert (
        client.get(f"{course.path}/assignments/{other}", headers=course.instructor).json()["set_version"]
        == v2["version"]
    )

    moved = client.patch(hw, json={"version": v2["version"]}, headers=course.instructor)
    assert moved.status_code == 200 and moved.json()["set_version"] == v2["version"]
    regraded = _regraded(client, course, hw)
    assert (regraded["total"], regraded["changed"], regraded["set_version"]) == (1, 1, v2["version"])
    now = client.get(f"/api/v1/submissions/{graded['id']}", headers=headers).json()
    assert now["score"] == 0 and now["set_version"] == v2["version"] and now["answers"] == right_for_v1
    (earlier,) = now["earlier_grades"]
    assert (earlier["score"], earlier["set_version"]) == (2, v1["version"])
    # and back: a version is immutable, so the first grade comes back exactly
    client.patch(hw, json={"version": v1["version"]}, headers=course.instructor)
    assert _regraded(client, course, hw)["changed"] == 1
    assert client.get(f"/api/v1/submissions/{graded['id']}", headers=headers).json()["score"] == 2

    listed = {s["id"]: s for s in client.get(f"{course.path}/problem-sets", headers=course.instructor).json()}
    assert listed[set_id]["versions"] == [v1["version"], v2["version"]] and listed[set_id]["version"] == v2["version"]
    assert listed["conv-pool-basics"]["built_in"] is True


def test_a_file_that_does_not_validate_changes_nothing_and_says_where(client, course) -> None:
    set_id = unique("bad-")
    broken = set_file(set_id).replace("problems:\n", "problems: [\n", 1)
    response = _upload(client, course, broken)
    assert response.status_code == 422
    (issue,) = response.json()["detail"]
    assert issue["line"] is not None and "YAML" in issue["message"]
    built_in = _upload(client, course, set_file("conv-pool-basics"))
    assert built_in.status_code == 422
    assert built_in.json()["detail"] == [
        {"line": 1, "column": 1, "field": "id", "message": "'conv-pool-basics' is the id of a built-in set; "
         "give the course's own set another id"}
    ]  # fmt: skip
    unsolvable = set_file(set_id).replace("kernel: 3", "kernel: 0")
    refused = _upload(client, course, unsolvable)
    assert refused.status_code == 422 and refused.json()["detail"][0]["message"]
    not_utf8 = client.post(f"{course.path}/problem-sets", content=b"id: x\xff\n", headers={**YAML, **course.instructor})
    assert not_utf8.status_code == 422 and "UTF-8" in not_utf8.json()["detail"]
    names = {s["id"] for s in client.get(f"{course.path}/problem-sets", headers=course.instructor).json()}
    assert set_id not in names
    body = {"id": unique("a"), "problem_set": set_id}
    assert client.post(f"{course.path}/assignments", json=body, headers=course.instructor).status_code == 422


def test_a_course_uses_its_own_sets_and_the_library_only(client, course, engine) -> None:
    from factories import Course, make_instructor

    other = Course(client, make_instructor(engine))
    set_id = unique("own-")
    assert _upload(client, other, set_file(set_id)).status_code == 201
    body = {"id": unique("a"), "problem_set": set_id}
    refused = client.post(f"{course.path}/assignments", json=body, headers=course.instructor)
    assert refused.status_code == 422 and set_id not in refused.json()["detail"].split("may use:")[1]
    assert client.get(f"{course.path}/problem-sets/{set_id}/preview", headers=course.instructor).status_code == 404
    pinned = {"id": unique("a"), "problem_set": "conv-pool-basics", "version": "000000000000"}
    assert client.post(f"{course.path}/assignments", json=pinned, headers=course.instructor).status_code == 422
    (_, ta) = course.member("ta")
    assert _upload(client, course, set_file(unique("ta-"))).status_code == 201
    assert _upload(client, course, set_file(unique("ta-")), headers=ta).status_code == 403


def test_previews_show_any_variant_before_an_assignment_uses_it(client, course) -> None:
    url = f"{course.path}/problem-sets/network-costs/preview"
    declared = client.get(url, headers=course.instructor).json()
    seeded = client.get(url, params={"seed": 3}, headers=course.instructor).json()
    again = client.get(url, params={"seed": 3}, headers=course.instructor).json()
    student = client.get(url, params={"student": "s42"}, headers=course.instructor).json()
    assert declared["variant"] is None and seeded["variant"] == "seed:3" and seeded == again
    assert {seeded["reference"]["n1.conv1_params"], declared["reference"]["n1.conv1_params"]} and seeded["problems"]
    assert student["variant"] == "s42"
    differs = [client.get(url, params={"seed": n}, headers=course.instructor).json()["reference"] for n in range(6)]
    assert len({str(r) for r in differs}) > 1  # the variants differ
    assert client.get(f"{course.path}/problem-sets/no-such-set/preview", headers=course.instructor).status_code == 404
    assert client.get(url, params={"seed": -1}, headers=course.instructor).status_code == 422


def test_a_homework_written_from_scratch_is_uploaded_and_graded_end_to_end(client, course) -> None:
    """examples/vgg-yolo-homework.yaml, a VGG-style backbone with a YOLO head, against PyTorch."""
    import torch
    from torch import nn

    text = (Path(__file__).parents[2] / "examples" / "vgg-yolo-homework.yaml").read_text()
    uploaded = _upload(client, course, text)
    assert uploaded.status_code in (200, 201), uploaded.text
    layers: list[nn.Module] = []
    channels = 3
    for width in (32, 64, 128, 256):
        for _ in range(2):
            layers += [nn.Conv2d(channels, width, 3, padding=1), nn.ReLU()]
            channels = width
        layers.append(nn.MaxPool2d(2, 2))
    backbone = nn.Sequential(*layers)
    head, predict = nn.Conv2d(256, 512, 3, padding=1), nn.Conv2d(512, 30, 1)
    model = nn.Sequential(backbone, head, nn.ReLU(), predict)
    macs = 0

    def count(module: nn.Module, _inputs: object, output: torch.Tensor) -> None:
        nonlocal macs
        if isinstance(module, nn.Conv2d):
            macs += output.numel() * module.in_channels * module.kernel_size[0] * module.kernel_size[1]

    for module in model.modules():
        module.register_forward_hook(count)
    with torch.no_grad():
        grid = backbone(torch.zeros(1, 3, 224, 224)).shape
        macs = 0  # (the backbone's counted once, in the whole model)
        output = model(torch.zeros(1, 3, 224, 224)).shape
    params = {name: sum(p.numel() for p in m.parameters()) for name, m in (("head", head), ("all", model))}
    answers = {
        "net.grid": f"{grid[2]}x{grid[3]}x{grid[1]}",
        "net.head_params": str(params["head"] - head.bias.numel()),  # the bias forgotten
        "net.predict_params": str(sum(p.numel() for p in predict.parameters())),
        "net.output": f"({output[2]}, {output[3]}, {output[1]})",
        "net.params": f"{params['all']:,}",
        "net.macs": str(macs),
        "yolo.depth": "2*5 + 20",
        "yolo.boxes": str(output[2] * output[3] * 2),
    }
    aid = course.assignment(problem_set="vgg-yolo-homework")
    (_, headers) = course.student()
    graded = course.submit(aid, headers, answers)
    assert graded.status_code == 201, graded.text
    parts = graded.json()["parts"]
    assert {k for k, p in parts.items() if p["status"] != "correct"} == {"net.head_params"}
    assert parts["net.head_params"]["misconception"] == "bias-omitted"


def test_an_upload_runs_the_sets_own_checks_and_reports_a_failing_one_at_its_line(client, course) -> None:
    set_id = unique("checked-")
    text = set_file(set_id).replace(
        "prompt: The layer's parameters.}",
        "prompt: The layer's parameters.,\n"
        "         checks: [{answer: '448', status: correct}, {answer: '1', status: correct}]}",
    )
    line = next(n for n, row in enumerate(text.splitlines(), start=1) if "answer: '1'" in row)
    refused = _upload(client, course, text)
    assert refused.status_code == 422, refused.text
    (issue,) = refused.json()["detail"]
    assert issue["line"] == line and issue["field"].startswith("q1.") and issue["message"]
    passing = text.replace(", {answer: '1', status: correct}", "")
    assert _upload(client, course, passing).status_code == 201
