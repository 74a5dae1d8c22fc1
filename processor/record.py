"""Output records as bytes: JSON value, Kafka key, and the JSON Schema contract.

The value is one JSON object per record (orjson, UTF-8, no spaces); field
by field documentation is ``processor/schemas/enriched-record.v1.json``.
The key is the lowercased recipient address so one recipient's records stay
in order on one partition (``None`` when the event has no recipient, e.g. a
Postfix ``status=expired`` line, which names only the sender).
"""

from __future__ import annotations

from importlib import resources
from typing import Any

import orjson

from processor.model import EnrichedRecord
from processor.smtp.codes import enhanced_metric_label, reply_metric_label

__all__ = [
    "CONTENT_TYPE",
    "RecordLabels",
    "load_schema",
    "record_key",
    "record_labels",
    "serialize",
]

RecordLabels = tuple[str, str, str, str, str]
"""Metric labels of one record: delivery status, verdict, reason, enhanced code label,
reply code label (bounded: ``enhanced_metric_label``, ``reply_metric_label``)."""

CONTENT_TYPE = "application/json"
"""Value of the ``content-type`` header on output records."""


def serialize(record: EnrichedRecord) -> bytes:
    """Serialise a record to compact JSON bytes (enums as their values)."""
    return orjson.dumps(record)


def record_key(record: EnrichedRecord) -> bytes | None:
    """Kafka key: the lowercased recipient address as UTF-8, or ``None``."""
    recipient = record.recipient
    return recipient.lower().encode("utf-8", "replace") if recipient else None


def record_labels(record: EnrichedRecord) -> RecordLabels:
    """The metric labels the stream counts ``record`` under (:data:`RecordLabels`)."""
    return (
        record.delivery_status,
        record.verdict,
        record.reason,
        enhanced_metric_label(record.enhanced_status),
        reply_metric_label(record.reply_code),
    )


def load_schema(name: str = "enriched-record.v1.json") -> dict[str, Any]:
    """Load a packaged JSON Schema: ``enriched-record.v1.json`` or ``delivery-event.v1.json``."""
    text = resources.files("processor").joinpath("schemas", name).read_bytes()
    schema: dict[str, Any] = orjson.loads(text)
    return schema
