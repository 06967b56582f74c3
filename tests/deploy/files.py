"""The deployment files, read: the Dockerfile's instructions, compose.yaml (with its monitoring
overlay, compose.monitoring.yaml, when the project keeps it), deploy/k8s/."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"
COMPOSE = ROOT / "compose.yaml"
COMPOSE_MONITORING = ROOT / "compose.monitoring.yaml"
K8S = ROOT / "deploy" / "k8s"
PROMETHEUS = ROOT / "deploy" / "prometheus" / "prometheus.yml"
GRAFANA_DATASOURCES = ROOT / "deploy" / "grafana" / "provisioning" / "datasources"

# The compose services that run the image (the others are PostgreSQL, Redis, nginx ...), with
# the command each runs.
SERVICE_ROLES = {"migrate": "db upgrade", "app": "serve"}
# part: tasks
# part: redis
SERVICE_ROLES |= {"worker": "worker", "scheduler": "scheduler"}
# end part: redis
# end part: tasks
_INTERPOLATION = re.compile(r"\$\{(\w+)(?::?[-?][^}]*)?\}")


def instructions(stage: str | None = None) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of the Dockerfile, continuation lines joined; only those of
    the stage named `stage` when given."""
    joined: list[str] = []
    pending = ""
    for raw in DOCKERFILE.read_text().splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if line.startswith("#"):
            continue  # a comment inside a continued instruction
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        joined.append(pending + line)
        pending = ""
    found: list[tuple[str, str]] = []
    current = None
    for line in joined:
        keyword, _, rest = line.partition(" ")
        if keyword.upper() == "FROM":
            current = rest.split(" AS ")[-1].strip() if " AS " in rest else None
        if stage is None or current == stage:
            found.append((keyword.upper(), rest.strip()))
    return found


def final_stage() -> str:
    froms = [rest for keyword, rest in instructions() if keyword == "FROM"]
    return froms[-1].split(" AS ")[-1].strip()


def exec_form(arguments: str) -> list[str]:
    """A JSON array (exec form) instruction's argv; fails on the shell form."""
    argv = json.loads(arguments)
    assert isinstance(argv, list), arguments
    return [str(arg) for arg in argv]


def image_cmd() -> list[str]:
    cmds = [rest for keyword, rest in instructions(final_stage()) if keyword == "CMD"]
    return exec_form(cmds[-1])


def healthcheck_cmd() -> list[str]:
    checks = [rest for keyword, rest in instructions(final_stage()) if keyword == "HEALTHCHECK"]
    _, _, command = checks[-1].partition("CMD ")
    return exec_form(command)


def compose_files() -> list[Path]:
    return [path for path in (COMPOSE, COMPOSE_MONITORING) if path.exists()]


def compose() -> dict[str, Any]:
    """The files merged as `docker compose -f compose.yaml -f compose.monitoring.yaml` does, for
    what the tests read: the top-level sections, entry by entry (the overlay adds services and
    volumes; it redefines nothing)."""
    merged: dict[str, Any] = {}
    for path in compose_files():
        for key, value in yaml.safe_load(path.read_text()).items():
            if isinstance(value, dict):
                section = merged.setdefault(key, {})
                assert not set(section) & set(value), (path, key)
                section.update(value)
            else:
                merged[key] = value
    return merged


def compose_services() -> dict[str, Any]:
    services: dict[str, Any] = compose()["services"]
    return services


def interpolate(value: str, variables: dict[str, str]) -> str:
    """Compose's `${NAME}`, `${NAME:-default}` and `${NAME:?error}` from `variables`."""
    return _INTERPOLATION.sub(lambda match: variables[match.group(1)], value)


def k8s_objects() -> list[dict[str, Any]]:
    """Every object of the manifests (the kustomization excepted), with `_file` added."""
    objects = []
    for path in sorted(K8S.glob("*.yaml")):
        if path.name == "kustomization.yaml":
            continue
        for document in yaml.safe_load_all(path.read_text()):
            if document:
                objects.append({**document, "_file": path.name})
    return objects


def k8s_object(kind: str, name: str) -> dict[str, Any]:
    matches = [o for o in k8s_objects() if o["kind"] == kind and o["metadata"]["name"] == name]
    assert len(matches) == 1, (kind, name, len(matches))
    return matches[0]


def pod_spec(workload: dict[str, Any]) -> dict[str, Any]:
    spec: dict[str, Any] = workload["spec"]["template"]["spec"]
    return spec


def workloads() -> list[dict[str, Any]]:
    return [o for o in k8s_objects() if o["kind"] in ("Deployment", "Job")]


def container(workload: dict[str, Any]) -> dict[str, Any]:
    containers: list[dict[str, Any]] = pod_spec(workload)["containers"]
    assert len(containers) == 1, workload["metadata"]["name"]
    return containers[0]


def seconds(duration: str | int) -> float:
    """A compose duration (`40s`, `1m30s`) in seconds."""
    if isinstance(duration, int):
        return float(duration)
    units = {"h": 3600, "m": 60, "s": 1, "ms": 0.001}
    parts = re.findall(r"(\d+(?:\.\d+)?)(ms|h|m|s)", duration)
    assert parts and "".join(n + u for n, u in parts) == duration, duration
    return sum(float(number) * units[unit] for number, unit in parts)
