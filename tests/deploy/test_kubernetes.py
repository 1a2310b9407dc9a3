"""The Kubernetes manifests of ``deploy/`` (docs/operator.md, "Kubernetes") checked offline.

Each manifest against the JSON schema of its kind, strict (a field the API does not know is an
error): Kubernetes 1.35's, and KEDA 2.20's CustomResourceDefinitions (``tests/deploy/schemas/``
says where they come from). Then against the code they run: only variables the settings read,
commands the command line has, the image the Dockerfile builds, the queues of
``api/jobs/queue.py``, a metric ``api/kit/metrics.py`` exports, a connection budget that fits,
termination long enough for a code run, the sandbox's needs met without a privileged container,
and the KEDA scaler's query run on a real PostgreSQL with procrastinate's schema, counting what the
code queue can run at once. (No cluster runs here: what a cluster does with them is
docs/operator.md's to say.)"""

from __future__ import annotations

import base64
import copy
import json
import re
import shlex
import tomllib
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import psycopg
import pytest
import typer
import yaml
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from sqlalchemy.orm import Session
from typer.core import TyperGroup

from api.code_runs.watch import MAX_WAIT
from api.jobs.queue import CHECK_QUEUE, CODE_QUEUE, QUEUE, QUEUES, conninfo, make_queue
from api.kit.budget import ConnectionBudget
from api.kit.config import Settings
from api.kit.metrics import _Queues
from api.operations.queues import queue_figures
from cli.app import app as cli_app
from harness.server import REPOSITORY
from harness.student_code import CONV_FORWARD
from sandbox.limits import Limits

from deploy_files import DOCKERFILE, ENTRYPOINT, config_variables, dockerfile_instructions, entrypoint_variables
from factories import Course, make_instructor

DEPLOY = REPOSITORY / "deploy"
SCHEMAS = Path(__file__).parent / "schemas"
KUBERNETES_SCHEMAS = SCHEMAS / "kubernetes-v1.35.0"
KEDA_CRDS = SCHEMAS / "keda-v2.20.2"
KUSTOMIZATION: dict[str, Any] = yaml.safe_load((DEPLOY / "kustomization.yaml").read_text())
COMPOSE: dict[str, Any] = yaml.safe_load((REPOSITORY / "docker-compose.yml").read_text())
#: The PostgreSQL the manifests' connection budget is made for (docs/operator.md says so).
POSTGRES = {"max_connections": 200, "superuser_reserved_connections": 3}
#: What docker/entrypoint.sh waits between two tries of `grader db upgrade`.
ENTRYPOINT_RETRY_SECONDS = 2
MIB = 1024 * 1024


def documents(path: Path) -> list[dict[str, Any]]:
    return [document for document in yaml.safe_load_all(path.read_text()) if document is not None]


def env_file(path: Path) -> dict[str, str]:
    """A kustomize ``envs`` file: ``NAME=value`` lines, comments and blank lines left out."""
    pairs = (line.split("=", 1) for line in path.read_text().splitlines() if line.strip() and not line.startswith("#"))
    return {name: value for name, value in pairs}


(SECRET_GENERATOR,) = KUSTOMIZATION["secretGenerator"]
SECRET_NAME = SECRET_GENERATOR["name"]
#: What deploy/secrets.env must hold, as deploy/secrets.env.example shows it.
SECRETS = env_file(DEPLOY / "secrets.env.example")


def generated_secret() -> dict[str, Any]:
    """The Secret kustomize's generator makes of the example file."""
    data = {name: base64.b64encode(value.encode()).decode() for name, value in SECRETS.items()}
    return {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": SECRET_NAME}, "type": "Opaque", "data": data}


APPLIED = [document for name in KUSTOMIZATION["resources"] for document in documents(DEPLOY / name)]
ALTERNATIVES = [document for path in sorted((DEPLOY / "alternatives").glob("*.yaml")) for document in documents(path)]


def one(kind: str, name: str | None = None, among: list[dict[str, Any]] = APPLIED) -> dict[str, Any]:
    (found,) = [d for d in among if d["kind"] == kind and (name is None or d["metadata"]["name"] == name)]
    return found


WEB = one("Deployment", "grader-web")
WORKER = one("Deployment", "grader-worker")
CODE = one("Deployment", "grader-code-worker")
DEPLOYMENTS = (WEB, WORKER, CODE)
SETTINGS_MAP = one("ConfigMap")
SETTINGS: dict[str, str] = SETTINGS_MAP["data"]
SCALED = one("ScaledObject")
HPA = one("HorizontalPodAutoscaler", among=ALTERNATIVES)


def pod(deployment: dict[str, Any]) -> dict[str, Any]:
    spec: dict[str, Any] = deployment["spec"]["template"]["spec"]
    return spec


def main(deployment: dict[str, Any]) -> dict[str, Any]:
    (container,) = pod(deployment)["containers"]
    return container


def every_container() -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
    for deployment in DEPLOYMENTS:
        for container in pod(deployment).get("initContainers", []) + pod(deployment)["containers"]:
            yield deployment, container


def environment(container: dict[str, Any]) -> dict[str, str]:
    """What the container's process finds in its environment: the ConfigMap, then its own variables
    (a Secret's as deploy/secrets.env.example gives them)."""
    env: dict[str, str] = {}
    for source in container.get("envFrom", []):
        assert source == {"configMapRef": {"name": SETTINGS_MAP["metadata"]["name"]}}, source
        env.update(SETTINGS)
    for variable in container.get("env", []):
        if "value" in variable:
            env[variable["name"]] = variable["value"]
        else:
            env[variable["name"]] = SECRETS[variable["valueFrom"]["secretKeyRef"]["key"]]
    return env


def cpu(quantity: str) -> float:
    return int(quantity[:-1]) / 1000 if quantity.endswith("m") else float(quantity)


def memory(quantity: str) -> int:
    units = {"Ki": 1024, "Mi": MIB, "Gi": 1024 * MIB}
    return int(quantity[:-2]) * units[quantity[-2:]] if quantity[-2:] in units else int(quantity)


# --- the schemas ------------------------------------------------------------------------------


@cache
def kubernetes_definitions() -> dict[str, Any]:
    definitions: dict[str, Any] = json.loads((KUBERNETES_SCHEMAS / "_definitions.json").read_text())
    return definitions


def kubernetes_validator(document: dict[str, Any]) -> Draft202012Validator:
    """The schema of the document's kind and API version, named as the schemas' files are
    (``deployment-apps-v1.json``: the group's first label)."""
    version = re.sub(r"^([^./]*)(?:\.[^/]*)?/", r"\1-", document["apiVersion"])
    path = KUBERNETES_SCHEMAS / f"{document['kind'].lower()}-{version}.json"
    assert path.is_file(), (
        f"no schema of {document['kind']} {document['apiVersion']} in {KUBERNETES_SCHEMAS}: add its kind to "
        "tests/deploy/schemas/vendor_kubernetes.py and run it"
    )
    schema = json.loads(path.read_text())
    definitions = kubernetes_definitions()
    registry: Registry = Registry().with_resources(
        [(schema["$id"], Resource.from_contents(schema)), (definitions["$id"], Resource.from_contents(definitions))]
    )
    return Draft202012Validator(schema, registry=registry)


def strict(schema: Any) -> Any:
    """A CRD's OpenAPI schema made as strict as the Kubernetes ones: an object that lists its
    properties accepts no other (the API server would silently drop a misspelt field), unless the
    CRD keeps unknown fields."""
    if isinstance(schema, list):
        return [strict(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    made = {key: strict(value) for key, value in schema.items()}
    open_ended = "additionalProperties" in made or made.get("x-kubernetes-preserve-unknown-fields")
    if "properties" in made and not open_ended:
        made["additionalProperties"] = False
    return made


@cache
def keda_schemas() -> dict[tuple[str, str], dict[str, Any]]:
    """``{(apiVersion, kind): schema}`` of every version KEDA's CRDs serve."""
    found = {}
    for path in sorted(KEDA_CRDS.glob("*.yaml")):
        crd = yaml.safe_load(path.read_text())
        for version in crd["spec"]["versions"]:
            if version["served"]:
                key = (f"{crd['spec']['group']}/{version['name']}", crd["spec"]["names"]["kind"])
                found[key] = strict(version["schema"]["openAPIV3Schema"])
    return found


def schema_errors(document: dict[str, Any]) -> list[str]:
    """Where the document breaks its kind's schema (empty: nowhere)."""
    if document["apiVersion"].startswith("keda.sh/"):
        key = (document["apiVersion"], document["kind"])
        assert key in keda_schemas(), f"no KEDA schema of {key} in {KEDA_CRDS}"
        validator = Draft202012Validator(keda_schemas()[key])
    else:
        validator = kubernetes_validator(document)
    name = f"{document['kind']} {document.get('metadata', {}).get('name')}"
    return [
        f"{name}: {'.'.join(map(str, error.absolute_path)) or '(top)'}: {error.message}"
        for error in validator.iter_errors(document)
    ]


def test_every_manifest_is_valid_against_kubernetes_1_35_and_keda_2_20() -> None:
    manifests = [*APPLIED, *ALTERNATIVES, generated_secret()]
    kinds = {document["kind"] for document in manifests}
    assert {"Deployment", "Service", "PodDisruptionBudget", "ConfigMap", "Secret", "ScaledObject"} <= kinds
    assert {"HorizontalPodAutoscaler", "TriggerAuthentication", "RuntimeClass", "Namespace"} <= kinds
    errors = [error for document in manifests for error in schema_errors(document)]
    assert not errors, "\n".join(errors)
    # the one rule of KEDA's CRD the schema cannot say (a CEL expression)
    assert SCALED["spec"]["minReplicaCount"] <= SCALED["spec"]["maxReplicaCount"]


def test_the_schemas_refuse_what_the_api_server_would() -> None:
    """The check is not vacuous: a misspelt field, a field of another kind, a number where KEDA
    takes a string, each is an error."""
    typo = copy.deepcopy(WEB)
    main(typo)["readinessProbes"] = main(typo).pop("readinessProbe")
    assert any("readinessProbes" in error for error in schema_errors(typo))
    wrong_place = copy.deepcopy(CODE)
    pod(wrong_place)["procMount"] = "Unmasked"  # a container's field, not the pod's
    assert any("procMount" in error for error in schema_errors(wrong_place))
    hpa_field = copy.deepcopy(SCALED)
    hpa_field["spec"]["maxReplicas"] = 3  # the HPA's name; KEDA's is maxReplicaCount
    assert any("maxReplicas" in error for error in schema_errors(hpa_field))
    unquoted = copy.deepcopy(SCALED)
    unquoted["spec"]["triggers"][0]["metadata"]["targetQueryValue"] = 2
    assert any("is not of type 'string'" in error for error in schema_errors(unquoted))


# --- what is applied --------------------------------------------------------------------------


def test_the_kustomization_applies_one_autoscaler_and_leaves_the_alternative_out() -> None:
    assert KUSTOMIZATION["namespace"] == one("Namespace")["metadata"]["name"]
    assert all((DEPLOY / name).is_file() for name in KUSTOMIZATION["resources"])
    assert not [name for name in KUSTOMIZATION["resources"] if name.startswith("alternatives/")]
    assert "HorizontalPodAutoscaler" not in {document["kind"] for document in APPLIED}
    target = SCALED["spec"]["scaleTargetRef"]
    assert target["name"] == HPA["spec"]["scaleTargetRef"]["name"] == CODE["metadata"]["name"]
    assert target.get("kind", "Deployment") == HPA["spec"]["scaleTargetRef"]["kind"] == CODE["kind"]
    assert "replicas" not in CODE["spec"], "an apply would reset the count the autoscaler set"
    assert (DEPLOY / ".gitignore").read_text().split("\n").count(SECRET_GENERATOR["envs"][0]) == 1


def test_every_variable_set_is_one_the_code_or_the_entrypoint_reads() -> None:
    config = config_variables()
    assert set(SETTINGS) <= config, f"the ConfigMap sets {set(SETTINGS) - config}, which nothing reads"
    assert set(SECRETS) <= config, f"the Secret holds {set(SECRETS) - config}, which nothing reads"
    for deployment, container in every_container():
        own = {variable["name"] for variable in container.get("env", [])}
        # only the web tier runs the image's entrypoint: the workers' `command` replaces it
        allowed = (config | entrypoint_variables()) if "command" not in container else config
        assert own <= allowed, f"{deployment['metadata']['name']} sets {own - allowed}, which nothing reads"


def test_every_pod_reads_the_same_valid_settings() -> None:
    found = [Settings.from_env(environment(container)) for _, container in every_container()]
    assert len({settings.model_dump_json() for settings in found}) == 1, "the service and the workers read alike"
    (settings,) = {settings.model_dump_json(): settings for settings in found}.values()
    assert settings.database_url.startswith("postgresql+psycopg://")
    assert settings.public_url is not None and settings.public_url.startswith("https://")
    assert all(container.get("envFrom") for _, container in every_container()), "every pod reads the ConfigMap"


def test_secrets_come_from_the_secret_and_only_where_they_are_needed() -> None:
    for deployment, container in every_container():
        references = {
            variable["name"]: variable["valueFrom"]["secretKeyRef"]
            for variable in container.get("env", [])
            if "valueFrom" in variable
        }
        values = {variable["name"] for variable in container.get("env", []) if "value" in variable}
        assert not values & set(SECRETS), "a secret written into a manifest"
        assert {ref["name"] for ref in references.values()} == {SECRET_NAME}
        assert all(ref["key"] == name and name in SECRETS for name, ref in references.items())
        assert references["DATABASE_URL"].get("optional") is not True
        if deployment is CODE:  # beside students' code: nothing it does not need
            assert set(references) == {"DATABASE_URL"}, container["name"]
    (authentication,) = [d for d in APPLIED if d["kind"] == "TriggerAuthentication"]
    assert SCALED["spec"]["triggers"][0]["authenticationRef"]["name"] == authentication["metadata"]["name"]
    assert authentication["spec"]["secretTargetRef"] == [
        {"parameter": "connection", "name": SECRET_NAME, "key": "DATABASE_URL"}
    ]
    # KEDA's scaler reads the URL as it is (pgx): a libpq URL, which the settings also take
    assert SECRETS["DATABASE_URL"].startswith("postgresql://")


# --- what runs --------------------------------------------------------------------------------

CLI = typer.main.get_command(cli_app)


def parsed(argv: list[str]) -> Any:
    """The command line's own parse of ``argv`` (``grader ...``), into its context: a command or an
    option it does not have, or a value it refuses, is an error here as it would be in the pod.
    (Typer carries a click of its own: its groups are :class:`TyperGroup`.)"""
    assert argv[0] == "grader", argv
    command, arguments, names = CLI, argv[1:], ["grader"]
    while isinstance(command, TyperGroup):
        name, *arguments = arguments
        found = command.get_command(command.context_class(command), name)
        assert found is not None, f"grader has no command {' '.join([*names, name])}"
        command, names = found, [*names, name]
    return command.make_context(" ".join(names), list(arguments))


def test_every_command_is_one_the_command_line_has() -> None:
    for _, container in every_container():
        if "command" in container:
            parsed(container["command"] + container.get("args", []))
    # the web tier runs the entrypoint's `grader serve`, with the port and processes it is given
    (serve,) = [line.split(None, 1)[1] for line in ENTRYPOINT.splitlines() if line.startswith("exec grader serve")]
    env = environment(main(WEB))
    context = parsed(shlex.split(re.sub(r'"\$([A-Z]+)"', lambda m: env[m.group(1)], serve)))
    assert (context.params["port"], context.params["workers"]) == (int(env["PORT"]), int(env["WORKERS"]))
    with pytest.raises(Exception, match="No such option: --concurency"):  # (the parse refuses as the command does)
        parsed(["grader", "worker", "--queue", "code", "--concurency", "2"])
    with pytest.raises(Exception, match="grader has no command grader wroker"):
        parsed(["grader", "wroker"])


def test_every_pod_runs_the_image_the_dockerfile_builds() -> None:
    (image,) = KUSTOMIZATION["images"]
    assert f"docker build -t {image['name']} " in DOCKERFILE
    project = tomllib.loads((REPOSITORY / "pyproject.toml").read_text())["project"]
    assert image["newTag"] == project["version"]
    assert {container["image"] for _, container in every_container()} == {image["name"]}
    (user,) = dockerfile_instructions("USER")
    (uid,) = re.findall(rf"useradd [^&]*--uid (\d+) [^&]*\b{user}\b", DOCKERFILE)
    for deployment in DEPLOYMENTS:  # numeric, so the kubelet can tell it is not root
        assert pod(deployment)["securityContext"]["runAsUser"] == int(uid)


def test_the_web_tier_starts_as_the_image_does_and_answers_on_health() -> None:
    container, env = main(WEB), environment(main(WEB))
    assert "command" not in container and "args" not in container, "the entrypoint migrates, then serves"
    assert dockerfile_instructions("EXPOSE") == [env["PORT"]]
    ports = {port["name"]: port["containerPort"] for port in container["ports"]}
    assert ports["http"] == int(env["PORT"])
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        assert container[probe]["httpGet"] == {"path": "/health", "port": "http"}, probe
    startup = container["startupProbe"]
    window = startup["periodSeconds"] * startup["failureThreshold"]
    assert window > int(env["DB_WAIT_ATTEMPTS"]) * ENTRYPOINT_RETRY_SECONDS, "the entrypoint's wait is not cut short"
    assert f"sleep {ENTRYPOINT_RETRY_SECONDS}\n" in ENTRYPOINT
    labels = WEB["spec"]["template"]["metadata"]["labels"]
    service, budget = one("Service"), one("PodDisruptionBudget")
    assert service["spec"]["selector"] == labels == WEB["spec"]["selector"]["matchLabels"]
    assert [port["targetPort"] for port in service["spec"]["ports"]] == ["http"]
    assert budget["spec"]["selector"]["matchLabels"] == labels and budget["spec"]["maxUnavailable"] == 1
    assert WEB["spec"]["replicas"] >= 2, "a drain leaves a replica serving"
    for other in (WORKER, CODE):  # the Service reaches the web tier only
        assert not labels.items() <= other["spec"]["template"]["metadata"]["labels"].items()
    # a replica stopping gets out of the Service first, then ends its requests, ?wait= included
    assert pod(WEB)["terminationGracePeriodSeconds"] > container["lifecycle"]["preStop"]["sleep"]["seconds"] + MAX_WAIT


def test_the_workers_migrate_before_they_start() -> None:
    for deployment in (WORKER, CODE):
        (init,) = pod(deployment)["initContainers"]
        assert init["command"] == ["grader", "db", "upgrade"], deployment["metadata"]["name"]
    assert "grader db upgrade" in ENTRYPOINT  # the web tier's, under the same advisory lock


def test_the_workers_take_the_queues_of_the_code_as_the_compose_file_runs_them() -> None:
    assert parsed(main(WORKER)["command"]).params["queue_names"] == [QUEUE]
    code = parsed(main(CODE)["command"]).params["queue_names"]
    assert code == [CODE_QUEUE, CHECK_QUEUE]
    assert ["grader", "worker", *(arg for queue in code for arg in ("--queue", queue))] == (
        COMPOSE["services"]["code-worker"]["entrypoint"]
    )
    assert set(QUEUES) == {QUEUE, CODE_QUEUE, CHECK_QUEUE}, "a queue no pod runs"


# --- how the code workers scale ---------------------------------------------------------------


def concurrency() -> int:
    value: int = parsed(main(CODE)["command"]).params["concurrency"]
    return value


def test_a_code_worker_runs_as_many_as_its_cores_and_the_autoscalers_count_so() -> None:
    resources = main(CODE)["resources"]
    assert resources["requests"] == resources["limits"], "Guaranteed: its cores are its own"
    assert cpu(resources["requests"]["cpu"]) == concurrency()
    sandboxes = concurrency() + 1  # and the set checks' one
    assert memory(resources["limits"]["memory"]) >= sandboxes * Limits().memory_bytes + 512 * MIB
    (trigger,) = SCALED["spec"]["triggers"]
    assert trigger["type"] == "postgresql"
    assert float(trigger["metadata"]["targetQueryValue"]) == concurrency()
    assert float(HPA["spec"]["metrics"][0]["external"]["target"]["averageValue"]) == concurrency()
    assert SCALED["spec"]["minReplicaCount"] == HPA["spec"]["minReplicas"] >= 1, "set checks always have a worker"
    assert SCALED["spec"]["maxReplicaCount"] == HPA["spec"]["maxReplicas"]
    assert SCALED["spec"]["advanced"]["horizontalPodAutoscalerConfig"]["behavior"] == HPA["spec"]["behavior"]


def test_the_alternative_scales_on_a_metric_the_service_exports() -> None:
    (metric,) = HPA["spec"]["metrics"]
    assert metric["type"] == "External"
    name, labels = metric["external"]["metric"]["name"], metric["external"]["metric"]["selector"]["matchLabels"]
    assert labels == {"queue": CODE_QUEUE}
    exported = {family.name: family for family in _Queues(lambda: {CODE_QUEUE: (5, 1.0)}).collect()}
    assert name in exported, f"api/kit/metrics.py exports no {name}"
    assert [sample.labels for sample in exported[name].samples] == [labels]
    port = SETTINGS["GRADER_METRICS_PORT"]
    for deployment in DEPLOYMENTS:  # every process answers Prometheus on the port it is told
        ports = {p["name"]: p["containerPort"] for p in main(deployment)["ports"]}
        assert ports["metrics"] == int(port)
        assert deployment["spec"]["template"]["metadata"]["annotations"]["prometheus.io/port"] == port


@pytest.mark.only_backend("postgresql")
def test_the_keda_query_counts_the_students_whose_code_waits_or_runs(client, engine, database_url) -> None:
    """Through the real path: submissions stored by the service, their code deferred on
    procrastinate's queue in their transaction, then taken and finished by procrastinate's own
    functions, as a worker does. The query counts each student once (their runs share a lock and
    run one at a time), which is what the code queue can run at once; grader_queue_jobs, the
    alternative's metric, counts the runs."""
    (trigger,) = SCALED["spec"]["triggers"]
    query = trigger["metadata"]["query"]
    course = Course(client, make_instructor(engine))
    assignment = course.assignment("numpy-convolution")
    students = [headers for _, headers in course.students(3)]

    def counted() -> int:
        with psycopg.connect(conninfo(database_url), autocommit=True) as connection:
            (value,) = connection.execute(query).fetchone() or (None,)
        assert isinstance(value, int)
        return value

    assert counted() == 0
    for headers in [*students, students[0], students[0]]:
        sent = course.submit(assignment, headers, {"conv.forward": CONV_FORWARD})
        assert sent.status_code == 201, sent.text
    assert counted() == 3, "three students, one of them with three runs"
    with Session(engine) as session:
        assert queue_figures(session)[CODE_QUEUE][0] == 5, "the metric counts the runs"
    with psycopg.connect(conninfo(database_url), autocommit=True) as connection:
        (worker,) = connection.execute("SELECT worker_id FROM procrastinate_register_worker_v1()").fetchone() or ()

        def take() -> tuple[int, str]:
            row = connection.execute(
                "SELECT id, lock FROM procrastinate_fetch_job_v2(%s, %s)", ([CODE_QUEUE], worker)
            ).fetchone()
            assert row is not None and row[0] is not None
            return row[0], row[1]

        job, lock = take()  # the first student's first run: the others of that student wait behind it
        assert counted() == 3
        connection.execute("SELECT procrastinate_finish_job_v1(%s, 'succeeded', false)", (job,))
        assert counted() == 3, "the first student's next run is due"
        job, other = take()  # another student's first run goes before the first student's second
        assert other != lock
        connection.execute("SELECT procrastinate_finish_job_v1(%s, 'succeeded', false)", (job,))
        assert counted() == 2


# --- stopping, room and walls -----------------------------------------------------------------


def test_a_stopped_worker_finishes_what_it_runs() -> None:
    settings = Settings.from_env(environment(main(CODE)))
    longest = max(settings.code_seconds, settings.set_check_seconds)
    assert pod(CODE)["terminationGracePeriodSeconds"] >= longest + 60
    assert pod(WORKER)["terminationGracePeriodSeconds"] >= 30


def test_the_connection_budget_fits_postgresql() -> None:
    settings = Settings.from_env(environment(main(CODE)))
    # (procrastinate keeps its pool's arguments to itself: the connector grader makes, as made)
    queue_pool: int = make_queue(settings.database_url).connector._pool_args["max_size"]  # type: ignore[attr-defined]
    per_worker = queue_pool + settings.db_pool_size + settings.db_max_overflow
    workers = WORKER["spec"]["replicas"] + SCALED["spec"]["maxReplicaCount"]
    assert settings.db_reserved_connections >= workers * per_worker + 10, "the workers and the command line"
    rolling = WEB["spec"]["strategy"]["rollingUpdate"]
    assert WEB["spec"]["replicas"] + rolling["maxSurge"] <= settings.replicas, "GRADER_REPLICAS counts a surge"
    processes = int(environment(main(WEB))["WORKERS"])
    budget = ConnectionBudget.of(settings, workers=processes, server=POSTGRES)
    assert budget.fits, budget.explain()


def test_every_container_asks_for_its_room_and_is_held_to_it() -> None:
    for deployment, container in every_container():
        resources, name = container["resources"], f"{deployment['metadata']['name']}/{container['name']}"
        for kind, parse in (("cpu", cpu), ("memory", memory)):
            assert parse(resources["requests"][kind]) <= parse(resources["limits"][kind]), name
    assert pod(WEB)["priorityClassName"] == "grader-web"
    classes = {d["metadata"]["name"]: d for d in APPLIED if d["kind"] == "PriorityClass"}
    for deployment in (WORKER, CODE):  # students' requests before grading
        worker = classes[pod(deployment)["priorityClassName"]]
        assert worker["value"] < classes["grader-web"]["value"] and worker["preemptionPolicy"] == "Never"


def test_no_container_is_privileged_and_only_the_code_workers_loosen_anything() -> None:
    """The restricted Pod Security standard, but for what the sandbox needs in the code workers'
    pods: the pod's own user namespace, /proc unmasked, AppArmor unconfined, the sandbox's seccomp
    profile, and a runtime handler whose cgroup tree is writable."""
    for deployment in DEPLOYMENTS:
        spec = pod(deployment)
        assert spec["securityContext"]["runAsNonRoot"] is True
        assert spec["automountServiceAccountToken"] is False and spec["enableServiceLinks"] is False
        assert not {"hostNetwork", "hostPID", "hostIPC"} & set(spec)
        assert all(set(volume) == {"name", "emptyDir"} for volume in spec.get("volumes", []))
    for deployment, container in every_container():
        context = container["securityContext"]
        assert context["allowPrivilegeEscalation"] is False and not context.get("privileged")
        assert context["capabilities"] == {"drop": ["ALL"]}, "no capability, none added"
        assert context["readOnlyRootFilesystem"] is True
        loosened = {key for key in context if key in ("procMount", "appArmorProfile", "seccompProfile")}
        if deployment is CODE and container is main(CODE):
            assert context["procMount"] == "Unmasked" and context["appArmorProfile"] == {"type": "Unconfined"}
        else:
            assert not loosened, f"{deployment['metadata']['name']}/{container['name']}: {loosened}"
    for deployment in (WEB, WORKER):
        assert pod(deployment)["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
        assert "hostUsers" not in pod(deployment) and "runtimeClassName" not in pod(deployment)
    code = pod(CODE)
    assert code["hostUsers"] is False, "Unmasked /proc is for a pod of its own user namespace only"
    profile = code["securityContext"]["seccompProfile"]
    assert profile["type"] == "Localhost"
    (compose_profile,) = [
        option.split("=", 1)[1]
        for option in COMPOSE["services"]["code-worker"]["security_opt"]
        if option.startswith("seccomp=")
    ]
    assert Path(profile["localhostProfile"]).name == Path(compose_profile).name
    refused = set(json.loads((REPOSITORY / compose_profile).read_text())["syscalls"][0]["names"])
    assert not {"unshare", "clone", "mount", "pivot_root", "setns"} & refused, "what bwrap builds the walls with"
    runtime = one("RuntimeClass")
    assert code["runtimeClassName"] == runtime["metadata"]["name"] == runtime["handler"]
    node_label = runtime["scheduling"]["nodeSelector"]
    assert [(t["key"], t["value"]) for t in runtime["scheduling"]["tolerations"]] == list(node_label.items())


def test_the_operators_guide_says_how_to_deploy_on_kubernetes() -> None:
    guide = (REPOSITORY / "docs" / "operator.md").read_text()
    section = guide.split("## Kubernetes", 1)[1].split("\n## ", 1)[0]
    for needed in (
        "kubectl apply -k deploy/",
        "secrets.env",
        "hostUsers: false",
        "procMount: Unmasked",
        "/var/lib/kubelet/seccomp/grader/seccomp-code-worker.json",
        "cgroup_writable",
        f"max_connections = {POSTGRES['max_connections']}",
        "KEDA",
        "alternatives/code-worker-hpa.yaml",
    ):
        assert needed in section, needed
