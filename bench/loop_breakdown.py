"""Where the stream loop's main-thread time goes, step by step, on real consumed messages.

Usage: ``PYTHONPATH=. python bench/loop_breakdown.py [--lines N] [--runs K]``

Starts the embedded broker, loads N lines of the relay mix (``bench/log_mix.py``),
consumes them into memory once, then measures the main thread's CPU time
(``time.thread_time``, so librdkafka's own threads are not counted) per message for:

- ``Pipeline._process_messages`` itself (everything the loop does between two
  ``consume()`` calls: transform, headers, produce, tallies, positions);
- the same steps added one at a time in a copy of that loop: reading the message's
  coordinates, ``transform``, ``output_headers``, ``produce``, the tallies;
- ``produce`` alone, back to back over precomputed records, with and without headers.

Medians of K runs; the differences between consecutive steps are each step's cost.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Callable

from confluent_kafka import Consumer, Message
from log_mix import relay_log_lines  # bench/ is the script's directory: first on sys.path
from prometheus_client import CollectorRegistry
from stream_throughput import create_topic, load_input

from processor.stream.broker import EmbeddedBroker
from processor.stream.config import KafkaConfig, Settings
from processor.stream.health import HealthState
from processor.stream.kafka_io import Headers, output_headers
from processor.stream.metrics import BatchTally, Metrics
from processor.stream.pipeline import Pipeline
from processor.stream.transform import transform

STEPS = ("coordinates", "+ transform", "+ output_headers", "+ produce", "+ tallies")


def _consume_all(bootstrap: str, topic: str, count: int) -> list[Message]:
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": f"breakdown-{topic}",
            "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
        }
    )
    consumer.subscribe([topic])
    messages: list[Message] = []
    while len(messages) < count:
        messages.extend(m for m in consumer.consume(1000, 1.0) if m.error() is None)
    consumer.close()
    return messages


def _per_message(run: Callable[[], None], pipeline: Pipeline, count: int, runs: int) -> float:
    """Median main-thread CPU microseconds per message of ``run`` (flushed between runs)."""
    samples = []
    for _ in range(runs):
        started = time.thread_time()
        run()
        samples.append((time.thread_time() - started) / count * 1e6)
        pipeline._producer.flush(60)
    return statistics.median(samples)


def _steps_loop(pipeline: Pipeline, out: str, batches: list[list[Message]], step: int) -> None:
    """A copy of the loop's per-message work, up to ``step`` (index into :data:`STEPS`)."""
    produce, policy = pipeline._producer.produce, pipeline._policy
    for batch in batches:
        pending: dict[tuple[str, int], int] = {}
        records: Counter[object] = Counter()
        for msg in batch:
            topic, partition, offset = msg.topic(), msg.partition(), msg.offset()
            ts_type, ts_ms = msg.timestamp()
            value = msg.value()
            if step == 0:
                continue
            result = transform(
                value,
                policy=policy,
                max_payload_bytes=1 << 20,
                reference_time=ts_ms / 1000.0 if ts_type else None,
                max_record_bytes=999_000,
                source_timezone="UTC",
            )
            if step == 1:
                continue
            headers = output_headers(topic, partition, offset, result.schema_version)  # type: ignore[arg-type]
            if step == 2:
                continue
            for key, output in result.outputs:
                produce(out, output, key, headers=headers)
            if step == 3:
                continue
            for labels in result.labels:
                records[labels] += 1
            pending[(topic, partition)] = offset + 1  # type: ignore[index, operator]
        pipeline._producer.poll(0)


def main() -> None:
    """Print the per-message costs (see the module docstring)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lines", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryFile() as broker_log, EmbeddedBroker(log=broker_log) as broker:
        bootstrap = broker.bootstrap_servers
        suffix = uuid.uuid4().hex[:8]
        topic, out, dlq = f"bd-in-{suffix}", f"bd-out-{suffix}", f"bd-dlq-{suffix}"
        for name in (topic, out, dlq):
            create_topic(bootstrap, name, 1)
        load_input(bootstrap, topic, relay_log_lines(args.lines))
        messages = _consume_all(bootstrap, topic, args.lines)
        batches = [messages[i : i + 1000] for i in range(0, len(messages), 1000)]
        settings = Settings(
            input_topics=[topic], output_topic=out, dead_letter_topic=dlq, group_id=f"bd-{suffix}"
        )
        metrics = Metrics(CollectorRegistry(), version="bench", classifier_version="bench")
        pipeline = Pipeline(
            settings, KafkaConfig({"bootstrap.servers": bootstrap}), metrics, HealthState()
        )
        count = len(messages)

        def whole_loop() -> None:
            for batch in batches:
                pipeline._process_messages(batch, BatchTally())
                pipeline._producer.poll(0)

        whole_loop()  # warm up: caches primed, topics' metadata known
        pipeline._producer.flush(60)
        print(f"{count:,} messages (relay mix), main-thread CPU per message, median of {args.runs}")
        print(
            f"  Pipeline._process_messages: {_per_message(whole_loop, pipeline, count, args.runs):6.2f} us"
        )
        for step, name in enumerate(STEPS):
            cost = _per_message(
                lambda step=step: _steps_loop(pipeline, out, batches, step),  # type: ignore[misc]
                pipeline,
                count,
                args.runs,
            )
            print(f"  {name:<28} {cost:6.2f} us")
        records: list[tuple[bytes, bytes | None, Headers]] = []
        for msg in messages:
            result = transform(msg.value(), max_payload_bytes=1 << 20, reference_time=1.796e9)
            headers = output_headers(msg.topic(), msg.partition(), msg.offset(), 1)  # type: ignore[arg-type]
            records.extend((value, key, headers) for key, value in result.outputs)
        for with_headers in (True, False):

            def produce_all(with_headers: bool = with_headers) -> None:
                produce = pipeline._producer.produce
                for i, (value, key, headers) in enumerate(records):
                    if with_headers:
                        produce(out, value, key, headers=headers)
                    else:
                        produce(out, value, key)
                    if i % 1000 == 999:
                        pipeline._producer.poll(0)

            cost = _per_message(produce_all, pipeline, len(records), args.runs)
            label = "with the 5 headers" if with_headers else "without headers"
            print(f"  produce alone, {label:<18} {cost:6.2f} us")


if __name__ == "__main__":
    main()
