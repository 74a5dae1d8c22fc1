"""Kafka stream processor: consume delivery events, classify, produce enriched records.

Modules: :mod:`~processor.stream.config` (settings, librdkafka passthrough),
:mod:`~processor.stream.pipeline` (the loop), :mod:`~processor.stream.transform` (pure
per-message work), :mod:`~processor.stream.checkpoint` (flush-then-commit),
:mod:`~processor.stream.kafka_io` (clients, callbacks, headers, backpressure),
:mod:`~processor.stream.metrics`, :mod:`~processor.stream.health`,
:mod:`~processor.stream.logs`, :mod:`~processor.stream.service` (``run``),
:mod:`~processor.stream.tools` (``produce``, ``tail``), :mod:`~processor.stream.broker`
(embedded Tansu broker), :mod:`~processor.stream.cli` (click commands).
Needs confluent-kafka; the core (:mod:`processor.enrich`) does not.
"""
