"""The Helm chart rendered by Helm's own engine (helm-python-sdk), then validated.

Every rendered object is checked against the Kubernetes OpenAPI schemas
(kubernetes-validate, strict) or, for custom resources, the CRD-generated models;
then the security defaults, probes, Kafka settings and optional resources are
asserted on the rendered objects themselves.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from deploy_support import (
    CHART,
    DASHBOARDS,
    by_kind,
    ci_values,
    container_env,
    contract_settings,
    load_yaml,
    one,
    render_chart,
    require_module,
    require_tool,
    validate_object,
)

CASES: dict[str, str | None] = {
    "default": None,
    "all-features": "all-features-values.yaml",
    "hpa": "hpa-values.yaml",
}

EXPECTED_KINDS = {
    "default": {"Deployment", "Service", "ServiceAccount"},
    "all-features": {
        "ConfigMap",
        "Deployment",
        "NetworkPolicy",
        "PodDisruptionBudget",
        "PrometheusRule",
        "ScaledObject",
        "Service",
        "ServiceAccount",
        "ServiceMonitor",
        "TriggerAuthentication",
    },
    "hpa": {
        "Deployment",
        "HorizontalPodAutoscaler",
        "PodDisruptionBudget",
        "Service",
        "ServiceAccount",
    },
}


def _values(case: str) -> dict[str, Any] | None:
    file_name = CASES[case]
    return ci_values(file_name) if file_name else None


@pytest.fixture(scope="module")
def rendered() -> dict[str, list[dict[str, Any]]]:
    return {case: render_chart(_values(case)) for case in CASES}


@pytest.mark.parametrize("case", CASES)
def test_every_rendered_object_matches_its_schema(
    rendered: dict[str, list[dict[str, Any]]], case: str
) -> None:
    objects = rendered[case]
    assert {obj["kind"] for obj in objects} == EXPECTED_KINDS[case]
    for obj in objects:
        assert validate_object(obj)
        assert obj["metadata"]["namespace"] == "mail"
        assert obj["metadata"]["labels"]["app.kubernetes.io/name"] == "bounce-processor"


def test_default_deployment_is_hardened(rendered: dict[str, list[dict[str, Any]]]) -> None:
    deployment = one(rendered["default"], "Deployment")
    pod = deployment["spec"]["template"]["spec"]
    container = pod["containers"][0]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] >= 10000
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    context = container["securityContext"]
    assert context["runAsNonRoot"] is True
    assert context["readOnlyRootFilesystem"] is True
    assert context["allowPrivilegeEscalation"] is False
    assert context["privileged"] is False
    assert context["capabilities"] == {"drop": ["ALL"]}
    assert context["seccompProfile"] == {"type": "RuntimeDefault"}
    assert pod["automountServiceAccountToken"] is False
    assert one(rendered["default"], "ServiceAccount")["automountServiceAccountToken"] is False
    # A read-only root file system still needs a writable /tmp.
    assert {"name": "tmp", "mountPath": "/tmp"} in container["volumeMounts"]
    assert container["resources"]["requests"] and container["resources"]["limits"]["memory"]
    assert container["image"] == f"bounce-processor:{load_yaml(CHART / 'Chart.yaml')['appVersion']}"
    assert container["args"] == ["run"]


def test_default_deployment_probes_and_drain_time(
    rendered: dict[str, list[dict[str, Any]]],
) -> None:
    deployment = one(rendered["default"], "Deployment")
    pod = deployment["spec"]["template"]["spec"]
    container = pod["containers"][0]
    port = container["ports"][0]
    assert (port["name"], port["containerPort"]) == ("http-metrics", 9850)
    assert container["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http-metrics"}
    assert container["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http-metrics"}
    assert container["startupProbe"]["httpGet"] == {"path": "/healthz", "port": "http-metrics"}
    env = container_env(deployment)
    drain = int(env["BOUNCE_PROCESSOR_SHUTDOWN_GRACE_SECONDS"]["value"])
    assert pod["terminationGracePeriodSeconds"] > drain
    assert env["BOUNCE_PROCESSOR_HTTP_ADDRESS"]["value"] == "0.0.0.0:9850"
    service = one(rendered["default"], "Service")
    assert service["spec"]["ports"][0]["targetPort"] == "http-metrics"
    assert service["spec"]["selector"] == deployment["spec"]["selector"]["matchLabels"]


def test_default_pods_spread_across_nodes_and_zones(
    rendered: dict[str, list[dict[str, Any]]],
) -> None:
    pod = one(rendered["default"], "Deployment")["spec"]["template"]["spec"]
    selector = one(rendered["default"], "Deployment")["spec"]["selector"]["matchLabels"]
    preferred = pod["affinity"]["podAntiAffinity"][
        "preferredDuringSchedulingIgnoredDuringExecution"
    ]
    assert preferred[0]["podAffinityTerm"]["topologyKey"] == "kubernetes.io/hostname"
    assert preferred[0]["podAffinityTerm"]["labelSelector"]["matchLabels"] == selector
    spread = pod["topologySpreadConstraints"][0]
    assert spread["topologyKey"] == "topology.kubernetes.io/zone"
    assert spread["labelSelector"]["matchLabels"] == selector


@pytest.mark.parametrize("case", CASES)
def test_processor_settings_are_the_documented_ones(
    rendered: dict[str, list[dict[str, Any]]], case: str
) -> None:
    env = container_env(one(rendered[case], "Deployment"))
    documented = contract_settings()
    for name in env:
        if name.startswith("BOUNCE_PROCESSOR_"):
            assert name in documented, f"{name} is not in docs/architecture.md"
        else:
            assert name.startswith("KAFKA_") or name == "TZ", name
    assert env["KAFKA_BOOTSTRAP_SERVERS"]["value"]
    assert env["BOUNCE_PROCESSOR_INPUT_TOPICS"]["value"] == "mail-delivery-events"


def test_kafka_credentials_come_from_existing_secrets(
    rendered: dict[str, list[dict[str, Any]]],
) -> None:
    deployment = one(rendered["all-features"], "Deployment")
    env = container_env(deployment)
    assert env["KAFKA_SECURITY_PROTOCOL"]["value"] == "SASL_SSL"
    assert env["KAFKA_SASL_MECHANISM"]["value"] == "SCRAM-SHA-512"
    for name, key in (("KAFKA_SASL_USERNAME", "username"), ("KAFKA_SASL_PASSWORD", "password")):
        assert "value" not in env[name]
        assert env[name]["valueFrom"]["secretKeyRef"] == {
            "name": "bounce-processor-kafka-user",
            "key": key,
        }
    pod = deployment["spec"]["template"]["spec"]
    tls_volume = next(volume for volume in pod["volumes"] if volume["name"] == "kafka-tls")
    assert tls_volume["secret"]["secretName"] == "kafka-cluster-ca"
    mount = next(m for m in pod["containers"][0]["volumeMounts"] if m["name"] == "kafka-tls")
    assert mount["readOnly"] is True
    assert env["KAFKA_SSL_CA_LOCATION"]["value"] == f"{mount['mountPath']}/ca.crt"
    # librdkafka passthrough: dotted property names become KAFKA_ variables.
    assert env["KAFKA_SESSION_TIMEOUT_MS"]["value"] == "10000"
    assert env["KAFKA_STATISTICS_INTERVAL_MS"]["value"] == "15000"
    assert env["KAFKA_PRODUCER_LINGER_MS"]["value"] == "50"
    assert env["KAFKA_CLIENT_ID"]["valueFrom"]["fieldRef"]["fieldPath"] == "metadata.name"


def test_extra_config_names_round_trip_through_the_processor_mapping() -> None:
    config = pytest.importorskip("processor.stream.config", reason="stream package not merged yet")
    extra = {"ssl.endpoint.identification.algorithm": "https", "consumer.fetch.min.bytes": 1}
    extra["ssl_key"] = "pem-text"  # a librdkafka name with an underscore
    env = container_env(one(render_chart({"kafka": {"extraConfig": extra}}), "Deployment"))
    passed = config.kafka_env(
        {name: entry["value"] for name, entry in env.items() if "value" in entry}
    )
    for key, value in extra.items():
        assert passed[key] == str(value)


def test_mutual_tls_files_are_passed(rendered: dict[str, list[dict[str, Any]]]) -> None:
    env = container_env(one(rendered["hpa"], "Deployment"))
    base = "/etc/bounce-processor/kafka-tls"
    assert env["KAFKA_SSL_CERTIFICATE_LOCATION"]["value"] == f"{base}/tls.crt"
    assert env["KAFKA_SSL_KEY_LOCATION"]["value"] == f"{base}/tls.key"
    assert "KAFKA_SASL_MECHANISM" not in env


def test_policy_file_comes_from_a_configmap(rendered: dict[str, list[dict[str, Any]]]) -> None:
    objects = rendered["all-features"]
    deployment = one(objects, "Deployment")
    policy_maps = [cm for cm in by_kind(objects, "ConfigMap") if "policy.toml" in cm["data"]]
    assert len(policy_maps) == 1
    assert (
        policy_maps[0]["data"]["policy.toml"]
        == ci_values("all-features-values.yaml")["policy"]["content"]
    )
    pod = deployment["spec"]["template"]["spec"]
    volume = next(v for v in pod["volumes"] if v["name"] == "policy")
    assert volume["configMap"]["name"] == policy_maps[0]["metadata"]["name"]
    mount = next(m for m in pod["containers"][0]["volumeMounts"] if m["name"] == "policy")
    env = container_env(deployment)
    assert env["BOUNCE_PROCESSOR_POLICY_FILE"]["value"] == f"{mount['mountPath']}/policy.toml"
    assert deployment["spec"]["template"]["metadata"]["annotations"]["checksum/policy"]
    # An existing ConfigMap is mounted by name without rendering one.
    hpa_pod = one(rendered["hpa"], "Deployment")["spec"]["template"]["spec"]
    existing = next(v for v in hpa_pod["volumes"] if v["name"] == "policy")
    assert existing["configMap"]["name"] == "site-bounce-policy"
    assert not by_kind(rendered["hpa"], "ConfigMap")


def test_extra_env_and_volumes_are_passed_through(
    rendered: dict[str, list[dict[str, Any]]],
) -> None:
    container = one(rendered["all-features"], "Deployment")["spec"]["template"]["spec"][
        "containers"
    ][0]
    assert {"name": "TZ", "value": "UTC"} in container["env"]
    assert container["envFrom"] == [{"configMapRef": {"name": "bounce-processor-extra"}}]
    assert {"name": "scratch", "mountPath": "/var/tmp"} in container["volumeMounts"]


def test_keda_scales_on_lag_within_the_partition_count(
    rendered: dict[str, list[dict[str, Any]]],
) -> None:
    objects = rendered["all-features"]
    values = ci_values("all-features-values.yaml")
    deployment = one(objects, "Deployment")
    assert "replicas" not in deployment["spec"]
    scaled = one(objects, "ScaledObject")
    assert scaled["spec"]["scaleTargetRef"]["name"] == deployment["metadata"]["name"]
    assert scaled["spec"]["maxReplicaCount"] <= values["kafka"]["inputPartitions"]
    trigger = scaled["spec"]["triggers"][0]
    assert trigger["type"] == "kafka"
    assert trigger["metadata"]["consumerGroup"] == "bounce-processor"
    assert trigger["metadata"]["topic"] == "mail-delivery-events"
    assert trigger["metadata"]["lagThreshold"] == "500"
    assert trigger["metadata"]["allowIdleConsumers"] == "false"
    assert trigger["metadata"]["sasl"] == "scram_sha512"
    assert trigger["metadata"]["tls"] == "enable"
    auth = one(objects, "TriggerAuthentication")
    assert trigger["authenticationRef"]["name"] == auth["metadata"]["name"]
    parameters = {ref["parameter"]: ref["name"] for ref in auth["spec"]["secretTargetRef"]}
    assert parameters == {
        "username": "bounce-processor-kafka-user",
        "password": "bounce-processor-kafka-user",
        "ca": "kafka-cluster-ca",
    }
    assert not by_kind(objects, "HorizontalPodAutoscaler")


def test_hpa_replaces_a_fixed_replica_count(rendered: dict[str, list[dict[str, Any]]]) -> None:
    objects = rendered["hpa"]
    assert "replicas" not in one(objects, "Deployment")["spec"]
    hpa = one(objects, "HorizontalPodAutoscaler")
    assert hpa["spec"]["maxReplicas"] <= ci_values("hpa-values.yaml")["kafka"]["inputPartitions"]
    assert one(objects, "PodDisruptionBudget")["spec"] == {
        "minAvailable": 1,
        "selector": one(objects, "Deployment")["spec"]["selector"],
    }


def test_service_monitor_scrapes_the_metrics_port_as_the_rules_job(
    rendered: dict[str, list[dict[str, Any]]],
) -> None:
    monitor = one(rendered["all-features"], "ServiceMonitor")
    service = one(rendered["all-features"], "Service")
    assert monitor["metadata"]["labels"]["release"] == "kube-prometheus-stack"
    assert (
        monitor["spec"]["selector"]["matchLabels"].items() <= service["metadata"]["labels"].items()
    )
    endpoint = monitor["spec"]["endpoints"][0]
    assert (endpoint["port"], endpoint["path"], endpoint["interval"]) == (
        "http-metrics",
        "/metrics",
        "15s",
    )
    # The Prometheus job label comes from the Service's app.kubernetes.io/name label,
    # which is the job="bounce-processor" the alert rules and dashboards select.
    assert service["metadata"]["labels"][monitor["spec"]["jobLabel"]] == "bounce-processor"


def test_network_policy_opens_only_metrics_dns_and_kafka(
    rendered: dict[str, list[dict[str, Any]]],
) -> None:
    policy = one(rendered["all-features"], "NetworkPolicy")
    assert policy["spec"]["policyTypes"] == ["Ingress", "Egress"]
    (ingress,) = policy["spec"]["ingress"]
    assert ingress["ports"] == [{"port": "http-metrics", "protocol": "TCP"}]
    egress_ports = {
        (port["port"], port["protocol"])
        for rule in policy["spec"]["egress"]
        for port in rule["ports"]
    }
    assert egress_ports == {(53, "UDP"), (53, "TCP"), (9092, "TCP"), (9093, "TCP")}


def _rule_file(rule: dict[str, Any]) -> dict[str, Any]:
    return {"groups": rule["spec"]["groups"]}


def test_prometheus_rule_is_the_alerts_file_with_overrides(
    rendered: dict[str, list[dict[str, Any]]], tmp_path: Path
) -> None:
    source = {
        rule["alert"]: rule
        for group in load_yaml(DASHBOARDS / "alerts.yaml")["groups"]
        for rule in group["rules"]
    }
    prometheus_rule = one(rendered["all-features"], "PrometheusRule")
    rendered_rules = {
        rule["alert"]: rule
        for group in prometheus_rule["spec"]["groups"]
        for rule in group["rules"]
    }
    assert set(rendered_rules) == set(source) - {"BounceProcessorNoEvents"}
    base = ci_values("all-features-values.yaml")["prometheusRule"]["runbookBaseUrl"]
    for name, rule in rendered_rules.items():
        assert rule["expr"] == source[name]["expr"]
        assert rule["labels"]["team"] == "mail"
        assert rule["annotations"]["runbook_url"] == f"{base}#{name.lower()}"
        assert rule["annotations"]["description"] == source[name]["annotations"]["description"]
    hard = rendered_rules["BounceProcessorHardBounceRatioHigh"]
    assert (hard["for"], hard["labels"]["severity"]) == ("30m", "critical")
    down = rendered_rules["BounceProcessorDown"]
    assert (down["for"], down["labels"]["severity"]) == (
        source["BounceProcessorDown"]["for"],
        "critical",
    )
    # The rendered groups are a valid Prometheus rule file.
    rule_file = tmp_path / "rendered-rules.yaml"
    rule_file.write_text(yaml.safe_dump(_rule_file(prometheus_rule)), encoding="utf-8")
    result = subprocess.run(
        [require_tool("promtool"), "check", "rules", str(rule_file)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_prometheus_rule_job_selector_follows_the_values() -> None:
    objects = render_chart({"prometheusRule": {"enabled": True, "job": "mail-bounces"}})
    rules = [r for g in one(objects, "PrometheusRule")["spec"]["groups"] for r in g["rules"]]
    assert len(rules) == 7
    for rule in rules:
        assert 'job="mail-bounces"' in rule["expr"]
        assert 'job="bounce-processor"' not in rule["expr"]
        assert rule["annotations"]["runbook_url"].startswith("docs/runbook.md#")


def test_dashboard_configmaps_carry_the_dashboards_for_the_sidecar(
    rendered: dict[str, list[dict[str, Any]]],
) -> None:
    maps = [
        cm
        for cm in by_kind(rendered["all-features"], "ConfigMap")
        if cm["metadata"]["labels"].get("grafana_dashboard") == "1"
    ]
    shipped = {}
    for config_map in maps:
        assert config_map["metadata"]["annotations"] == {"grafana_folder": "Mail"}
        shipped.update(config_map["data"])
    expected = {
        path.name: path.read_text(encoding="utf-8").rstrip("\n")
        for path in DASHBOARDS.glob("*.json")
        if path.name != "code-meanings.json"
    }
    assert {name: text.rstrip("\n") for name, text in shipped.items()} == expected


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"autoscaling": {"enabled": True}, "keda": {"enabled": True}}, "exclusive"),
        ({"keda": {"enabled": True, "maxReplicaCount": 7}}, "exceeds kafka.inputPartitions"),
        ({"autoscaling": {"enabled": True, "maxReplicas": 9}}, "exceeds kafka.inputPartitions"),
        ({"replicaCount": 7}, "exceeds kafka.inputPartitions"),
        ({"terminationGracePeriodSeconds": 20}, "must be greater than"),
        ({"kafka": {"sasl": {"mechanism": "PLAIN"}}}, "existingSecret is empty"),
        ({"policy": {"content": "x = 1", "existingConfigMap": "p"}}, "exclusive"),
        ({"service": {"enabled": False}, "serviceMonitor": {"enabled": True}}, "service.enabled"),
    ],
)
def test_inconsistent_values_fail_to_render(values: dict[str, Any], message: str) -> None:
    helm = require_module("helm_python")
    with pytest.raises(helm.HelmError, match=message):
        render_chart(values)


@pytest.mark.parametrize("case", CASES)
def test_helm_lint_is_clean(case: str) -> None:
    helm = require_module("helm_python")
    report = helm.lint(str(CHART), _values(case), strict=True, namespace="mail")
    assert report["errors"] == []
    problems = [m for m in report["messages"] if m["severity"] >= 2]
    assert problems == []
