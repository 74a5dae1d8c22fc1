"""Generic JSON delivery events, for producers that are not Postfix.

The contract is ``processor/schemas/delivery-event.v1.json``::

    {"recipient": "user@example.com", "status": "bounced",
     "enhanced_status": "5.1.1", "reply_code": 550,
     "diagnostic": "smtp; 550 5.1.1 user unknown",
     "timestamp": "2026-11-29T10:00:01Z", "sender": "news@example.org",
     "queue_id": "4F3C2A1B9D", "original_recipient": "...", "relay": "...", "mta_host": "..."}

``recipient`` (or ``recipients``, a list) is required; every other field is
optional. Unknown fields are ignored. Validation is hand-written here because
it runs per message on the hot path; the schema file documents the same rules
and the test suite checks they agree.
"""

from __future__ import annotations

from datetime import UTC, datetime
from hashlib import blake2b
from typing import Any

import orjson

from processor.errors import InvalidEventError
from processor.model import DeliveryEvent, DeliveryStatus
from processor.parse.syslog import to_rfc3339_utc
from processor.smtp.extract import normalise_enhanced

__all__ = ["STATUS_WORDS", "is_generic_event", "parse_generic_event"]

STATUS_WORDS: dict[str, DeliveryStatus] = {
    "sent": DeliveryStatus.SENT,
    "delivered": DeliveryStatus.SENT,
    "bounced": DeliveryStatus.BOUNCED,
    "failed": DeliveryStatus.FAILED,
    "deferred": DeliveryStatus.DEFERRED,
    "delayed": DeliveryStatus.DEFERRED,
    "expired": DeliveryStatus.EXPIRED,
    "softbounce": DeliveryStatus.SOFTBOUNCE,
    "discarded": DeliveryStatus.DISCARDED,
}
"""Accepted ``status`` values (case-insensitive) and the MTA outcome each means."""

_TEXT_FIELDS = ("sender", "queue_id", "original_recipient", "relay", "mta_host", "diagnostic")
_MAX_RECIPIENTS = 100_000
_MILLISECONDS_THRESHOLD = 100_000_000_000  # epoch numbers above this are milliseconds


def is_generic_event(document: dict[str, Any]) -> bool:
    """True when a JSON object is a generic delivery event (has ``recipient(s)``)."""
    return "recipient" in document or "recipients" in document


def _text(document: dict[str, Any], key: str) -> str | None:
    value = document.get(key)
    if value is None or isinstance(value, str):
        return value
    raise InvalidEventError(f"field {key!r} must be a string, got {type(value).__name__}")


def _status(document: dict[str, Any]) -> DeliveryStatus:
    value = document.get("status")
    if value is None:
        return DeliveryStatus.UNKNOWN
    if not isinstance(value, str):
        raise InvalidEventError(f"field 'status' must be a string, got {type(value).__name__}")
    status = STATUS_WORDS.get(value.lower())
    if status is None or value not in (value.lower(), value.capitalize(), value.upper()):
        allowed = ", ".join(STATUS_WORDS)
        raise InvalidEventError(f"field 'status' is {value[:40]!r}; expected one of: {allowed}")
    return status


def _reply_code(document: dict[str, Any]) -> int | None:
    value = document.get("reply_code")
    if value is None:
        return None
    if isinstance(value, str) and value.isdigit() and value.isascii():
        value = int(value)
    if isinstance(value, int) and not isinstance(value, bool) and 200 <= value <= 599:
        return value
    raise InvalidEventError(
        f"field 'reply_code' must be a reply code 200-599, got {str(value)[:40]!r}"
    )


def _enhanced(document: dict[str, Any]) -> str | None:
    value = _text(document, "enhanced_status")
    if value is None or value == "":
        return None
    code = normalise_enhanced(value)
    if code is None:
        raise InvalidEventError(f"field 'enhanced_status' is not an RFC 3463 code: {value[:40]!r}")
    return code


def _timestamp(document: dict[str, Any]) -> str | None:
    value = document.get("timestamp")
    if value is None:
        return None
    try:
        if isinstance(value, bool):
            raise TypeError
        if isinstance(value, int | float):
            seconds = value / 1000 if value > _MILLISECONDS_THRESHOLD else value
            return to_rfc3339_utc(datetime.fromtimestamp(seconds, UTC))
        if isinstance(value, str):
            moment = datetime.fromisoformat(value)
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=UTC)
            return to_rfc3339_utc(moment)
    except (ValueError, OverflowError, OSError, TypeError):
        pass
    raise InvalidEventError(
        f"field 'timestamp' must be RFC 3339 text or epoch seconds, got {str(value)[:40]!r}"
    )


def _recipients(document: dict[str, Any]) -> list[str]:
    if "recipients" in document:
        value = document["recipients"]
        if not isinstance(value, list) or not value:
            raise InvalidEventError("field 'recipients' must be a non-empty list of strings")
        if len(value) > _MAX_RECIPIENTS:
            raise InvalidEventError(f"field 'recipients' has more than {_MAX_RECIPIENTS} entries")
        # surrounding whitespace is a producer's slip, never part of an address (RFC 5321
        # §4.1.2 has no space in a Mailbox outside a quoted local part): the record's key
        # and a downstream suppression list must see the address itself
        stripped = [item.strip() for item in value if isinstance(item, str)]
        if len(stripped) != len(value) or not all(stripped):
            raise InvalidEventError("field 'recipients' must hold only non-empty strings")
        return stripped
    recipient = _text(document, "recipient")
    if not recipient or not recipient.strip():
        raise InvalidEventError("field 'recipient' must be a non-empty string")
    return [recipient.strip()]


def parse_generic_event(document: dict[str, Any]) -> list[DeliveryEvent]:
    """Validate one generic event object and return one event per recipient.

    :raises InvalidEventError: a field has the wrong type or value; the message
        names the field and what was expected.
    """
    texts = {key: _text(document, key) for key in _TEXT_FIELDS}
    status = _status(document)
    reply_code = _reply_code(document)
    enhanced = _enhanced(document)
    timestamp = _timestamp(document)
    identity = orjson.dumps(document, option=orjson.OPT_SORT_KEYS)
    recipients = _recipients(document)
    if len(recipients) > 1:
        # One copy of the document per recipient is quadratic: 10,000 recipients in
        # a 250 KB event made 2.5 GB of identities. Their digest identifies it as well.
        identity = blake2b(identity, digest_size=32).digest()
    return [
        DeliveryEvent(
            source_format="json",
            status=status,
            recipient=recipient,
            original_recipient=texts["original_recipient"],
            sender=texts["sender"],
            queue_id=texts["queue_id"],
            event_time=timestamp,
            mta_host=texts["mta_host"],
            relay=texts["relay"],
            reply_code=reply_code,
            enhanced_code=enhanced,
            diagnostic=texts["diagnostic"],
            identity=identity + b"\x00" + recipient.encode("utf-8", "replace"),
        )
        for recipient in recipients
    ]
