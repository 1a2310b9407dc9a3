"""A machine without what a code part needs says so in a sentence, never fails obscurely: a runtime
whose packages are not installed (torch is optional), unknown or outside the code workers' allow-list
(``GRADER_CODE_PACKAGES``), and a sandbox that cannot start, make the part ``invalid`` with the
reason, and nothing runs unsandboxed (a set whose solutions cannot be run fails its check with the
reason); an upload of a set naming a package the workers do not offer is refused at that line with
the list they offer; ``grader worker`` names the queues it knows."""

from __future__ import annotations

import importlib.util
import subprocess
from pathlib import Path

import pytest
from pydantic import ValidationError

from api.code_runs.grading import sandboxed
from api.code_runs.sandboxes import Sandboxes, missing_runtime
from api.kit.config import Settings
from harness.server import VENV_BIN, server_env
from problems.loader import load_bank
from sandbox import Call, SandboxUnavailable

from factories import finished_check, unique

SET, KEY = "numpy-convolution", "conv.forward"
MODULE = "def conv_forward(x, w, b, stride=1, pad=0):\n    return x\n"
#: This module's code workers offer scipy only.
OFFERED = ("scipy",)
#: A set whose solution imports scipy, naming the package its problem asks for.
PACKAGE_SET = """\
id: {set_id}
title: Packages
problems:
  - id: q1
    type: code
    packages: [{package}]
    solution: |
      from scipy.signal import correlate2d

      def correlate(x, k):
          return correlate2d(x, k, mode="valid")
    parts:
      - key: corr
        driver: |
          return {{"out": student.correlate(x, k)}}
        outputs: {{out: equal}}
        inputs:
          x: {{shape: [5, 5]}}
          k: {{shape: [3, 3]}}
        tests:
          - {{name: small}}
"""


@pytest.fixture(scope="module")
def settings(settings: Settings) -> Settings:
    """The suite's settings, with this module's allow-list of packages."""
    return settings.model_copy(update={"code_packages": OFFERED})


@pytest.fixture
def without_numpy(monkeypatch: pytest.MonkeyPatch) -> None:
    """This process as a machine without numpy installed (as far as the sandboxes can tell)."""
    found = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *rest: None if name == "numpy" else found(name, *rest)
    )


def test_a_runtime_this_machine_lacks_is_refused_with_what_to_install(without_numpy: None) -> None:
    reason = missing_runtime("numpy")
    assert reason is not None and "have no numpy" in reason and "install" in reason
    with pytest.raises(SandboxUnavailable, match="have no numpy"):
        Sandboxes().run("numpy", MODULE, [Call("conv_forward", (1, 2, 3))])


def test_an_unknown_runtime_is_named() -> None:
    assert missing_runtime("julia") == "the sandbox has no runtime named 'julia' (it has numpy, torch)"
    assert missing_runtime("numpy+requests") == "the sandbox offers no package 'requests' (it offers scipy, matplotlib)"
    assert missing_runtime("numpy") is None


def test_a_package_outside_the_code_workers_allow_list_is_refused_with_it_and_nothing_runs() -> None:
    offered = "matplotlib is not offered here; this server's code workers offer: scipy"
    assert missing_runtime("numpy+matplotlib+scipy", ("scipy",)) == offered
    assert (
        missing_runtime("numpy+scipy", ()) == "scipy is not offered here; this server's code workers offer no package"
    )
    assert missing_runtime("numpy+scipy", ("scipy",)) is None and missing_runtime("torch", ()) is None
    sandboxes = Sandboxes(packages=("scipy",))
    with pytest.raises(SandboxUnavailable, match=offered):
        sandboxes.run("numpy+matplotlib", MODULE, [Call("conv_forward", (1, 2, 3))])
    assert sandboxes._made == {}  # no sandbox was made for it


def test_the_allow_list_is_read_from_the_environment_and_defaults_to_what_is_installed() -> None:
    installed = tuple(name for name in ("scipy", "matplotlib") if importlib.util.find_spec(name) is not None)
    assert Settings.from_env({}).code_packages == installed
    assert Settings.from_env({"GRADER_CODE_PACKAGES": " matplotlib,scipy, "}).code_packages == ("matplotlib", "scipy")
    assert Settings.from_env({"GRADER_CODE_PACKAGES": ""}).code_packages == ()  # set but empty: none
    with pytest.raises(ValidationError, match=r"names requests, which the sandbox does not offer \(it offers scipy"):
        Settings.from_env({"GRADER_CODE_PACKAGES": "scipy,requests"})


def test_a_part_whose_runtime_is_missing_is_invalid_with_the_sentence(without_numpy: None) -> None:
    grade = sandboxed(Sandboxes())
    part = grade(load_bank()[SET], {KEY: MODULE}, "s1")[KEY]
    assert part["status"] == "invalid" and part["score"] == 0.0
    assert "have no numpy" in part["feedback"] and "not graded" in part["feedback"].lower()


def test_a_part_whose_sandbox_cannot_start_is_invalid_with_the_reason(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*_: object) -> None:
        raise SandboxUnavailable("bubblewrap is not installed, so submitted code cannot be run safely")

    monkeypatch.setattr("sandbox.service._Worker.__init__", refuse)
    part = sandboxed(Sandboxes())(load_bank()[SET], {KEY: MODULE}, "s1")[KEY]
    assert part["status"] == "invalid" and "bubblewrap is not installed" in part["feedback"]


def test_grader_worker_names_the_queues_it_knows(tmp_path: Path) -> None:
    done = subprocess.run(
        [str(VENV_BIN / "grader"), "worker", "--queue", "cod"],
        env=server_env(DATABASE_URL="postgresql+psycopg://nobody@127.0.0.1:1/none"),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2, done.stdout + done.stderr
    assert "No queue cod: the queues are grader, code, checks." in done.stderr


def test_a_set_whose_solutions_cannot_run_here_fails_its_check_saying_why(client, course, without_numpy) -> None:
    text = PACKAGE_SET.format(set_id=unique("nothing-to-run-"), package="scipy")
    headers = {"Content-Type": "application/yaml", **course.instructor}
    reply = client.post(f"{course.path}/problem-sets", content=text.encode(), headers=headers)
    assert reply.status_code == 202, reply.text
    made = reply.json()
    check = finished_check(client, course.path, made["id"], made["version"], course.instructor)["check"]
    (issue,) = check["issues"]
    assert check["status"] == "failed" and issue["field"] == "solution"
    assert "could not be run to check them, so no assignment may use it" in issue["message"]
    assert "have no numpy" in issue["message"]


def _upload(client, course, set_id: str, package: str):
    text = PACKAGE_SET.format(set_id=set_id, package=package)
    headers = {"Content-Type": "application/yaml", **course.instructor}
    return client.post(f"{course.path}/problem-sets", content=text.encode(), headers=headers)


@pytest.mark.only_backend("sqlite")  # (the refusal is the upload's, whatever the database)
def test_an_upload_naming_a_package_the_workers_do_not_offer_is_refused_at_its_line(client, course) -> None:
    set_id = unique("plots-")
    refused = _upload(client, course, set_id, "matplotlib")
    assert refused.status_code == 422, refused.text
    assert refused.json()["detail"] == [
        {
            "line": 6,
            "column": 15,
            "field": "q1.packages",
            "message": "matplotlib is not offered here; this server's code workers offer: scipy",
        }
    ]
    names = {s["id"] for s in client.get(f"{course.path}/problem-sets", headers=course.instructor).json()}
    assert set_id not in names


@pytest.mark.only_backend("sqlite")
def test_an_upload_naming_a_package_they_offer_runs_its_solution_with_it_and_is_stored(client, course) -> None:
    stored = _upload(client, course, unique("correlations-"), "scipy")
    assert stored.status_code == 202, stored.text
    assert stored.json()["keys"] == ["q1.corr"]
    found = finished_check(client, course.path, stored.json()["id"], stored.json()["version"], course.instructor)
    assert found["check"]["status"] == "passed", found["check"]
