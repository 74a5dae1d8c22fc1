"""Wrong TLS or SASL settings fail fast with the settings named; later blips do not."""

from __future__ import annotations

import orjson
import pytest
from confluent_kafka import KafkaError
from prometheus_client import CollectorRegistry

from processor.stream.health import HealthState
from processor.stream.kafka_io import ClientEvents, KafkaSetupError
from processor.stream.metrics import Metrics


def _events() -> ClientEvents:
    metrics = Metrics(CollectorRegistry(), version="v", classifier_version="c")
    return ClientEvents(HealthState(), metrics)


@pytest.mark.parametrize(
    ("code", "reason", "named"),
    [
        (
            KafkaError._SSL,
            "SSL handshake failed: error:0A000086:SSL routines::certificate verify failed",
            "ssl.ca.location (KAFKA_SSL_CA_LOCATION)",
        ),
        (
            KafkaError._AUTHENTICATION,
            "SASL authentication error: SASL SCRAM authentication failed",
            "sasl.password (KAFKA_SASL_MECHANISM, KAFKA_SASL_USERNAME, KAFKA_SASL_PASSWORD)",
        ),
    ],
)
def test_setup_error_before_any_connection_is_latched_naming_the_settings(
    code: int, reason: str, named: str
) -> None:
    events = _events()
    events.error_cb("consumer")(KafkaError(code, reason))
    with pytest.raises(KafkaSetupError) as caught:
        events.raise_if_failed()
    message = str(caught.value)
    assert named in message and reason in message and message.startswith("consumer: ")


def test_the_same_error_after_a_connection_is_only_logged() -> None:
    events = _events()
    stats = {"brokers": {"b/1": {"nodeid": 1, "state": "UP"}}, "msg_cnt": 0}
    events.stats_cb("producer")(orjson.dumps(stats).decode())
    events.error_cb("producer")(KafkaError(KafkaError._SSL, "connection reset during handshake"))
    events.raise_if_failed()  # not latched: librdkafka reconnects
    assert events.failure is None
