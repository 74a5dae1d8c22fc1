"""Soak: `bounce-processor run` at a fixed input rate for a bounded time, on a local broker.

Publishes realistic Postfix lines (1% of them broken, for the dead-letter path) at
``--rate`` messages per second for ``--minutes``, while ``python -m processor run`` (its
shipped defaults, ``--guarantee`` as given) processes them. Every ``--interval`` seconds
it prints the messages produced and processed, the throughput, the end-to-end latency
p50/p99 and the processor's resident memory (RSS). At the end: the totals, latency over
the whole run, RSS at start, peak and end, and RSS growth over the second half.

End-to-end latency of a record = its output timestamp (set when the processor produces
it) minus its input message's timestamp (set when this script produced it); both are
Kafka CreateTime on one machine clock. "Visible" latency is when this script's
``read_committed`` consumer received it: in exactly-once mode that includes the wait for
the transaction to commit.

    PYTHONPATH=. python bench/soak.py                        # 10 minutes at 2,000 msg/s
    PYTHONPATH=. python bench/soak.py --minutes 2 --guarantee exactly-once
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
from array import array
from pathlib import Path
from typing import Any

from confluent_kafka import Consumer, KafkaError, Message, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic  # type: ignore[attr-defined]
from prometheus_client.parser import text_string_to_metric_families

from processor.stream.broker import EmbeddedBroker, free_port
from processor.stream.transform import transform
from tests.integration.helpers import synthetic_lines

ROOT = Path(__file__).resolve().parents[1]
PARTITIONS = 2


class Timestamps:
    """Input CreateTime per (partition, offset), from delivery reports (8 bytes each)."""

    def __init__(self) -> None:
        self._by_partition = [array("q") for _ in range(PARTITIONS)]
        self._lock = threading.Lock()

    def delivered(self, err: KafkaError | None, msg: Message) -> None:
        if err is not None:
            raise RuntimeError(f"input delivery failed: {err}")
        partition, offset = msg.partition(), msg.offset()
        assert partition is not None and offset is not None
        stamps = self._by_partition[partition]
        with self._lock:
            if len(stamps) <= offset:
                stamps.extend([0] * (offset + 1 - len(stamps)))
            stamps[offset] = msg.timestamp()[1]

    def get(self, partition: int, offset: int) -> int:
        stamps = self._by_partition[partition]
        return stamps[offset] if offset < len(stamps) else 0


class Feeder(threading.Thread):
    """Produces ``lines`` in order at ``rate`` per second until stopped or exhausted."""

    def __init__(self, bootstrap: str, topic: str, lines: list[bytes], rate: int) -> None:
        super().__init__(daemon=True)
        self.stamps = Timestamps()
        self.sent = 0
        self._lines, self._rate, self._topic = lines, rate, topic
        self._producer = Producer(
            {"bootstrap.servers": bootstrap, "linger.ms": 5, "on_delivery": self.stamps.delivered}
        )

    def run(self) -> None:
        start = time.monotonic()
        for line in self._lines:
            due = start + self.sent / self._rate
            while (wait := due - time.monotonic()) > 0:
                self._producer.poll(min(wait, 0.01))
            while True:
                try:
                    self._producer.produce(self._topic, line)
                    break
                except BufferError:
                    self._producer.poll(0.01)
            self.sent += 1
        assert self._producer.flush(60) == 0


class Reader(threading.Thread):
    """Reads the output (read_committed) and records each record's latencies in ms."""

    def __init__(self, bootstrap: str, topic: str, stamps: Timestamps) -> None:
        super().__init__(daemon=True)
        self.latency = array("d")  # output CreateTime - input CreateTime
        self.visible = array("d")  # arrival here - input CreateTime
        self.count = 0
        self.stop = threading.Event()
        self._stamps = stamps
        self._consumer = Consumer(
            {
                "bootstrap.servers": bootstrap,
                "group.id": f"soak-reader-{uuid.uuid4().hex[:8]}",
                "isolation.level": "read_committed",
                "fetch.queue.backoff.ms": 10,
            }
        )
        self._consumer.assign([TopicPartition(topic, p, 0) for p in range(PARTITIONS)])

    def run(self) -> None:
        while not self.stop.is_set():
            for msg in self._consumer.consume(1000, 0.2):
                if msg.error() is not None:
                    continue
                now_ms = time.time() * 1000
                headers = dict(msg.headers() or [])
                partition = int(headers["bounce-processor.source.partition"] or b"0")
                offset = int(headers["bounce-processor.source.offset"] or b"0")
                sent = self._stamps.get(partition, offset)
                if sent:
                    self.latency.append(msg.timestamp()[1] - sent)
                    self.visible.append(now_ms - sent)
                self.count += 1
        self._consumer.close()


def rss_bytes(pid: int) -> int:
    """Resident set size of ``pid`` (VmRSS)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


def consumed(port: int) -> float:
    """``bounce_processor_messages_consumed_total`` summed over topics (0 when not up)."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as resp:
            body = resp.read().decode()
    except OSError:
        return 0.0
    return sum(
        s.value
        for family in text_string_to_metric_families(body)
        for s in family.samples
        if s.name == "bounce_processor_messages_consumed_total"
    )


def percentile(values: Any, fraction: float) -> float:
    """The ``fraction`` quantile (0..1) of ``values`` (nearest rank); 0 when empty."""
    if not len(values):
        return 0.0
    ordered = sorted(values)
    return float(ordered[min(len(ordered) - 1, int(fraction * len(ordered)))])


def start_processor(
    bootstrap: str, names: dict[str, str], guarantee: str, log: Any, extra: list[str]
) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("KAFKA_")}
    env["PYTHONPATH"] = str(ROOT)
    args = [
        sys.executable, "-m", "processor", "run", "-b", bootstrap,
        "--input-topic", names["in"], "--output-topic", names["out"],
        "--dead-letter-topic", names["dlq"], "--group-id", names["group"],
        "--http-address", f"127.0.0.1:{port}", "--log-format", "json",
        "--guarantee", guarantee, "--instance-id", "soak-0",
        "-X", "consumer.session.timeout.ms=6000", *extra,
    ]  # fmt: skip
    return subprocess.Popen(args, stdout=log, stderr=log, env=env, cwd=ROOT), port


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--rate", type=int, default=2_000, help="input messages per second")
    parser.add_argument("--interval", type=float, default=15.0, help="seconds between rows")
    parser.add_argument(
        "--guarantee", choices=["at-least-once", "exactly-once"], default="at-least-once"
    )
    parser.add_argument(
        "-X", dest="options", action="append", default=[], metavar="KEY=VALUE",
        help="librdkafka property for the processor (repeatable), e.g. consumer.fetch.wait.max.ms=20",
    )  # fmt: skip
    args = parser.parse_args()
    total = int(args.minutes * 60 * args.rate)
    lines = synthetic_lines(total)
    for i in range(0, total, 100):
        lines[i] = b'{"broken event %d' % i  # 1% dead letters
    expected_records = sum(
        len(transform(line, max_payload_bytes=1 << 20).outputs) for line in lines
    )
    with tempfile.TemporaryFile() as broker_log, EmbeddedBroker(log=broker_log) as broker:
        bootstrap = broker.bootstrap_servers
        tag = uuid.uuid4().hex[:8]
        names = {k: f"soak-{k}-{tag}" for k in ("in", "out", "dlq", "group")}
        admin = AdminClient({"bootstrap.servers": bootstrap})
        new = [NewTopic(names[k], PARTITIONS, 1) for k in ("in", "out", "dlq")]
        for future in admin.create_topics(new).values():
            future.result(30)
        with tempfile.TemporaryFile() as log:
            proc, port = start_processor(
                bootstrap, names, args.guarantee, log, [f"-X{o}" for o in args.options]
            )
            deadline = time.monotonic() + 60
            while "partitions assigned" not in _read(log):  # measure from a joined group
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit(f"processor did not start: {_read(log)[-2000:]}")
                time.sleep(0.2)
            feeder = Feeder(bootstrap, names["in"], lines, args.rate)
            reader = Reader(bootstrap, names["out"], feeder.stamps)
            reader.start()
            started = time.monotonic()
            feeder.start()
            rows, rss_series = [], []
            last_processed, last_time, last_latencies = 0.0, started, 0
            print(
                f"soak: {total:,} messages at {args.rate:,}/s, {args.guarantee}, "
                f"{PARTITIONS} partitions, options {args.options or 'none'}"
            )
            print(
                f"{'t (s)':>6} {'sent':>9} {'processed':>9} {'msg/s':>7} {'p50 ms':>7} {'p99 ms':>7} {'RSS MB':>7}"
            )
            while True:
                time.sleep(args.interval)
                now = time.monotonic()
                processed = consumed(port)
                window = reader.latency[last_latencies:]
                rss = rss_bytes(proc.pid)
                rss_series.append((now - started, rss))
                row = (
                    now - started, feeder.sent, processed, (processed - last_processed) / (now - last_time),
                    percentile(window, 0.5), percentile(window, 0.99), rss / 1e6,
                )  # fmt: skip
                rows.append(row)
                print(
                    f"{row[0]:6.0f} {row[1]:9,} {row[2]:9,.0f} {row[3]:7,.0f} {row[4]:7.0f} {row[5]:7.0f} {row[6]:7.1f}",
                    flush=True,
                )
                last_processed, last_time, last_latencies = processed, now, len(reader.latency)
                if processed >= total or proc.poll() is not None:
                    break
            elapsed = time.monotonic() - started
            proc.terminate()
            code = proc.wait(60)
            reader.stop.set()
            reader.join(30)
    half = [(t, r) for t, r in rss_series if t >= elapsed / 2]
    slope = (
        statistics.linear_regression([t for t, _ in half], [r for _, r in half]).slope
        if len(half) > 1
        else 0.0
    )
    print(
        f"\nprocessed {last_processed:,.0f} of {total:,} messages in {elapsed:.0f} s "
        f"({last_processed / elapsed:,.0f} msg/s); exit code {code}"
    )
    print(f"records read back: {reader.count:,} (expected {expected_records:,})")
    print(
        f"latency, output timestamp - input timestamp: p50 {percentile(reader.latency, 0.5):.0f} ms, "
        f"p99 {percentile(reader.latency, 0.99):.0f} ms, max {max(reader.latency, default=0):.0f} ms"
    )
    print(
        f"latency, visible to a read_committed consumer: p50 {percentile(reader.visible, 0.5):.0f} ms, "
        f"p99 {percentile(reader.visible, 0.99):.0f} ms"
    )
    rss_values = [r for _, r in rss_series]
    print(
        f"RSS: first sample {rss_values[0] / 1e6:.1f} MB, peak {max(rss_values) / 1e6:.1f} MB, "
        f"last {rss_values[-1] / 1e6:.1f} MB; second-half trend {slope * 60 / 1e6:+.2f} MB/min"
    )


def _read(log: Any) -> str:
    log.flush()
    log.seek(0)
    return str(log.read().decode(errors="replace"))


if __name__ == "__main__":
    main()
