"""Faults against a real broker: no broker at start, output or dead-letter topic missing,
a full producer queue, a consumer that stalls past its session and comes back.

(A broker paused mid-stream and delivery timeouts: tests/integration/test_delivery.py.)
Each test asserts what was committed and what came out, read back from the topics.
"""

from __future__ import annotations

import signal
import tempfile
from collections import Counter

import orjson
import pytest

from processor.enrich import enrich_payload
from processor.errors import PayloadError
from processor.stream.broker import EmbeddedBroker, free_port
from tests.integration.feeder import Feeder, reap
from tests.integration.helpers import (
    WAIT_SECONDS,
    Stream,
    committed,
    create_topics,
    produce,
    read_all,
    source,
    synthetic_lines,
    wait_until,
)

pytestmark = pytest.mark.broker

PARTITIONS = 2
#: Fail queued records for a missing topic after 2 s instead of librdkafka's 30 s.
MISSING_TOPIC_FAST = ["-X", "producer.topic.metadata.propagation.max.ms=2000"]
EXACTLY_ONCE = ["--guarantee", "exactly-once", "--instance-id", "faults-0"]


def _expected(values: list[bytes]) -> tuple[Counter[str], int]:
    """Event ids expected in the output, and how many inputs must be dead-lettered."""
    ids: Counter[str] = Counter()
    dead = 0
    for value in values:
        try:
            result = enrich_payload(value)
        except PayloadError:
            dead += 1
            continue
        ids.update(r.event_id for r in result.records)
        dead += bool(result.errors)
    return ids, dead


def _event_ids(bootstrap: str, topic: str) -> Counter[str]:
    return Counter(orjson.loads(m.value())["event_id"] for m in read_all(bootstrap, topic))


def _total_committed(stream: Stream) -> int:
    return sum(max(o, 0) for o in stream.committed(PARTITIONS).values())


def test_broker_unavailable_at_start_then_up() -> None:
    port = free_port()
    stream = Stream.named(f"127.0.0.1:{port}")  # no broker there yet
    lines = synthetic_lines(3_000)
    with tempfile.TemporaryFile() as log:
        proc = stream.start(log, ["-X", "topic.metadata.refresh.interval.ms=2000"])
        try:
            wait_until(
                lambda: proc.get("/readyz")[1].startswith("not ok: broker unreachable"),
                "not ready while no broker answers",
            )
            assert proc.get("/healthz") == (200, "ok: ok\n")  # alive: do not restart it
            wait_until(lambda: "Connection refused" in proc.logs(), "the refused connection logged")
            with (
                tempfile.TemporaryFile() as broker_log,
                EmbeddedBroker(log=broker_log, port=port) as broker,
            ):
                bootstrap = broker.bootstrap_servers
                create_topics(
                    bootstrap, stream.input, stream.output, stream.dead_letter, partitions=2
                )
                produce(bootstrap, stream.input, lines)
                wait_until(lambda: _total_committed(stream) == len(lines), "caught up")
                wait_until(lambda: proc.get("/readyz")[0] == 200, "ready once the broker is up")
                assert proc.terminate() == 0, proc.logs()
                got = _event_ids(bootstrap, stream.output)
        finally:
            if proc.process.poll() is None:
                proc.kill()
    assert got == _expected(lines)[0]


@pytest.mark.parametrize("mode", [[], EXACTLY_ONCE], ids=["at-least-once", "exactly-once"])
def test_output_topic_missing_commits_nothing_then_recovers(
    kafka_broker: str, mode: list[str]
) -> None:
    stream = Stream.named(kafka_broker)
    create_topics(
        kafka_broker, stream.input, stream.dead_letter, partitions=PARTITIONS
    )  # no output
    lines = synthetic_lines(2_000)
    produce(kafka_broker, stream.input, lines)
    with tempfile.TemporaryFile() as log:
        proc = stream.start(log, [*MISSING_TOPIC_FAST, *mode])
        try:
            code = proc.process.wait(WAIT_SECONDS)
            logs = proc.logs()
        finally:
            reap(proc)
    assert code == 1, logs
    assert stream.output in logs and "Unknown topic" in logs, logs  # names the topic and why
    assert _total_committed(stream) == 0  # nothing committed
    create_topics(kafka_broker, stream.output, partitions=PARTITIONS)  # the fix
    with tempfile.TemporaryFile() as log:
        proc = stream.start(log, mode)
        try:
            wait_until(lambda: _total_committed(stream) == len(lines), "recovered")
        finally:
            assert proc.terminate() == 0, proc.logs()
    assert _event_ids(kafka_broker, stream.output) == _expected(lines)[0]  # once each


def test_dead_letter_topic_missing_stops_before_the_bad_message_then_recovers(
    kafka_broker: str,
) -> None:
    stream = Stream.named(kafka_broker)
    create_topics(kafka_broker, stream.input, stream.output, partitions=1)  # no dead-letter topic
    good = synthetic_lines(3_000)
    lines = [*good[:1_500], b'{"broken', *good[1_500:]]
    produce(kafka_broker, stream.input, lines)
    with tempfile.TemporaryFile() as log:
        proc = stream.start(log, ["--batch-size", "100", *MISSING_TOPIC_FAST])
        try:
            code = proc.process.wait(WAIT_SECONDS)
            logs = proc.logs()
        finally:
            reap(proc)
    assert code == 1 and stream.dead_letter in logs, logs
    # Nothing at or after the message that could not be dead-lettered is committed.
    assert committed(kafka_broker, stream.group, stream.input, 1)[0] <= 1_500
    create_topics(kafka_broker, stream.dead_letter, partitions=1)
    with tempfile.TemporaryFile() as log:
        proc = stream.start(log, [])
        try:
            wait_until(lambda: _total_committed(stream) == len(lines), "recovered")
        finally:
            assert proc.terminate() == 0, proc.logs()
    dead = read_all(kafka_broker, stream.dead_letter)
    assert [source(m) for m in dead] == [(0, 1_500)]
    assert dead[0].value() == b'{"broken'
    assert set(_event_ids(kafka_broker, stream.output)) == set(_expected(lines)[0])


def test_full_producer_queue_slows_down_and_loses_nothing(kafka_broker: str) -> None:
    stream = Stream.create(kafka_broker, PARTITIONS)
    lines = synthetic_lines(6_000)
    produce(kafka_broker, stream.input, lines)
    tiny_queue = ["-X", "producer.queue.buffering.max.messages=20", "-X", "producer.linger.ms=5"]
    with tempfile.TemporaryFile() as log:
        proc = stream.start(log, tiny_queue)
        try:
            wait_until(lambda: _total_committed(stream) == len(lines), "all through")
        finally:
            assert proc.terminate() == 0, proc.logs()
    assert _event_ids(kafka_broker, stream.output) == _expected(lines)[0]


def test_consumer_stalled_past_its_session_rejoins_without_losing_or_rewinding(
    kafka_broker: str,
) -> None:
    stream = Stream.create(kafka_broker, PARTITIONS)
    feeder = Feeder(kafka_broker, stream.input, synthetic_lines(24_000), per_second=2_000)
    feeder.start()
    with tempfile.TemporaryFile() as log_a, tempfile.TemporaryFile() as log_b:
        stalled = stream.start(log_a, [])
        other = None
        try:
            wait_until(lambda: stalled.consumed(stream.input) >= 1_000, "first instance busy")
            stalled.process.send_signal(signal.SIGSTOP)  # a stop-the-world pause
            at_stall = committed(kafka_broker, stream.group, stream.input, PARTITIONS)
            other = stream.start(log_b, [])
            wait_until(
                lambda: other.get("/readyz")[1] == f"ok: {PARTITIONS} partitions assigned\n",
                "the other instance took every partition",
            )
            stalled.process.send_signal(signal.SIGCONT)
            total = feeder.finish()
            wait_until(
                lambda: (
                    stalled.get("/readyz")[1].startswith("ok: 1 partitions")
                    and other.get("/readyz")[1].startswith("ok: 1 partitions")
                ),
                "the resumed instance rejoined and got a share",
            )
            wait_until(lambda: _total_committed(stream) == total, "all committed")
            assert stalled.terminate() == 0, stalled.logs()
            assert other.terminate() == 0, other.logs()
        finally:
            stalled.process.send_signal(signal.SIGCONT)
            reap(stalled, other)
    assert _total_committed(stream) == total  # no stale commit rewound it
    inputs = {(m.partition(), m.offset()): m.value() for m in read_all(kafka_broker, stream.input)}
    outputs = read_all(kafka_broker, stream.output)
    assert set(Counter(orjson.loads(m.value())["event_id"] for m in outputs)) == set(
        _expected(list(inputs.values()))[0]
    )
    seen: Counter[tuple[int, int]] = Counter()
    for msg in outputs:
        seen[source(msg)] += 1
    for (partition, offset), count in seen.items():
        records = len(enrich_payload(inputs[(partition, offset)]).records)
        if count > records:  # redone: only input that was not committed at the stall
            assert offset >= max(at_stall[partition], 0), (partition, offset)


def test_batch_of_slow_payloads_neither_stalls_nor_evicts_the_consumer(kafka_broker: str) -> None:
    stream = Stream.create(kafka_broker, 1)
    slow = [b"\n".join([b"x%d" % i] * 100_000) for i in range(60)]  # ~0.25 s of work each
    produce(kafka_broker, stream.input, slow)
    settings = [
        "-X",
        "consumer.max.poll.interval.ms=7000",  # the batch budget becomes 7 s / 3
        "-X",
        "consumer.max.partition.fetch.bytes=20000000",  # big batches: many payloads at once
    ]
    with tempfile.TemporaryFile() as log:
        proc = stream.start(log, settings)
        try:
            wait_until(lambda: _total_committed(stream) == len(slow), "all done")
            lost = proc.metric("bounce_processor_rebalances_total", event="lost")
            revoked = proc.metric("bounce_processor_rebalances_total", event="revoke")
            assert proc.terminate() == 0, proc.logs()
        finally:
            reap(proc)
        logs = proc.logs()
    assert "batch over its time budget" in logs
    assert "maximum poll interval" not in logs.lower() and (lost, revoked) == (0, 0), logs
    assert sorted(source(m)[1] for m in read_all(kafka_broker, stream.dead_letter)) == list(
        range(60)
    )
