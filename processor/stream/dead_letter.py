"""Dead letters that always fit, and dead-letter logs that never flood.

Two limits the loop needs so that one bad message can neither stop it nor drown the logs:

- :func:`fit_dead_letter` bounds a dead-letter record to the largest record the producer
  and broker accept (``--max-record-bytes``). A payload rejected for its size (10 MB, say)
  would otherwise be rejected again by the producer (``MSG_SIZE_TOO_LARGE``), stopping the
  loop on the same message after every restart. The start of the original value is kept
  (what a person needs to see what it was), and headers say what was cut and how big it was.
- :class:`DeadLetterLog` logs the first dead letters of each interval one by one and the
  rest as one summary per interval, counted per error class. It never logs payload text.

Sizes follow the Kafka record format (KIP-82 headers, ``DefaultRecord``): a record's size
here is key + value + every header name and value, the part librdkafka checks against
``message.max.bytes`` (librdkafka ``rd_kafka_msg_new0``); the per-record framing is covered
by :data:`FRAMING_ALLOWANCE`.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any

from processor.stream.kafka_io import HEADER_PREFIX, Headers

TRUNCATED_HEADER = HEADER_PREFIX + "truncated"
"""Comma-separated parts that were cut to fit: ``value``, ``headers``, ``key``."""
ORIGINAL_VALUE_BYTES_HEADER = HEADER_PREFIX + "original.value.bytes"
ORIGINAL_KEY_BYTES_HEADER = HEADER_PREFIX + "original.key.bytes"
ORIGINAL_HEADER_COUNT_HEADER = HEADER_PREFIX + "original.header.count"

#: Bytes kept free for record framing (lengths, attributes, timestamp and offset deltas).
FRAMING_ALLOWANCE = 256
#: Bytes reserved for the truncation headers themselves.
_TRUNCATION_HEADERS_ALLOWANCE = 160


def header_bytes(headers: Sequence[tuple[str, str | bytes | None]]) -> int:
    """Size of ``headers`` in a record: every name and value (``None`` counts 0)."""
    total = 0
    for name, value in headers:
        total += len(name.encode()) + (0 if value is None else len(value))
    return total


HeaderItems = Sequence[tuple[str, str | bytes | None]]


def record_bytes(key: bytes | None, value: bytes | None, headers: HeaderItems) -> int:
    """Size that counts against ``message.max.bytes``: key + value + headers."""
    return len(key or b"") + len(value or b"") + header_bytes(headers)


def fit_dead_letter(
    key: bytes | None,
    value: bytes | None,
    original_headers: HeaderItems,
    error_headers: HeaderItems,
    limit: int,
) -> tuple[bytes | None, bytes | None, Headers]:
    """Key, value and headers of a dead-letter record no larger than ``limit`` bytes.

    Unchanged when it fits. Otherwise the value is cut to its first bytes, then (only if
    still too large) the original headers are dropped, then the key is cut; the added
    headers ``bounce-processor.truncated`` (``value``, ``headers``, ``key``) and
    ``bounce-processor.original.value.bytes`` / ``.original.key.bytes`` /
    ``.original.header.count`` record what was cut and the original sizes.

    :param error_headers: the processor's own headers (error class, bounded message,
        source coordinates); always kept.
    :param limit: bytes, as from ``--max-record-bytes``; must exceed the error headers
        plus :data:`FRAMING_ALLOWANCE` (the settings enforce at least 4096).
    """
    budget = limit - FRAMING_ALLOWANCE
    if record_bytes(key, value, original_headers) + header_bytes(error_headers) <= budget:
        return key, value, [*original_headers, *error_headers]
    budget -= header_bytes(error_headers) + _TRUNCATION_HEADERS_ALLOWANCE
    cut: list[str] = []
    notes: Headers = []
    headers = original_headers
    room = budget - len(key or b"") - header_bytes(headers)
    if room < 0 and headers:
        cut.append("headers")
        notes.append((ORIGINAL_HEADER_COUNT_HEADER, b"%d" % len(headers)))
        headers = []
        room = budget - len(key or b"")
    if room < 0 and key is not None:
        cut.append("key")
        notes.append((ORIGINAL_KEY_BYTES_HEADER, b"%d" % len(key)))
        key = key[: max(0, budget // 2)]
        room = budget - len(key)
    if value is not None and len(value) > room:
        cut.insert(0, "value")
        notes.insert(0, (ORIGINAL_VALUE_BYTES_HEADER, b"%d" % len(value)))
        value = value[: max(0, room)]
    notes.insert(0, (TRUNCATED_HEADER, ",".join(cut).encode()))
    return key, value, [*headers, *error_headers, *notes]


class DeadLetterLog:
    """Rate-limited warnings about dead letters: a burst, then one summary per interval.

    Within each ``interval`` seconds the first ``burst`` dead letters get one warning each
    (error class and source coordinates, never payload text); the others are counted per
    error class and reported by :meth:`flush` as one ``dead letters suppressed`` warning
    once the interval is over. The ``messages_dead_lettered_total`` metric counts them all.

    :param log: a structlog logger.
    :param burst: individual warnings per interval.
    :param interval: seconds.
    :param clock: monotonic clock in seconds (injectable for tests).
    """

    def __init__(
        self,
        log: Any,
        burst: int = 10,
        interval: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._log = log
        self._burst = burst
        self._interval = interval
        self._clock = clock
        self._window_start = clock()
        self._logged = 0
        self.suppressed: Counter[str] = Counter()

    def record(self, error_class: str, topic: str | None, partition: int, offset: int) -> None:
        """Note one dead letter; warn about it unless this interval's burst is used up."""
        self.flush()
        if self._logged < self._burst:
            self._logged += 1
            self._log.warning(
                "dead-lettering message",
                error_class=error_class,
                topic=topic,
                partition=partition,
                offset=offset,
            )
        else:
            self.suppressed[error_class] += 1

    def flush(self) -> None:
        """Start a new interval when the current one is over, summarising what was held back."""
        now = self._clock()
        if now - self._window_start < self._interval:
            return
        if self.suppressed:
            self._log.warning(
                "dead letters suppressed from the log",
                count=sum(self.suppressed.values()),
                by_error_class=dict(self.suppressed),
                interval_seconds=self._interval,
            )
            self.suppressed.clear()
        self._window_start = now
        self._logged = 0
