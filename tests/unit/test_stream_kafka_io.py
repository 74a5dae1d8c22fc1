"""Client callbacks: statistics -> readiness and lag; fatal errors and broker loss."""

from __future__ import annotations

import orjson
import pytest
from confluent_kafka import KafkaError
from prometheus_client import CollectorRegistry

from processor.stream.config import KafkaConfig, Settings
from processor.stream.health import HealthState
from processor.stream.kafka_io import ClientEvents, FatalKafkaError, ProduceError, output_headers
from processor.stream.metrics import Metrics
from processor.stream.pipeline import Pipeline


def _events() -> tuple[ClientEvents, HealthState, CollectorRegistry]:
    registry = CollectorRegistry()
    health = HealthState()
    metrics = Metrics(registry, version="v", classifier_version="c")
    return ClientEvents(health, metrics), health, registry


def _stats(state: str, lags: dict[str, int]) -> str:
    # Shape from librdkafka STATISTICS.md: brokers by name, topics -> partitions by id.
    return orjson.dumps(
        {
            "msg_cnt": 17,
            "brokers": {
                "127.0.0.1:9092/bootstrap": {"nodeid": -1, "state": "UP"},
                "127.0.0.1:9092/1": {"nodeid": 1, "state": state},
            },
            "topics": {
                "in": {
                    "partitions": {
                        **{p: {"consumer_lag": lag} for p, lag in lags.items()},
                        "-1": {"consumer_lag": -1},
                    }
                }
            },
        }
    ).decode()


def test_consumer_statistics_set_lag_of_assigned_partitions_only() -> None:
    events, health, registry = _events()
    health.assigned = frozenset({("in", 0), ("in", 1)})
    events.stats_cb("consumer")(_stats("UP", {"0": 12, "1": -1, "2": 99}))
    lag = registry.get_sample_value
    assert lag("bounce_processor_consumer_lag_messages", {"topic": "in", "partition": "0"}) == 12
    assert lag("bounce_processor_consumer_lag_messages", {"topic": "in", "partition": "1"}) is None
    assert lag("bounce_processor_consumer_lag_messages", {"topic": "in", "partition": "2"}) is None
    assert health.reachable == {"consumer": True}


def test_statistics_flip_reachability_and_report_producer_queue() -> None:
    events, health, registry = _events()
    events.stats_cb("producer")(_stats("CONNECT", {}))
    assert health.reachable == {"producer": False}
    assert registry.get_sample_value("bounce_processor_producer_queue_messages") == 17
    events.stats_cb("producer")(_stats("UP", {}))
    assert health.reachable == {"producer": True}


def test_all_brokers_down_makes_the_client_unreachable() -> None:
    events, health, _ = _events()
    events.error_cb("consumer")(KafkaError(KafkaError._ALL_BROKERS_DOWN))
    assert health.reachable == {"consumer": False}
    events.raise_if_failed()  # not fatal


def test_fatal_error_is_latched_and_raised() -> None:
    events, health, _ = _events()
    events.error_cb("producer")(KafkaError(KafkaError._FENCED, "fenced", fatal=True))
    with pytest.raises(FatalKafkaError, match="producer"):
        events.raise_if_failed()
    assert health.liveness() == (False, "failed: FatalKafkaError")


def test_output_headers_carry_source_coordinates() -> None:
    assert output_headers("in", 3, 1234, 1) == [
        ("content-type", b"application/json"),
        ("bounce-processor.schema.version", b"1"),
        ("bounce-processor.source.topic", b"in"),
        ("bounce-processor.source.partition", b"3"),
        ("bounce-processor.source.offset", b"1234"),
    ]


def _exactly_once_pipeline() -> Pipeline:
    """A real exactly-once pipeline whose clients never connect (nothing listens on port 9)."""
    registry = CollectorRegistry()
    settings = Settings(guarantee="exactly-once", instance_id="pod-0", group_id="g")
    kafka = KafkaConfig({"bootstrap.servers": "127.0.0.1:9"})
    metrics = Metrics(registry, version="v", classifier_version="c")
    return Pipeline(settings, kafka, metrics, HealthState())


def test_refused_transactional_produce_names_the_fencing_not_the_state() -> None:
    pipeline = _exactly_once_pipeline()
    error = pipeline._produce_failed(KafkaError(KafkaError._STATE, "Erroneous state"))
    assert isinstance(error, ProduceError)
    assert "fenced by a newer instance with the same transactional.id" in str(error)
    assert str(error).startswith("produce refused: _STATE: Erroneous state")


def test_refused_transactional_produce_reports_the_latched_fatal_error() -> None:
    pipeline = _exactly_once_pipeline()
    fenced = KafkaError(KafkaError._FENCED, "fenced by a newer instance", fatal=True)
    pipeline.events.error_cb("producer")(fenced)
    error = pipeline._produce_failed(KafkaError(KafkaError._STATE, "Erroneous state"))
    assert isinstance(error, FatalKafkaError)
    assert str(error) == "producer: _FENCED: fenced by a newer instance"
