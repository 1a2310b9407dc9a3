"""Copies the Kubernetes JSON schemas of the kinds ``deploy/`` uses out of the PyPI package
``kubernetes-validate`` (which bundles every kind of every version since 1.25: 72 MB in 17,000
files), keeping of its shared ``_definitions.json`` only what those kinds reach.

    pip download kubernetes-validate==1.37.0 --no-deps -d /tmp/kv
    python tests/deploy/schemas/vendor_kubernetes.py /tmp/kv/kubernetes_validate-1.37.0-py3-none-any.whl

Nothing is changed but the definitions left out: each kind's file is copied as it is, and a
definition is kept whole whenever a kept schema refers to it, directly or through another."""

from __future__ import annotations

import json
import re
import sys
import zipfile
from pathlib import Path
from typing import Any

#: The Kubernetes version the manifests are checked against, and the schemas' variant: ``-local``
#: (refs to a local ``_definitions.json``) and ``-strict`` (a field the API does not know is an error).
VERSION = "v1.35.0"
VARIANT = f"{VERSION}-local-strict"
KINDS = (
    "configmap-v1",
    "deployment-apps-v1",
    "horizontalpodautoscaler-autoscaling-v2",
    "namespace-v1",
    "poddisruptionbudget-policy-v1",
    "priorityclass-scheduling-v1",
    "runtimeclass-node-v1",
    "secret-v1",
    "service-v1",
)
HERE = Path(__file__).parent
TARGET = HERE / f"kubernetes-{VERSION}"
#: A reference to a definition: ``/api/_definitions.json#/$defs/NAME`` from a kind, ``#/$defs/NAME`` between them.
_REF = re.compile(r"#/\$defs/([^\"]+)")


def _referenced(schema: Any) -> set[str]:
    return set(_REF.findall(json.dumps(schema)))


def vendor(wheel: Path) -> None:
    prefix = f"kubernetes_validate/kubernetes-json-schema/{VARIANT}/"
    with zipfile.ZipFile(wheel) as archive:
        kinds = {kind: json.loads(archive.read(f"{prefix}{kind}.json")) for kind in KINDS}
        definitions = json.loads(archive.read(f"{prefix}_definitions.json"))
    every = definitions["$defs"]
    kept: set[str] = set()
    todo = set().union(*(_referenced(schema) for schema in kinds.values()))
    while todo:
        name = todo.pop()
        if name not in kept:
            kept.add(name)
            todo |= _referenced(every[name]) - kept
    TARGET.mkdir(exist_ok=True)
    for kind, schema in kinds.items():
        (TARGET / f"{kind}.json").write_text(json.dumps(schema, indent=1, sort_keys=True) + "\n")
    definitions["$defs"] = {name: every[name] for name in sorted(kept)}
    (TARGET / "_definitions.json").write_text(json.dumps(definitions, indent=1, sort_keys=True) + "\n")
    print(f"{len(kinds)} kinds, {len(kept)} of {len(every)} definitions -> {TARGET}")


if __name__ == "__main__":
    vendor(Path(sys.argv[1]))
