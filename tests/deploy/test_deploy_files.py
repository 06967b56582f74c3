"""The deployment files (Dockerfile, compose.yaml, deploy/k8s/) against the code they deploy.

`make lint-deploy` checks their syntax and hardening (hadolint, the Compose Specification
schema, Kubernetes' API schemas, checkov); these tests check what no linter can know: that the
commands exist, the probes are the app's routes, every variable is a setting, and the grace
periods outlast the service's own shutdown deadlines.
"""

from __future__ import annotations

import ipaddress
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import httpx
import pytest
import typer
import yaml
from fastapi import FastAPI
from fastapi.routing import APIRoute
from typer.core import TyperGroup

from example_service.cli import build_cli
from example_service.settings import ServerSettings, Settings, TasksSettings
from example_service.settings.compat import known_names
from tests.deploy import files
from tests.servers import free_port, serve_process

JWT_SECRET = "a-test-secret-that-is-long-enough-for-production"
PROBES = {"livenessProbe": "live", "readinessProbe": "ready", "startupProbe": "startup"}


def leaf_command(argv: list[str]) -> str:
    """The CLI command `argv` runs ("db upgrade"), its options parsed as the CLI would: an
    unknown command or option raises."""
    assert argv[0] == "example-service", argv
    # typer's own copy of click: its Command and Group are not click's.
    command = typer.main.get_command(build_cli())
    args, path = argv[1:], []
    context = command.make_context("example-service", list(args), resilient_parsing=True)
    while isinstance(command, TyperGroup):
        name = args.pop(0)
        found = command.get_command(context, name)
        assert found is not None, f"no command {name!r} in {argv}"
        command, path = found, [*path, name]
    command.make_context(" ".join(path), list(args))  # raises on a bad option or value
    return " ".join(path)


def compose_commands() -> dict[str, list[str]]:
    services = files.compose_services()
    return {name: services[name]["command"] for name in files.SERVICE_ROLES}


def k8s_commands() -> dict[str, list[str]]:
    return {w["metadata"]["name"]: files.container(w)["command"] for w in files.workloads()}


def test_every_command_is_the_cli_s() -> None:
    assert leaf_command(files.image_cmd()) == "serve"
    in_compose = {name: leaf_command(argv) for name, argv in compose_commands().items()}
    assert in_compose == files.SERVICE_ROLES
    in_k8s = {leaf_command(argv) for argv in k8s_commands().values()}
    assert in_k8s == set(files.SERVICE_ROLES.values())


def test_a_wrong_command_would_be_caught() -> None:
    with pytest.raises(Exception, match="No such option: --hots"):
        leaf_command(["example-service", "serve", "--hots", "127.0.0.1"])
    with pytest.raises(AssertionError, match="no command 'upgrad'"):
        leaf_command(["example-service", "db", "upgrad"])


def test_migrations_run_before_the_service() -> None:
    services = files.compose_services()
    assert leaf_command(services["migrate"]["command"]) == "db upgrade"
    assert services["migrate"]["restart"] == "no"
    # Every long-running role on the schema (the scheduler only sends: it needs no table).
    for name in set(files.SERVICE_ROLES) - {"migrate", "scheduler"}:
        depends = services[name]["depends_on"]
        assert depends["migrate"] == {"condition": "service_completed_successfully"}, name
    job = files.k8s_object("Job", "example-service-migrate")
    assert leaf_command(files.container(job)["command"]) == "db upgrade"
    assert files.pod_spec(job)["restartPolicy"] == "Never"


def _served_port(argv: list[str]) -> int:
    return int(argv[argv.index("--port") + 1])


def test_the_image_serves_on_its_exposed_port_and_probes_it() -> None:
    cmd = files.image_cmd()
    exposed = [rest for kw, rest in files.instructions(files.final_stage()) if kw == "EXPOSE"]
    assert exposed == [str(_served_port(cmd))]
    assert cmd[cmd.index("--host") + 1] == "0.0.0.0"  # noqa: S104 - reachable from outside the container
    url = re.search(r"http://[^'\"]+", " ".join(files.healthcheck_cmd()))
    assert url is not None
    assert httpx.URL(url.group()).port == _served_port(cmd)
    assert files.compose_services()["app"]["command"] == cmd


def _route_endpoint(app: FastAPI, path: str) -> str:
    for route in app.routes:
        if isinstance(route, APIRoute) and route.path == path and "GET" in route.methods:
            return route.endpoint.__name__
    raise AssertionError(f"{path} is not a GET route of the app")


async def test_probes_are_the_app_s_routes(app: FastAPI, client: httpx.AsyncClient) -> None:
    url = re.search(r"http://[^'\"]+", " ".join(files.healthcheck_cmd()))
    assert url is not None
    healthcheck = httpx.URL(url.group()).path
    assert _route_endpoint(app, healthcheck) == "live"
    assert (await client.get(healthcheck)).status_code == 200
    api = files.k8s_object("Deployment", "example-service-api")
    probed = files.container(api)
    for probe, endpoint in PROBES.items():
        get = probed[probe]["httpGet"]
        assert get["port"] == "http"
        assert _route_endpoint(app, get["path"]) == endpoint, probe
        assert (await client.get(get["path"])).status_code == 200, probe
    ports = {port["name"]: port["containerPort"] for port in probed["ports"]}
    assert ports["http"] == _served_port(probed["command"])


def test_the_healthcheck_command_passes_on_a_live_server_only(tmp_path: Path) -> None:
    argv = files.healthcheck_cmd()
    assert argv[0] == "python"  # the image has no curl: its own interpreter asks
    env = {"DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/app.db", "LOG_LEVEL": "WARNING"}
    with serve_process(tmp_path, env) as served:
        command = [sys.executable, *(a.replace(":8000/", f":{served.port}/") for a in argv[1:])]
        assert command != [sys.executable, *argv[1:]]
        healthy = subprocess.run(command, capture_output=True, timeout=10, check=False)
        assert healthy.returncode == 0, healthy.stderr
    refused = [a.replace(f":{served.port}/", f":{free_port()}/") for a in command]
    unhealthy = subprocess.run(refused, capture_output=True, timeout=10, check=False)
    assert unhealthy.returncode != 0


def _effective(config: dict[str, str], name: str, default: float) -> float:
    return float(config.get(name, default))


def test_grace_periods_outlast_the_shutdown_deadlines() -> None:
    config = files.k8s_object("ConfigMap", "example-service")["data"]
    server = _effective(
        config,
        "SERVER_GRACEFUL_SHUTDOWN_SECONDS",
        ServerSettings.model_fields["graceful_shutdown_seconds"].default,
    )
    api = files.k8s_object("Deployment", "example-service-api")
    pre_stop = files.container(api)["lifecycle"]["preStop"]["exec"]["command"]
    assert pre_stop[0] == "sleep"
    pause = float(pre_stop[1])
    assert pause > 0
    assert files.pod_spec(api)["terminationGracePeriodSeconds"] > pause + server
    services = files.compose_services()
    assert files.seconds(services["app"]["stop_grace_period"]) > server


# part: tasks
# part: redis
def test_the_worker_s_grace_periods_outlast_its_shutdown_deadline() -> None:
    config = files.k8s_object("ConfigMap", "example-service")["data"]
    # The worker hands back what it holds one second after TASKS_SHUTDOWN_TIMEOUT_SECONDS.
    tasks = 1 + _effective(
        config,
        "TASKS_SHUTDOWN_TIMEOUT_SECONDS",
        TasksSettings.model_fields["shutdown_timeout_seconds"].default,
    )
    worker = files.k8s_object("Deployment", "example-service-worker")
    assert files.pod_spec(worker)["terminationGracePeriodSeconds"] > tasks
    services = files.compose_services()
    assert files.seconds(services["worker"]["stop_grace_period"]) > tasks


# end part: redis
# end part: tasks


def _settings_names() -> set[str]:
    sections = {name: field.annotation for name, field in Settings.model_fields.items()}
    return set(known_names(sections))  # type: ignore[arg-type]


def _load(monkeypatch: pytest.MonkeyPatch, environment: dict[str, str]) -> Settings:
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    settings = Settings.load()
    settings.check()  # production: refuses what it would refuse at startup
    return settings


def test_compose_sets_only_settings_and_valid_ones(monkeypatch: pytest.MonkeyPatch) -> None:
    services = files.compose_services()
    environments = [services[name]["environment"] for name in files.SERVICE_ROLES]
    assert all(environment == environments[0] for environment in environments)
    names = _settings_names()
    assert set(environments[0]) <= names, set(environments[0]) - names
    values = {
        name: files.interpolate(str(value), {"POSTGRES_PASSWORD": "pw"})
        for name, value in environments[0].items()
    }
    settings = _load(monkeypatch, {**values, "SECURITY_JWT_SECRET": JWT_SECRET})
    assert settings.notices == []
    assert settings.app.is_production
    assert settings.database.url.get_secret_value().startswith("postgresql+asyncpg://app:pw@")
    assert settings.telemetry.metrics_port is not None


def test_k8s_sets_only_settings_and_valid_ones(monkeypatch: pytest.MonkeyPatch) -> None:
    config = files.k8s_object("ConfigMap", "example-service")["data"]
    names = _settings_names()
    assert set(config) <= names, set(config) - names
    for workload in files.workloads():
        named = {env["name"] for env in files.container(workload).get("env", [])}
        assert named <= names, (workload["metadata"]["name"], named - names)
        sources = files.container(workload)["envFrom"]
        assert {"configMapRef": {"name": "example-service"}} in sources
    settings = _load(monkeypatch, {**config, "SECURITY_JWT_SECRET": JWT_SECRET})
    assert settings.notices == []
    assert settings.app.is_production
    assert settings.telemetry.mode == "prometheus"
    served = [files.k8s_object("Deployment", "example-service-api")]
    # part: tasks
    # part: redis
    served.append(files.k8s_object("Deployment", "example-service-worker"))
    # The worker's liveness asks its metrics listener, which exists only with these settings.
    worker = files.container(served[-1])
    assert worker["livenessProbe"]["tcpSocket"]["port"] == "metrics"
    # end part: redis
    # end part: tasks
    for workload in served:
        pod = files.container(workload)
        metrics = {p["name"]: p["containerPort"] for p in pod["ports"]}["metrics"]
        assert settings.telemetry.metrics_port == metrics, workload["metadata"]["name"]


def test_only_the_api_container_keeps_the_image_healthcheck() -> None:
    services = files.compose_services()
    # The other roles (migrate, worker, scheduler) run the same image but serve no HTTP: its
    # probe would call them unhealthy for ever.
    for name in set(files.SERVICE_ROLES) - {"app"}:
        assert services[name]["healthcheck"] == {"disable": True}, name
    assert "healthcheck" not in services["app"]
    for name, service in services.items():
        for needed, how in service.get("depends_on", {}).items():
            if how["condition"] == "service_healthy":
                has_own = "test" in services[needed].get("healthcheck", {})
                assert has_own or needed == "app", (name, needed)


# part: tasks
# part: redis
def test_one_scheduler_only() -> None:
    scheduler = files.k8s_object("Deployment", "example-service-scheduler")
    assert scheduler["spec"]["replicas"] == 1
    assert scheduler["spec"]["strategy"] == {"type": "Recreate"}
    assert "example-service-scheduler" not in {
        hpa["spec"]["scaleTargetRef"]["name"]
        for hpa in files.k8s_objects()
        if hpa["kind"] == "HorizontalPodAutoscaler"
    }


# end part: redis
# end part: tasks


def test_the_kustomization_lists_every_manifest() -> None:
    kustomization = yaml.safe_load((files.K8S / "kustomization.yaml").read_text())
    manifests = {p.name for p in files.K8S.glob("*.yaml")} - {"kustomization.yaml"}
    assert sorted(kustomization["resources"]) == sorted(manifests)
    for workload in files.workloads():
        image = files.container(workload)["image"].split(":")[0]
        assert image in {entry["name"] for entry in kustomization["images"]}


def test_the_build_context_holds_what_the_image_copies_and_no_secret() -> None:
    patterns = [
        line.strip()
        for line in files.DOCKERIGNORE.read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert patterns[0] == "*"  # an allow-list: a new file stays out until named
    allowed = {p.removeprefix("!").rstrip("/") for p in patterns if p.startswith("!")}
    assert ".env" not in allowed
    copied = [
        rest.split()
        for keyword, rest in files.instructions()
        if keyword == "COPY" and not rest.startswith("--from")
    ]
    sources = {source.rstrip("/") for args in copied for source in args[:-1]}
    assert sources <= allowed, sources - allowed
    for source in sources:
        assert (files.ROOT / source).exists(), source


def test_the_stack_s_secrets_are_documented_and_never_committed() -> None:
    text = "".join(path.read_text() for path in files.compose_files())
    interpolated = set(re.findall(r"\$\{(\w+)", text))
    assert "POSTGRES_PASSWORD" in interpolated
    example = (files.ROOT / ".env.example").read_text()
    for name in interpolated:
        assert re.search(rf"^#? ?{name}=", example, re.MULTILINE), name
    assert ".env" in (files.ROOT / ".gitignore").read_text().splitlines()
    for name in files.SERVICE_ROLES:
        assert files.compose_services()[name]["env_file"] == [{"path": ".env", "required": True}]


def test_nginx_is_the_one_trusted_proxy() -> None:
    services = files.compose_services()
    trusted = services["app"]["environment"]["SECURITY_TRUSTED_PROXIES"]
    assert services["nginx"]["networks"]["backend"]["ipv4_address"] == trusted
    subnet = files.compose()["networks"]["backend"]["ipam"]["config"][0]["subnet"]
    assert ipaddress.ip_address(trusted) in ipaddress.ip_network(subnet)


def test_the_image_installs_the_lock_without_tools() -> None:
    project = tomllib.loads((files.ROOT / "pyproject.toml").read_text())
    syncs = [
        rest.split("uv sync", 1)[1].split()
        for keyword, rest in files.instructions("build")
        if keyword == "RUN" and "uv sync" in rest
    ]
    assert len(syncs) == 2
    for options in syncs:
        # Locked as tested; no dependency group (dev, deploy-lint: tools, not the service).
        assert {"--frozen", "--no-default-groups", "--no-editable"} <= set(options)
        extras = {options[i + 1] for i, option in enumerate(options) if option == "--extra"}
        assert extras <= set(project["project"]["optional-dependencies"])
    runtime = files.instructions("runtime")
    # The venv alone: no uv, no sources, no build tool.
    assert [rest for kw, rest in runtime if kw == "COPY"] == ["--from=build /app/.venv /app/.venv"]
    users = [rest for kw, rest in runtime if kw == "USER"]
    assert users
    assert int(users[-1].split(":")[0]) > 0  # numeric: runAsNonRoot can verify it


def test_compose_nginx_publishes_its_listen_port_and_proxies_to_the_app() -> None:
    services = files.compose_services()
    conf = (files.ROOT / "deploy" / "nginx" / "nginx.conf").read_text()
    [listen] = re.findall(r"^\s*listen\s+(\d+);", conf, re.MULTILINE)
    published = [str(port).rsplit(":", 1)[-1].split()[0] for port in services["nginx"]["ports"]]
    assert published == [listen]
    [upstream] = re.findall(r"^\s*server\s+(\S+?):(\d+)\b", conf, re.MULTILINE)
    assert upstream[0] in services
    assert str(_served_port(services[upstream[0]]["command"])) == upstream[1]
    [volume] = services["nginx"]["volumes"]
    assert volume.startswith("./deploy/nginx/nginx.conf:/etc/nginx/nginx.conf")
