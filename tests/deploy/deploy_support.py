"""Shared helpers of the deployment tests: real tools, the rendered chart, the contract.

Tools (promtool, prometheus, docker-compose) and the Python packages that embed real
engines (helm-python-sdk, kubernetes-validate, cloudcoil CRD models, dockerfile) are
required: outside CI a missing one skips the test, under CI (``CI`` set) it fails,
because ``.ci/run`` installs them.
"""

from __future__ import annotations

import importlib
import json
import os
import re
import shutil
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
CHART = ROOT / "helm" / "bounce-processor"
DASHBOARDS = ROOT / "dashboards"
ARCHITECTURE = ROOT / "docs" / "architecture.md"

#: Oldest Kubernetes the chart supports (Chart.yaml kubeVersion) and the newest schema set.
KUBERNETES_VERSIONS = ("1.25.0", "latest")

#: Metrics the dashboards and rules may use besides the processor's own.
STANDARD_METRICS = {
    "up",
    "process_start_time_seconds",
    "process_cpu_seconds_total",
    "process_resident_memory_bytes",
}


def _missing(what: str, hint: str) -> None:
    message = f"{what} is not installed ({hint})"
    if os.environ.get("CI"):
        pytest.fail(f"{message}; .ci/run must install it", pytrace=False)
    pytest.skip(message)


def require_tool(name: str) -> str:
    """Absolute path of a command-line tool, or skip (fail under CI) when absent."""
    path = shutil.which(name)
    if path is None:
        _missing(name, "run .ci/install-prometheus.sh")
        raise AssertionError("unreachable")
    return path


def require_module(name: str) -> ModuleType:
    """Import a test dependency, or skip (fail under CI) when it is not installed."""
    try:
        return importlib.import_module(name)
    except ImportError:
        _missing(f"Python module {name}", "pip install the project's test extra")
        raise AssertionError("unreachable") from None


#: Rendered chart objects by test case (the ``rendered_chart`` fixture).
Rendered = dict[str, list[dict[str, Any]]]

#: Chart test cases: name -> values file under helm/bounce-processor/ci (None: defaults).
CHART_CASES: dict[str, str | None] = {
    "default": None,
    "all-features": "all-features-values.yaml",
    "hpa": "hpa-values.yaml",
}


def chart_values(case: str) -> dict[str, Any] | None:
    """Values of a :data:`CHART_CASES` case."""
    file_name = CHART_CASES[case]
    return ci_values(file_name) if file_name else None


def load_yaml(path: Path) -> Any:
    """Parse one YAML document."""
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def render_chart(
    values: dict[str, Any] | None = None, *, name: str = "bp", namespace: str = "mail"
) -> list[dict[str, Any]]:
    """Render the chart with Helm's engine and return every Kubernetes object.

    Helm validates the values against values.schema.json first.

    :raises helm_python.HelmError: on a schema violation or a template ``fail``.
    """
    helm = require_module("helm_python")
    with helm.Chart.load(str(CHART)) as chart:
        manifests: dict[str, str] = chart.render(values, name=name, namespace=namespace)
    objects: list[dict[str, Any]] = []
    for path, text in sorted(manifests.items()):
        if not path.endswith(".yaml"):
            continue
        objects.extend(doc for doc in yaml.safe_load_all(text) if doc)
    return objects


def ci_values(file_name: str) -> dict[str, Any]:
    """Values of ``helm/bounce-processor/ci/<file_name>``."""
    values: dict[str, Any] = load_yaml(CHART / "ci" / file_name)
    return values


def by_kind(objects: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    """Objects of one kind."""
    return [obj for obj in objects if obj["kind"] == kind]


def one(objects: list[dict[str, Any]], kind: str) -> dict[str, Any]:
    """The single object of a kind."""
    found = by_kind(objects, kind)
    assert len(found) == 1, f"expected one {kind}, got {len(found)}"
    return found[0]


def container_env(deployment: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The processor container's env entries by name."""
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    return {entry["name"]: entry for entry in container.get("env", [])}


def _architecture_column(prefix: str) -> set[str]:
    names = set()
    for line in ARCHITECTURE.read_text(encoding="utf-8").splitlines():
        match = re.match(r"\|\s*`([A-Za-z0-9_*]+)`\s*\|", line)
        if match and match.group(1).startswith(prefix):
            names.add(match.group(1))
    return names


def contract_metrics() -> set[str]:
    """Metric names of the architecture contract (docs/architecture.md)."""
    return _architecture_column("bounce_processor_")


def contract_settings() -> set[str]:
    """Environment variables of the architecture contract (docs/architecture.md)."""
    return _architecture_column("BOUNCE_PROCESSOR_") | _architecture_column("KAFKA_")


_METRIC_TOKEN = re.compile(r"\b(bounce_processor_[a-z_]+|process_[a-z_]+|up)\b(?=\s*[{\[)])")


def metric_names(expr: str) -> set[str]:
    """Metric names a PromQL expression selects (a histogram's ``_bucket`` suffix removed)."""
    return {name.removesuffix("_bucket") for name in _METRIC_TOKEN.findall(expr)}


def grafana_to_promql(expr: str, variables: dict[str, str]) -> str:
    """Expand Grafana's macros and variables the way Grafana does before querying.

    :param variables: values for ``$namespace``, ``$job``, ``$__rate_interval``, ``$__range``.
    """
    for name in sorted(variables, key=len, reverse=True):
        expr = expr.replace(f"${{{name}}}", variables[name]).replace(f"${name}", variables[name])
    return expr


def dashboard_files() -> list[Path]:
    """The dashboard JSON files."""
    return sorted(DASHBOARDS.glob("*.json"), key=lambda path: path.name)


def is_dashboard(path: Path) -> bool:
    """Whether a JSON file in dashboards/ is a Grafana dashboard (not the code meanings)."""
    return path.name != "code-meanings.json"


def dashboard_targets(dashboard: dict[str, Any]) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """``(panel, target)`` for every query of a dashboard."""
    return [(panel, query) for panel in dashboard["panels"] for query in panel.get("targets", [])]


def documented_values() -> list[tuple[str, Any, str]]:
    """``(key path, default, description)`` of every ``# --`` comment in values.yaml.

    The helm-docs convention: a comment starting with ``# --`` documents the key on the
    next non-comment line; continuation lines start with ``#``. Paths are dotted.
    """
    values = load_yaml(CHART / "values.yaml")
    documented: list[tuple[str, Any, str]] = []
    parents: list[tuple[int, str]] = []
    pending: list[str] | None = None
    for line in (CHART / "values.yaml").read_text(encoding="utf-8").splitlines():
        stripped = line.strip()
        indent = len(line) - len(line.lstrip())
        if stripped.startswith("# --"):
            pending = [stripped[4:].strip()]
            continue
        if stripped.startswith("#"):
            if pending is not None and stripped[1:].strip():
                pending.append(stripped[1:].strip())
            continue
        match = re.match(r"([A-Za-z0-9_]+):", stripped)
        if not match or stripped.startswith("-"):
            continue
        parents = [(level, key) for level, key in parents if level < indent]
        path = ".".join([key for _, key in parents] + [match.group(1)])
        parents.append((indent, match.group(1)))
        if pending is not None:
            default: Any = values
            for part in path.split("."):
                default = default[part]
            documented.append((path, default, " ".join(pending)))
            pending = None
    return documented


def value_leaves(values: Any, prefix: str = "") -> list[str]:
    """Dotted paths of every leaf of a values tree (empty maps and lists are leaves)."""
    if isinstance(values, dict) and values:
        leaves: list[str] = []
        for key, child in values.items():
            leaves.extend(value_leaves(child, f"{prefix}.{key}" if prefix else key))
        return leaves
    return [prefix]


def readme_default(default: Any) -> str:
    """How the chart README writes a default value."""
    return json.dumps(default, separators=(",", ":"))


def contract_defaults() -> dict[str, str]:
    """Default value of each setting in docs/architecture.md (empty when it has none)."""
    defaults = {}
    for line in ARCHITECTURE.read_text(encoding="utf-8").splitlines():
        match = re.match(r"\|\s*`([A-Z0-9_]+)`\s*\|\s*(?:`([^`]*)`)?\s*\|", line)
        if match:
            defaults[match.group(1)] = match.group(2) or ""
    return defaults


def grafana_mapped_text(mappings: list[dict[str, Any]], value: str) -> str | None:
    """The text Grafana shows for ``value``: value mappings first, then regex mappings."""
    for mapping in mappings:
        if mapping["type"] == "value" and value in mapping["options"]:
            text: str = mapping["options"][value]["text"]
            return text
    for mapping in mappings:
        if mapping["type"] == "regex" and re.search(mapping["options"]["pattern"], value):
            text = mapping["options"]["result"]["text"]
            return text
    return None


def panel_mappings(panel: dict[str, Any], field: str) -> list[dict[str, Any]]:
    """Value mappings a panel's field override sets for ``field``."""
    for override in panel["fieldConfig"]["overrides"]:
        if override["matcher"]["options"] == field:
            for prop in override["properties"]:
                if prop["id"] == "mappings":
                    mappings: list[dict[str, Any]] = prop["value"]
                    return mappings
    return []
