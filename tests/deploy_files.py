"""What the deployment's files may set, asked of the code rather than assumed: the variables the
settings read, the entrypoint's own, and the Dockerfile's instructions. Shared by the checks of
docker-compose.yml (``tests/deploy/test_compose.py``) and of the Kubernetes manifests
(``tests/deploy/test_kubernetes.py``)."""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterator, Mapping
from typing import Any

from api.kit.config import Settings
from harness.server import REPOSITORY

DOCKERFILE = (REPOSITORY / "Dockerfile").read_text()
ENTRYPOINT_PATH = "docker/entrypoint.sh"
ENTRYPOINT = (REPOSITORY / ENTRYPOINT_PATH).read_text()


class RecordingEnviron(Mapping[str, str]):
    """An empty environment that remembers which variables were asked for."""

    def __init__(self) -> None:
        self.asked: set[str] = set()

    def __getitem__(self, key: str) -> str:
        self.asked.add(key)
        raise KeyError(key)

    def get(self, key: str, default: Any = None) -> Any:
        self.asked.add(key)
        return default

    def __contains__(self, key: object) -> bool:
        self.asked.add(str(key))
        return False

    def __iter__(self) -> Iterator[str]:
        return iter(())

    def __len__(self) -> int:
        return 0


def config_variables() -> set[str]:
    """The variables ``api/kit/config.py`` reads, found by asking it rather than by reading its source."""
    environ = RecordingEnviron()
    Settings.from_env(environ)
    return environ.asked


def entrypoint_variables() -> set[str]:
    return set(re.findall(r"\$\{?([A-Z][A-Z0-9_]*)", ENTRYPOINT))


def dockerfile_instructions(name: str) -> list[str]:
    """The arguments of every ``name`` instruction, continuation lines joined."""
    joined = re.sub(r"\\\n\s*", " ", DOCKERFILE)
    return [line.split(None, 1)[1] for line in joined.splitlines() if line.split(None, 1)[:1] == [name]]


def dockerfile_env() -> dict[str, str]:
    env: dict[str, str] = {}
    for arguments in dockerfile_instructions("ENV"):
        env.update(pair.split("=", 1) for pair in shlex.split(arguments))
    return env
