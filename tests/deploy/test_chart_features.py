"""Optional chart features rendered by Helm's engine: autoscaling, monitoring, policies.

KEDA and the HPA, ServiceMonitor, PrometheusRule (checked by promtool), NetworkPolicy,
dashboard ConfigMaps, the values combinations the chart refuses, and ``helm lint``.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from deploy_support import (
    CHART,
    CHART_CASES,
    DASHBOARDS,
    Rendered,
    by_kind,
    chart_values,
    ci_values,
    load_yaml,
    one,
    render_chart,
    require_module,
    require_tool,
)


def test_keda_scales_on_lag_within_the_partition_count(
    rendered_chart: Rendered,
) -> None:
    objects = rendered_chart["all-features"]
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


def test_hpa_replaces_a_fixed_replica_count(
    rendered_chart: Rendered,
) -> None:
    objects = rendered_chart["hpa"]
    assert "replicas" not in one(objects, "Deployment")["spec"]
    hpa = one(objects, "HorizontalPodAutoscaler")
    assert hpa["spec"]["maxReplicas"] <= ci_values("hpa-values.yaml")["kafka"]["inputPartitions"]
    assert one(objects, "PodDisruptionBudget")["spec"] == {
        "minAvailable": 1,
        "selector": one(objects, "Deployment")["spec"]["selector"],
    }


def test_service_monitor_scrapes_the_metrics_port_as_the_rules_job(
    rendered_chart: Rendered,
) -> None:
    monitor = one(rendered_chart["all-features"], "ServiceMonitor")
    service = one(rendered_chart["all-features"], "Service")
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
    rendered_chart: Rendered,
) -> None:
    policy = one(rendered_chart["all-features"], "NetworkPolicy")
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
    rendered_chart: Rendered, tmp_path: Path
) -> None:
    source = {
        rule["alert"]: rule
        for group in load_yaml(DASHBOARDS / "alerts.yaml")["groups"]
        for rule in group["rules"]
    }
    prometheus_rule = one(rendered_chart["all-features"], "PrometheusRule")
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
    rendered_chart: Rendered,
) -> None:
    maps = [
        cm
        for cm in by_kind(rendered_chart["all-features"], "ConfigMap")
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


@pytest.mark.parametrize("case", CHART_CASES)
def test_helm_lint_is_clean(case: str) -> None:
    helm = require_module("helm_python")
    report = helm.lint(str(CHART), chart_values(case), strict=True, namespace="mail")
    assert report["errors"] == []
    problems = [m for m in report["messages"] if m["severity"] >= 2]
    assert problems == []
