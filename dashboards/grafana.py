"""Small builders for Grafana dashboard JSON (schema version 39).

Each function returns a plain ``dict`` ready for ``json.dumps``; the dashboards in
:mod:`dashboards.overview` and :mod:`dashboards.health` are composed from them.
Conventions (grafonnet ``examples/runtimeDashboard``, Grafana dashboard JSON model):
every panel and query uses the ``${datasource}`` variable, every panel sets a unit,
rates use ``$__rate_interval``, totals over the picked time range use ``$__range``.
"""

from __future__ import annotations

from typing import Any

JSON = dict[str, Any]

#: Data source reference used by every panel and query (the ``datasource`` variable).
DATASOURCE: JSON = {"type": "prometheus", "uid": "${datasource}"}

#: Label matchers every query carries: the dashboard's namespace and job variables.
SELECTOR = 'namespace=~"$namespace", job=~"$job"'

#: Colours of the verdict label values, shared by every verdict panel.
VERDICT_COLOURS = {"hard": "red", "soft": "orange", "success": "green", "unknown": "text"}

SCHEMA_VERSION = 39


def target(expr: str, legend: str = "", *, ref_id: str = "A", instant: bool = False) -> JSON:
    """One Prometheus query of a panel.

    :param expr: PromQL; may use ``$namespace``, ``$job``, ``$__rate_interval``, ``$__range``.
    :param legend: legend template such as ``{{verdict}}``.
    :param instant: True for a single evaluation at the end of the range (tables, bar gauges).
    """
    query: JSON = {
        "refId": ref_id,
        "datasource": DATASOURCE,
        "editorMode": "code",
        "expr": expr,
        "legendFormat": legend or "__auto",
        "range": not instant,
        "instant": instant,
    }
    if instant:
        query["format"] = "table"
    return query


def _panel(kind: str, title: str, description: str, unit: str, targets: list[JSON]) -> JSON:
    return {
        "type": kind,
        "title": title,
        "description": description,
        "datasource": DATASOURCE,
        "fieldConfig": {"defaults": {"unit": unit}, "overrides": []},
        "targets": targets,
    }


def timeseries(
    title: str,
    description: str,
    unit: str,
    targets: list[JSON],
    *,
    stacked: bool = False,
    minimum: float | None = 0,
    colours: dict[str, str] | None = None,
) -> JSON:
    """A time series panel with a table legend (mean, last, max).

    :param colours: fixed colours by series display name, e.g. :data:`VERDICT_COLOURS`.
    """
    panel = _panel("timeseries", title, description, unit, targets)
    defaults = panel["fieldConfig"]["defaults"]
    defaults["custom"] = {
        "drawStyle": "line",
        "lineWidth": 1,
        "fillOpacity": 25 if stacked else 10,
        "showPoints": "never",
        "stacking": {"mode": "normal" if stacked else "none", "group": "A"},
    }
    if minimum is not None:
        defaults["min"] = minimum
    panel["fieldConfig"]["overrides"] = [
        {
            "matcher": {"id": "byName", "options": name},
            "properties": [{"id": "color", "value": {"mode": "fixed", "fixedColor": colour}}],
        }
        for name, colour in (colours or {}).items()
    ]
    panel["options"] = {
        "legend": {
            "showLegend": True,
            "displayMode": "table",
            "placement": "bottom",
            "calcs": ["mean", "lastNotNull", "max"],
        },
        "tooltip": {"mode": "multi", "sort": "desc"},
    }
    return panel


def stat(
    title: str,
    description: str,
    unit: str,
    expr: str,
    *,
    thresholds: list[tuple[str, float | None]] | None = None,
) -> JSON:
    """A single-value stat panel (last value, with a sparkline).

    :param thresholds: ``(colour, from_value)`` steps; the first step starts at ``None``.
    """
    panel = _panel("stat", title, description, unit, [target(expr)])
    steps = thresholds or [("green", None)]
    panel["fieldConfig"]["defaults"]["thresholds"] = {
        "mode": "absolute",
        "steps": [{"color": colour, "value": value} for colour, value in steps],
    }
    panel["options"] = {
        "reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False},
        "colorMode": "value",
        "graphMode": "area",
        "textMode": "auto",
        "justifyMode": "auto",
        "orientation": "auto",
    }
    return panel


def bar_gauge(title: str, description: str, unit: str, expr: str, legend: str) -> JSON:
    """A horizontal bar gauge of one instant query, one bar per series."""
    panel = _panel("bargauge", title, description, unit, [target(expr, legend, instant=True)])
    panel["targets"][0].pop("format")
    panel["options"] = {
        "displayMode": "gradient",
        "orientation": "horizontal",
        "showUnfilled": True,
        "reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False},
    }
    return panel


def code_table(
    title: str, description: str, expr: str, mappings: list[JSON], code_header: str
) -> JSON:
    """A table of an instant query with ``code`` and ``meaning`` labels and a count.

    The query copies the ``code`` label into ``meaning`` (``label_replace``); value
    mappings turn that column into the registry's text, so the meaning stays out of
    the metric labels (docs/architecture.md: no free text in labels).
    """
    panel = _panel("table", title, description, "short", [target(expr, instant=True)])
    panel["transformations"] = [
        {
            "id": "organize",
            "options": {
                "excludeByName": {"Time": True},
                "indexByName": {"code": 0, "meaning": 1, "Value": 2},
            },
        }
    ]
    panel["fieldConfig"]["overrides"] = [
        {
            "matcher": {"id": "byName", "options": "code"},
            "properties": [
                {"id": "displayName", "value": code_header},
                {"id": "custom.width", "value": 110},
            ],
        },
        {
            "matcher": {"id": "byName", "options": "meaning"},
            "properties": [
                {"id": "displayName", "value": "Meaning"},
                {"id": "mappings", "value": mappings},
            ],
        },
        {
            "matcher": {"id": "byName", "options": "Value"},
            "properties": [{"id": "displayName", "value": "Events in range"}],
        },
    ]
    panel["options"] = {
        "showHeader": True,
        "cellHeight": "sm",
        "sortBy": [{"displayName": "Events in range", "desc": True}],
    }
    return panel


def row(title: str) -> JSON:
    """A dashboard row header."""
    return {"type": "row", "title": title, "collapsed": False, "panels": []}


def layout(panels: list[tuple[JSON, int, int]]) -> list[JSON]:
    """Place panels left to right on Grafana's 24-column grid, wrapping lines.

    :param panels: ``(panel, width, height)``; rows are full width and height 1.
    :returns: the panels with ``id`` and ``gridPos`` set.
    """
    placed: list[JSON] = []
    x = y = line_height = 0
    for number, (panel, width, height) in enumerate(panels, start=1):
        if x + width > 24:
            x, y, line_height = 0, y + line_height, 0
        placed.append({"id": number, "gridPos": {"h": height, "w": width, "x": x, "y": y}, **panel})
        x += width
        line_height = max(line_height, height)
    return placed


def _query_variable(name: str, label: str, query: str) -> JSON:
    return {
        "name": name,
        "label": label,
        "type": "query",
        "datasource": DATASOURCE,
        "definition": query,
        "query": {"query": query, "refId": f"{name}-values"},
        "refresh": 2,
        "includeAll": True,
        "allValue": ".*",
        "multi": True,
        "sort": 1,
        "current": {"selected": True, "text": ["All"], "value": ["$__all"]},
        "hide": 0,
        "regex": "",
        "options": [],
    }


def variables() -> list[JSON]:
    """The variable chain datasource -> namespace -> job.

    ``All`` matches ``.*`` so a Prometheus without a ``namespace`` label (docker
    compose, a plain static scrape) still shows data.
    """
    return [
        {
            "name": "datasource",
            "label": "Data source",
            "type": "datasource",
            "query": "prometheus",
            "current": {},
            "hide": 0,
            "refresh": 1,
            "regex": "",
            "options": [],
        },
        _query_variable(
            "namespace", "Namespace", "label_values(bounce_processor_build_info, namespace)"
        ),
        _query_variable(
            "job", "Job", 'label_values(bounce_processor_build_info{namespace=~"$namespace"}, job)'
        ),
    ]


def dashboard(uid: str, title: str, description: str, panels: list[JSON]) -> JSON:
    """A whole dashboard: variables, shared crosshair, links to its sibling dashboards."""
    return {
        "uid": uid,
        "title": title,
        "description": description,
        "tags": ["bounce-processor", "email", "kafka"],
        "editable": True,
        "graphTooltip": 1,
        "timezone": "browser",
        "refresh": "30s",
        "time": {"from": "now-6h", "to": "now"},
        "schemaVersion": SCHEMA_VERSION,
        "version": 1,
        "links": [
            {
                "type": "dashboards",
                "title": "Bounce Processor",
                "tags": ["bounce-processor"],
                "asDropdown": False,
                "includeVars": True,
                "keepTime": True,
            }
        ],
        "annotations": {
            "list": [
                {
                    "builtIn": 1,
                    "datasource": {"type": "grafana", "uid": "-- Grafana --"},
                    "enable": True,
                    "hide": True,
                    "iconColor": "rgba(0, 211, 255, 1)",
                    "name": "Annotations & Alerts",
                    "type": "dashboard",
                }
            ]
        },
        "templating": {"list": variables()},
        "panels": panels,
    }
