"""Hostile messages through the real processor and broker: what comes out, what is logged.

The processor logs in the console format here (what a terminal would show), so a raw
escape sequence or a recipient address in any log line would be visible to the test.
"""

from __future__ import annotations

import re
import tempfile
from collections import Counter

import orjson
import pytest
from confluent_kafka import Producer

from processor.stream.dead_letter import ORIGINAL_VALUE_BYTES_HEADER, TRUNCATED_HEADER
from tests.integration.helpers import (
    Stream,
    committed,
    header,
    produce,
    read_all,
    source,
    wait_until,
)

pytestmark = pytest.mark.broker

LINE = (
    "Nov 29 10:00:01 mx1 postfix/smtp[123]: 4F3C2A1B9D: to=<{to}>, "
    "relay=mx.example.com[192.0.2.10]:25, delay=1.2, delays=0.1/0/0.5/0.6, "
    "dsn=5.1.1, status=bounced (host mx.example.com[192.0.2.10] said: {text})"
)
BIG = 2_500_000


def _hostile() -> list[bytes]:
    escapes = "\x1b[2J\x1b]0;owned\x07\x9b31m"
    values = [
        LINE.format(to="esc@example.org", text="550 5.1.1 " + escapes * 500).encode(),
        LINE.format(to="nul\x00@example.org", text="550 5.1.1 \x00 user unknown").encode(),
        b"\xff\xfe\x00\xc3(" * 1_000,  # invalid UTF-8 and NUL: dead letter
        orjson.dumps(
            {
                "recipients": [f"r{i}@example.org" for i in range(2_000)],
                "status": "bounced",
                "diagnostic": "550 5.1.1 " + escapes,
            }
        ),
        b"[" * 50_000 + b"]" * 50_000,  # deeply nested: dead letter
    ]
    values += [b'{"broken json %d' % i for i in range(40)]  # a burst of dead letters
    return values


def test_hostile_input_is_contained_and_nothing_raw_or_personal_is_logged(
    kafka_broker: str,
) -> None:
    stream = Stream.create(kafka_broker, 1)
    topic, out, dlq, group = stream.input, stream.output, stream.dead_letter, stream.group
    values = _hostile()
    produce(kafka_broker, topic, values)
    big = Producer({"bootstrap.servers": kafka_broker, "message.max.bytes": 3_000_000})
    big.produce(topic, b"B" * BIG, key=b"big")  # over the payload limit and the record limit
    assert big.flush(30) == 0
    total = len(values) + 1
    with tempfile.TemporaryFile() as log:
        proc = stream.start(log, ["--log-format", "console"])
        try:
            wait_until(lambda: committed(kafka_broker, group, topic, 1)[0] == total, "all done")
            dead_lettered = sum(
                value
                for (name, _labels), value in proc.metrics().items()
                if name == "bounce_processor_messages_dead_lettered_total"
            )
            status, exposition = proc.get("/metrics")
        finally:
            assert proc.terminate() == 0, proc.logs()
        logs = proc.logs()
    outputs = [orjson.loads(m.value()) for m in read_all(kafka_broker, out)]
    assert Counter(r["recipient"] for r in outputs)["esc@example.org"] == 1
    assert len([r for r in outputs if r["recipient"].startswith("r")]) == 2_000
    escaped = next(r for r in outputs if r["recipient"] == "esc@example.org")
    assert len(escaped["diagnostic"]) <= 2_000 + len(" [truncated]")
    dead = read_all(kafka_broker, dlq)
    assert sorted(source(m)[1] for m in dead) == [2, *range(4, total)]
    biggest = next(m for m in dead if m.key() == b"big")
    assert header(biggest, "bounce-processor.error.class") == b"payload_too_large"
    assert header(biggest, TRUNCATED_HEADER) == b"value"
    assert header(biggest, ORIGINAL_VALUE_BYTES_HEADER) == str(BIG).encode()
    assert dead_lettered == len(dead)
    assert status == 200 and "bounce_processor_records_produced_total" in exposition
    assert "@" not in exposition and "\x1b" not in exposition  # metrics: no address, no text
    # Logs: nothing raw, no addresses, one line per dead letter only up to the burst.
    assert not re.search(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]", logs), "raw control character logged"
    assert "@example.org" not in logs
    assert logs.count("dead-lettering message") == 10
