"""Delivery guarantees against a real broker: kill -9, two instances, SIGTERM, broker pause.

Every assertion is about records actually read back from the topics, compared with the
input and with the group's committed offsets.
"""

from __future__ import annotations

import tempfile
import time
from collections import Counter, defaultdict
from typing import Any

import orjson
import pytest

from processor.enrich import enrich_payload
from processor.stream.broker import EmbeddedBroker
from tests.integration.helpers import (
    Stream,
    produce,
    read_all,
    source,
    synthetic_lines,
    wait_until,
)

pytestmark = pytest.mark.broker

PARTITIONS = 4


def _setup(bootstrap: str, count: int) -> tuple[Stream, list[bytes], dict[bytes, list[str]]]:
    stream = Stream.create(bootstrap, PARTITIONS)
    lines = synthetic_lines(count)
    produce(bootstrap, stream.input, lines)
    expected = {line: [r.event_id for r in enrich_payload(line).records] for line in lines}
    return stream, lines, expected


def _by_source(outputs: list[Any]) -> dict[tuple[int, int], list[str]]:
    grouped: dict[tuple[int, int], list[str]] = defaultdict(list)
    for msg in outputs:
        grouped[source(msg)].append(orjson.loads(msg.value())["event_id"])
    return grouped


def _expected_ids(expected: dict[bytes, list[str]]) -> Counter[str]:
    return Counter(event_id for ids in expected.values() for event_id in ids)


def test_kill_9_then_restart_loses_nothing_and_duplicates_only_uncommitted(
    kafka_broker: str,
) -> None:
    stream, lines, expected = _setup(kafka_broker, 60_000)
    with tempfile.TemporaryFile() as log:
        first = stream.start(log)
        wait_until(lambda: first.consumed(stream.input) >= 5_000, "first instance mid-stream")
        first.kill()
    at_kill = stream.committed(PARTITIONS)
    with tempfile.TemporaryFile() as log:
        second = stream.start(log)
        try:
            wait_until(
                lambda: sum(stream.committed(PARTITIONS).values()) == len(lines),
                "second instance committed everything",
            )
        finally:
            assert second.terminate() == 0, second.logs()
    outputs = read_all(kafka_broker, stream.output)
    got = Counter(orjson.loads(m.value())["event_id"] for m in outputs)
    assert set(got) == set(_expected_ids(expected))  # every input has its output
    duplicated = {e for e, n in got.items() if n > 1}
    for (partition, offset), ids in _by_source(outputs).items():
        if duplicated & set(ids):
            assert offset >= max(at_kill[partition], 0), "a committed input was processed twice"
    assert all(n <= 2 for n in got.values())


def test_two_instances_share_partitions_and_survive_one_killed(kafka_broker: str) -> None:
    stream, lines, expected = _setup(kafka_broker, 40_000)
    with tempfile.TemporaryFile() as log_a, tempfile.TemporaryFile() as log_b:
        a = stream.start(log_a, ["--batch-size", "200"])
        b = stream.start(log_b, ["--batch-size", "200"])
        try:
            wait_until(
                lambda: (
                    a.get("/readyz")[1] == "ok: 2 partitions assigned\n"
                    and b.get("/readyz")[1] == "ok: 2 partitions assigned\n"
                ),
                "partitions shared 2+2",
            )
            a.kill()
            wait_until(
                lambda: b.get("/readyz")[1] == f"ok: {PARTITIONS} partitions assigned\n",
                "survivor owns every partition",
            )
            wait_until(
                lambda: sum(stream.committed(PARTITIONS).values()) == len(lines),
                "survivor committed everything",
                details=lambda: (
                    f"committed: {stream.committed(PARTITIONS)}\n"
                    f"survivor's log:\n{b.logs()}\nkilled instance's log:\n{a.logs()}"
                ),
            )
        finally:
            if a.process.poll() is None:
                a.kill()
            assert b.terminate() == 0, b.logs()
    got = Counter(
        orjson.loads(m.value())["event_id"] for m in read_all(kafka_broker, stream.output)
    )
    assert set(got) == set(_expected_ids(expected))


def test_sigterm_drains_and_commits_everything_produced(kafka_broker: str) -> None:
    stream, _lines, expected = _setup(kafka_broker, 60_000)
    with tempfile.TemporaryFile() as log:
        proc = stream.start(log)
        wait_until(lambda: proc.consumed(stream.input) >= 2_000, "mid-stream")
        assert proc.terminate() == 0, proc.logs()
    offsets = stream.committed(PARTITIONS)
    by_source = _by_source(read_all(kafka_broker, stream.output))
    assert sum(max(o, 0) for o in offsets.values()) >= 2_000
    # Everything produced is covered by the commit ...
    assert all(offset < offsets[partition] for partition, offset in by_source)
    # ... and every committed input has its output, exactly once.
    inputs = _inputs_by_position(kafka_broker, stream.input)
    for (partition, offset), value in inputs.items():
        if offset < offsets[partition]:
            assert sorted(by_source.get((partition, offset), [])) == sorted(expected[value])


def _inputs_by_position(bootstrap: str, topic: str) -> dict[tuple[int, int], bytes]:
    return {(m.partition(), m.offset()): m.value() for m in read_all(bootstrap, topic)}


def test_broker_paused_longer_than_request_timeout_loses_nothing(
    kafka_broker: str, embedded_broker: EmbeddedBroker
) -> None:
    stream, lines, expected = _setup(kafka_broker, 60_000)
    # The pause outlasts the socket and request timeouts (2 s) but not the group session
    # (30 s here): this test is about requests timing out and being retried. A pause past
    # the session timeout is a rebalance (partitions lost, work redone), covered by the
    # kill -9 and two-instance tests.
    timeouts = [
        "-X",
        "socket.timeout.ms=2000",
        "-X",
        "producer.request.timeout.ms=2000",
        "-X",
        "producer.message.timeout.ms=120000",
        "-X",
        "consumer.session.timeout.ms=30000",
    ]
    with tempfile.TemporaryFile() as log:
        proc = stream.start(log, timeouts)
        try:
            wait_until(lambda: proc.consumed(stream.input) >= 1_000, "mid-stream")
            embedded_broker.pause()
            try:
                time.sleep(5)  # longer than socket/request timeouts (2 s)
                wait_until(
                    lambda: proc.get("/readyz")[0] == 503, "not ready while the broker is away", 30
                )
            finally:
                embedded_broker.resume()
            wait_until(
                lambda: sum(stream.committed(PARTITIONS).values()) == len(lines),
                "everything committed after the outage",
            )
            wait_until(lambda: proc.get("/readyz")[0] == 200, "ready again")
            assert proc.process.poll() is None
        finally:
            assert proc.terminate() == 0, proc.logs()
    got = Counter(
        orjson.loads(m.value())["event_id"] for m in read_all(kafka_broker, stream.output)
    )
    assert set(got) == set(_expected_ids(expected))


def test_delivery_failure_stops_the_loop_without_committing_past_it(
    kafka_broker: str, embedded_broker: EmbeddedBroker
) -> None:
    stream, _lines, expected = _setup(kafka_broker, 60_000)
    timeouts = [
        "-X",
        "socket.timeout.ms=2000",
        "-X",
        "producer.message.timeout.ms=3000",
        "-X",
        "producer.request.timeout.ms=2000",
    ]
    with tempfile.TemporaryFile() as log:
        proc = stream.start(log, timeouts)
        wait_until(lambda: proc.consumed(stream.input) >= 1_000, "mid-stream")
        embedded_broker.pause()
        try:
            code = proc.process.wait(60)  # deliveries time out after 3 s: the loop must stop
        finally:
            embedded_broker.resume()
        assert code == 1, proc.logs()
        assert "stream failure" in proc.logs()
    offsets = stream.committed(PARTITIONS)
    by_source = _by_source(read_all(kafka_broker, stream.output))
    for (partition, offset), value in _inputs_by_position(kafka_broker, stream.input).items():
        if offset < offsets[partition]:
            assert sorted(by_source.get((partition, offset), [])) == sorted(expected[value])
