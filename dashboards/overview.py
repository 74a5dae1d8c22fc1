"""The "Bounce overview" dashboard: what the mail is doing.

Delivery events per second by verdict, hard- and soft-bounce ratios, bounce
reasons over time, and the top enhanced status codes and reply codes with their
registry meanings. Metric names: docs/architecture.md.
"""

from __future__ import annotations

from pathlib import Path

from dashboards.grafana import (
    JSON,
    SELECTOR,
    VERDICT_COLOURS,
    bar_gauge,
    code_table,
    dashboard,
    layout,
    row,
    stat,
    target,
    timeseries,
)
from dashboards.mappings import code_mappings

UID = "bounce-processor-overview"

EVENTS = "bounce_processor_delivery_events_total"
BOUNCES = f'{SELECTOR}, verdict=~"hard|soft"'


def _rate(matchers: str, metric: str = EVENTS) -> str:
    return f"rate({metric}{{{matchers}}}[$__rate_interval])"


def _ratio(verdict: str) -> str:
    # `or vector(0)`: a ratio of 0 rather than no data while no event has that verdict.
    matchers = f'{SELECTOR}, verdict="{verdict}"'
    return f"(sum({_rate(matchers)}) or vector(0)) / sum({_rate(SELECTOR)})"


def _top_codes(metric: str) -> str:
    return (
        # `> 0`: pre-initialised codes that saw no bounce in the range are left out.
        f"label_replace(topk(10, sum by (code) (increase({metric}{{{BOUNCES}}}[$__range])) > 0),"
        ' "meaning", "$1", "code", "(.*)")'
    )


def _stats() -> list[tuple[JSON, int, int]]:
    unknown_share = (
        "(sum(rate(bounce_processor_enhanced_status_total"
        f'{{{BOUNCES}, code=~"none|unregistered"}}[$__rate_interval])) or vector(0))'
        f" / sum({_rate(BOUNCES, 'bounce_processor_enhanced_status_total')})"
    )
    return [
        (
            stat(
                "Delivery events/s",
                "Delivery events classified per second (all verdicts).",
                "cps",
                f"sum({_rate(SELECTOR)})",
            ),
            5,
            4,
        ),
        (
            stat(
                "Hard-bounce ratio",
                "Hard bounces / all delivery events. Alert above 5 %.",
                "percentunit",
                _ratio("hard"),
                thresholds=[("green", None), ("orange", 0.02), ("red", 0.05)],
            ),
            5,
            4,
        ),
        (
            stat(
                "Soft-bounce ratio",
                "Soft bounces (deferrals, temporary and non-address "
                "failures) / all delivery events.",
                "percentunit",
                _ratio("soft"),
                thresholds=[("green", None), ("orange", 0.1), ("red", 0.25)],
            ),
            5,
            4,
        ),
        (
            stat(
                "Hard bounces in range",
                "Hard bounces in the selected time range.",
                "short",
                f'sum(increase({EVENTS}{{{SELECTOR}, verdict="hard"}}[$__range]))',
            ),
            5,
            4,
        ),
        (
            stat(
                "Bounces without a registered code",
                "Share of bounces whose enhanced status code is absent or not in the IANA "
                "registry: a data-quality signal (parser drift, unusual providers).",
                "percentunit",
                unknown_share,
                thresholds=[("green", None), ("orange", 0.2), ("red", 0.5)],
            ),
            4,
            4,
        ),
    ]


def _outcomes() -> list[tuple[JSON, int, int]]:
    return [
        (
            timeseries(
                "Delivery events/s by verdict",
                "Classified delivery events per second, stacked by verdict.",
                "cps",
                [target(f"sum by (verdict) ({_rate(SELECTOR)})", "{{verdict}}")],
                stacked=True,
                colours=VERDICT_COLOURS,
            ),
            12,
            8,
        ),
        (
            timeseries(
                "Hard- and soft-bounce ratio",
                "Share of delivery events with a hard or soft verdict.",
                "percentunit",
                [
                    target(_ratio("hard"), "hard / all", ref_id="A"),
                    target(_ratio("soft"), "soft / all", ref_id="B"),
                ],
                colours={"hard / all": "red", "soft / all": "orange"},
            ),
            12,
            8,
        ),
        (
            timeseries(
                "Delivery events/s by MTA status",
                "The MTA's own outcome (Postfix status=) per second.",
                "cps",
                [target(f"sum by (status) ({_rate(SELECTOR)})", "{{status}}")],
                stacked=True,
            ),
            12,
            8,
        ),
        (
            timeseries(
                "Bounce reasons over time",
                "Hard and soft bounces per second by reason.",
                "cps",
                [target(f"sum by (reason) ({_rate(BOUNCES)})", "{{reason}}")],
                stacked=True,
            ),
            12,
            8,
        ),
    ]


def _codes(meanings_file: Path) -> list[tuple[JSON, int, int]]:
    enhanced_mappings, reply_mappings = code_mappings(meanings_file)
    enhanced = "bounce_processor_enhanced_status_total"
    reply = "bounce_processor_reply_code_total"
    return [
        (
            code_table(
                "Top enhanced status codes (bounces)",
                "Most frequent RFC 3463 enhanced status codes of hard and soft bounces in "
                "the time range, with the IANA registry title.",
                _top_codes(enhanced),
                enhanced_mappings,
                "Enhanced code",
            ),
            12,
            10,
        ),
        (
            code_table(
                "Top reply codes (bounces)",
                "Most frequent RFC 5321 reply codes of hard and soft bounces in the time "
                "range, with their meaning.",
                _top_codes(reply),
                reply_mappings,
                "Reply code",
            ),
            12,
            10,
        ),
        (
            timeseries(
                "Enhanced status codes over time (top 10)",
                "Bounces per second by enhanced status code.",
                "cps",
                [target(f"topk(10, sum by (code) ({_rate(BOUNCES, enhanced)}))", "{{code}}")],
            ),
            12,
            8,
        ),
        (
            bar_gauge(
                "Bounce reasons in range",
                "Hard and soft bounces by reason in the time range.",
                "short",
                f"sort_desc(sum by (reason) (increase({EVENTS}{{{BOUNCES}}}[$__range])) > 0)",
                "{{reason}}",
            ),
            12,
            8,
        ),
    ]


def build(meanings_file: Path) -> JSON:
    """The whole dashboard as a JSON-ready dict.

    :param meanings_file: ``dashboards/code-meanings.json``.
    """
    panels = [
        *_stats(),
        (row("Delivery outcomes"), 24, 1),
        *_outcomes(),
        (row("Status codes"), 24, 1),
        *_codes(meanings_file),
    ]
    return dashboard(
        UID,
        "Bounce Processor / Bounce overview",
        "Email delivery outcomes classified by Bounce Processor: verdicts, reasons, codes.",
        layout(panels),
    )
