"""One-shot Kafka tools behind ``bounce-processor produce`` and ``tail``."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Iterator
from typing import IO, Any

import orjson
from confluent_kafka import (
    OFFSET_BEGINNING,
    OFFSET_END,
    Consumer,
    KafkaError,
    Message,
    Producer,
    TopicPartition,
)
from tqdm import tqdm

from processor.errors import StreamError
from processor.sanitize import printable
from processor.stream.config import KafkaConfig
from processor.stream.kafka_io import message_headers
from processor.stream.logs import librdkafka_logger


def produce_lines(
    kafka: KafkaConfig,
    topic: str,
    lines: Iterable[bytes],
    *,
    total_bytes: int | None = None,
    progress: bool = True,
    flush_timeout: float = 60.0,
) -> int:
    """Publish each non-empty line (trailing newline removed) as one message to ``topic``.

    :param total_bytes: input size for the progress bar, when known.
    :returns: the number of messages acknowledged by the broker.
    :raises StreamError: when any delivery failed or the queue did not drain in time.
    """
    failures: list[str] = []

    def on_delivery(err: KafkaError | None, _msg: Message) -> None:
        if err is not None and len(failures) < 10:
            failures.append(f"{err.name()}: {err.str()}")

    # A one-shot tool may let the broker create the topic (if the broker allows it); the
    # processor itself never does (config.PRODUCER_DEFAULTS). A configured value wins.
    conf: dict[str, Any] = {
        **kafka.producer(),
        "allow.auto.create.topics": kafka.producer_only.get(
            "allow.auto.create.topics", kafka.common.get("allow.auto.create.topics", True)
        ),
        "linger.ms": 50,
        "on_delivery": on_delivery,
    }
    producer = Producer(conf, logger=librdkafka_logger())
    sent = 0
    with tqdm(total=total_bytes, unit="B", unit_scale=True, disable=not progress) as bar:
        for line in lines:
            value = line.rstrip(b"\r\n")
            bar.update(len(line))
            if not value:
                continue
            while True:
                try:
                    producer.produce(topic, value)
                    break
                except BufferError:
                    producer.poll(0.05)
            producer.poll(0)
            sent += 1
    left = producer.flush(flush_timeout)
    if failures or left:
        raise StreamError(
            f"{len(failures)} deliveries failed ({'; '.join(failures)}), {left} unsent"
        )
    return sent


def header_text(value: str | bytes | None) -> str:
    """A header value as text (invalid UTF-8 replaced)."""
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return value or ""


def format_record(msg: Message) -> str:
    """A consumed record as text: a coordinates line, then indented JSON (or the raw value)."""
    value = msg.value() or b""
    try:
        body = orjson.dumps(orjson.loads(value), option=orjson.OPT_INDENT_2).decode()
    except orjson.JSONDecodeError:  # e.g. a dead letter: never print remote bytes raw
        body = printable(value.decode("utf-8", "replace"), limit=4096)
    key = printable((msg.key() or b"").decode("utf-8", "replace"))
    headers = {printable(k): printable(header_text(v), limit=1024) for k, v in message_headers(msg)}
    head = f"# {msg.topic()}[{msg.partition()}]@{msg.offset()} key={key!r}"
    if headers:
        head += " " + orjson.dumps(headers).decode()
    return f"{head}\n{body}"


def iter_topic(
    kafka: KafkaConfig,
    topic: str,
    *,
    from_beginning: bool = True,
    follow: bool = False,
    idle_timeout: float = 10.0,
) -> Iterator[Message]:
    """Yield the records of ``topic``; without ``follow`` stop at the end of every partition.

    Reads every partition by direct assignment (no group join) and never commits.

    :param idle_timeout: without ``follow``, also stop after this many seconds without news.
    :raises StreamError: when the topic does not exist or a consume error occurs.
    """
    conf = kafka.consumer(f"bounce-processor-tail-{uuid.uuid4().hex[:12]}")
    conf.update({"enable.partition.eof": True, "statistics.interval.ms": 0})
    consumer = Consumer(conf, logger=librdkafka_logger())
    try:
        metadata = consumer.list_topics(topic, timeout=10.0).topics.get(topic)
        if metadata is None or metadata.error is not None or not metadata.partitions:
            raise StreamError(f"topic {topic} not found")
        start = OFFSET_BEGINNING if from_beginning else OFFSET_END
        consumer.assign([TopicPartition(topic, p, start) for p in metadata.partitions])
        partitions, at_end, idle = set(metadata.partitions), set(), 0.0
        while True:
            msg = consumer.poll(0.5)
            if msg is None:
                idle += 0.5
                if not follow and idle >= idle_timeout:
                    return
                continue
            idle = 0.0
            err = msg.error()
            if err is None:
                at_end.discard(msg.partition())
                yield msg
            elif err.code() == KafkaError._PARTITION_EOF:
                at_end.add(msg.partition())
                if not follow and at_end >= partitions:
                    return
            else:
                raise StreamError(f"consume {topic}: {err.name()}: {err.str()}")
    finally:
        consumer.close()


def tail_topic(
    kafka: KafkaConfig,
    topic: str,
    write: Callable[[str], Any],
    *,
    from_beginning: bool = True,
    follow: bool = False,
    max_messages: int | None = None,
) -> int:
    """Print the records of ``topic`` with :func:`format_record`; returns how many."""
    printed = 0
    for msg in iter_topic(kafka, topic, from_beginning=from_beginning, follow=follow):
        write(format_record(msg))
        printed += 1
        if max_messages is not None and printed >= max_messages:
            break
    return printed


def iter_lines(handle: IO[bytes]) -> Iterable[bytes]:
    """Lines of a binary file, newline kept (for byte-accurate progress)."""
    yield from handle
