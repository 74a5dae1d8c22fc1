"""The stream loop: consume a batch -> transform -> produce records and dead letters -> checkpoint.

Delivery semantics (at-least-once):

- Offsets are committed by the :class:`~processor.stream.checkpoint.Checkpoint` on a
  timer (``commit_interval_seconds``): producer ``flush()`` must return 0, then a
  synchronous commit of the positions whose outputs were enqueued.
- Delivery failures and fatal client errors are latched by
  :class:`~processor.stream.kafka_io.ClientEvents` and stop the loop (exit non-zero;
  the orchestrator restarts the process, which re-reads from the last commit).
- Rebalance: on revoke the pending positions of the revoked partitions are flushed and
  committed (or abandoned when the flush cannot finish), on lost they are dropped.
- Stop (SIGTERM/SIGINT): no more fetching; drain and commit within the grace period;
  close the consumer (leaves the group).
- Bounded work: one batch (``batch_size`` messages) at a time; a full producer queue
  blocks the batch (backpressure) instead of dropping.
- Bounded records: an output record over ``max_record_bytes`` sends its input to the
  dead-letter topic instead; a dead letter over it is cut to fit
  (:mod:`processor.stream.dead_letter`), so no message can stop the loop for good.

Exactly-once mode (``guarantee = "exactly-once"``) swaps in
:class:`~processor.stream.transactions.TransactionalCheckpoint`: the same loop, with
records, dead letters and offsets committed in one Kafka transaction per checkpoint.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence

from confluent_kafka import Consumer, KafkaError, KafkaException, Message, TopicPartition

from processor.classifier.policy import Policy
from processor.errors import StreamError
from processor.stream.checkpoint import AtLeastOnceCheckpoint, Checkpoint
from processor.stream.config import KafkaConfig, Settings
from processor.stream.dead_letter import FRAMING_ALLOWANCE, DeadLetterLog, fit_dead_letter
from processor.stream.health import HealthState
from processor.stream.kafka_io import (
    Backpressure,
    ClientEvents,
    FatalKafkaError,
    ProduceError,
    build_consumer,
    build_producer,
    dead_letter_headers,
    message_headers,
    monotonic_deadline,
    output_headers,
)
from processor.stream.logs import get_logger
from processor.stream.metrics import BatchTally, Metrics
from processor.stream.transactions import TransactionalCheckpoint
from processor.stream.transform import transform

log = get_logger(__name__)

POLL_TIMEOUT_SECONDS = 0.25
CHECKPOINT_FLUSH_SECONDS = 5.0
#: Longest stretch spent on one batch before the rest is read again (and at most a
#: third of ``max.poll.interval.ms``): a batch of slow payloads (1 MB of invalid lines
#: costs seconds each) must not stall liveness or get the consumer evicted.
MAX_BATCH_SECONDS = 10.0
LIBRDKAFKA_MAX_POLL_INTERVAL_MS = 300_000
#: Bytes kept for an output record's headers (content type, schema version, source
#: topic up to 249 characters, partition, offset) within ``max_record_bytes``.
OUTPUT_HEADERS_ALLOWANCE = 512


class _AbortBatch(Exception):
    """A produce call found the transaction in an abortable state (exactly-once mode)."""


class Pipeline:
    """One consumer-producer loop over ``settings.input_topics``.

    :param settings: processor settings.
    :param kafka: librdkafka configuration.
    :param metrics: metrics to update once per batch.
    :param health: liveness/readiness state to report to.
    :param policy: site policy for the classifier, or ``None`` for the defaults.
    """

    def __init__(
        self,
        settings: Settings,
        kafka: KafkaConfig,
        metrics: Metrics,
        health: HealthState,
        policy: Policy | None = None,
    ) -> None:
        self._settings = settings
        self._metrics = metrics
        self._health = health
        self._policy = policy
        self._stop = threading.Event()
        self._grace_left = monotonic_deadline(float("inf"))
        self.events = ClientEvents(health, metrics)
        self._dead_letter_log = DeadLetterLog(log)
        self._max_record_bytes = min(settings.max_record_bytes, kafka.max_message_bytes())
        poll_interval_ms = kafka.consumer(settings.group_id).get(
            "max.poll.interval.ms", LIBRDKAFKA_MAX_POLL_INTERVAL_MS
        )
        self._batch_seconds = min(MAX_BATCH_SECONDS, int(poll_interval_ms) / 3000)
        self._transactions: TransactionalCheckpoint | None = None
        if settings.guarantee == "exactly-once":
            self._consumer: Consumer = build_consumer(
                kafka.exactly_once_consumer(settings.group_id), self.events
            )
            self._producer = build_producer(
                kafka.producer(transactional_id=settings.transactional_id()), self.events
            )
            self._transactions = TransactionalCheckpoint(
                self._consumer,
                self._producer,
                self.events,
                beat=health.beat,
                stopping=self._stop.is_set,
            )
            self.checkpoint: Checkpoint = self._transactions
        else:
            self._consumer = build_consumer(kafka.consumer(settings.group_id), self.events)
            self._producer = build_producer(kafka.producer(), self.events)
            self.checkpoint = AtLeastOnceCheckpoint(self._consumer, self._producer, self.events)
        self._backpressure = Backpressure(
            self._producer, self.events, health, abandon=lambda: self._grace_left() <= 0
        )

    def stop(self) -> None:
        """Ask the loop to stop (signal-handler safe): no more fetching, then drain."""
        if not self._stop.is_set():
            self._grace_left = monotonic_deadline(self._settings.shutdown_grace_seconds)
            self._health.stopping = True
            self._stop.set()

    def run(self) -> bool:
        """Run until :meth:`stop`; returns True when everything consumed was committed.

        :raises StreamError: on a latched delivery failure or a fatal Kafka error; the
            consumer is closed without committing anything past the failure.
        """
        try:
            if self._transactions is not None:
                log.info("exactly-once mode", transactional_id=self._settings.transactional_id())
                if not self._transactions.init(stopping=self._stop.is_set):
                    return True  # stopped before the coordinator answered: nothing consumed
            self._consumer.subscribe(
                list(self._settings.input_topics),
                on_assign=self._on_assign,
                on_revoke=self._on_revoke,
                on_lost=self._on_lost,
            )
            self._health.subscribed = True
            log.info("consuming", topics=self._settings.input_topics, group=self._settings.group_id)
            self._loop()
            return self._drain()
        finally:
            self._close()

    def _loop(self) -> None:
        interval = self._settings.commit_interval_seconds
        next_checkpoint = time.monotonic() + interval
        consume, batch_size = self._consumer.consume, self._settings.batch_size
        while not self._stop.is_set():
            self.events.raise_if_failed()
            messages = consume(batch_size, POLL_TIMEOUT_SECONDS)
            self._health.beat()
            if messages:
                self._process(messages)
            self._producer.poll(0)
            if time.monotonic() >= next_checkpoint:
                self.checkpoint.commit(CHECKPOINT_FLUSH_SECONDS)
                self._dead_letter_log.flush()
                next_checkpoint = time.monotonic() + interval

    def _process(self, messages: Sequence[Message]) -> None:
        started = time.perf_counter()
        tally = BatchTally()
        self.checkpoint.begin(messages)
        try:
            self._process_messages(messages, tally)
        except _AbortBatch as exc:
            # Exactly-once only: abort, rewind; the rest of the batch is read again.
            assert self._transactions is not None
            self._transactions.abort(str(exc))
        self._producer.poll(0)
        self._metrics.queue.set(len(self._producer))
        self._metrics.record_batch(
            tally, seconds=time.perf_counter() - started, messages=len(messages), now=time.time()
        )

    def _process_messages(self, messages: Sequence[Message], tally: BatchTally) -> None:
        pending = self.checkpoint.pending
        out_topic, max_bytes, policy = (
            self._settings.output_topic,
            self._settings.max_payload_bytes,
            self._policy,
        )
        zone = self._settings.syslog_timezone
        record_limit = self._max_record_bytes - FRAMING_ALLOWANCE - OUTPUT_HEADERS_ALLOWANCE
        produce, slow_produce = self._producer.produce, self._backpressure.produce
        records = tally.records
        clock = time.monotonic
        deadline = clock() + self._batch_seconds
        try:
            for index, msg in enumerate(messages):
                error = msg.error()
                if error is not None:
                    self._consumer_error(error)
                    continue
                # A message without an error always carries its coordinates.
                topic: str = msg.topic()  # type: ignore[assignment]
                partition: int = msg.partition()  # type: ignore[assignment]
                offset: int = msg.offset()  # type: ignore[assignment]
                ts_type, ts_ms = msg.timestamp()
                result = transform(
                    msg.value(),
                    policy=policy,
                    max_payload_bytes=max_bytes,
                    reference_time=ts_ms / 1000.0 if ts_type else None,
                    max_record_bytes=record_limit,
                    source_timezone=zone,
                )
                if result.outputs:
                    headers = output_headers(topic, partition, offset, result.schema_version)
                    for key, value in result.outputs:
                        try:
                            produce(out_topic, value, key, headers=headers)
                        except BufferError:
                            slow_produce(out_topic, value, key, headers)
                    for labels in result.labels:
                        records[labels] += 1
                    tally.produced += len(result.outputs)
                if result.error is not None:
                    self._dead_letter(msg, *result.error)
                    tally.dead_lettered[result.error[0]] += 1
                tally.skipped += result.skipped
                tally.consumed[topic] += 1
                pending[(topic, partition)] = offset + 1
                if clock() > deadline:
                    self._read_again(messages[index + 1 :])
                    return
        except KafkaException as exc:
            raise self._produce_failed(exc.args[0]) from exc

    def _read_again(self, rest: Sequence[Message]) -> None:
        """Seek each partition back to its first message in ``rest`` (not processed)."""
        self._health.beat()
        first: dict[tuple[str, int], int] = {}
        for msg in rest:
            if msg.error() is None:
                first.setdefault((msg.topic(), msg.partition()), msg.offset())  # type: ignore[arg-type]
        if not first:
            return
        for (topic, partition), offset in first.items():
            try:
                self._consumer.seek(TopicPartition(topic, partition, offset))
            except KafkaException as exc:  # being revoked: the next owner reads from the commit
                log.warning("seek failed", topic=topic, partition=partition, reason=str(exc))
        log.info(
            "batch over its time budget; the rest is read again",
            budget_seconds=self._batch_seconds,
            messages_left=len(rest),
        )

    def _produce_failed(self, error: KafkaError) -> Exception:
        """What a synchronous produce error means: abort the transaction, or stop."""
        if self._transactions is not None:
            if error.txn_requires_abort():
                return _AbortBatch(f"produce failed: {error.name()}: {error.str()}")
            if error.code() == KafkaError._STATE:
                return self._transactional_state_error(error)
        return ProduceError(f"produce failed: {error.name()}: {error.str()}")

    def _transactional_state_error(self, error: KafkaError) -> StreamError:
        """Name the cause when a transactional producer refuses to produce (``_STATE``).

        librdkafka refuses with "Erroneous state" once the producer has a fatal error,
        most often ``PRODUCER_FENCED``/``_FENCED``: a newer instance with the same
        ``transactional.id`` took over (KIP-98). The fatal error itself reaches
        ``error_cb`` on the next poll; it is the better message for an operator.
        """
        self._producer.poll(0)
        if self.events.failure is not None:
            return self.events.failure
        return ProduceError(
            f"produce refused: {error.name()}: {error.str()}: the transactional producer is "
            "in an error state (fenced by a newer instance with the same transactional.id, "
            "or its transaction failed); this instance stops and its successor carries on"
        )

    def _dead_letter(self, msg: Message, error_class: str, message: str) -> None:
        self._dead_letter_log.record(error_class, msg.topic(), msg.partition(), msg.offset())  # type: ignore[arg-type]
        key, value, headers = fit_dead_letter(
            msg.key(),
            msg.value(),
            message_headers(msg),
            dead_letter_headers(msg, error_class, message),
            self._max_record_bytes,
        )
        self._backpressure.produce(self._settings.dead_letter_topic, value, key, headers)

    def _consumer_error(self, error: KafkaError) -> None:
        if error.fatal():
            raise FatalKafkaError(f"consumer: {error.name()}: {error.str()}")
        log.warning("consumer error", code=error.name(), reason=error.str())

    def _drain(self) -> bool:
        """Final checkpoint within the grace period; True when nothing is left uncommitted."""
        self._health.stopping = True
        committed = self.checkpoint.commit(self._grace_left())
        log.info(
            "drained", committed=committed, uncommitted_partitions=len(self.checkpoint.pending)
        )
        return committed

    def _close(self) -> None:
        self._health.subscribed = False
        self.checkpoint.close()
        try:
            self._consumer.close()
        except (KafkaException, RuntimeError) as exc:
            log.warning("consumer close failed", reason=str(exc))

    # Rebalance callbacks run inside consume()/close(), between batches.

    def _on_assign(self, _consumer: Consumer, partitions: list[TopicPartition]) -> None:
        added = {(tp.topic, tp.partition) for tp in partitions}
        self.events.connected = True  # an assignment means the brokers answered
        self._health.assigned = self._health.assigned | added
        self._metrics.rebalances.labels(event="assign").inc()
        log.info("partitions assigned", partitions=sorted(added))

    def _on_revoke(self, _consumer: Consumer, partitions: list[TopicPartition]) -> None:
        revoked = [(tp.topic, tp.partition) for tp in partitions]
        self._metrics.rebalances.labels(event="revoke").inc()
        committed = False
        if self.events.failure is None:
            timeout = min(self._grace_left(), self._settings.shutdown_grace_seconds)
            try:
                committed = self.checkpoint.commit(timeout, only=revoked)
            except StreamError as exc:
                log.error("commit on revoke failed", reason=str(exc))
        self._release(revoked)
        log.info("partitions revoked", partitions=sorted(revoked), committed=committed)

    def _on_lost(self, _consumer: Consumer, partitions: list[TopicPartition]) -> None:
        lost = [(tp.topic, tp.partition) for tp in partitions]
        self._metrics.rebalances.labels(event="lost").inc()
        self._release(lost)
        log.warning(
            "partitions lost; their uncommitted work will be redone", partitions=sorted(lost)
        )

    def _release(self, partitions: list[tuple[str, int]]) -> None:
        self.checkpoint.forget(partitions)
        self._metrics.forget_partitions(partitions)
        self._health.assigned = self._health.assigned - set(partitions)
