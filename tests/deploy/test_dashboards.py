"""Grafana dashboards: generated files up to date, conventions, PromQL parsed by promtool."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from deploy_support import (
    CHART,
    DASHBOARDS,
    STANDARD_METRICS,
    contract_metrics,
    dashboard_files,
    dashboard_targets,
    grafana_mapped_text,
    grafana_to_promql,
    is_dashboard,
    metric_names,
    panel_mappings,
    require_tool,
)

from dashboards import build

DASHBOARD_FILES = [path for path in dashboard_files() if is_dashboard(path)]
EXAMPLE_VARIABLES = {
    "namespace": "mail",
    "job": "bounce-processor",
    "__rate_interval": "2m",
    "__range": "6h",
}


def _load(path: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return loaded


def _panels(dashboard: dict[str, Any]) -> list[dict[str, Any]]:
    return [panel for panel in dashboard["panels"] if panel["type"] != "row"]


def test_generated_files_are_up_to_date() -> None:
    stale = [str(path) for path, text in build.outputs().items() if path.read_text() != text]
    assert stale == [], "run: python -m dashboards.build"


def test_two_dashboards_with_stable_unique_uids() -> None:
    uids = {path.name: _load(path)["uid"] for path in DASHBOARD_FILES}
    assert uids == {
        "bounce-overview.json": "bounce-processor-overview",
        "processor-health.json": "bounce-processor-health",
    }


def test_the_chart_ships_identical_dashboards() -> None:
    for path in DASHBOARD_FILES:
        assert (CHART / "files" / "dashboards" / path.name).read_bytes() == path.read_bytes()


@pytest.mark.parametrize("path", DASHBOARD_FILES, ids=lambda path: path.stem)
def test_variables_chain_datasource_namespace_job(path: Path) -> None:
    variables = {v["name"]: v for v in _load(path)["templating"]["list"]}
    assert list(variables) == ["datasource", "namespace", "job"]
    assert (variables["datasource"]["type"], variables["datasource"]["query"]) == (
        "datasource",
        "prometheus",
    )
    for name in ("namespace", "job"):
        variable = variables[name]
        assert variable["datasource"] == {"type": "prometheus", "uid": "${datasource}"}
        assert variable["includeAll"] is True and variable["allValue"] == ".*"
    assert variables["namespace"]["definition"].endswith(", namespace)")
    assert '{namespace=~"$namespace"}, job)' in variables["job"]["definition"]


@pytest.mark.parametrize("path", DASHBOARD_FILES, ids=lambda path: path.stem)
def test_panels_use_the_datasource_variable_units_and_grid(path: Path) -> None:
    dashboard = _load(path)
    assert dashboard["graphTooltip"] == 1  # shared crosshair
    ids = [panel["id"] for panel in dashboard["panels"]]
    assert len(ids) == len(set(ids))
    occupied: set[tuple[int, int]] = set()
    for panel in dashboard["panels"]:
        grid = panel["gridPos"]
        assert grid["x"] + grid["w"] <= 24
        cells = {
            (x, y)
            for x in range(grid["x"], grid["x"] + grid["w"])
            for y in range(grid["y"], grid["y"] + grid["h"])
        }
        assert not cells & occupied, f"{panel['title']} overlaps another panel"
        occupied |= cells
    for panel in _panels(dashboard):
        assert panel["datasource"] == {"type": "prometheus", "uid": "${datasource}"}
        assert panel["fieldConfig"]["defaults"]["unit"], panel["title"]
        assert panel["description"], panel["title"]
        assert panel["targets"], panel["title"]
        for query in panel["targets"]:
            assert query["datasource"] == panel["datasource"]


@pytest.mark.parametrize("path", DASHBOARD_FILES, ids=lambda path: path.stem)
def test_queries_follow_the_conventions(path: Path) -> None:
    for panel, query in dashboard_targets(_load(path)):
        expr = query["expr"]
        where = f"{panel['title']}: {expr}"
        # Every range is Grafana's $__rate_interval, or $__range for totals over the range.
        assert set(re.findall(r"\[([^\]]+)\]", expr)) <= {"$__rate_interval", "$__range"}, where
        # Every selector is filtered by the namespace and job variables.
        selectors = re.findall(r"[a-z_]+\{([^}]*)\}", expr)
        assert selectors, where
        for selector in selectors:
            assert selector.startswith('namespace=~"$namespace", job=~"$job"'), where
        names = metric_names(expr)
        assert names and names <= contract_metrics() | STANDARD_METRICS, where
        if "rate(" in expr and not expr.startswith("topk"):
            assert re.search(r"\bsum( by \([a-z_, ]+\))? ?\(", expr), where


def test_dashboards_cover_the_requested_panels() -> None:
    titles = {
        path.name: {panel["title"] for panel in _panels(_load(path))} for path in DASHBOARD_FILES
    }
    assert {
        "Delivery events/s by verdict",
        "Hard-bounce ratio",
        "Top enhanced status codes (bounces)",
        "Top reply codes (bounces)",
        "Bounce reasons over time",
    } <= titles["bounce-overview.json"]
    assert {
        "Throughput in / out",
        "Dead-lettered msg/s by error class",
        "Skipped lines/s",
        "Consumer lag per partition",
        "Processing latency per batch (p50 / p99)",
        "Rebalances",
        "Restarts",
    } <= titles["processor-health.json"]


def test_every_contract_metric_is_on_a_dashboard() -> None:
    used: set[str] = set()
    for path in DASHBOARD_FILES:
        for _, query in dashboard_targets(_load(path)):
            used |= metric_names(query["expr"])
    # build_info feeds the namespace and job variables.
    assert contract_metrics() - used == {"bounce_processor_build_info"}


def test_every_query_is_valid_promql(tmp_path: Path) -> None:
    """promtool parses each expression (as a recording rule) after Grafana's expansion."""
    exprs = [
        grafana_to_promql(query["expr"], EXAMPLE_VARIABLES)
        for path in DASHBOARD_FILES
        for _, query in dashboard_targets(_load(path))
    ]
    rules = [{"record": f"dashboard:query_{n}:check", "expr": e} for n, e in enumerate(exprs)]
    rule_file = tmp_path / "dashboard-queries.yaml"
    rule_file.write_text(yaml.safe_dump({"groups": [{"name": "dashboards", "rules": rules}]}))
    result = subprocess.run(
        [require_tool("promtool"), "check", "rules", str(rule_file)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"SUCCESS: {len(exprs)} rules found" in result.stdout


def _code_table_mappings(title: str) -> list[dict[str, Any]]:
    overview = _load(DASHBOARDS / "bounce-overview.json")
    panel = next(panel for panel in overview["panels"] if panel["title"] == title)
    assert "label_replace(topk(10, sum by (code) (increase(" in panel["targets"][0]["expr"]
    return panel_mappings(panel, "meaning")


def test_enhanced_codes_map_to_their_registry_titles() -> None:
    mappings = _code_table_mappings("Top enhanced status codes (bounces)")
    assert grafana_mapped_text(mappings, "5.1.1") == "Bad destination mailbox address"
    assert grafana_mapped_text(mappings, "4.1.1") == "Bad destination mailbox address"
    assert grafana_mapped_text(mappings, "5.1.10") == "Recipient address has null MX"
    assert grafana_mapped_text(mappings, "4.2.2") == "Mailbox full"
    assert grafana_mapped_text(mappings, "5.7.26") == "Multiple authentication checks failed"
    assert grafana_mapped_text(mappings, "unregistered") == "Not in the IANA registry"
    assert grafana_mapped_text(mappings, "none") == "No enhanced status code"
    assert grafana_mapped_text(mappings, "5.9.99") is None
    patterns = [m["options"]["pattern"] for m in mappings if m["type"] == "regex"]
    assert len(patterns) == len(set(patterns)) == 81


def test_reply_codes_map_to_their_rfc_meanings() -> None:
    mappings = _code_table_mappings("Top reply codes (bounces)")
    text = {
        code: grafana_mapped_text(mappings, code) or "" for code in ("550", "421", "556", "535")
    }
    assert text["550"].startswith("Requested action not taken: mailbox unavailable")
    assert text["421"].startswith("<domain> Service not available")
    assert text["556"].startswith("Domain does not accept mail")
    assert text["535"].startswith("Authentication credentials invalid")
    assert grafana_mapped_text(mappings, "other") == "Not an RFC 5321, 7504 or 4954 reply code"
    assert grafana_mapped_text(mappings, "none") == "No reply code"
    assert grafana_mapped_text(mappings, "599") is None


def test_code_meanings_agree_with_the_project_registry() -> None:
    codes = pytest.importorskip("processor.smtp.codes", reason="registry tables not merged yet")
    meanings = json.loads((DASHBOARDS / "code-meanings.json").read_text(encoding="utf-8"))
    differences = []
    for row in meanings["enhanced_status"]:
        _, subject, detail = row["code"].split(".")
        title = codes.enhanced_status(f"5.{subject}.{detail}").detail_title
        if title != row["title"]:
            differences.append((row["code"], row["title"], title))
    for row in meanings["reply_code"]:
        meaning = codes.reply_code(int(row["code"])).meaning
        if meaning != row["meaning"]:
            differences.append((row["code"], row["meaning"], meaning))
    assert differences == [], "run: python -m dashboards.build --refresh-meanings"
