"""Kafka helpers of the live deployment test: topics, producing, reading back."""

from __future__ import annotations

import uuid
from typing import Any

from deploy_support import require_module
from live_stack import wait_until


def create_topics(bootstrap: str, *names: str, partitions: int = 2) -> None:
    """Create ``names`` with ``partitions`` partitions each (replication factor 1)."""
    admin_module = require_module("confluent_kafka.admin")
    admin = admin_module.AdminClient({"bootstrap.servers": bootstrap})
    topics = [admin_module.NewTopic(name, partitions, 1) for name in names]
    for future in admin.create_topics(topics).values():
        future.result(30)


def produce(bootstrap: str, topic: str, values: list[bytes]) -> None:
    """Produce every value and wait for every acknowledgement; fail on a delivery error."""
    kafka = require_module("confluent_kafka")
    errors: list[Any] = []

    def delivered(error: Any, _message: Any) -> None:
        if error is not None:
            errors.append(error)

    producer = kafka.Producer({"bootstrap.servers": bootstrap, "on_delivery": delivered})
    for value in values:
        producer.produce(topic, value)
        producer.poll(0)
    assert producer.flush(60) == 0
    assert errors == []


def read_topic(bootstrap: str, topic: str, expected: int) -> list[bytes]:
    """The first ``expected`` values of ``topic``, read from the start of every partition.

    Polls until that many arrived (no watermark arithmetic: the test broker's watermarks
    are not relied upon); fails after the usual wait.
    """
    kafka = require_module("confluent_kafka")
    consumer = kafka.Consumer(
        {"bootstrap.servers": bootstrap, "group.id": f"live-{uuid.uuid4().hex}"}
    )
    values: list[bytes] = []
    try:
        partitions = consumer.list_topics(topic, timeout=30).topics[topic].partitions
        consumer.assign(
            [kafka.TopicPartition(topic, p, kafka.OFFSET_BEGINNING) for p in partitions]
        )

        def read_more() -> bool:
            message = consumer.poll(0.5)
            if message is not None and not message.error():
                values.append(message.value())
            return len(values) >= expected

        wait_until(read_more, f"{expected} records on {topic}")
        return values
    finally:
        consumer.close()
