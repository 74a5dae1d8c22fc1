"""values.schema.json, checked by Helm's own validator, and the chart's documentation."""

from __future__ import annotations

import re
from typing import Any

import pytest
from deploy_support import (
    CHART,
    DASHBOARDS,
    ci_values,
    documented_values,
    load_yaml,
    readme_default,
    render_chart,
    require_module,
    value_leaves,
)


def _validate(values: dict[str, Any] | None) -> None:
    helm = require_module("helm_python")
    with helm.Chart.load(str(CHART)) as chart:
        chart.validate_schema(values)


@pytest.mark.parametrize("values_file", [None, "all-features-values.yaml", "hpa-values.yaml"])
def test_shipped_values_pass_the_schema(values_file: str | None) -> None:
    _validate(ci_values(values_file) if values_file else None)


@pytest.mark.parametrize(
    ("values", "where"),
    [
        ({"replicaCount": "2"}, "/replicaCount"),
        ({"replicas": 2}, "replicas"),
        ({"image": {"tagg": "1.0"}}, "tagg"),
        ({"image": {"pullPolicy": "Sometimes"}}, "/image/pullPolicy"),
        ({"image": {"digest": "latest"}}, "/image/digest"),
        ({"kafka": {"inputTopics": []}}, "/kafka/inputTopics"),
        ({"kafka": {"inputTopics": "mail-delivery-events"}}, "/kafka/inputTopics"),
        ({"kafka": {"outputTopic": "bad topic name"}}, "/kafka/outputTopic"),
        ({"kafka": {"sasl": {"mechanism": "GSSAPI"}}}, "/kafka/sasl/mechanism"),
        ({"kafka": {"sasl": {"password": "secret"}}}, "password"),
        ({"kafka": {"extraConfig": {"session.timeout.ms": {"value": 1}}}}, "/kafka/extraConfig"),
        ({"kafka": {"extraConfig": {"SESSION_TIMEOUT_MS": "1"}}}, "SESSION_TIMEOUT_MS"),
        ({"processor": {"logLevel": "verbose"}}, "/processor/logLevel"),
        ({"processor": {"httpPort": 80}}, "/processor/httpPort"),
        ({"policy": {"fileName": "policy.ini"}}, "/policy/fileName"),
        ({"probes": {"liveness": {"periodSeconds": 0}}}, "/probes/liveness/periodSeconds"),
        ({"serviceMonitor": {"interval": "30 seconds"}}, "/serviceMonitor/interval"),
        ({"prometheusRule": {"rules": {"BounceProcessorTypo": {"enabled": False}}}}, "Typo"),
        ({"prometheusRule": {"rules": {"BounceProcessorDown": {"severity": "page"}}}}, "severity"),
        ({"prometheusRule": {"runbookBaseUrl": "wiki/runbook"}}, "/prometheusRule/runbookBaseUrl"),
        ({"keda": {"offsetResetPolicy": "none"}}, "/keda/offsetResetPolicy"),
        ({"autoscaling": {"enabled": "yes"}}, "/autoscaling/enabled"),
        ({"networkPolicy": {"kafkaPorts": [70000]}}, "/networkPolicy/kafkaPorts"),
        ({"podAntiAffinity": "strict"}, "/podAntiAffinity"),
        ({"commonLabels": {"team": 7}}, "/commonLabels/team"),
    ],
)
def test_schema_rejects_bad_values(values: dict[str, Any], where: str) -> None:
    helm = require_module("helm_python")
    with pytest.raises(helm.HelmValuesError) as raised:
        _validate(values)
    assert where in str(raised.value)
    # Rendering (what install and upgrade do) refuses the same values.
    with pytest.raises(helm.HelmValuesError):
        render_chart(values)


def test_schema_names_exactly_the_alerts_of_the_rules_file() -> None:
    schema = load_yaml(CHART / "values.schema.json")
    named = set(schema["properties"]["prometheusRule"]["properties"]["rules"]["properties"])
    alerts = {
        r["alert"] for g in load_yaml(DASHBOARDS / "alerts.yaml")["groups"] for r in g["rules"]
    }
    assert named == alerts


def _schema_properties(schema: dict[str, Any], path: str = "") -> list[tuple[str, dict[str, Any]]]:
    found = []
    for name, child in schema.get("properties", {}).items():
        child_path = f"{path}.{name}" if path else name
        found.append((child_path, child))
        found.extend(_schema_properties(child, child_path))
    return found


def test_every_schema_property_is_described_and_closed_objects_stay_closed() -> None:
    schema = load_yaml(CHART / "values.schema.json")
    assert schema["additionalProperties"] is False
    for path, prop in _schema_properties(schema):
        assert prop.get("description"), f"{path} has no description"
        if prop.get("type") == "object" and "properties" in prop:
            assert prop.get("additionalProperties") is False, f"{path} accepts unknown keys"


def test_every_value_is_documented_in_values_yaml() -> None:
    documented = [path for path, _, _ in documented_values()]
    assert len(documented) == len(set(documented))
    for leaf in value_leaves(load_yaml(CHART / "values.yaml")):
        assert any(leaf == path or leaf.startswith(f"{path}.") for path in documented), leaf


def test_chart_readme_lists_every_value_with_its_default() -> None:
    readme = (CHART / "README.md").read_text(encoding="utf-8")
    rows = dict(re.findall(r"^\| `([A-Za-z0-9_.]+)` \| `(.*)` \| .+ \|$", readme, re.MULTILINE))
    for path, default, _ in documented_values():
        assert path in rows, f"README does not list {path}"
        assert rows[path] == readme_default(default), f"README default of {path}"
    assert set(rows) == {path for path, _, _ in documented_values()}
