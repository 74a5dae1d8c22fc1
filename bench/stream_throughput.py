"""Throughput of `bounce-processor run` against a bare passthrough loop, same broker, same run.

(a) passthrough: consume, produce the same bytes, flush + commit about once a second
    (the tuned Python ceiling on this machine, docs: performance notes);
(b) ``python -m processor run`` with its shipped defaults over the same input;
(c) the output-shaped passthrough: loop (a) producing, for every message, a record of
    the processor's output shape instead of the input bytes: a precomputed enriched
    record (the JSON of one relay line, ~1.3 KB), the recipient key and the five output
    headers built per message as the processor builds them, compressed as the processor
    compresses (LZ4). It is the ceiling of any processor with this output contract in
    this loop shape: only classification is missing.

Both read the same N log lines: by default a production relay's delivery log
(``bench/log_mix.py``, the mix ``make bench`` classifies); ``--mix sample`` uses the
demo's showcase log instead (every input format, half of it non-delivery lines).
Each rate is measured from the first consumed message to the last, excluding the
consumer-group join. Prints the median msg/s of each over K runs, their ratio, the
processor's peak RSS (VmHWM) and its CPU seconds per thread (the Python main thread
against librdkafka's rdk:* threads). ``--profile FILE`` runs the processor under
cProfile (slower; for "where the time goes"), ``-X key=value`` passes librdkafka settings.

    PYTHONPATH=. python bench/stream_throughput.py               # 1,000,000 lines, 3 runs
    PYTHONPATH=. python bench/stream_throughput.py --lines 200000 --runs 1
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path

from confluent_kafka import Consumer, Producer
from confluent_kafka.admin import AdminClient, NewTopic  # type: ignore[attr-defined]
from log_mix import relay_log_lines  # bench/ is the script's directory: first on sys.path
from prometheus_client.parser import text_string_to_metric_families

from processor.demo import sample_log_lines
from processor.stream.broker import EmbeddedBroker, free_port
from processor.stream.config import PRODUCER_DEFAULTS
from processor.stream.kafka_io import output_headers
from processor.stream.transform import transform

ROOT = Path(__file__).resolve().parents[1]


def sample_lines(count: int) -> list[bytes]:
    """``count`` unique realistic log lines built from the shipped sample log.

    The sample's one deliberately broken JSON line is left out (it exists for the
    dead-letter demo), so both loops see only processable input.
    """
    templates = []
    for raw in sample_log_lines():
        line = raw.rstrip(b"\n")
        if line and not (line.startswith(b"{") and not line.endswith(b"}")):
            templates.append(line)
    lines = []
    for i in range(count):
        line = templates[i % len(templates)]
        marker = b"to=<" if b"to=<" in line else b"from=<"
        lines.append(line.replace(marker, marker + b"b%d." % i, 1))
    return lines


def create_topic(bootstrap: str, name: str, partitions: int) -> None:
    admin = AdminClient({"bootstrap.servers": bootstrap})
    for future in admin.create_topics([NewTopic(name, partitions, 1)]).values():
        future.result(30)


def load_input(bootstrap: str, topic: str, lines: list[bytes]) -> None:
    producer = Producer(
        {"bootstrap.servers": bootstrap, "linger.ms": 50, "queue.buffering.max.messages": 1_000_000}
    )
    for line in lines:
        while True:
            try:
                producer.produce(topic, line)
                break
            except BufferError:
                producer.poll(0.05)
        producer.poll(0)
    assert producer.flush(120) == 0


def passthrough(bootstrap: str, topic: str, total: int, shaped: bool = False) -> float:
    """Tuned bare loop; returns msg/s from the first consumed message to the last flush.

    :param shaped: produce loop (c)'s precomputed record, key and per-message headers
        instead of the consumed bytes (see the module docstring).
    """
    out = f"bench-pt-{uuid.uuid4().hex[:8]}"
    key, record = _shaped_output()
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": out,
            "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
            "session.timeout.ms": 6000,
            "fetch.queue.backoff.ms": 10,
        }
    )
    producer = Producer(
        {
            "bootstrap.servers": bootstrap,
            "linger.ms": 20,
            "queue.buffering.max.messages": 500_000,
            "delivery.report.only.error": True,
            # the processor's output compression (loop (c) stands in for its producer)
            "compression.type": PRODUCER_DEFAULTS["compression.type"] if shaped else "none",
        }
    )
    consumer.subscribe([topic])
    seen, started, next_commit = 0, 0.0, 0.0
    while seen < total:
        batch = consumer.consume(1000, 0.5)
        if not batch:
            continue
        if not started:
            started = time.perf_counter()
            next_commit = started + 1.0
        for msg in batch:
            while True:
                try:
                    if shaped:
                        headers = output_headers(topic, msg.partition(), msg.offset(), 1)  # type: ignore[arg-type]
                        producer.produce(out, record, key, headers=headers)
                    else:
                        producer.produce(out, msg.value())
                    break
                except BufferError:
                    producer.poll(0.01)
        producer.poll(0)
        seen += len(batch)
        if time.perf_counter() >= next_commit:
            assert producer.flush(30) == 0
            consumer.commit(asynchronous=False)
            next_commit = time.perf_counter() + 1.0
    assert producer.flush(60) == 0
    consumer.commit(asynchronous=False)
    elapsed = time.perf_counter() - started
    consumer.close()
    return total / elapsed


def _shaped_output() -> tuple[bytes, bytes]:
    """(key, value) of one enriched record of the relay mix, as the processor produces it."""
    line = relay_log_lines(1)[0]
    found = transform(line, max_payload_bytes=1 << 20, reference_time=1_796_000_000.0)
    key, value = found.outputs[0]
    assert key is not None
    return key, value


def _samples(port: int) -> dict[str, float]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as resp:
        body = resp.read().decode()
    values: dict[str, float] = {}
    for family in text_string_to_metric_families(body):
        for sample in family.samples:
            values[sample.name] = values.get(sample.name, 0.0) + sample.value
    return values


def processor_run(
    bootstrap: str, topic: str, total: int, options: list[str], profile: str | None
) -> tuple[float, int]:
    """`python -m processor run` as a subprocess; returns (msg/s, peak RSS bytes).

    :param options: extra ``-X key=value`` librdkafka settings for the processor.
    :param profile: write a cProfile of the processor to this file (slows it down).
    """
    port, tag = free_port(), uuid.uuid4().hex[:8]
    for name in (f"bench-out-{tag}", f"bench-dlq-{tag}"):  # the processor creates no topics
        create_topic(bootstrap, name, 1)
    env = {k: v for k, v in os.environ.items() if not k.startswith("KAFKA_")}
    env["PYTHONPATH"] = str(ROOT)
    args = [
        sys.executable,
        *(["-m", "cProfile", "-o", profile] if profile else []),
        "-m",
        "processor",
        "run",
        "-b",
        bootstrap,
        "--input-topic",
        topic,
        "--output-topic",
        f"bench-out-{tag}",
        "--dead-letter-topic",
        f"bench-dlq-{tag}",
        "--group-id",
        f"bench-{tag}",
        "--http-address",
        f"127.0.0.1:{port}",
        "--log-format",
        "json",
        "--log-level",
        "warning",
        "-X",
        "consumer.session.timeout.ms=6000",
        *(arg for option in options for arg in ("-X", option)),
    ]
    with tempfile.TemporaryFile() as log:
        proc = subprocess.Popen(args, stdout=log, stderr=log, env=env, cwd=ROOT)
        try:
            first: tuple[float, float] | None = None
            while True:
                time.sleep(0.5)  # a scrape costs the processor CPU: poll rarely
                if proc.poll() is not None:
                    log.seek(0)
                    raise RuntimeError(f"processor exited: {log.read().decode()[-2000:]}")
                try:
                    values = _samples(port)
                except OSError:
                    continue
                consumed = values.get("bounce_processor_messages_consumed_total", 0.0)
                if consumed and first is None:
                    first = (consumed, time.time())
                if consumed >= total and first is not None:
                    end = values["bounce_processor_last_processed_timestamp_seconds"]
                    break
            rss = _peak_rss(proc.pid)
            cpu = _cpu_seconds(proc.pid)
            threads = _thread_cpu_seconds(proc.pid)
        finally:
            proc.terminate()
            proc.wait(60)
    print(
        f"  processor CPU {cpu:.1f} s for {total:,} messages (incl. start-up and group join); "
        + ", ".join(f"{name} {seconds:.1f} s" for name, seconds in threads.items() if seconds)
    )
    return (total - first[0]) / (end - first[1]), rss


def _cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a running process, all its threads (``/proc/PID/stat``)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _thread_cpu_seconds(pid: int) -> dict[str, float]:
    """CPU seconds per thread name (the Python main thread, librdkafka's rdk:* threads)."""
    totals: dict[str, float] = {}
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            name = (task / "comm").read_text().strip()
            fields = (task / "stat").read_text().rpartition(")")[2].split()
        except FileNotFoundError:  # the thread ended since the listing
            continue
        seconds = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        totals[name] = totals.get(name, 0.0) + seconds
    return totals


def _peak_rss(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    return 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--partitions", type=int, default=1)
    parser.add_argument(
        "-X",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="librdkafka setting for the processor",
    )
    parser.add_argument("--profile", metavar="FILE", help="cProfile the processor into FILE")
    parser.add_argument(
        "--mix",
        choices=("relay", "sample"),
        default="relay",
        help="relay: a production relay's delivery log (bench/log_mix.py, as make bench); "
        "sample: the demo's showcase log (every input format, 50%% non-delivery lines)",
    )
    parser.add_argument("--bootstrap", help="existing cluster (default: start the embedded broker)")
    args = parser.parse_args()
    with tempfile.TemporaryFile() as broker_log, EmbeddedBroker(log=broker_log) as broker:
        bootstrap = args.bootstrap or broker.bootstrap_servers
        topic = f"bench-in-{uuid.uuid4().hex[:8]}"
        create_topic(bootstrap, topic, args.partitions)
        lines = relay_log_lines(args.lines) if args.mix == "relay" else sample_lines(args.lines)
        load_input(bootstrap, topic, lines)
        size = sum(map(len, lines)) / len(lines)
        del lines
        print(
            f"{args.lines} lines ({args.mix} mix, avg {size:.0f} B) in {topic}, "
            f"{args.partitions} partition(s)"
        )
        bare, proc, shaped, rss = [], [], [], []
        for run in range(args.runs):
            bare.append(passthrough(bootstrap, topic, args.lines))
            rate, peak = processor_run(bootstrap, topic, args.lines, args.X, args.profile)
            proc.append(rate)
            rss.append(peak)
            shaped.append(passthrough(bootstrap, topic, args.lines, shaped=True))
            print(
                f"run {run + 1}: passthrough {bare[-1]:,.0f} msg/s, processor {rate:,.0f} msg/s, "
                f"output-shaped passthrough {shaped[-1]:,.0f} msg/s, "
                f"processor peak RSS {peak / 2**20:.0f} MiB",
                flush=True,
            )
        med_bare, med_proc = statistics.median(bare), statistics.median(proc)
        med_shaped = statistics.median(shaped)
        print(f"median passthrough: {med_bare:,.0f} msg/s")
        print(f"median processor:   {med_proc:,.0f} msg/s")
        print(f"ratio: {med_proc / med_bare:.1%} of passthrough (target >= 40%, aim 60%)")
        print(
            f"median output-shaped passthrough: {med_shaped:,.0f} msg/s "
            f"({med_shaped / med_bare:.1%} of passthrough: the ceiling without classification)"
        )
        print(f"processor peak RSS: {max(rss) / 2**20:.0f} MiB (target < 200 MiB)")


if __name__ == "__main__":
    main()
