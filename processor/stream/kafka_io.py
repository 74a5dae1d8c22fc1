"""Kafka edges of the loop: clients, delivery-error latch, statistics, headers, backpressure.

Shapes follow the confluent-kafka-python examples (``examples/producer.py``: ``poll(0)``
after ``produce``, ``BufferError`` means the local queue is full; ``examples/consumer.py``:
offsets only after the work is done) and quix-streams' latched delivery errors
(``internal_producer.py``). Error questions asked of every ``KafkaError``: ``fatal()``,
``retriable()`` (``confluent_kafka/cimpl.pyi``).
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from typing import Any

import orjson
from confluent_kafka import Consumer, KafkaError, Message, Producer

from processor import __version__
from processor.errors import StreamError
from processor.sanitize import printable
from processor.stream.health import HealthState
from processor.stream.logs import get_logger, librdkafka_logger
from processor.stream.metrics import Metrics

log = get_logger(__name__)

Headers = list[tuple[str, str | bytes | None]]

HEADER_PREFIX = "bounce-processor."
CONTENT_TYPE = b"application/json"
MAX_ERROR_MESSAGE_CHARS = 512


class DeliveryFailedError(StreamError):
    """The broker did not acknowledge a produced record; nothing past it may be committed."""


class DrainTimeoutError(StreamError):
    """The shutdown grace period ran out while the producer queue was still full."""


class FatalKafkaError(StreamError):
    """librdkafka reported a fatal error (``KafkaError.fatal()``); the client is unusable."""


class ProduceError(StreamError):
    """``Producer.produce`` refused a record outright (not a full queue): stop, commit nothing."""


class KafkaSetupError(StreamError):
    """TLS or authentication failed before any broker was reached: a setting is wrong."""


#: librdkafka errors that, before any broker was ever reached, mean a wrong setting;
#: the message names the settings to check (librdkafka CONFIGURATION.md names, and the
#: environment variables that set them). Waiting would not help: fail fast.
SETUP_ERRORS: dict[int, str] = {
    KafkaError._SSL: (
        "TLS with the broker failed; check ssl.ca.location (KAFKA_SSL_CA_LOCATION) and "
        "security.protocol (KAFKA_SECURITY_PROTOCOL), and for client certificates "
        "ssl.certificate.location and ssl.key.location"
    ),
    KafkaError._AUTHENTICATION: (
        "the broker refused the credentials; check sasl.mechanism, sasl.username and "
        "sasl.password (KAFKA_SASL_MECHANISM, KAFKA_SASL_USERNAME, KAFKA_SASL_PASSWORD) "
        "or the sasl.oauthbearer.* settings"
    ),
    KafkaError.SASL_AUTHENTICATION_FAILED: (
        "the broker refused the credentials; check sasl.mechanism, sasl.username and "
        "sasl.password (KAFKA_SASL_MECHANISM, KAFKA_SASL_USERNAME, KAFKA_SASL_PASSWORD)"
    ),
}


class ClientEvents:
    """Callbacks shared by the consumer and producer: errors, statistics, delivery reports.

    Callbacks run inside ``consume()`` / ``poll()`` / ``flush()`` on the loop's thread.
    The first delivery failure or fatal error is latched and raised by :meth:`raise_if_failed`,
    which the loop calls before every batch and every commit.
    """

    def __init__(self, health: HealthState, metrics: Metrics) -> None:
        self._health = health
        self._metrics = metrics
        self.failure: StreamError | None = None
        self.connected = False  # a broker was reached at least once

    def _latch(self, error: StreamError) -> None:
        if self.failure is None:
            self.failure = error
            self._health.failed = type(error).__name__
            log.error("stream failure latched", error=str(error), error_class=type(error).__name__)

    def raise_if_failed(self) -> None:
        """:raises StreamError: the first latched delivery failure or fatal client error."""
        if self.failure is not None:
            raise self.failure

    def on_delivery(self, err: KafkaError | None, msg: Message) -> None:
        """Producer delivery report (errors only with ``delivery.report.only.error``)."""
        if err is not None:
            self._latch(
                DeliveryFailedError(f"delivery to {msg.topic()} failed: {err.name()}: {err.str()}")
            )

    def error_cb(self, client: str) -> Callable[[KafkaError], None]:
        """``error_cb`` for ``client``: fatal errors latch, broker loss flips readiness.

        A TLS or authentication error before any broker was reached latches a
        :class:`KafkaSetupError` naming the settings to check (:data:`SETUP_ERRORS`);
        after a first connection the same errors are logged and retried.
        """

        def on_error(err: KafkaError) -> None:
            if err.fatal():
                self._latch(FatalKafkaError(f"{client}: {err.name()}: {err.str()}"))
                return
            hint = SETUP_ERRORS.get(err.code())
            if hint is not None and not self.connected:
                self._latch(KafkaSetupError(f"{client}: {hint} ({err.name()}: {err.str()})"))
                return
            if err.code() == KafkaError._ALL_BROKERS_DOWN:
                self._health.set_reachable(client, False)
            log.warning("kafka client error", client=client, code=err.name(), reason=err.str())

        return on_error

    def stats_cb(self, client: str) -> Callable[[str], None]:
        """``stats_cb`` for ``client``: broker reachability, per-partition lag, queue depth.

        Lag is librdkafka's ``consumer_lag`` (high watermark minus committed offset;
        librdkafka ``STATISTICS.md``, "partitions").
        """

        def on_stats(raw: str) -> None:
            stats = orjson.loads(raw)
            brokers = stats.get("brokers", {}).values()
            up = any(b.get("state") == "UP" for b in brokers if b.get("nodeid", -1) >= 0)
            self._health.set_reachable(client, up)
            self.connected = self.connected or up
            if client == "producer":
                self._metrics.queue.set(stats.get("msg_cnt", 0))
                return
            for topic, tstats in stats.get("topics", {}).items():
                for partition, pstats in tstats.get("partitions", {}).items():
                    lag = pstats.get("consumer_lag", -1)
                    if (
                        partition != "-1"
                        and lag >= 0
                        and (topic, int(partition)) in self._health.assigned
                    ):
                        self._metrics.set_lag(topic, int(partition), lag)

        return on_stats


def build_consumer(conf: dict[str, Any], events: ClientEvents) -> Consumer:
    """Consumer from a librdkafka dict with our callbacks and logger attached."""
    return Consumer(
        {**conf, "error_cb": events.error_cb("consumer"), "stats_cb": events.stats_cb("consumer")},
        logger=librdkafka_logger(),
    )


def build_producer(conf: dict[str, Any], events: ClientEvents) -> Producer:
    """Producer from a librdkafka dict with delivery, error and stats callbacks and logger."""
    return Producer(
        {
            **conf,
            "on_delivery": events.on_delivery,
            "error_cb": events.error_cb("producer"),
            "stats_cb": events.stats_cb("producer"),
        },
        logger=librdkafka_logger(),
    )


def clean_error_message(text: str, limit: int = MAX_ERROR_MESSAGE_CHARS) -> str:
    """Bound ``text`` to ``limit`` characters, control characters escaped (``\\xNN``)."""
    return printable(text, limit)


_OFFSET_HEADER = HEADER_PREFIX + "source.offset"


@functools.lru_cache(maxsize=1024)
def _constant_headers(topic: str, partition: int, schema_version: int) -> Headers:
    return [
        ("content-type", CONTENT_TYPE),
        (HEADER_PREFIX + "schema.version", b"%d" % schema_version),
        (HEADER_PREFIX + "source.topic", topic.encode()),
        (HEADER_PREFIX + "source.partition", b"%d" % partition),
    ]


def output_headers(topic: str, partition: int, offset: int, schema_version: int) -> Headers:
    """Headers of an enriched record: content type, schema version, source coordinates.

    Only the offset header is built per message; the rest is cached per partition.
    """
    return [*_constant_headers(topic, partition, schema_version), (_OFFSET_HEADER, b"%d" % offset)]


UNREADABLE_HEADERS = HEADER_PREFIX + "original.headers.unreadable"


def _header_value(value: object) -> bytes | None:
    if value is None or isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode("utf-8", "surrogatepass")
    return str(value).encode("utf-8", "replace")


def _header_name(name: object) -> str:
    text = str(name)
    return text if text.isascii() else text.encode("utf-8", "replace").decode("utf-8")


def message_headers(msg: Message) -> Headers:
    """A message's headers as ``(name, bytes or None)`` pairs (empty when none).

    Consumed messages carry a list of ``(str, bytes | None)``; anything else a client or
    a test may hand over (a dict, ``str`` or ``int`` values) is normalised, and headers
    the client cannot decode (a header name that is not UTF-8) become one
    ``bounce-processor.original.headers.unreadable`` header instead of an exception.
    """
    try:
        headers = msg.headers() or []
        items = headers.items() if isinstance(headers, dict) else headers
        return [(_header_name(name), _header_value(value)) for name, value in items]
    except (UnicodeError, ValueError, TypeError, SystemError) as exc:
        return [(UNREADABLE_HEADERS, type(exc).__name__.encode())]


def dead_letter_headers(msg: Message, error_class: str, message: str) -> Headers:
    """The processor's headers of a dead letter: error class and message, source, version.

    The original headers come first in the record (see
    :func:`processor.stream.dead_letter.fit_dead_letter`), untouched.

    :param error_class: ``PayloadError.error_class`` of the failure.
    :param message: error text; bounded and stripped of control characters here.
    """
    return [
        (HEADER_PREFIX + "error.class", error_class.encode()),
        (HEADER_PREFIX + "error.message", clean_error_message(message).encode()),
        (HEADER_PREFIX + "source.topic", (msg.topic() or "").encode()),
        (HEADER_PREFIX + "source.partition", str(msg.partition()).encode()),
        (HEADER_PREFIX + "source.offset", str(msg.offset()).encode()),
        (HEADER_PREFIX + "processor.version", __version__.encode()),
    ]


class Backpressure:
    """Produce that waits (serving delivery reports) while the local queue is full.

    A full queue slows consumption instead of dropping: ``produce`` retries after
    ``poll(wait)`` until it fits, beating the health heartbeat meanwhile.

    :param abandon: returns True when waiting must stop (shutdown grace exhausted).
    :raises StreamError: from :meth:`produce` when a failure is latched while waiting;
        :class:`DrainTimeoutError` when ``abandon()`` turns True.
    """

    def __init__(
        self,
        producer: Producer,
        events: ClientEvents,
        health: HealthState,
        abandon: Callable[[], bool],
        wait: float = 0.05,
    ) -> None:
        self._producer = producer
        self._events = events
        self._health = health
        self._abandon = abandon
        self._wait = wait
        self.waits = 0

    def produce(
        self,
        topic: str,
        value: bytes | None,
        key: bytes | None,
        headers: Headers,
        timestamp: int = 0,
    ) -> None:
        """Enqueue one record, waiting while the producer queue is full."""
        while True:
            try:
                self._producer.produce(topic, value, key, headers=headers, timestamp=timestamp)
                return
            except BufferError as exc:
                self.waits += 1
                self._producer.poll(self._wait)
                self._health.beat()
                self._events.raise_if_failed()
                if self._abandon():
                    raise DrainTimeoutError(
                        "shutdown grace period exhausted while the producer queue was full"
                    ) from exc


def monotonic_deadline(seconds: float) -> Callable[[], float]:
    """Function returning the seconds left until ``seconds`` from now (never negative)."""
    end = time.monotonic() + seconds
    return lambda: max(0.0, end - time.monotonic())
