"""Container image, Docker Compose stack, Prometheus/Grafana provisioning, Strimzi topics.

No Docker engine runs on the CI machine, so these check what can be checked without
one, with real parsers: BuildKit's Dockerfile parser (``dockerfile``), ``docker-compose
config``, ``promtool check config``.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from deploy_support import (
    CHART,
    DASHBOARDS,
    ROOT,
    contract_defaults,
    contract_settings,
    load_yaml,
    require_module,
    require_tool,
)

DEPLOY = ROOT / "deploy"
COMPOSE = DEPLOY / "docker-compose.yml"
TOPIC_SETTINGS = (
    "BOUNCE_PROCESSOR_INPUT_TOPICS",
    "BOUNCE_PROCESSOR_OUTPUT_TOPIC",
    "BOUNCE_PROCESSOR_DEAD_LETTER_TOPIC",
)


# --- Dockerfile ---------------------------------------------------------------------------


def _stages() -> list[list[Any]]:
    parser = require_module("dockerfile")
    stages: list[list[Any]] = []
    for command in parser.parse_file(str(DEPLOY / "Dockerfile")):
        if command.cmd == "FROM":
            stages.append([])
        if stages:
            stages[-1].append(command)
    return stages


def _instructions(stage: list[Any], name: str) -> list[Any]:
    return [command for command in stage if command.cmd == name]


def test_dockerfile_is_multi_stage_with_a_clean_runtime_stage() -> None:
    stages = _stages()
    assert len(stages) >= 2
    assert [stage[0].value[-1] for stage in stages] == ["build", "runtime"]
    runtime = stages[-1]
    # Nothing is installed or compiled in the runtime stage: it only copies the venv.
    assert _instructions(runtime, "RUN") == []
    (copy,) = _instructions(runtime, "COPY")
    assert copy.flags == ("--from=build",)
    build_run = " ".join(" ".join(c.value) for c in _instructions(stages[0], "RUN"))
    assert "--no-cache-dir" in build_run


def test_runtime_stage_runs_the_processor_as_a_numeric_non_root_user() -> None:
    runtime = _stages()[-1]
    (user,) = _instructions(runtime, "USER")
    uid, _, gid = user.value[0].partition(":")
    assert int(uid) >= 10000 and int(gid) >= 10000
    # The chart's securityContext uses the same IDs.
    values = load_yaml(CHART / "values.yaml")
    assert values["securityContext"]["runAsUser"] == int(uid)
    (entrypoint,) = _instructions(runtime, "ENTRYPOINT")
    (cmd,) = _instructions(runtime, "CMD")
    assert entrypoint.json and entrypoint.value == ("bounce-processor",)
    assert cmd.json and cmd.value == ("run",)
    (expose,) = _instructions(runtime, "EXPOSE")
    assert expose.value == ("9850",)


def test_runtime_stage_has_oci_labels() -> None:
    (label,) = _instructions(_stages()[-1], "LABEL")
    keys = set(label.value[0::2])
    assert {
        "org.opencontainers.image.title",
        "org.opencontainers.image.description",
        "org.opencontainers.image.version",
        "org.opencontainers.image.revision",
        "org.opencontainers.image.created",
        "org.opencontainers.image.licenses",
    } <= keys


def test_every_build_variable_is_declared_in_its_stage() -> None:
    """A global ARG is visible only in FROM lines unless a stage declares it again."""
    for stage in _stages():
        declared = {"PATH"}
        for command in stage[1:]:
            text = " ".join(command.value)
            for name in re.findall(r"\$\{?([A-Z_]+)", text):
                assert name in declared, f"{command.original!r} uses undeclared {name}"
            if command.cmd == "ARG":
                declared.add(command.value[0].split("=")[0])
            if command.cmd == "ENV":
                declared.update(command.value[0::2])


def test_build_context_files_exist_and_are_not_ignored() -> None:
    ignored = {
        line.strip()
        for line in (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    }
    assert {".git", ".venv", "tests"} <= ignored
    for stage in _stages():
        for copy in _instructions(stage, "COPY"):
            if copy.flags:
                continue
            for source in copy.value[:-1]:
                assert (ROOT / source).exists(), f"COPY source {source} is missing"
                assert source not in ignored, f"COPY source {source} is in .dockerignore"


# --- docker compose -----------------------------------------------------------------------


def _compose() -> dict[str, Any]:
    compose: dict[str, Any] = load_yaml(COMPOSE)
    return compose


def test_docker_compose_accepts_the_file() -> None:
    result = subprocess.run(
        [require_tool("docker-compose"), "--file", str(COMPOSE), "config", "--quiet"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr


def test_compose_has_the_whole_stack() -> None:
    services = _compose()["services"]
    assert set(services) >= {"kafka", "processor", "prometheus", "grafana", "sample-log"}
    kafka = services["kafka"]["environment"]
    assert kafka["KAFKA_PROCESS_ROLES"] == "broker,controller"  # KRaft, single node
    assert services["processor"]["build"] == {"context": "..", "dockerfile": "deploy/Dockerfile"}
    assert (DEPLOY / services["processor"]["build"]["context"] / "deploy" / "Dockerfile").exists()


def test_compose_mounts_only_files_that_exist() -> None:
    mounts = 0
    for name, service in _compose()["services"].items():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("."):
                assert (DEPLOY / source).exists(), f"{name} mounts missing {source}"
                mounts += 1
    assert mounts >= 6


def test_compose_processor_matches_the_contract_and_the_chart_hardening() -> None:
    compose = _compose()
    processor = compose["services"]["processor"]
    environment = processor["environment"]
    assert set(environment) <= contract_settings()
    defaults = contract_defaults()
    for setting in TOPIC_SETTINGS:
        assert environment[setting] == defaults[setting]
    topics_command = compose["services"]["kafka-topics"]["command"][0]
    for setting in TOPIC_SETTINGS:
        assert defaults[setting] in topics_command
    assert processor["ports"] == ["9850:9850"]
    assert processor["user"] == "10001:10001"
    assert processor["read_only"] is True and processor["tmpfs"] == ["/tmp"]
    assert processor["cap_drop"] == ["ALL"]
    assert processor["stop_grace_period"] == "30s"


def test_prometheus_configuration_passes_promtool(tmp_path: Path) -> None:
    prometheus = _compose()["services"]["prometheus"]
    # Lay the files out as the container mounts them.
    for volume in prometheus["volumes"]:
        source, target = volume.split(":")[:2]
        destination = tmp_path / Path(target).relative_to("/etc/prometheus")
        shutil.copy(DEPLOY / source, destination)
    result = subprocess.run(
        [require_tool("promtool"), "check", "config", str(tmp_path / "prometheus.yml")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS: 7 rules found" in result.stdout
    config = load_yaml(tmp_path / "prometheus.yml")
    (job,) = config["scrape_configs"]
    # The job name the alert rules and dashboards select.
    assert job["job_name"] == "bounce-processor"
    assert job["static_configs"][0]["targets"] == ["processor:9850"]


def test_grafana_is_provisioned_with_prometheus_and_the_dashboards() -> None:
    grafana = _compose()["services"]["grafana"]
    mounts = dict(volume.split(":")[:2] for volume in grafana["volumes"])
    provisioning = DEPLOY / "grafana" / "provisioning"
    assert mounts["./grafana/provisioning"] == "/etc/grafana/provisioning"
    (datasource,) = load_yaml(provisioning / "datasources" / "prometheus.yaml")["datasources"]
    assert datasource["type"] == "prometheus"
    assert datasource["url"] == "http://prometheus:9090"
    (provider,) = load_yaml(provisioning / "dashboards" / "bounce-processor.yaml")["providers"]
    mounted = {
        target: source for source, target in mounts.items() if source.startswith("../dashboards/")
    }
    dashboards = {p.name for p in DASHBOARDS.glob("*.json") if p.name != "code-meanings.json"}
    assert {Path(target).name for target in mounted} == dashboards
    for target in mounted:
        assert str(Path(target).parent) == provider["options"]["path"]
    home = grafana["environment"]["GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH"]
    assert home in mounted


# --- Strimzi topics -----------------------------------------------------------------------


def _topics() -> dict[str, dict[str, Any]]:
    import yaml

    documents = yaml.safe_load_all((DEPLOY / "strimzi" / "kafka-topics.yaml").read_text())
    return {doc["metadata"]["name"]: doc for doc in documents}


def test_strimzi_topics_are_the_processor_defaults() -> None:
    topics = _topics()
    defaults = contract_defaults()
    assert set(topics) == {defaults[setting] for setting in TOPIC_SETTINGS}
    for topic in topics.values():
        assert topic["apiVersion"] == "kafka.strimzi.io/v1beta2"
        assert topic["kind"] == "KafkaTopic"
        assert topic["metadata"]["labels"]["strimzi.io/cluster"]
        assert isinstance(topic["spec"]["partitions"], int) and topic["spec"]["partitions"] > 0
        assert topic["spec"]["replicas"] == 3
        assert topic["spec"]["config"]["min.insync.replicas"] == 2
        assert topic["spec"]["config"]["cleanup.policy"] == "delete"


def test_strimzi_retention_grows_from_input_to_dead_letters() -> None:
    topics = _topics()
    defaults = contract_defaults()
    retention = [
        topics[defaults[setting]]["spec"]["config"]["retention.ms"]
        for setting in (
            "BOUNCE_PROCESSOR_INPUT_TOPICS",
            "BOUNCE_PROCESSOR_OUTPUT_TOPIC",
            "BOUNCE_PROCESSOR_DEAD_LETTER_TOPIC",
        )
    ]
    assert retention == sorted(retention) and len(set(retention)) == 3
    day = 24 * 3600 * 1000
    assert retention[0] >= 7 * day
    input_topic = topics[defaults["BOUNCE_PROCESSOR_INPUT_TOPICS"]]["spec"]["config"]
    assert input_topic["max.message.bytes"] >= int(defaults["BOUNCE_PROCESSOR_MAX_PAYLOAD_BYTES"])


# --- CI helper ----------------------------------------------------------------------------


@pytest.mark.parametrize("script", sorted((ROOT / ".ci").glob("*.sh")), ids=lambda p: p.name)
def test_ci_helper_scripts_are_valid_bash(script: Path) -> None:
    result = subprocess.run(
        ["bash", "-n", str(script)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
