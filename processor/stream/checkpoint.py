"""At-least-once checkpoint: flush the producer, then commit the consumed offsets.

An input offset is committed only after every record derived from it (or its
dead-letter copy) has been acknowledged: ``Producer.flush()`` must return 0 and no
delivery failure may be latched before ``Consumer.commit(offsets, asynchronous=False)``.
Shape: quix-streams ``checkpointing/checkpoint.py``; confluent-kafka ``examples/consumer.py``
(explicit offsets, no auto-commit).

The loop talks to a checkpoint through :class:`Checkpoint` only, so a transactional
variant (``send_offsets_to_transaction`` + ``commit_transaction``, confluent-kafka
``examples/eos_transactions.py``) can replace this one without touching the loop.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

from confluent_kafka import Consumer, KafkaException, Producer, TopicPartition

from processor.stream.kafka_io import ClientEvents, FatalKafkaError
from processor.stream.logs import get_logger

log = get_logger(__name__)

#: (topic, partition) -> next offset to consume (last processed offset + 1).
Positions = dict[tuple[str, int], int]


class Checkpoint(Protocol):
    """What the loop needs from a checkpoint strategy."""

    pending: Positions

    def begin(self) -> None:
        """Called before a batch's records are produced (a transaction would start here)."""

    def commit(self, timeout: float, only: Iterable[tuple[str, int]] | None = None) -> bool:
        """Make the pending positions durable; ``False`` when postponed (retry later)."""

    def forget(self, partitions: Iterable[tuple[str, int]]) -> None:
        """Drop pending positions of partitions this instance no longer owns."""


class AtLeastOnceCheckpoint:
    """Flush-then-commit checkpoint for explicit offsets.

    :param consumer: the loop's consumer (``enable.auto.commit=false``).
    :param producer: the producer whose deliveries must complete before a commit.
    :param events: the delivery-error latch, checked after every flush.
    """

    def __init__(self, consumer: Consumer, producer: Producer, events: ClientEvents) -> None:
        self._consumer = consumer
        self._producer = producer
        self._events = events
        self.pending: Positions = {}
        self.commits = 0

    def begin(self) -> None:
        """Nothing to open in at-least-once mode."""

    def commit(self, timeout: float, only: Iterable[tuple[str, int]] | None = None) -> bool:
        """Flush, then synchronously commit the pending positions (all, or ``only`` those).

        :param timeout: seconds to wait for the producer queue to drain.
        :returns: True when committed (or nothing was pending); False when the flush
            did not drain in time or the broker refused a retriable commit.
        :raises StreamError: a latched delivery failure, or a fatal commit error.
        """
        keys = list(self.pending) if only is None else [k for k in only if k in self.pending]
        if not keys:
            return True
        remaining = self._producer.flush(timeout)
        self._events.raise_if_failed()
        if remaining:
            log.warning("commit postponed: producer queue not drained", queued=remaining)
            return False
        offsets = [TopicPartition(topic, part, self.pending[(topic, part)]) for topic, part in keys]
        try:
            result = self._consumer.commit(offsets=offsets, asynchronous=False)
        except KafkaException as exc:
            error = exc.args[0]
            if error.fatal():
                raise FatalKafkaError(f"commit: {error.name()}: {error.str()}") from exc
            log.warning("commit failed, will retry", code=error.name(), reason=error.str())
            return False
        failed = 0
        for tp in result or []:
            key = (tp.topic, tp.partition)
            if tp.error is not None:
                failed += 1
                log.warning(
                    "commit refused for a partition",
                    topic=tp.topic,
                    partition=tp.partition,
                    code=tp.error.name(),
                )
            elif self.pending.get(key) == tp.offset:
                del self.pending[key]
        self.commits += 1
        return failed == 0

    def forget(self, partitions: Iterable[tuple[str, int]]) -> None:
        """Drop pending positions (the next owner re-reads from the last commit)."""
        for key in partitions:
            self.pending.pop(key, None)
