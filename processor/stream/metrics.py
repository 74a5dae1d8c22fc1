"""Prometheus metrics of the stream processor: one :class:`Metrics` object, injected registry.

Names and labels are the dashboards' and alerts' API (docs/architecture.md, "Metric
names"); naming follows prometheus/docs ``docs/practices/naming.md`` (``_total``
counters, base units). Label values are bounded: codes outside the IANA / RFC 5321
tables collapse to ``unregistered`` / ``other``, absent codes are ``none``, and no
label ever carries an address, domain, queue ID or free text.

The hot loop never touches a metric per message: it fills a :class:`BatchTally`
(plain dict counts) and :meth:`Metrics.record_batch` applies it once per batch,
one cached child ``inc()`` per distinct label set.
"""

from __future__ import annotations

import contextlib
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry, Gauge, Histogram
from prometheus_client import Counter as PromCounter

from processor.model import Verdict
from processor.record import RecordLabels

PREFIX = "bounce_processor"

#: (delivery status, verdict, reason, enhanced code label, reply code label) of one record;
#: the code labels come from ``processor.smtp.codes.enhanced_metric_label`` /
#: ``reply_metric_label`` (bounded).

_DURATION_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
_BATCH_BUCKETS = (1, 10, 50, 100, 250, 500, 1000, 2500, 5000, 10000)
_FAILURE_VERDICTS = (Verdict.SOFT.value, Verdict.HARD.value)
_ALL_VERDICTS = tuple(v.value for v in Verdict)
_ENHANCED_COLLAPSED = ("unregistered", "none")
_REPLY_COLLAPSED = ("other", "none")
_COLLAPSED_LABELS = frozenset(_ENHANCED_COLLAPSED + _REPLY_COLLAPSED)


@dataclass(slots=True)
class BatchTally:
    """Counts gathered while one batch is processed; applied by :meth:`Metrics.record_batch`.

    :param consumed: messages per input topic.
    :param produced: enriched records produced.
    :param skipped: lines that are not delivery events.
    :param dead_lettered: dead-lettered messages per ``error_class``.
    :param records: one count per distinct :data:`RecordLabels`.
    """

    consumed: Counter[str] = field(default_factory=Counter)
    produced: int = 0
    skipped: int = 0
    dead_lettered: Counter[str] = field(default_factory=Counter)
    records: Counter[RecordLabels] = field(default_factory=Counter)


def _plausible_verdicts(label: str) -> tuple[str, ...]:
    """Verdicts worth a zero series for a code label: 2xx/2.x.x succeed, 4/5 fail."""
    if label in _COLLAPSED_LABELS:
        return _ALL_VERDICTS
    return (Verdict.SUCCESS.value,) if label[:1] in {"2", "3"} else _FAILURE_VERDICTS


class Metrics:
    """Every metric of the processor, registered on ``registry``.

    :param registry: the registry to register on (``prometheus_client.REGISTRY`` in the
        service, a fresh ``CollectorRegistry()`` in tests).
    :param version: processor version for ``build_info``.
    :param classifier_version: classifier rule-set version for ``build_info``.
    """

    def __init__(
        self, registry: CollectorRegistry, *, version: str, classifier_version: str
    ) -> None:
        def counter(name: str, doc: str, labels: Iterable[str] = ()) -> PromCounter:
            return PromCounter(f"{PREFIX}_{name}", doc, tuple(labels), registry=registry)

        def gauge(name: str, doc: str, labels: Iterable[str] = ()) -> Gauge:
            return Gauge(f"{PREFIX}_{name}", doc, tuple(labels), registry=registry)

        # Messages read from the input topics.
        self.consumed = counter("messages_consumed_total", "Messages consumed.", ["topic"])
        # Enriched records written to the output topic.
        self.produced = counter("records_produced_total", "Enriched records produced.")
        # Input messages written to the dead-letter topic.
        self.dead_lettered = counter(
            "messages_dead_lettered_total",
            "Messages sent to the dead-letter topic.",
            ["error_class"],
        )
        # Log lines that are not delivery events (smtpd connect, cleanup, qmgr from=, ...).
        self.skipped = counter("lines_skipped_total", "Input lines that are not delivery events.")
        # Enriched records by MTA status, verdict and reason.
        self.events = counter(
            "delivery_events_total", "Delivery events classified.", ["status", "verdict", "reason"]
        )
        # Enriched records by RFC 3463 enhanced status code.
        self.enhanced = counter(
            "enhanced_status_total", "Records per enhanced status code.", ["code", "verdict"]
        )
        # Enriched records by RFC 5321 basic reply code.
        self.reply = counter(
            "reply_code_total", "Records per SMTP reply code.", ["code", "verdict"]
        )
        # Wall time to process one consumed batch.
        self.duration = Histogram(
            f"{PREFIX}_processing_duration_seconds",
            "Time to process one batch.",
            buckets=_DURATION_BUCKETS,
            registry=registry,
        )
        # Messages per consumed batch.
        self.batch_size = Histogram(
            f"{PREFIX}_batch_size_messages",
            "Messages per consumed batch.",
            buckets=_BATCH_BUCKETS,
            registry=registry,
        )
        # Consumer lag per assigned partition, from librdkafka statistics.
        self.lag = gauge("consumer_lag_messages", "Consumer lag.", ["topic", "partition"])
        # Partition assignment changes.
        self.rebalances = counter("rebalances_total", "Rebalance events.", ["event"])
        # Messages waiting in the producer's local queue.
        self.queue = gauge("producer_queue_messages", "Messages in the producer queue.")
        # Wall-clock time of the last processed batch.
        self.last_processed = gauge(
            "last_processed_timestamp_seconds", "Unix time of the last processed batch."
        )
        # 1 when /readyz answers ready.
        self.ready = gauge("ready", "1 when the processor is ready.")
        # Constant 1 carrying the versions.
        self.build_info = gauge(
            "build_info", "Build information.", ["version", "classifier_version"]
        )
        self.build_info.labels(version=version, classifier_version=classifier_version).set(1)
        self._preinitialise()

    def _preinitialise(self) -> None:
        """Create the series dashboards rely on at 0.

        Per-code series are not pre-created for every registered code: that would
        be about 400 series per metric, past Prometheus' cardinality guidance
        (prometheus/docs practices/instrumentation.md). A code's series appears
        the first time it is seen; the label set stays bounded by the registry.
        The collapsed values (``unregistered``, ``other``, ``none``) exist from the
        start so data-quality panels have a baseline.
        """
        for event in ("assign", "revoke", "lost"):
            self.rebalances.labels(event=event)
        for code in _ENHANCED_COLLAPSED:
            for verdict in _plausible_verdicts(code):
                self.enhanced.labels(code=code, verdict=verdict)
        for code in _REPLY_COLLAPSED:
            for verdict in _plausible_verdicts(code):
                self.reply.labels(code=code, verdict=verdict)

    def record_batch(self, tally: BatchTally, *, seconds: float, messages: int, now: float) -> None:
        """Apply one batch's counts: one ``inc`` per distinct label set.

        :param seconds: processing wall time of the batch.
        :param messages: messages in the batch.
        :param now: Unix time for ``last_processed_timestamp_seconds``.
        """
        for topic, count in tally.consumed.items():
            self.consumed.labels(topic=topic).inc(count)
        if tally.produced:
            self.produced.inc(tally.produced)
        if tally.skipped:
            self.skipped.inc(tally.skipped)
        for error_class, count in tally.dead_lettered.items():
            self.dead_lettered.labels(error_class=error_class).inc(count)
        events: Counter[tuple[str, str, str]] = Counter()
        enhanced: Counter[tuple[str, str]] = Counter()
        reply: Counter[tuple[str, str]] = Counter()
        for (status, verdict, reason, enh, rep), count in tally.records.items():
            events[(status, verdict, reason)] += count
            enhanced[(enh, verdict)] += count
            reply[(rep, verdict)] += count
        for (status, verdict, reason), count in events.items():
            self.events.labels(status=status, verdict=verdict, reason=reason).inc(count)
        for (code, verdict), count in enhanced.items():
            self.enhanced.labels(code=code, verdict=verdict).inc(count)
        for (code, verdict), count in reply.items():
            self.reply.labels(code=code, verdict=verdict).inc(count)
        self.duration.observe(seconds)
        self.batch_size.observe(messages)
        self.last_processed.set(now)

    def set_lag(self, topic: str, partition: int, lag: int) -> None:
        """Set the consumer lag (messages) of one partition."""
        self.lag.labels(topic=topic, partition=str(partition)).set(lag)

    def forget_partitions(self, partitions: Iterable[tuple[str, int]]) -> None:
        """Drop the lag series of partitions this instance no longer owns."""
        for topic, partition in partitions:
            with contextlib.suppress(KeyError):
                self.lag.remove(topic, str(partition))
