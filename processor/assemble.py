"""Delivery event + classification -> :class:`~processor.model.EnrichedRecord`.

One recipient's record: the event's own fields, the meanings of its codes
(``processor.smtp.codes``), the classifier's decision, and the versions of the
record contract and of the classifier.
"""

from __future__ import annotations

from hashlib import blake2b

from processor import __version__
from processor.classifier import classification_text, classify_event
from processor.classifier.policy import Policy
from processor.model import DeliveryEvent, EnrichedRecord
from processor.smtp.codes import enhanced_status, reply_code
from processor.smtp.extract import extract_smtp_command

__all__ = [
    "CLASSIFIER_VERSION",
    "EVENT_ID_HASH",
    "MAX_DIAGNOSTIC_CHARS",
    "SCHEMA_VERSION",
    "bounded_diagnostic",
    "enrich_event",
    "event_id",
]

SCHEMA_VERSION = 1
"""Version of the output record contract (``schemas/enriched-record.v1.json``)."""

CLASSIFIER_VERSION = __version__
"""Version stamped on every record; changes whenever rules or policy change."""

MAX_DIAGNOSTIC_CHARS = 2_000
"""Diagnostic text longer than this is cut and marked with ``" [truncated]"``."""


EVENT_ID_HASH = blake2b(digest_size=16)
"""An empty BLAKE2b-128 state; ``copy()`` it per event (cheaper than a new one)."""


def event_id(identity: bytes) -> str:
    """The record's ``event_id``: BLAKE2b-128 of the event's identity, 32 hex digits."""
    digest = EVENT_ID_HASH.copy()
    digest.update(identity)
    return digest.hexdigest()


def bounded_diagnostic(text: str | None) -> str | None:
    """``text`` cut to :data:`MAX_DIAGNOSTIC_CHARS` characters and marked, or as given."""
    if text is None or len(text) <= MAX_DIAGNOSTIC_CHARS:
        return text
    return text[:MAX_DIAGNOSTIC_CHARS] + " [truncated]"


def _domain(recipient: str | None) -> str | None:
    """Lowercased domain part of an address, or ``None``."""
    if recipient:
        domain = recipient.rpartition("@")[2]
        if domain is not recipient and domain:
            return domain.lower()
    return None


def enrich_event(event: DeliveryEvent, policy: Policy) -> EnrichedRecord:
    """Classify one event and build its output record.

    The ``event_id`` is a BLAKE2b-128 hex digest of the event's identity (the
    log line, or the canonical JSON event plus recipient): the same input
    always gives the same id, so downstream services can deduplicate.
    """
    evidence, decision = classify_event(event, policy)
    recipient = event.recipient
    enhanced = evidence.enhanced_code
    reply = evidence.reply_code
    # Positional arguments in EnrichedRecord's field order: this runs per recipient.
    return EnrichedRecord(
        SCHEMA_VERSION,
        event_id(event.identity),
        event.source_format,
        event.event_time,
        recipient,
        _domain(recipient),
        event.original_recipient,
        event.sender,
        event.queue_id,
        event.mta_host,
        event.mta_daemon,
        event.relay,
        event.delay_seconds,
        event.status,
        event.probe,
        None if enhanced is None else enhanced_status(enhanced),
        evidence.enhanced_source,
        event.mta_dsn,
        None if reply is None else reply_code(reply),
        event.smtp_command or extract_smtp_command(classification_text(event)),
        decision.verdict,
        decision.reason,
        decision.action,
        decision.rule_id,
        decision.explanation,
        bounded_diagnostic(event.diagnostic),
        event.remote_mta,
        event.original_message,
        event.platform,
        event.platform_classification,
        CLASSIFIER_VERSION,
    )
