"""End-to-end against a real broker: enrichment, dead letters, metrics per code."""

from __future__ import annotations

import tempfile
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import orjson
import pytest

from processor.enrich import enrich_payload
from processor.errors import InvalidJSONError
from tests.integration.helpers import (
    Processor,
    Stream,
    committed,
    header,
    produce,
    read_all,
    sample_lines,
    source,
    wait_until,
)

pytestmark = pytest.mark.broker

BAD_JSON = b'{"message": "Mar  3 10:00:00 mx1 postfix/smtp[1]: ABC: to=<x@example.com>'
ORIGINAL_HEADERS = [("trace-id", b"t-123"), ("source", b"\x00binary\xff")]


@dataclass
class Run:
    """One processor run over the sample log plus a few bad messages."""

    bootstrap: str
    inputs: list[bytes]
    outputs: list[Any]
    dead: list[Any]
    metrics: dict[tuple[str, tuple[tuple[str, str], ...]], float]
    group: str
    topic: str


def _expected_records(value: bytes) -> list[Any]:
    try:
        return enrich_payload(value).records
    except InvalidJSONError:
        return []


@pytest.fixture(scope="module")
def run(kafka_broker: str) -> Iterator[Run]:
    stream = Stream.create(kafka_broker, 2)
    topic, out, dlq, group = stream.input, stream.output, stream.dead_letter, stream.group
    inputs = sample_lines()
    produce(kafka_broker, topic, inputs, partition=0)
    # Dead-letter candidates on partition 1, each with a key and headers to preserve.
    produce(kafka_broker, topic, [BAD_JSON], key=b"k-bad", headers=ORIGINAL_HEADERS, partition=1)
    produce(kafka_broker, topic, [b"x" * 5000], key=b"k-big", headers=ORIGINAL_HEADERS, partition=1)
    produce(kafka_broker, topic, [inputs[5]], partition=1)  # processing goes on after bad input
    total = len(inputs) + 3
    with tempfile.TemporaryFile() as log:
        proc = stream.start(log, ["--max-payload-bytes", "4096"])
        try:
            wait_until(lambda: proc.consumed(topic) == total, "all input consumed")
            wait_until(
                lambda: committed(kafka_broker, group, topic, 2) == {0: len(inputs), 1: 3},
                "offsets committed",
            )
            metrics = proc.metrics()
        finally:
            assert proc.terminate() == 0, proc.logs()
    yield Run(
        kafka_broker,
        inputs,
        read_all(kafka_broker, out),
        read_all(kafka_broker, dlq),
        metrics,
        group,
        topic,
    )


def test_every_delivery_line_is_enriched_once_with_key_and_headers(run: Run) -> None:
    expected = Counter()
    for value in run.inputs:
        expected.update(r.event_id for r in _expected_records(value))
    expected.update(r.event_id for r in _expected_records(run.inputs[5]))
    got = Counter(orjson.loads(m.value())["event_id"] for m in run.outputs)
    assert got == expected
    assert len(run.outputs) >= 40
    for msg in run.outputs:
        record = orjson.loads(msg.value())
        assert msg.key() == (record["recipient"] or "").lower().encode() or (
            record["recipient"] is None and msg.key() is None
        )
        assert header(msg, "content-type") == b"application/json"
        assert (
            header(msg, "bounce-processor.schema.version") == str(record["schema_version"]).encode()
        )
        assert header(msg, "bounce-processor.source.topic") == run.topic.encode()
        partition, offset = source(msg)
        value = run.inputs[offset] if partition == 0 else run.inputs[5]
        assert record["event_id"] in {r.event_id for r in _expected_records(value)}


def test_known_lines_get_known_verdicts(run: Run) -> None:
    by_recipient = {
        orjson.loads(m.value())["recipient"]: orjson.loads(m.value()) for m in run.outputs
    }
    assert by_recipient["no.such.user@example.org"]["verdict"] == "hard"
    assert by_recipient["no.such.user@example.org"]["enhanced_status"]["code"] == "5.1.1"
    assert by_recipient["Alice.Martin@example.org"]["verdict"] == "success"
    assert by_recipient["erin@example.org"]["verdict"] == "soft"
    alice = next(
        m for m in run.outputs if orjson.loads(m.value())["recipient"] == "Alice.Martin@example.org"
    )
    assert alice.key() == b"alice.martin@example.org"


def test_unprocessable_input_is_dead_lettered_with_original_bytes(run: Run) -> None:
    bad_in_sample = [v for v in run.inputs if v.startswith(b"{") and not _parses(v)]
    assert len(bad_in_sample) == 1
    by_value = {m.value(): m for m in run.dead}
    assert set(by_value) == {BAD_JSON, b"x" * 5000, bad_in_sample[0]}
    for value, error_class, offset in (
        (BAD_JSON, b"invalid_json", 0),
        (b"x" * 5000, b"payload_too_large", 1),
    ):
        msg = by_value[value]
        assert msg.key() == (b"k-bad" if offset == 0 else b"k-big")
        assert msg.headers()[:2] == ORIGINAL_HEADERS
        assert header(msg, "bounce-processor.error.class") == error_class
        assert header(msg, "bounce-processor.source.topic") == run.topic.encode()
        assert source(msg) == (1, offset)
        message = header(msg, "bounce-processor.error.message") or b""
        assert 0 < len(message) <= 512 and all(b >= 0x20 for b in message)
        assert header(msg, "bounce-processor.processor.version") is not None
    assert (
        run.metrics[
            ("bounce_processor_messages_dead_lettered_total", (("error_class", "invalid_json"),))
        ]
        == 2
    )
    assert (
        run.metrics[
            (
                "bounce_processor_messages_dead_lettered_total",
                (("error_class", "payload_too_large"),),
            )
        ]
        == 1
    )


def _parses(value: bytes) -> bool:
    try:
        orjson.loads(value)
    except orjson.JSONDecodeError:
        return False
    return True


def test_metrics_count_exactly_what_was_produced(run: Run) -> None:
    records = [orjson.loads(m.value()) for m in run.outputs]

    def enhanced_label(r: dict[str, Any]) -> str:
        status = r["enhanced_status"]
        return (
            "none"
            if status is None
            else (status["code"] if status["registered"] else "unregistered")
        )

    def reply_label(r: dict[str, Any]) -> str:
        reply = r["reply_code"]
        return "none" if reply is None else (str(reply["code"]) if reply["registered"] else "other")

    def series(name: str, labels: tuple[str, ...]) -> Counter[tuple[str, ...]]:
        return Counter(
            {
                tuple(dict(lbl)[k] for k in labels): v
                for (n, lbl), v in run.metrics.items()
                if n == name and v > 0
            }
        )

    assert series("bounce_processor_enhanced_status_total", ("code", "verdict")) == Counter(
        (enhanced_label(r), r["verdict"]) for r in records
    )
    assert series("bounce_processor_reply_code_total", ("code", "verdict")) == Counter(
        (reply_label(r), r["verdict"]) for r in records
    )
    assert series(
        "bounce_processor_delivery_events_total", ("status", "verdict", "reason")
    ) == Counter((r["delivery_status"], r["verdict"], r["reason"]) for r in records)
    assert run.metrics[("bounce_processor_records_produced_total", ())] == len(records)
    assert (
        run.metrics[("bounce_processor_messages_consumed_total", (("topic", run.topic),))]
        == len(run.inputs) + 3
    )
    skipped = sum(
        enrich_payload(v).skipped for v in run.inputs if _parses(v) or not v.startswith(b"{")
    )
    assert (
        run.metrics[("bounce_processor_lines_skipped_total", ())]
        == skipped + enrich_payload(run.inputs[5]).skipped
    )


def test_readiness_and_liveness_routes(kafka_broker: str) -> None:
    stream = Stream.create(kafka_broker, 1)
    with tempfile.TemporaryFile() as log:
        proc: Processor = stream.start(log)
        try:
            wait_until(
                lambda: proc.get("/readyz") == (200, "ok: 1 partitions assigned\n"), "assigned"
            )
            assert proc.get("/healthz") == (200, "ok: ok\n")
            assert proc.get("/nope")[0] == 404
            assert proc.metric("bounce_processor_ready") == 1.0
        finally:
            assert proc.terminate() == 0, proc.logs()
