"""Metrics: names, pre-initialised bounded labels, per-batch aggregation."""

from __future__ import annotations

from collections import Counter

from prometheus_client import CollectorRegistry

from processor.stream.metrics import BatchTally, Metrics


def _metrics() -> tuple[Metrics, CollectorRegistry]:
    registry = CollectorRegistry()
    return Metrics(registry, version="1.2.3", classifier_version="c7"), registry


def test_collapsed_code_series_exist_at_zero_before_any_traffic() -> None:
    _, registry = _metrics()
    get = registry.get_sample_value
    # Registered codes get their series when first seen (cardinality stays small) ...
    assert (
        get("bounce_processor_enhanced_status_total", {"code": "5.1.1", "verdict": "hard"}) is None
    )
    assert get("bounce_processor_reply_code_total", {"code": "550", "verdict": "soft"}) is None
    # ... the collapsed buckets exist from the start.
    assert (
        get("bounce_processor_enhanced_status_total", {"code": "unregistered", "verdict": "soft"})
        == 0
    )
    assert get("bounce_processor_enhanced_status_total", {"code": "none", "verdict": "hard"}) == 0
    assert get("bounce_processor_reply_code_total", {"code": "other", "verdict": "hard"}) == 0
    assert get("bounce_processor_rebalances_total", {"event": "lost"}) == 0
    assert get("bounce_processor_build_info", {"version": "1.2.3", "classifier_version": "c7"}) == 1


def test_batch_counts_are_applied_once_per_label_set() -> None:
    metrics, registry = _metrics()
    tally = BatchTally(
        consumed=Counter({"in": 5}),
        produced=4,
        skipped=2,
        dead_lettered=Counter({"invalid_json": 1}),
        records=Counter(
            {
                ("bounced", "hard", "user_unknown", "5.1.1", "550"): 2,
                ("deferred", "soft", "greylisted", "4.7.1", "450"): 1,
                ("bounced", "soft", "blocked", "unregistered", "other"): 1,
            }
        ),
    )
    metrics.record_batch(tally, seconds=0.002, messages=5, now=1_700_000_000.0)
    metrics.record_batch(tally, seconds=0.004, messages=5, now=1_700_000_001.0)
    get = registry.get_sample_value
    assert get("bounce_processor_messages_consumed_total", {"topic": "in"}) == 10
    assert get("bounce_processor_records_produced_total") == 8
    assert get("bounce_processor_lines_skipped_total") == 4
    assert (
        get("bounce_processor_messages_dead_lettered_total", {"error_class": "invalid_json"}) == 2
    )
    assert get("bounce_processor_enhanced_status_total", {"code": "5.1.1", "verdict": "hard"}) == 4
    assert (
        get("bounce_processor_enhanced_status_total", {"code": "unregistered", "verdict": "soft"})
        == 2
    )
    assert get("bounce_processor_reply_code_total", {"code": "550", "verdict": "hard"}) == 4
    assert (
        get(
            "bounce_processor_delivery_events_total",
            {"status": "deferred", "verdict": "soft", "reason": "greylisted"},
        )
        == 2
    )
    assert get("bounce_processor_processing_duration_seconds_count") == 2
    assert get("bounce_processor_processing_duration_seconds_sum") == 0.006
    assert get("bounce_processor_batch_size_messages_sum") == 10
    assert get("bounce_processor_last_processed_timestamp_seconds") == 1_700_000_001.0


def test_lag_series_follow_assignment() -> None:
    metrics, registry = _metrics()
    metrics.set_lag("in", 3, 42)
    assert (
        registry.get_sample_value(
            "bounce_processor_consumer_lag_messages", {"topic": "in", "partition": "3"}
        )
        == 42
    )
    metrics.forget_partitions([("in", 3), ("in", 9)])
    assert (
        registry.get_sample_value(
            "bounce_processor_consumer_lag_messages", {"topic": "in", "partition": "3"}
        )
        is None
    )


def test_no_label_value_is_free_text() -> None:
    _, registry = _metrics()
    allowed_labels = {
        "code",
        "verdict",
        "status",
        "reason",
        "topic",
        "partition",
        "event",
        "error_class",
        "version",
        "classifier_version",
        "le",
    }
    for family in registry.collect():
        assert family.name.startswith("bounce_processor_")
        for sample in family.samples:
            assert set(sample.labels) <= allowed_labels
