"""The Dockerfile, docker-compose.yml, the entrypoint and the proxy's configuration agree with each
other and with the code: one entrypoint script, one published port (the proxy's), only environment
variables that something actually reads, and a connection budget that fits PostgreSQL.
(No Docker engine runs here; ``test_entrypoint.py`` runs the script itself, ``test_replicas.py``
the proxy's configuration with nginx.)"""

from __future__ import annotations

import inspect
import ipaddress
import re
import tomllib
from typing import Any

import uvicorn.config
import yaml

from api.kit.budget import ConnectionBudget
from api.kit.config import DB_CONCURRENCY, Settings
from harness.proxy import CONFIG as NGINX_CONFIG_PATH
from harness.server import REPOSITORY

from deploy_files import (
    DOCKERFILE,
    ENTRYPOINT,
    ENTRYPOINT_PATH,
    config_variables,
    dockerfile_env,
    dockerfile_instructions,
    entrypoint_variables,
)

COMPOSE: dict[str, Any] = yaml.safe_load((REPOSITORY / "docker-compose.yml").read_text())
#: Variables of the Python image and pip, for the interpreter rather than for the service.
INTERPRETER_VARIABLES = {
    "PYTHONDONTWRITEBYTECODE",
    "PYTHONUNBUFFERED",
    "PIP_NO_CACHE_DIR",
    "PIP_DISABLE_PIP_VERSION_CHECK",
}
#: Variables uvicorn reads itself (``grader serve`` leaves them to it).
UVICORN_VARIABLES = {"FORWARDED_ALLOW_IPS"}
#: PostgreSQL 15's defaults, which the compose file's postgres service keeps.
POSTGRES_DEFAULTS = {"max_connections": 100, "superuser_reserved_connections": 3}
NGINX_CONFIG = NGINX_CONFIG_PATH.read_text()


def compose_default(value: Any) -> str:
    """A compose value with ``${NAME:-default}`` replaced by its default (what an empty .env gives)."""
    return re.sub(r"\$\{[A-Z_]+:-([^}]*)\}", r"\1", str(value))


def nginx_directive(name: str) -> str:
    """The value of a directive that ``docker/nginx.conf`` sets once."""
    (value,) = re.findall(rf"^\s*{re.escape(name)}\s+([^;]+);", NGINX_CONFIG, re.M)
    return value.strip()


def nginx_seconds(name: str) -> int:
    value = nginx_directive(name)
    assert value.endswith("s") and value[:-1].isdigit(), f"{name} {value}: give it in seconds"
    return int(value[:-1])


SERVICE = COMPOSE["services"]["grader"]
WORKER = COMPOSE["services"]["worker"]
PROXY = COMPOSE["services"]["proxy"]
DATABASE = COMPOSE["services"]["postgres"]
SERVICE_ENV: dict[str, str] = {k: compose_default(v) for k, v in SERVICE["environment"].items()}
WORKER_ENV: dict[str, str] = {k: compose_default(v) for k, v in WORKER["environment"].items()}


def test_config_reads_the_variables_the_readme_documents() -> None:
    # a sanity check of the recorder itself: these are the settings of the operator's guide
    assert {"DATABASE_URL", "GRADER_MAX_BODY_BYTES", "GRADER_DB_POOL_SIZE", "GRADER_DB_MAX_OVERFLOW"} <= (
        config_variables()
    )


def test_every_variable_set_for_the_service_is_read_by_the_code_or_the_entrypoint() -> None:
    config, entrypoint = config_variables(), entrypoint_variables()
    assert entrypoint == {"DATABASE_URL", "PORT", "WORKERS", "DB_WAIT_ATTEMPTS"}
    own = entrypoint - config  # the entrypoint's own knobs, which the Python code never sees
    assert not {v for v in own if v.startswith("GRADER_")}, "a GRADER_ variable the settings do not read"
    for name in UVICORN_VARIABLES:
        assert f'os.environ.get("{name}"' in inspect.getsource(uvicorn.config), f"uvicorn no longer reads {name}"
    for name in SERVICE_ENV:
        assert name in config | own | UVICORN_VARIABLES, f"docker-compose.yml sets {name}, which nothing reads"
    for name in set(dockerfile_env()) - INTERPRETER_VARIABLES:
        assert name in config | own, f"the Dockerfile sets {name}, which nothing reads"
    assert "DATABASE_URL" in SERVICE_ENV and {"PORT", "WORKERS"} <= set(SERVICE_ENV)
    for name in WORKER_ENV:
        assert name in config, f"docker-compose.yml sets {name} for the workers, which nothing reads"


def test_the_compose_settings_are_valid_and_fit_postgresql() -> None:
    settings = Settings.from_env(SERVICE_ENV)
    assert settings.database_url.startswith("postgresql+psycopg://grader:")
    assert settings.database_url.endswith("@postgres:5432/" + DATABASE["environment"]["POSTGRES_DB"])
    assert Settings.from_env(WORKER_ENV).database_url == settings.database_url
    workers = int(SERVICE_ENV["WORKERS"])
    assert workers >= 2, "several workers by default"
    # each process's requests may use every connection its pool keeps, and no more than that
    assert settings.db_slots == settings.db_pool_size + settings.db_max_overflow <= DB_CONCURRENCY
    assert "command" not in DATABASE, "PostgreSQL's defaults are what the budget below assumes"
    # what `grader serve` checks at start in every replica (api.kit.budget)
    budget = ConnectionBudget.of(settings, workers=workers, server=POSTGRES_DEFAULTS)
    assert budget.fits, budget.explain()
    assert settings.replicas >= 3, "--scale grader=3 (the operator's guide's example) fits the budget"
    assert settings.db_reserved_connections >= 10, "room for the job workers and the command line"


def test_one_entrypoint_script() -> None:
    copies = {
        src: dst
        for arguments in dockerfile_instructions("COPY")
        for *sources, dst in [arguments.split()]
        for src in sources
    }
    assert ENTRYPOINT_PATH in copies, "the Dockerfile does not copy the entrypoint script"
    destination = "/app/" + copies[ENTRYPOINT_PATH].removeprefix("./")
    assert dockerfile_instructions("WORKDIR") == ["/app"]
    assert dockerfile_instructions("ENTRYPOINT") == [f'["{destination}"]']
    assert SERVICE["build"] in (".", {"context": "."}) and "entrypoint" not in SERVICE and "command" not in SERVICE
    assert ENTRYPOINT.startswith("#!/bin/sh\n") and "\nset -eu\n" in ENTRYPOINT
    assert 'exec grader serve --host 0.0.0.0 --port "$PORT" --workers "$WORKERS"' in ENTRYPOINT


def test_one_port() -> None:
    port = dockerfile_env()["PORT"]
    assert dockerfile_instructions("EXPOSE") == [port]
    assert SERVICE_ENV["PORT"] == port
    assert "ports" not in SERVICE, "replicas publish no port (--scale would collide): the proxy does"
    assert SERVICE["expose"] == [port]
    (healthcheck,) = dockerfile_instructions("HEALTHCHECK")
    assert (
        "urllib.request" in healthcheck and "/health" in healthcheck and "os.environ.get('PORT', '8000')" in healthcheck
    )
    assert f"'{port}'" in healthcheck


def test_the_proxy_is_the_one_published_port_and_balances_over_the_replicas() -> None:
    assert PROXY["image"].startswith("nginx:") and "build" not in PROXY
    assert PROXY["volumes"] == ["./docker/nginx.conf:/etc/nginx/nginx.conf:ro"]
    (published,) = PROXY["ports"]
    assert compose_default(published) == "8000:" + nginx_directive("listen")
    assert [name for name, service in COMPOSE["services"].items() if "ports" in service] == ["proxy"]
    # the replicas by the service's name, through Docker's DNS, asked again at request time
    assert nginx_directive("set $grader_upstream") == f"grader:{SERVICE_ENV['PORT']}"
    assert nginx_directive("proxy_pass") == "http://$grader_upstream"
    assert nginx_directive("resolver").startswith("127.0.0.11 ")


def test_the_proxy_closes_slow_clients_and_keeps_the_service_limits() -> None:
    settings = Settings.from_env(SERVICE_ENV)
    size = nginx_directive("client_max_body_size")
    assert size.endswith("m") and int(size[:-1]) * 1024 * 1024 == settings.max_body_bytes
    for name in ("client_header_timeout", "client_body_timeout"):
        assert 1 <= nginx_seconds(name) <= 30, name
    assert nginx_seconds("send_timeout") <= 60 and nginx_seconds("keepalive_timeout") <= 75
    assert nginx_seconds("proxy_connect_timeout") <= 10
    # the replica's own answer to a request stuck on the database (503 after the statement timeout) arrives
    assert nginx_seconds("proxy_read_timeout") * 1000 > settings.db_statement_timeout_ms
    assert nginx_directive("proxy_request_buffering") == "on"


def test_the_replicas_believe_the_client_address_only_from_the_proxy() -> None:
    """X-Forwarded-For is the proxy's word alone: uvicorn takes it from the proxy's fixed address
    only (never ``*``: any container, or a client's own entries, would name anyone), and the
    proxy replaces what a client wrote with the address it was reached from."""
    network = COMPOSE["networks"]["default"]["ipam"]["config"][0]
    subnet, drawn_from = (ipaddress.ip_network(compose_default(network[k])) for k in ("subnet", "ip_range"))
    proxy = ipaddress.ip_address(compose_default(PROXY["networks"]["default"]["ipv4_address"]))
    assert SERVICE_ENV["FORWARDED_ALLOW_IPS"] == str(proxy)
    assert proxy in subnet and proxy not in drawn_from and drawn_from.subnet_of(subnet)  # type: ignore[arg-type]
    assert nginx_directive("proxy_set_header X-Forwarded-For") == "$remote_addr"


def test_links_come_from_the_configured_public_address() -> None:
    """``grader serve`` listens on 0.0.0.0 in the image and refuses to start without it."""
    assert (
        Settings.from_env(SERVICE_ENV).public_url
        == "http://localhost:" + compose_default(PROXY["ports"][0]).split(":")[0]
    )


def test_the_job_workers() -> None:
    assert WORKER["build"] == SERVICE["build"], "the workers run the service's image"
    assert WORKER["entrypoint"] == ["grader", "worker", "--queue", "grader"] and "ports" not in WORKER
    assert WORKER["depends_on"] == {"grader": {"condition": "service_healthy"}}
    assert WORKER["healthcheck"] == {"disable": True}
    assert "security_opt" not in WORKER, "the job workers run no student code: Docker's defaults stand"


def test_the_code_workers_run_only_code_and_set_checks_under_the_sandbox_profile() -> None:
    code = COMPOSE["services"]["code-worker"]
    assert code["build"] == SERVICE["build"]
    assert code["entrypoint"] == ["grader", "worker", "--queue", "code", "--queue", "checks"]
    assert code["environment"] == WORKER["environment"]
    profile = "./docker/seccomp-code-worker.json"
    assert code["security_opt"] == [f"seccomp={profile}", "apparmor=unconfined"]
    assert (REPOSITORY / profile).is_file()
    assert "privileged" not in code and "cap_add" not in code, "the walls need no added capability as grader"
    (user,) = dockerfile_instructions("USER")
    assert user not in ("root", "0"), "an unprivileged user: bwrap builds its walls in a user namespace"


def test_the_image_is_slim_unprivileged_and_without_test_extras() -> None:
    assert dockerfile_instructions("FROM") == ["python:3.11-slim"]
    (user,) = dockerfile_instructions("USER")
    assert user not in ("root", "0")
    assert "[test]" not in DOCKERFILE and "curl" not in DOCKERFILE
    ignored = (REPOSITORY / ".dockerignore").read_text().split()
    assert {".venv", ".git", "tests"} <= set(ignored)


def test_postgres_service() -> None:
    assert DATABASE["image"] == "postgres:15"
    (volume,) = DATABASE["volumes"]
    name, mount = volume.split(":")
    assert name in COMPOSE["volumes"] and mount == "/var/lib/postgresql/data"
    assert "pg_isready" in " ".join(DATABASE["healthcheck"]["test"])
    assert SERVICE["depends_on"] == {"postgres": {"condition": "service_healthy"}}


def test_the_docs_document_the_deployment() -> None:
    guide = (REPOSITORY / "docs" / "operator.md").read_text()
    deployment = guide.split("## Deployment", 1)[1].split("\n## ", 1)[0]
    assert "docker compose up" in deployment
    readme = (REPOSITORY / "README.md").read_text()
    quick_start = readme.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    (block,) = re.findall(r"```sh\n(.*?)```", quick_start, re.S)
    assert len(block.strip().splitlines()) == 2, "the quick start stays two commands"


def test_the_image_holds_every_package_the_project_installs() -> None:
    """``pip install .`` in the image packages what was copied: a package left out (the sandbox,
    say) would install without error and fail at its first import."""
    found = tomllib.loads((REPOSITORY / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]["find"]
    packages = {pattern.rstrip("*") for pattern in found["include"]}
    copied = {
        source.removeprefix("./").rstrip("/")
        for arguments in dockerfile_instructions("COPY")
        for source in arguments.split()[:-1]
    }
    assert packages <= copied, f"the Dockerfile does not copy {sorted(packages - copied)}"
    assert "bubblewrap" in DOCKERFILE, "the image cannot build the sandbox for students' code"
