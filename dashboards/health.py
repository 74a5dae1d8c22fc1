"""The "Processor health" dashboard: what the stream processor is doing.

RED for a Kafka stream processor: throughput in and out, dead letters and skipped
lines, consumer lag per partition, batch latency p50/p99, rebalances, restarts and
process resources. Metric names: docs/architecture.md.
"""

from __future__ import annotations

from dashboards.grafana import JSON, SELECTOR, dashboard, layout, row, stat, target, timeseries

UID = "bounce-processor-health"


def _rate(metric: str, by: str = "") -> str:
    grouping = f" by ({by})" if by else ""
    return f"sum{grouping} (rate({metric}{{{SELECTOR}}}[$__rate_interval]))"


def _quantile(quantile: float, metric: str) -> str:
    return (
        f"histogram_quantile({quantile}, sum by (le) "
        f"(rate({metric}_bucket{{{SELECTOR}}}[$__rate_interval])))"
    )


def _stats() -> list[tuple[JSON, int, int]]:
    return [
        (
            stat(
                "Instances up",
                "Scrape targets answering.",
                "short",
                f"sum(up{{{SELECTOR}}})",
                thresholds=[("red", None), ("green", 1)],
            ),
            4,
            4,
        ),
        (
            stat(
                "Ready",
                "Instances reporting ready (in the consumer group).",
                "short",
                f"sum(bounce_processor_ready{{{SELECTOR}}})",
                thresholds=[("red", None), ("green", 1)],
            ),
            4,
            4,
        ),
        (
            stat(
                "Consumed msg/s",
                "Kafka messages consumed per second.",
                "cps",
                _rate("bounce_processor_messages_consumed_total"),
            ),
            4,
            4,
        ),
        (
            stat(
                "Produced records/s",
                "Enriched records produced per second.",
                "cps",
                _rate("bounce_processor_records_produced_total"),
            ),
            4,
            4,
        ),
        (
            stat(
                "Consumer lag",
                "Messages not yet consumed, all partitions.",
                "short",
                f"sum(bounce_processor_consumer_lag_messages{{{SELECTOR}}})",
                thresholds=[("green", None), ("orange", 1000), ("red", 10000)],
            ),
            4,
            4,
        ),
        (
            stat(
                "Since last processed",
                "Seconds since a message was last processed.",
                "s",
                f"time() - max(bounce_processor_last_processed_timestamp_seconds{{{SELECTOR}}})",
                thresholds=[("green", None), ("orange", 900), ("red", 3600)],
            ),
            4,
            4,
        ),
    ]


def _throughput() -> list[tuple[JSON, int, int]]:
    return [
        (
            timeseries(
                "Throughput in / out",
                "Messages consumed per input topic, enriched "
                "records produced and delivery events classified, per second.",
                "cps",
                [
                    target(
                        _rate("bounce_processor_messages_consumed_total", "topic"),
                        "consumed {{topic}}",
                        ref_id="A",
                    ),
                    target(
                        _rate("bounce_processor_records_produced_total"),
                        "records produced",
                        ref_id="B",
                    ),
                    target(
                        _rate("bounce_processor_delivery_events_total"),
                        "delivery events",
                        ref_id="C",
                    ),
                ],
            ),
            12,
            8,
        ),
        (
            timeseries(
                "Consumed msg/s per instance",
                "Work spread across the replicas.",
                "cps",
                [
                    target(
                        _rate("bounce_processor_messages_consumed_total", "instance"),
                        "{{instance}}",
                    )
                ],
            ),
            12,
            8,
        ),
        (
            timeseries(
                "Dead-lettered msg/s by error class",
                "Input sent to the dead-letter topic, by error class. See docs/runbook.md.",
                "cps",
                [
                    target(
                        _rate("bounce_processor_messages_dead_lettered_total", "error_class"),
                        "{{error_class}}",
                    )
                ],
                stacked=True,
            ),
            12,
            8,
        ),
        (
            timeseries(
                "Skipped lines/s",
                "Log lines that are not delivery events (connects, "
                "cleanup, qmgr from= ...): expected, counted, not an error.",
                "cps",
                [target(_rate("bounce_processor_lines_skipped_total"), "skipped")],
            ),
            12,
            8,
        ),
    ]


def _kafka() -> list[tuple[JSON, int, int]]:
    lag = f"sum by (topic, partition) (bounce_processor_consumer_lag_messages{{{SELECTOR}}})"
    rebalances = (
        f"sum by (event) (increase(bounce_processor_rebalances_total{{{SELECTOR}}}"
        "[$__rate_interval]))"
    )
    return [
        (
            timeseries(
                "Consumer lag per partition",
                "Messages behind the end of each input partition.",
                "short",
                [target(lag, "{{topic}} [{{partition}}]")],
            ),
            12,
            8,
        ),
        (
            timeseries(
                "Rebalances",
                "Partition assignments, revocations and losses.",
                "short",
                [target(rebalances, "{{event}}")],
            ),
            12,
            8,
        ),
        (
            timeseries(
                "Processing latency per batch (p50 / p99)",
                "Time to process one batch (parse, classify, produce).",
                "s",
                [
                    target(
                        _quantile(0.5, "bounce_processor_processing_duration_seconds"),
                        "p50",
                        ref_id="A",
                    ),
                    target(
                        _quantile(0.99, "bounce_processor_processing_duration_seconds"),
                        "p99",
                        ref_id="B",
                    ),
                ],
            ),
            12,
            8,
        ),
        (
            timeseries(
                "Batch size (p50 / p99)",
                "Kafka messages per processed batch.",
                "short",
                [
                    target(
                        _quantile(0.5, "bounce_processor_batch_size_messages"), "p50", ref_id="A"
                    ),
                    target(
                        _quantile(0.99, "bounce_processor_batch_size_messages"), "p99", ref_id="B"
                    ),
                ],
            ),
            12,
            8,
        ),
        (
            timeseries(
                "Producer queue",
                "Messages waiting in the producer's local queue.",
                "short",
                [
                    target(
                        f"sum by (instance) (bounce_processor_producer_queue_messages"
                        f"{{{SELECTOR}}})",
                        "{{instance}}",
                    )
                ],
            ),
            12,
            8,
        ),
    ]


def _runtime() -> list[tuple[JSON, int, int]]:
    restarts = (
        f"sum by (instance) (changes(process_start_time_seconds{{{SELECTOR}}}[$__rate_interval]))"
    )
    return [
        (
            timeseries(
                "Restarts",
                "Process restarts (start time changed).",
                "short",
                [target(restarts, "{{instance}}")],
            ),
            12,
            8,
        ),
        (
            timeseries(
                "CPU",
                "CPU time per second (1 = one core).",
                "percentunit",
                [target(_rate("process_cpu_seconds_total", "instance"), "{{instance}}")],
            ),
            6,
            8,
        ),
        (
            timeseries(
                "Resident memory",
                "Resident set size.",
                "bytes",
                [
                    target(
                        f"sum by (instance) (process_resident_memory_bytes{{{SELECTOR}}})",
                        "{{instance}}",
                    )
                ],
            ),
            6,
            8,
        ),
    ]


def build() -> JSON:
    """The whole dashboard as a JSON-ready dict."""
    panels = [
        *_stats(),
        (row("Throughput and errors"), 24, 1),
        *_throughput(),
        (row("Kafka consumer"), 24, 1),
        *_kafka(),
        (row("Process"), 24, 1),
        *_runtime(),
    ]
    return dashboard(
        UID,
        "Bounce Processor / Processor health",
        "Health of the Bounce Processor Kafka stream processor (RED: rate, errors, duration).",
        layout(panels),
    )
