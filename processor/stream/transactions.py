"""Exactly-once checkpoint: records, dead letters and consumed offsets in one Kafka transaction.

The loop talks to it through :class:`~processor.stream.checkpoint.Checkpoint`:

- :meth:`TransactionalCheckpoint.begin` opens a transaction before a batch's records are
  produced (``begin_transaction``) and notes, per partition, the first offset the
  transaction consumed (where to rewind to if it aborts).
- :meth:`~TransactionalCheckpoint.commit` adds the consumed positions to the transaction
  (``send_offsets_to_transaction`` with the consumer's group metadata, KIP-447) and commits
  it (``commit_transaction``, which flushes the producer first). Outputs and offsets become
  visible together, or not at all.
- An abortable error (``KafkaError.txn_requires_abort()``) aborts the transaction and seeks
  the consumer back to the first offset of the aborted transaction on every partition it
  still owns, so those messages are processed again in a new transaction. More than
  :data:`MAX_CONSECUTIVE_ABORTS` aborts in a row stop the loop (``StreamError``).
- A retriable error (a timeout while the broker is away) retries the same call until the
  commit budget is spent; a fatal error, or being fenced by a newer producer with the same
  ``transactional.id``, stops the loop at once.

Zombie fencing: ``init_transactions`` bumps the producer epoch of the instance's
``transactional.id`` (KIP-98), aborting whatever its previous incarnation left open and
making that incarnation's further writes fail with ``PRODUCER_FENCED``. Consumer group
generation checks on ``TxnOffsetCommit`` (KIP-447, Kafka 2.5+) fence an instance that lost
its partitions. Shape: confluent-kafka-python ``examples/eos_transactions.py``; error
questions from ``confluent_kafka/cimpl.pyi`` (``fatal``, ``retriable``, ``txn_requires_abort``).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence

from confluent_kafka import Consumer, KafkaError, KafkaException, Message, Producer, TopicPartition

from processor.errors import StreamError
from processor.stream.checkpoint import Positions
from processor.stream.kafka_io import ClientEvents, FatalKafkaError
from processor.stream.logs import get_logger

log = get_logger(__name__)

#: Aborts in a row (no commit in between) after which the loop stops.
MAX_CONSECUTIVE_ABORTS = 5
#: Seconds a checkpoint keeps retrying a retriable commit before the loop stops.
COMMIT_BUDGET_SECONDS = 60.0
#: Seconds per transactional call attempt (init, send offsets, commit, abort).
CALL_TIMEOUT_SECONDS = 10.0
#: Seconds an abort keeps being retried before the loop stops. By then the transaction
#: coordinator has aborted the transaction itself (librdkafka's ``transaction.timeout.ms``
#: default is 60 s), and a broker that keeps dropping the coordinator connection has
#: most likely fenced this producer without saying so: a restart settles it.
ABORT_BUDGET_SECONDS = 60.0

_FENCED_CODES = frozenset(
    {
        KafkaError._FENCED,
        KafkaError.PRODUCER_FENCED,
        KafkaError.INVALID_PRODUCER_EPOCH,
        KafkaError.TRANSACTIONAL_ID_AUTHORIZATION_FAILED,
    }
)


class ProducerFencedError(StreamError):
    """A newer instance with the same ``transactional.id`` took over; this one must stop."""


class TransactionAbortedError(StreamError):
    """Transactions kept aborting (:data:`MAX_CONSECUTIVE_ABORTS` in a row), or an abort
    did not complete within :data:`ABORT_BUDGET_SECONDS`."""


def _error(exc: KafkaException) -> KafkaError:
    error = exc.args[0]
    if isinstance(error, KafkaError):
        return error
    return KafkaError(KafkaError._FAIL, str(error))


def _describe(error: KafkaError) -> str:
    return f"{error.name()}: {error.str()}"


class TransactionalCheckpoint:
    """Checkpoint that commits outputs and input offsets atomically (exactly-once mode).

    :param consumer: the loop's consumer (``enable.auto.commit=false``, ``read_committed``).
    :param producer: a producer configured with ``transactional.id``.
    :param events: the loop's failure latch (checked between transactional calls).
    :param beat: called while waiting, so liveness does not flag a long retry as a stall.
    :param stopping: True once the loop is shutting down: a commit then gets only its
        ``timeout`` (the grace period), not the retry budget.
    :param commit_budget: seconds to keep retrying a retriable commit.
    """

    def __init__(
        self,
        consumer: Consumer,
        producer: Producer,
        events: ClientEvents,
        beat: Callable[[], None] = lambda: None,
        stopping: Callable[[], bool] = lambda: False,
        commit_budget: float = COMMIT_BUDGET_SECONDS,
    ) -> None:
        self._consumer = consumer
        self._producer = producer
        self._events = events
        self._beat = beat
        self._stopping = stopping
        self._commit_budget = commit_budget
        self.pending: Positions = {}
        self._rewind: Positions = {}
        self._open = False
        self._offsets_sent = False
        self._aborts_in_row = 0
        self.commits = 0
        self.aborts = 0

    def init(self, stopping: Callable[[], bool]) -> bool:
        """``init_transactions``, retried while the transaction coordinator is unreachable.

        Fences older producers with the same ``transactional.id`` and aborts their open
        transaction. Returns False when ``stopping()`` turned True before it succeeded.

        :raises StreamError: fenced, fatal, or a latched client failure (bad credentials).
        """
        while not stopping():
            try:
                self._producer.init_transactions(CALL_TIMEOUT_SECONDS)
                return True
            except KafkaException as exc:
                error = _error(exc)
                self._raise_if_final(error, "init_transactions")
                log.warning("waiting for the transaction coordinator", reason=_describe(error))
            self._events.raise_if_failed()
            self._beat()
        return False

    def begin(self, messages: Sequence[Message] = ()) -> None:
        """Open a transaction unless one is open; note each partition's first offset in it."""
        if not self._open:
            try:
                self._producer.begin_transaction()
            except KafkaException as exc:
                error = _error(exc)
                self._raise_if_final(error, "begin_transaction")
                raise StreamError(f"begin_transaction: {_describe(error)}") from exc
            self._open = True
            self._offsets_sent = False
        rewind = self._rewind
        for msg in messages:
            if msg.error() is None:
                # A message without an error always carries its coordinates.
                key: tuple[str, int] = (msg.topic(), msg.partition())  # type: ignore[assignment]
                if key not in rewind:
                    rewind[key] = msg.offset()  # type: ignore[assignment]

    def commit(self, timeout: float, only: Iterable[tuple[str, int]] | None = None) -> bool:
        """Commit the open transaction with every pending position (``only`` is ignored:
        a transaction commits whole).

        :param timeout: seconds for each attempt; retriable failures are retried until the
            commit budget is spent (while stopping: until ``timeout`` is spent).
        :returns: True when committed (or nothing was open); False when the transaction
            was aborted and the consumer rewound (the messages will be processed again),
            or, while stopping, when the grace period ran out (it is aborted on close).
        :raises StreamError: fenced, fatal, out of budget, or aborting too often.
        """
        del only
        if not self._open:
            return True
        stopping = self._stopping()
        deadline = time.monotonic() + (timeout if stopping else max(timeout, self._commit_budget))
        attempt = max(0.5, min(timeout, CALL_TIMEOUT_SECONDS))
        while True:
            self._events.raise_if_failed()
            try:
                self._commit_once(attempt)
            except KafkaException as exc:
                error = _error(exc)
                self._raise_if_final(error, "commit")
                if error.txn_requires_abort():
                    self.abort(f"commit failed: {_describe(error)}")
                    return False
                if time.monotonic() >= deadline:
                    if stopping:
                        log.warning("transaction not committed in the grace period")
                        return False
                    raise StreamError(
                        f"transaction commit did not complete in {self._commit_budget:.0f}s: "
                        f"{_describe(error)}"
                    ) from exc
                log.warning("transaction commit will be retried", reason=_describe(error))
                self._beat()
                continue
            self._done()
            return True

    def _commit_once(self, timeout: float) -> None:
        if self.pending and not self._offsets_sent:
            offsets = [TopicPartition(t, p, o) for (t, p), o in self.pending.items()]
            self._producer.send_offsets_to_transaction(
                offsets, self._consumer.consumer_group_metadata(), timeout
            )
            self._offsets_sent = True
        self._producer.commit_transaction(timeout)

    def _done(self) -> None:
        self._open = False
        self.pending.clear()
        self._rewind.clear()
        self._aborts_in_row = 0
        self.commits += 1

    def abort(self, reason: str) -> None:
        """Abort the open transaction and rewind the consumer to its first offsets.

        :raises StreamError: fenced or fatal while aborting, too many aborts in a row, or
            an abort still not complete after :data:`ABORT_BUDGET_SECONDS`.
        """
        if not self._open:
            return
        log.warning("aborting transaction; its input will be processed again", reason=reason)
        deadline = time.monotonic() + ABORT_BUDGET_SECONDS
        while True:
            try:
                self._producer.abort_transaction(CALL_TIMEOUT_SECONDS)
                break
            except KafkaException as exc:
                error = _error(exc)
                self._raise_if_final(error, "abort")
                if time.monotonic() >= deadline:
                    raise TransactionAbortedError(
                        f"transaction abort not complete after {ABORT_BUDGET_SECONDS:.0f} s "
                        f"({_describe(error)}): the transaction coordinator is unreachable or "
                        "has fenced this producer (a newer instance with the same "
                        "transactional.id); stopping so a restart settles the transaction"
                    ) from exc
                log.warning("transaction abort will be retried", reason=_describe(error))
                self._events.raise_if_failed()
                self._beat()
        self._rewind_consumer()
        self._open = False
        self.pending.clear()
        self._rewind.clear()
        self.aborts += 1
        self._aborts_in_row += 1
        if self._aborts_in_row > MAX_CONSECUTIVE_ABORTS:
            raise TransactionAbortedError(
                f"{self._aborts_in_row} transactions aborted in a row; last: {reason}"
            )

    def _rewind_consumer(self) -> None:
        assigned = {(tp.topic, tp.partition) for tp in self._consumer.assignment()}
        for (topic, partition), offset in self._rewind.items():
            if (topic, partition) not in assigned:
                continue
            try:
                self._consumer.seek(TopicPartition(topic, partition, offset))
            except KafkaException as exc:
                # The partition is being revoked: its next owner starts from the commit.
                log.warning(
                    "rewind failed", topic=topic, partition=partition, reason=str(exc.args[0])
                )

    def forget(self, partitions: Iterable[tuple[str, int]]) -> None:
        """Partitions left this instance: abort if the open transaction holds their work.

        Their outputs must not be committed once another instance may process the same
        input; the other partitions' work in the transaction is rewound and redone.
        """
        gone = [key for key in partitions if key in self.pending or key in self._rewind]
        if gone and self._open:
            for key in gone:
                self._rewind.pop(key, None)
            self.abort(f"partitions left this instance with uncommitted work: {sorted(gone)}")
        for key in gone:
            self.pending.pop(key, None)
            self._rewind.pop(key, None)

    def close(self) -> None:
        """Best effort on the way out: abort a transaction left open (downstream
        ``read_committed`` consumers would otherwise wait for the broker's timeout)."""
        if not self._open:
            return
        try:
            self._producer.abort_transaction(CALL_TIMEOUT_SECONDS)
        except KafkaException as exc:
            log.warning("abort on close failed", reason=_describe(_error(exc)))
        self._open = False

    def _raise_if_final(self, error: KafkaError, call: str) -> None:
        if error.code() in _FENCED_CODES:
            raise ProducerFencedError(
                f"{call}: fenced by a newer instance with the same transactional.id "
                f"({_describe(error)}); this instance stops without committing"
            )
        if error.fatal():
            raise FatalKafkaError(f"{call}: {_describe(error)}")
