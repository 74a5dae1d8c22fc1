"""Alert rules: promtool check and unit tests, conventions, runbook links, the metric contract."""

from __future__ import annotations

import re
import subprocess
from typing import Any

import pytest
from deploy_support import (
    CHART,
    DASHBOARDS,
    ROOT,
    STANDARD_METRICS,
    contract_metrics,
    load_yaml,
    metric_names,
    require_tool,
)

RULES = DASHBOARDS / "alerts.yaml"
UNIT_TESTS = ROOT / "deploy" / "prometheus" / "alerts_test.yaml"
RUNBOOK = ROOT / "docs" / "runbook.md"

#: What issue 4 asks the rules to cover, by alert name.
REQUIRED_ALERTS = {
    "BounceProcessorDown",  # processor down
    "BounceProcessorNotReady",  # not ready
    "BounceProcessorHardBounceRatioHigh",  # hard-bounce ratio spike
    "BounceProcessorDeadLettering",  # dead-letter rate above zero for long
    "BounceProcessorConsumerLagGrowing",  # consumer lag growing
    "BounceProcessorNoEvents",  # no events at all for long
}


def _alerts() -> list[dict[str, Any]]:
    return [rule for group in load_yaml(RULES)["groups"] for rule in group["rules"]]


def _promtool(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [require_tool("promtool"), *args], capture_output=True, text=True, check=False, cwd=ROOT
    )


def test_promtool_accepts_the_rules() -> None:
    result = _promtool("check", "rules", str(RULES))
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"SUCCESS: {len(_alerts())} rules found" in result.stdout


def test_promtool_unit_tests_pass() -> None:
    result = _promtool("test", "rules", str(UNIT_TESTS))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


def test_every_alert_has_a_firing_and_a_silent_unit_test() -> None:
    firing: set[str] = set()
    silent: set[str] = set()
    for case in load_yaml(UNIT_TESTS)["tests"]:
        for check in case.get("alert_rule_test", []):
            (firing if check.get("exp_alerts") else silent).add(check["alertname"])
    names = {rule["alert"] for rule in _alerts()}
    assert firing == names
    assert silent == names


def test_the_chart_ships_the_same_rules() -> None:
    assert (CHART / "files" / "alerts.yaml").read_bytes() == RULES.read_bytes()


def test_required_alerts_exist() -> None:
    assert {rule["alert"] for rule in _alerts()} >= REQUIRED_ALERTS


def _runbook_anchors() -> set[str]:
    headings = re.findall(r"^## (\S+)$", RUNBOOK.read_text(encoding="utf-8"), re.MULTILINE)
    return {heading.lower() for heading in headings}


@pytest.mark.parametrize("rule", _alerts(), ids=lambda rule: rule["alert"])
def test_alert_follows_the_conventions(rule: dict[str, Any]) -> None:
    assert re.fullmatch(r"BounceProcessor(?:[A-Z][a-z]+)+", rule["alert"])
    assert rule["labels"]["severity"] in {"critical", "warning"}
    assert re.fullmatch(r"\d+[mh]", rule["for"])
    annotations = rule["annotations"]
    assert annotations["summary"].endswith(".")
    assert "{{ $labels.job }}" in annotations["description"]
    anchor = rule["alert"].lower()
    assert annotations["runbook_url"] == f"docs/runbook.md#{anchor}"
    assert anchor in _runbook_anchors(), f"docs/runbook.md has no '## {rule['alert']}' section"
    # One alert per deployment: results keep the namespace and job labels.
    assert "by (namespace, job" in rule["expr"]
    assert 'job="bounce-processor"' in rule["expr"]


@pytest.mark.parametrize("rule", _alerts(), ids=lambda rule: rule["alert"])
def test_alert_uses_only_contract_metrics(rule: dict[str, Any]) -> None:
    names = metric_names(rule["expr"])
    assert names, rule["expr"]
    assert names <= contract_metrics() | STANDARD_METRICS, names - contract_metrics()
