"""``grader sets push``: set files uploaded to a running ``grader serve``, refusals and failed checks at their lines."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from cli.app import app as cli
from harness.server import ServerProcess, free_port

from factories import auth, make_instructor, set_file

runner = CliRunner()


@pytest.mark.only_backend("sqlite")  # the command talks HTTP; the backend is the service's business
def test_push_uploads_versions_and_reports_refusals_at_their_lines(backend, database_url, engine, tmp_path) -> None:
    token = make_instructor(engine)
    good, broken = tmp_path / "good.yaml", tmp_path / "broken.yaml"
    good.write_text(set_file("pushed"))
    broken.write_text(set_file("other").replace("problems:\n", "problems: [\n", 1))
    with ServerProcess.grader_serve(database_url, port=free_port(), workdir=tmp_path) as server:
        server.wait_healthy()
        made = httpx.post(f"{server.base_url}/api/v1/courses", json={"id": "c1", "title": "C"}, headers=auth(token))
        assert made.status_code == 201, made.text
        env = {"GRADER_URL": server.base_url, "GRADER_TOKEN": token}
        first = runner.invoke(cli, ["sets", "push", str(good), "--course", "c1"], env=env)
        assert first.exit_code == 0, first.output
        assert "pushed version" in first.stdout and "(new)" in first.stdout
        again = runner.invoke(cli, ["sets", "push", str(good), str(broken), "--course", "c1"], env=env)
        assert again.exit_code == 1
        assert "(unchanged)" in again.stdout
        assert f"{broken}:" in again.stderr and "YAML" in again.stderr
        line = again.stderr.split(f"{broken}:", 1)[1].split(":", 1)[0]
        assert line.isdigit()
        elsewhere = runner.invoke(cli, ["sets", "push", str(good), "--course", "nope"], env=env)
        assert elsewhere.exit_code == 1 and "404" in elsewhere.stderr
        listed = httpx.get(f"{server.base_url}/api/v1/courses/c1/problem-sets", headers=auth(token)).json()
        assert "pushed" in {s["id"] for s in listed}
    missing = runner.invoke(
        cli, ["sets", "push", str(good), "--course", "c1"], env={"GRADER_URL": "", "GRADER_TOKEN": ""}
    )
    assert missing.exit_code == 2 and "GRADER_URL" in missing.stderr


BUILT_IN = Path(__file__).parents[2] / "problems" / "sets" / "numpy-convolution.yaml"


@pytest.mark.only_backend("sqlite")
def test_push_follows_a_check_and_reports_a_failed_one_at_its_lines(backend, database_url, engine, tmp_path) -> None:
    token = make_instructor(engine)
    right, wrong = tmp_path / "right.yaml", tmp_path / "wrong.yaml"
    text = BUILT_IN.read_text().replace("id: numpy-convolution", "id: our-convolution", 1)
    right.write_text(text)
    wrong.write_text(
        text.replace("id: our-convolution", "id: our-broken-convolution", 1).replace(
            "np.tensordot(window, w, axes=([1, 2, 3], [1, 2, 3])) + b", "0"
        )
    )
    with ServerProcess.grader_serve(database_url, port=free_port(), workdir=tmp_path) as server:
        server.wait_healthy()
        made = httpx.post(f"{server.base_url}/api/v1/courses", json={"id": "c2", "title": "C"}, headers=auth(token))
        assert made.status_code == 201, made.text
        env = {"GRADER_URL": server.base_url, "GRADER_TOKEN": token}
        pushed = runner.invoke(cli, ["sets", "push", str(right), str(wrong), "--course", "c2"], env=env)
        assert pushed.exit_code == 1, pushed.output
        assert "our-convolution version" in pushed.stdout and "(stored; its check passed)" in pushed.stdout
        assert "our-broken-convolution version" in pushed.stdout and "(stored; its check failed)" in pushed.stdout
        failing = [line for line in pushed.stderr.splitlines() if "the solution fails the test" in line]
        assert failing and all(line.startswith(f"{wrong}:") for line in failing)
        assert all(line.split(":")[1].isdigit() for line in failing)
        again = runner.invoke(cli, ["sets", "push", str(right), "--course", "c2"], env=env)
        assert again.exit_code == 0 and "(unchanged; its check passed)" in again.stdout
