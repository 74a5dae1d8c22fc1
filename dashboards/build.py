"""Write (or check) the dashboard JSON files and the Helm chart's copies.

Usage, from the repository root::

    python -m dashboards.build          # regenerate
    python -m dashboards.build --check  # exit 1 when a file is out of date

``--refresh-meanings`` first rewrites the titles in ``dashboards/code-meanings.json``
from the project's registry tables (:mod:`processor.smtp.codes`).

Outputs: ``dashboards/bounce-overview.json``, ``dashboards/processor-health.json``,
and identical copies of those and of ``dashboards/alerts.yaml`` under
``helm/bounce-processor/files/`` (Helm's ``.Files`` cannot read outside the chart).
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from pathlib import Path

from dashboards import health, overview

ROOT = Path(__file__).resolve().parent.parent
DASHBOARDS = ROOT / "dashboards"
CHART_FILES = ROOT / "helm" / "bounce-processor" / "files"


def render_json(document: object) -> str:
    """Stable JSON text: two-space indent, non-ASCII kept, trailing newline."""
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def outputs() -> dict[Path, str]:
    """Every generated file and its expected content."""
    dashboards = {
        "bounce-overview.json": render_json(overview.build(DASHBOARDS / "code-meanings.json")),
        "processor-health.json": render_json(health.build()),
    }
    files: dict[Path, str] = {}
    for name, text in dashboards.items():
        files[DASHBOARDS / name] = text
        files[CHART_FILES / "dashboards" / name] = text
    files[CHART_FILES / "alerts.yaml"] = (DASHBOARDS / "alerts.yaml").read_text(encoding="utf-8")
    return files


def refresh_meanings(meanings_file: Path) -> None:
    """Take every title of ``code-meanings.json`` from :mod:`processor.smtp.codes`.

    Enhanced codes are looked up as ``5.<subject>.<detail>`` (the registry title does
    not depend on the class); codes the registry has no title for keep theirs.
    """
    codes = importlib.import_module("processor.smtp.codes")
    data = json.loads(meanings_file.read_text(encoding="utf-8"))
    for row in data["enhanced_status"]:
        _, subject, detail = row["code"].split(".")
        title = codes.enhanced_status(f"5.{subject}.{detail}").detail_title
        row["title"] = title or row["title"]
    for row in data["reply_code"]:
        row["meaning"] = codes.reply_code(int(row["code"])).meaning or row["meaning"]
    meanings_file.write_text(render_json(data), encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    """Command line entry point; returns the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only report stale files")
    parser.add_argument(
        "--refresh-meanings",
        action="store_true",
        help="take the code meanings from processor.smtp.codes first",
    )
    args = parser.parse_args(argv)
    if args.refresh_meanings:
        refresh_meanings(DASHBOARDS / "code-meanings.json")
    stale = [path for path, text in outputs().items() if _read(path) != text]
    if args.check:
        for path in stale:
            print(f"out of date: {path.relative_to(ROOT)}", file=sys.stderr)
        return 1 if stale else 0
    for path, text in outputs().items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return 0


def _read(path: Path) -> str | None:
    return path.read_text(encoding="utf-8") if path.exists() else None


if __name__ == "__main__":
    sys.exit(main())
