"""Helpers for the broker tests: topics, producing, reading back, processor subprocesses."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic  # type: ignore[attr-defined]
from prometheus_client.parser import text_string_to_metric_families

from processor.stream.broker import free_port
from processor.stream.config import KafkaConfig
from processor.stream.tools import iter_topic

ROOT = Path(__file__).resolve().parents[2]
# How long a test waits for the system to reach a state before failing. Generous: on a
# loaded 2-core machine a rebalance after kill -9 or a reconnect after a broker pause can
# take well over a minute; waiting longer only delays a failure, never hides one.
WAIT_SECONDS = 240.0


def unique(prefix: str) -> str:
    """A topic or group name no other test uses."""
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def create_topics(bootstrap: str, *names: str, partitions: int = 2) -> None:
    """Create ``names`` with ``partitions`` partitions each; waits for the result."""
    admin = AdminClient({"bootstrap.servers": bootstrap})
    for future in admin.create_topics([NewTopic(n, partitions, 1) for n in names]).values():
        future.result(30)


def produce(
    bootstrap: str,
    topic: str,
    values: Iterable[bytes],
    *,
    key: bytes | None = None,
    headers: list[tuple[str, bytes]] | None = None,
    partition: int | None = None,
) -> int:
    """Produce every value; returns the count; raises if any delivery failed."""
    errors: list[Any] = []
    producer = Producer(
        {
            "bootstrap.servers": bootstrap,
            "linger.ms": 20,
            "on_delivery": lambda err, _m: errors.append(err) if err else None,
        }
    )
    count = 0
    for value in values:
        kwargs: dict[str, Any] = {"key": key, "headers": headers}
        if partition is not None:
            kwargs["partition"] = partition
        while True:
            try:
                producer.produce(topic, value, **kwargs)
                break
            except BufferError:
                producer.poll(0.05)
        count += 1
    assert producer.flush(60) == 0
    assert not errors, errors
    return count


def read_all(bootstrap: str, topic: str) -> list[Any]:
    """Every record of ``topic`` (read to the end of each partition; no watermarks)."""
    return list(iter_topic(KafkaConfig({"bootstrap.servers": bootstrap}), topic, idle_timeout=20))


def committed(bootstrap: str, group: str, topic: str, partitions: int) -> dict[int, int]:
    """The group's committed offset per partition (-1001 when none)."""
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": group})
    try:
        tps = consumer.committed([TopicPartition(topic, p) for p in range(partitions)], timeout=30)
        return {tp.partition: tp.offset for tp in tps}
    finally:
        consumer.close()


def header(msg: Any, name: str) -> bytes | None:
    """Value of the first header called ``name``."""
    for key, value in msg.headers() or []:
        if key == name:
            return value  # type: ignore[no-any-return]
    return None


def source(msg: Any) -> tuple[int, int]:
    """(source partition, source offset) of an output or dead-letter record."""
    return (
        int(header(msg, "bounce-processor.source.partition") or b"-1"),
        int(header(msg, "bounce-processor.source.offset") or b"-1"),
    )


def wait_until(
    condition: Callable[[], Any],
    what: str,
    timeout: float = WAIT_SECONDS,
    details: Callable[[], str] | None = None,
) -> Any:
    """Poll ``condition`` until it returns a truthy value; fails the test after ``timeout``.

    :param details: called once on failure; its text (the state reached, the processors'
        logs) is added to the assertion message, so a failure in CI can be diagnosed.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"gave up waiting for: {what}" + (f"\n{details()}" if details else ""))


@dataclass
class Processor:
    """A ``python -m processor run`` subprocess and its HTTP port."""

    process: subprocess.Popen[bytes]
    port: int
    log: IO[bytes]

    def get(self, path: str) -> tuple[int, str]:
        """(HTTP status, body) of ``path`` on the processor's port; (0, "") when not up."""
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}{path}", timeout=5) as resp:
                return resp.status, resp.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode()
        except OSError:
            return 0, ""

    def metrics(self) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
        """Current samples: (name, sorted labels) -> value."""
        status, body = self.get("/metrics")
        if status != 200:
            return {}
        return {
            (s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(body)
            for s in family.samples
        }

    def metric(self, name: str, **labels: str) -> float:
        """One sample's value (0 when absent)."""
        return self.metrics().get((name, tuple(sorted(labels.items()))), 0.0)

    def consumed(self, topic: str) -> float:
        """``messages_consumed_total`` for ``topic``."""
        return self.metric("bounce_processor_messages_consumed_total", topic=topic)

    def kill(self) -> None:
        """SIGKILL (no drain, no commit)."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(30)

    def terminate(self, timeout: float = 60) -> int:
        """SIGTERM and wait; returns the exit code."""
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout)

    def logs(self) -> str:
        """What the processor logged so far."""
        self.log.flush()
        self.log.seek(0)
        return self.log.read().decode(errors="replace")


def start_processor(
    bootstrap: str,
    *,
    input_topic: str,
    output_topic: str,
    dead_letter_topic: str,
    group: str,
    log: IO[bytes],
    extra: Iterable[str] = (),
) -> Processor:
    """Start ``python -m processor run`` against ``bootstrap`` with test-friendly timeouts."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("KAFKA_")}
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    args = [
        sys.executable,
        "-m",
        "processor",
        "run",
        "-b",
        bootstrap,
        "--input-topic",
        input_topic,
        "--output-topic",
        output_topic,
        "--dead-letter-topic",
        dead_letter_topic,
        "--group-id",
        group,
        "--http-address",
        f"127.0.0.1:{port}",
        "--log-format",
        "json",
        "--commit-interval-seconds",
        "0.5",
        "-X",
        "consumer.session.timeout.ms=6000",
        "-X",
        "statistics.interval.ms=1000",
        *extra,
    ]
    process = subprocess.Popen(args, stdout=log, stderr=log, env=env, cwd=ROOT)
    proc = Processor(process, port, log)
    wait_until(lambda: proc.get("/healthz")[0] == 200 or process.poll() is not None, "processor up")
    assert process.poll() is None, proc.logs()
    return proc


@dataclass(frozen=True)
class Stream:
    """One test's topics and consumer group: input, output, dead letters (unique names).

    :param bootstrap: the broker's bootstrap servers.
    """

    bootstrap: str
    input: str
    output: str
    dead_letter: str
    group: str

    @classmethod
    def named(cls, bootstrap: str) -> Stream:
        """New names, no topic created yet (a test that leaves one missing on purpose)."""
        return cls(bootstrap, unique("in"), unique("out"), unique("dlq"), unique("g"))

    @classmethod
    def create(cls, bootstrap: str, partitions: int = 2) -> Stream:
        """New topics of ``partitions`` partitions each, and a new group name."""
        stream = cls.named(bootstrap)
        create_topics(
            bootstrap, stream.input, stream.output, stream.dead_letter, partitions=partitions
        )
        return stream

    def start(
        self, log: IO[bytes], extra: Iterable[str] = (), *, group: str | None = None
    ) -> Processor:
        """Start ``python -m processor run`` on these topics (:func:`start_processor`)."""
        return start_processor(
            self.bootstrap,
            input_topic=self.input,
            output_topic=self.output,
            dead_letter_topic=self.dead_letter,
            group=group or self.group,
            log=log,
            extra=extra,
        )

    def committed(self, partitions: int) -> dict[int, int]:
        """The group's committed offset per input partition (-1001 when none)."""
        return committed(self.bootstrap, self.group, self.input, partitions)


def sample_lines() -> list[bytes]:
    """The shipped sample Postfix log, one bytes value per line (newline removed)."""
    from processor.demo import sample_log_lines

    return [line.rstrip(b"\n") for line in sample_log_lines() if line.strip()]


def synthetic_lines(count: int) -> list[bytes]:
    """``count`` realistic lines: the sample log's well-formed lines, each one unique.

    The recipient (or, for a recipient-less ``qmgr`` expiry line, the sender) gets a
    numbered prefix, so every delivery line has its own ``event_id``.
    """
    import orjson

    templates = []
    for line in sample_lines():
        if line.startswith(b"{"):
            try:
                orjson.loads(line)
            except orjson.JSONDecodeError:
                continue
        templates.append(line)
    lines = []
    for i in range(count):
        line = templates[i % len(templates)]
        marker = b"to=<" if b"to=<" in line else b"from=<"
        lines.append(line.replace(marker, marker + b"u%d." % i, 1))
    return lines
