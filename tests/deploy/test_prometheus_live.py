"""Dashboards and alert rules against live data: a real Prometheus scraping a real processor.

The sample Postfix log (plus broken JSON payloads) goes through the real broker into
``bounce-processor run``; Prometheus scrapes it every second. Every PromQL expression of
both dashboards and of the alert rules is then evaluated through Prometheus's HTTP API:
all must parse and evaluate, and the Bounce overview panels must return exactly the label
values and proportions found in the enriched records on the output topic.

The log is sent twice. Every series therefore exists before the second pass, and a
window that starts between the passes sees exactly the second pass: ratios of rates over
it equal ratios of record counts.
"""

from __future__ import annotations

import math
from collections import Counter
from typing import Any

import pytest
from deploy_support import (
    DASHBOARDS,
    dashboard_targets,
    grafana_mapped_text,
    grafana_to_promql,
    load_yaml,
    panel_mappings,
)
from live_run import SELECT, Live
from live_stack import (
    JOB,
    NAMESPACE,
    wait_until,
)

pytestmark = [pytest.mark.broker, pytest.mark.slow]


# --- the oracle: what the enriched records say -------------------------------------------


def _bounces(live: Live) -> list[dict[str, Any]]:
    return [r for r in live.records if r["verdict"] in ("hard", "soft")]


def _enhanced_label(record: dict[str, Any]) -> str:
    """Metric label of a record's enhanced status code (docs/architecture.md)."""
    status = record["enhanced_status"]
    if status is None:
        return "none"
    return str(status["code"]) if status["registered"] else "unregistered"


def _reply_label(record: dict[str, Any]) -> str:
    """Metric label of a record's reply code (docs/architecture.md)."""
    reply = record["reply_code"]
    if reply is None:
        return "none"
    return str(reply["code"]) if reply["registered"] else "other"


def _by(records: list[dict[str, Any]], key: Any) -> Counter[str]:
    return Counter(key(r) if callable(key) else r[key] for r in records)


# --- helpers over query results -----------------------------------------------------------


def _dashboard(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = load_yaml(DASHBOARDS / name)
    return loaded


def _evaluate(live: Live, expr: str) -> list[dict[str, Any]]:
    return live.prometheus.query(grafana_to_promql(expr, live.variables()))


def _positive(result: list[dict[str, Any]], label: str) -> dict[str, float]:
    return {
        sample["metric"].get(label, ""): float(sample["value"][1])
        for sample in result
        if float(sample["value"][1]) > 0
    }


def _single(result: list[dict[str, Any]]) -> float:
    assert len(result) == 1, result
    return float(result[0]["value"][1])


def _assert_proportional(values: dict[str, float], counts: Counter[str]) -> None:
    """Same keys, and every value is the same multiple of its count (one window)."""
    assert set(values) == {key for key, count in counts.items() if count > 0}
    factors = [values[key] / counts[key] for key in values]
    assert factors == pytest.approx([factors[0]] * len(factors), rel=1e-6)


# --- tests --------------------------------------------------------------------------------


def test_every_dashboard_and_alert_expression_evaluates(live: Live) -> None:
    failures = []
    expressions = [
        (path, panel["title"], query["expr"])
        for path in ("bounce-overview.json", "processor-health.json")
        for panel, query in dashboard_targets(_dashboard(path))
    ]
    expressions += [
        ("alerts.yaml", rule["alert"], rule["expr"])
        for group in load_yaml(DASHBOARDS / "alerts.yaml")["groups"]
        for rule in group["rules"]
    ]
    for source, title, expr in expressions:
        try:
            _evaluate(live, expr)
        except AssertionError as error:
            failures.append(f"{source} / {title}: {error}")
    assert failures == []
    assert len(expressions) > 40


def test_variable_queries_find_the_scraped_namespace_and_job(live: Live) -> None:
    namespaces = live.prometheus.api(
        "label/namespace/values", **{"match[]": "bounce_processor_build_info"}
    )
    jobs = live.prometheus.api(
        "label/job/values",
        **{"match[]": f'bounce_processor_build_info{{namespace=~"{NAMESPACE}"}}'},
    )
    assert namespaces == [NAMESPACE]
    assert jobs == [JOB]


def test_every_bounce_overview_panel_returns_data(live: Live) -> None:
    for panel, query in dashboard_targets(_dashboard("bounce-overview.json")):
        assert _evaluate(live, query["expr"]), f"{panel['title']} is empty"


def _overview_panel(title: str) -> dict[str, Any]:
    return next(p for p in _dashboard("bounce-overview.json")["panels"] if p["title"] == title)


def _overview(live: Live, title: str, ref_id: str = "A") -> list[dict[str, Any]]:
    panel = _overview_panel(title)
    query = next(q for q in panel["targets"] if q["refId"] == ref_id)
    return _evaluate(live, query["expr"])


def test_verdict_status_and_reason_panels_match_the_records(live: Live) -> None:
    verdicts = _by(live.records, "verdict")
    assert {"hard", "soft", "success"} <= set(verdicts)
    _assert_proportional(
        _positive(_overview(live, "Delivery events/s by verdict"), "verdict"), verdicts
    )
    _assert_proportional(
        _positive(_overview(live, "Delivery events/s by MTA status"), "status"),
        _by(live.records, "delivery_status"),
    )
    reasons = _by(_bounces(live), "reason")
    _assert_proportional(_positive(_overview(live, "Bounce reasons over time"), "reason"), reasons)
    _assert_proportional(_positive(_overview(live, "Bounce reasons in range"), "reason"), reasons)
    assert _single(_overview(live, "Delivery events/s")) > 0


def test_ratio_panels_equal_the_ratios_of_the_records(live: Live) -> None:
    verdicts = _by(live.records, "verdict")
    total = sum(verdicts.values())
    hard, soft = verdicts["hard"] / total, verdicts["soft"] / total
    assert _single(_overview(live, "Hard-bounce ratio")) == pytest.approx(hard, rel=1e-6)
    assert _single(_overview(live, "Soft-bounce ratio")) == pytest.approx(soft, rel=1e-6)
    ratio_series = "Hard- and soft-bounce ratio"
    assert _single(_overview(live, ratio_series, "A")) == pytest.approx(hard, rel=1e-6)
    assert _single(_overview(live, ratio_series, "B")) == pytest.approx(soft, rel=1e-6)
    bounces = _bounces(live)
    unknown = sum(1 for r in bounces if _enhanced_label(r) in ("none", "unregistered"))
    share = _single(_overview(live, "Bounces without a registered code"))
    assert share == pytest.approx(unknown / len(bounces), rel=1e-6, abs=1e-12)
    # increase() extrapolates to the window's edges, so the count is at least the pass.
    assert _single(_overview(live, "Hard bounces in range")) >= verdicts["hard"]


@pytest.mark.parametrize(
    ("title", "label_of"),
    [
        ("Top enhanced status codes (bounces)", _enhanced_label),
        ("Top reply codes (bounces)", _reply_label),
    ],
)
def test_top_code_tables_show_the_most_frequent_codes_with_meanings(
    live: Live, title: str, label_of: Any
) -> None:
    counts = _by(_bounces(live), label_of)
    result = _overview(live, title)
    shown = _positive(result, "code")
    assert len(shown) == len(result) == min(10, len(counts))
    hidden = [count for code, count in counts.items() if code not in shown]
    assert min(counts[code] for code in shown) >= max(hidden, default=0)
    _assert_proportional(shown, Counter({code: counts[code] for code in shown}))
    mappings = panel_mappings(_overview_panel(title), "meaning")
    for sample in result:
        assert sample["metric"]["meaning"] == sample["metric"]["code"]
        assert grafana_mapped_text(mappings, sample["metric"]["code"]), sample["metric"]
    if "enhanced" in title:
        assert "5.1.1" in shown
    else:
        assert "550" in shown


def test_code_time_series_show_only_codes_of_the_records(live: Live) -> None:
    result = _overview(live, "Enhanced status codes over time (top 10)")
    shown = _positive(result, "code")
    counts = _by(_bounces(live), _enhanced_label)
    assert shown and set(shown) <= set(counts)
    _assert_proportional(shown, Counter({code: counts[code] for code in shown}))


def _health(live: Live, title: str, ref_id: str = "A") -> list[dict[str, Any]]:
    panel = next(p for p in _dashboard("processor-health.json")["panels"] if p["title"] == title)
    query = next(q for q in panel["targets"] if q["refId"] == ref_id)
    return _evaluate(live, query["expr"])


def test_processor_health_panels_show_the_run(live: Live) -> None:
    assert _single(_health(live, "Instances up")) == 1
    assert _single(_health(live, "Ready")) == 1
    assert _single(_health(live, "Consumed msg/s")) > 0
    assert _single(_health(live, "Produced records/s")) > 0
    assert _positive(_health(live, "Throughput in / out"), "topic") == {
        live.input_topic: pytest.approx(_single(_health(live, "Consumed msg/s")))
    }
    assert _single(_health(live, "Throughput in / out", "B")) > 0
    dead = _positive(_health(live, "Dead-lettered msg/s by error class"), "error_class")
    assert len(dead) == 1 and next(iter(dead)) not in ("", "none")
    assert _single(_health(live, "Skipped lines/s")) > 0
    lag = _health(live, "Consumer lag per partition")
    assert {(s["metric"]["topic"], s["metric"]["partition"]) for s in lag} == {
        (live.input_topic, "0"),
        (live.input_topic, "1"),
    }
    for ref_id in ("A", "B"):
        latency = _single(_health(live, "Processing latency per batch (p50 / p99)", ref_id))
        assert 0 < latency < math.inf
        batch = _single(_health(live, "Batch size (p50 / p99)", ref_id))
        assert 1 <= batch < math.inf
    assert {s["metric"]["event"] for s in _health(live, "Rebalances")} >= {"assign"}
    assert _single(_health(live, "Restarts")) == 0
    assert _single(_health(live, "Resident memory")) > 0
    assert 0 <= _single(_health(live, "Since last processed")) < 600


def test_alert_rules_are_evaluated_without_errors_and_quiet(live: Live) -> None:
    def evaluated() -> list[dict[str, Any]]:
        groups = live.prometheus.api("rules", type="alert")["groups"]
        rules = [rule for group in groups for rule in group["rules"]]
        return rules if all(r["lastEvaluation"] > "2000" for r in rules) else []

    rules = wait_until(evaluated, "every rule evaluated")
    names = {
        r["alert"] for g in load_yaml(DASHBOARDS / "alerts.yaml")["groups"] for r in g["rules"]
    }
    assert {rule["name"] for rule in rules} == names
    for rule in rules:
        assert (rule["health"], rule.get("lastError", "")) == ("ok", ""), rule
    states = {rule["name"]: rule["state"] for rule in rules}
    for quiet in (
        "BounceProcessorDown",
        "BounceProcessorNotReady",
        "BounceProcessorStalled",
        "BounceProcessorNoEvents",
    ):
        assert states[quiet] == "inactive", states


def test_sigterm_drains_and_the_down_alert_condition_appears(live: Live) -> None:
    """Last test of the module: it stops the processor."""
    assert live.processor.terminate() == 0, live.processor.logs()[-3000:]
    wait_until(
        lambda: live.prometheus.value(f"up{{{SELECT}}}") == 0.0, "Prometheus sees the target down"
    )
    rule = next(
        r
        for g in load_yaml(DASHBOARDS / "alerts.yaml")["groups"]
        for r in g["rules"]
        if r["alert"] == "BounceProcessorDown"
    )
    result = live.prometheus.query(rule["expr"])
    assert [sample["metric"] for sample in result] == [{"namespace": NAMESPACE, "job": JOB}]
