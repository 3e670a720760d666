"""docker-compose.yml holds together: the services, their ports and mounts, and their settings.

There is no Docker engine where the tests run, so this checks what `docker compose up` relies
on without starting it: every STORYWIRE_* variable is a real setting with a valid value, the
workers reach a listener Kafka advertises, Prometheus scrapes the port the workers serve, and
every file mounted from the repository exists. And that it is safe by default (issue 22): every
port is published on 127.0.0.1 unless the user opts out, Grafana has no default admin password,
and the storywire image runs as a user other than root.
"""

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from services.app import STAGES
from services.settings import Settings
from tests.conftest import REPO

COMPOSE = REPO / "docker-compose.yml"
WORKERS = set(STAGES)
# A host address a published port may have: loopback, or a variable that defaults to it
# ("${STORYWIRE_BIND:-127.0.0.1}", the documented opt-out).
LOOPBACK = re.compile(r"127\.0\.0\.1|\$\{[A-Z_]+:-127\.0\.0\.1\}")
# Compose's "required" form: `docker compose up` stops with the message while it is unset.
REQUIRED_VARIABLE = re.compile(r"\$\{[A-Z_]+:\?[^}]+\}")


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(COMPOSE.read_text())
    return loaded


def services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = compose["services"]
    return found


def bind_mounts(service: dict[str, Any]) -> list[tuple[Path, str]]:
    """(host path, container path) of each mount from the repository (named volumes skipped)."""
    mounts = []
    for volume in service.get("volumes", []):
        source, target = volume.split(":")[:2]
        if source.startswith(("./", "/")):
            mounts.append(((REPO / source).resolve(), target))
    return mounts


def mounted_at(service: dict[str, Any], container_path: str) -> Path:
    """The host path mounted at `container_path`, or under a mounted parent directory."""
    for source, target in bind_mounts(service):
        if container_path == target:
            return source
        if container_path.startswith(target.rstrip("/") + "/"):
            return source / container_path[len(target.rstrip("/")) + 1:]
    raise AssertionError(f"nothing is mounted at {container_path}")


def published_ports(service: dict[str, Any]) -> dict[str, str]:
    """{"host port:container port": host address} of each published port ("" when none given)."""
    published = {}
    for port in service.get("ports", []):
        if isinstance(port, dict):  # the long syntax
            published[f"{port.get('published')}:{port['target']}"] = port.get("host_ip", "")
            continue
        # "9092", "9092:9092" or "HOST:9092:9092"; HOST may be "${VAR:-127.0.0.1}" (a colon).
        parts = str(port).rsplit(":", 2)
        host = parts[0] if len(parts) == 3 else ""
        published[":".join(parts[-2:])] = host
    return published


def storywire_env(service: dict[str, Any]) -> dict[str, str]:
    environment = service.get("environment", {})
    return {k: str(v) for k, v in environment.items() if k.startswith("STORYWIRE_")}


def test_the_stack_has_every_service(compose: dict[str, Any]) -> None:
    assert set(services(compose)) == {
        "kafka", "topics", "clean", "enrich", "cluster", "prometheus", "grafana"
    }


def test_kafka_is_the_official_image_in_kraft_mode(compose: dict[str, Any]) -> None:
    kafka = services(compose)["kafka"]
    assert kafka["image"] == "apache/kafka:3.9.2"
    assert set(kafka["environment"]["KAFKA_PROCESS_ROLES"].split(",")) == {"broker", "controller"}
    assert "9092:9092" in published_ports(kafka)


def test_workers_and_topic_creation_run_one_image_built_from_the_dockerfile(
    compose: dict[str, Any]
) -> None:
    assert (REPO / "Dockerfile").is_file()
    runs = {name: services(compose)[name] for name in (*STAGES, "topics")}
    assert {service["build"] for service in runs.values()} == {"."}
    assert len({service["image"] for service in runs.values()}) == 1
    for stage in STAGES:
        assert runs[stage]["command"] == ["worker", stage]
        condition = runs[stage]["depends_on"]["topics"]["condition"]
        assert condition == "service_completed_successfully"
    assert runs["topics"]["command"] == ["topics", "create"]


@pytest.mark.parametrize("name", ["topics", *STAGES])
def test_every_storywire_variable_is_a_setting_with_a_valid_value(
    compose: dict[str, Any], name: str
) -> None:
    env = storywire_env(services(compose)[name])
    assert env, f"{name} sets no STORYWIRE_* variable"
    fields = {key.removeprefix("STORYWIRE_").lower(): value for key, value in env.items()}
    unknown = set(fields) - set(Settings.model_fields)
    assert not unknown, f"{name} sets variables no setting reads: {sorted(unknown)}"
    Settings(**fields)  # type: ignore[arg-type]  # raises when a value does not validate


def test_workers_reach_a_listener_kafka_advertises(compose: dict[str, Any]) -> None:
    advertised = services(compose)["kafka"]["environment"]["KAFKA_ADVERTISED_LISTENERS"]
    addresses = {listener.split("://", 1)[1] for listener in advertised.split(",")}
    for name in ("topics", *STAGES):
        servers = storywire_env(services(compose)[name])["STORYWIRE_BOOTSTRAP_SERVERS"]
        for server in servers.split(","):
            assert server in addresses, f"{name} uses {server}; kafka advertises {addresses}"
    # And the host (storywire ingest / tail) has a listener on the published port.
    assert "localhost:9092" in addresses


def test_prometheus_scrapes_each_worker_where_it_serves_metrics(compose: dict[str, Any]) -> None:
    prometheus = services(compose)["prometheus"]
    assert "9090:9090" in published_ports(prometheus)
    config_path = mounted_at(prometheus, "/etc/prometheus/prometheus.yml")
    assert config_path == REPO / "deploy" / "prometheus" / "prometheus.docker.yml"
    config = yaml.safe_load(config_path.read_text())
    for rule_file in config["rule_files"]:
        # Rule files resolve relative to the config file, inside the container too.
        assert mounted_at(prometheus, f"/etc/prometheus/{rule_file}").is_file(), rule_file
    targets = {
        group["labels"]["stage"]: target
        for scrape in config["scrape_configs"]
        for group in scrape["static_configs"]
        for target in group["targets"]
    }
    assert set(targets) == WORKERS
    for stage, target in targets.items():
        host, port = target.rsplit(":", 1)
        assert host == stage, f"the {stage} target is not the {stage} service"
        env = storywire_env(services(compose)[stage])
        assert env["STORYWIRE_METRICS_PORT"] == port
        assert env["STORYWIRE_METRICS_HOST"] == "0.0.0.0"  # reachable from another container


def test_grafana_is_provisioned_with_the_datasource_and_the_dashboard(
    compose: dict[str, Any]
) -> None:
    grafana = services(compose)["grafana"]
    assert grafana["image"].startswith("grafana/grafana:")
    assert "3000:3000" in published_ports(grafana)
    datasources = mounted_at(grafana, "/etc/grafana/provisioning/datasources")
    providers = mounted_at(grafana, "/etc/grafana/provisioning/dashboards")
    assert datasources.is_dir() and providers.is_dir()
    sources = yaml.safe_load((datasources / "prometheus.yml").read_text())["datasources"]
    assert [source["url"] for source in sources] == ["http://prometheus:9090"]
    for provider_file in providers.glob("*.yml"):
        for provider in yaml.safe_load(provider_file.read_text())["providers"]:
            dashboards = mounted_at(grafana, provider["options"]["path"])
            assert (dashboards / "storywire.json").is_file()


def test_every_file_mounted_from_the_repository_exists(compose: dict[str, Any]) -> None:
    mounts = [
        (name, source)
        for name, service in services(compose).items()
        for source, _ in bind_mounts(service)
    ]
    assert mounts
    missing = [(name, str(source)) for name, source in mounts if not source.exists()]
    assert not missing, missing


def test_every_published_port_is_on_loopback_unless_the_user_opts_out(
    compose: dict[str, Any]
) -> None:
    published = {
        f"{name} {port}": host
        for name, service in services(compose).items()
        for port, host in published_ports(service).items()
    }
    assert published  # the host reaches Kafka, Prometheus and Grafana
    exposed = {where: host for where, host in published.items() if not LOOPBACK.fullmatch(host)}
    assert not exposed, f"published on every interface: {exposed}"


def test_grafana_has_no_default_admin_password(compose: dict[str, Any]) -> None:
    environment = services(compose)["grafana"]["environment"]
    password = str(environment["GF_SECURITY_ADMIN_PASSWORD"])
    assert REQUIRED_VARIABLE.fullmatch(password), f"{password!r} is a default password"
    # The anonymous visitor only views.
    assert environment.get("GF_AUTH_ANONYMOUS_ORG_ROLE", "Viewer") == "Viewer"
    for name, service in services(compose).items():
        for key, value in service.get("environment", {}).items():
            if "PASSWORD" in key:
                assert REQUIRED_VARIABLE.fullmatch(str(value)), f"{name} {key} has a default"


def test_the_storywire_image_runs_as_a_user_other_than_root() -> None:
    instructions = [
        line.split(None, 1)
        for line in (REPO / "Dockerfile").read_text().splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]
    users = [parts[1].strip() for parts in instructions if parts[0].upper() == "USER"]
    assert users, "the Dockerfile sets no USER: the workers would run as root"
    assert users[-1].split(":")[0] not in {"root", "0"}
    # The user exists in the image and owns the directory faust keeps its state in.
    dockerfile = (REPO / "Dockerfile").read_text()
    assert re.search(rf"useradd\b[^\n]*\b{re.escape(users[-1])}\b", dockerfile)
    assert f"chown {users[-1]}" in dockerfile
