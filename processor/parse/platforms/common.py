"""Helpers shared by the sending-platform parsers: field access, times, codes, events.

Platform payloads are JSON written by third parties whose schemas grow over
time, so field access is lenient: a scalar of an unexpected type is turned
into text, a missing or structured value where text was expected is treated
as absent. Only a payload with no usable recipient is an error.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson

from processor.model import DeliveryEvent, DeliveryStatus, Reason
from processor.parse.syslog import to_rfc3339_utc
from processor.smtp.extract import normalise_enhanced

__all__ = [
    "PlatformEvent",
    "PlatformResult",
    "as_dict",
    "as_list",
    "enhanced",
    "epoch_or_iso",
    "make_event",
    "reply",
    "text",
]

_MILLISECONDS_THRESHOLD = 100_000_000_000
_MAX_TEXT = 4_000


@dataclass(slots=True)
class PlatformResult:
    """Events found in one platform document, and how many of its events were not deliveries."""

    events: list[DeliveryEvent] = field(default_factory=list)
    skipped: int = 0


def text(document: Any, key: str) -> str | None:
    """``document[key]`` as text: strings as is (bounded), numbers as digits, else ``None``."""
    if not isinstance(document, dict):
        return None
    value = document.get(key)
    if isinstance(value, str):
        return value[:_MAX_TEXT] or None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return None


def as_dict(document: Any, key: str) -> dict[str, Any]:
    """``document[key]`` when it is an object, else ``{}``."""
    value = document.get(key) if isinstance(document, dict) else None
    return value if isinstance(value, dict) else {}


def as_list(document: Any, key: str) -> list[Any]:
    """``document[key]`` when it is an array, else ``[]``."""
    value = document.get(key) if isinstance(document, dict) else None
    return value if isinstance(value, list) else []


def epoch_or_iso(value: Any) -> str | None:
    """A timestamp as RFC 3339 UTC: epoch seconds/milliseconds (number or digits) or ISO 8601."""
    try:
        if isinstance(value, str) and value.replace(".", "", 1).isdigit():
            value = float(value)
        if isinstance(value, int | float) and not isinstance(value, bool):
            seconds = value / 1000 if value > _MILLISECONDS_THRESHOLD else value
            return to_rfc3339_utc(datetime.fromtimestamp(seconds, UTC))
        if isinstance(value, str) and value:
            moment = datetime.fromisoformat(value.strip()[:64])
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=UTC)
            return to_rfc3339_utc(moment)
    except (ValueError, OverflowError, OSError):
        return None
    return None


def reply(value: Any) -> int | None:
    """An RFC 5321 reply code (2yz-5yz, second digit 0-5), else ``None``.

    Platforms put their own synthetic numbers in code fields (Mailgun 605, 498);
    those are not SMTP replies and are dropped.
    """
    if isinstance(value, str) and value.strip().isdigit() and value.strip().isascii():
        value = int(value.strip())
    if isinstance(value, int) and not isinstance(value, bool) and 200 <= value <= 559:
        return value if value // 10 % 10 <= 5 else None
    return None


def enhanced(value: Any) -> str | None:
    """An RFC 3463 enhanced status code in canonical form, else ``None``."""
    return normalise_enhanced(value) if isinstance(value, str) and value else None


@dataclass(slots=True)
class PlatformEvent:
    """What a platform says about one recipient, before mapping to a delivery event."""

    platform: str
    classification: str | None
    status: DeliveryStatus
    recipient: str
    identity: bytes
    diagnostic: str | None = None
    enhanced_code: str | None = None
    reply_code: int | None = None
    event_time: str | None = None
    sender: str | None = None
    remote_mta: str | None = None
    mta_host: str | None = None
    queue_id: str | None = None
    original_message: dict[str, str] | None = None
    preset_reason: Reason | None = None


def identity_of(platform: str, event_id: str | None, document: Any) -> bytes:
    """Identity bytes: the platform's event id, else the canonical JSON of the document."""
    if event_id:
        return f"{platform}\x00{event_id}".encode("utf-8", "replace")
    return platform.encode() + b"\x00" + orjson.dumps(document, option=orjson.OPT_SORT_KEYS)


def make_event(item: PlatformEvent) -> DeliveryEvent:
    """The delivery event for one platform recipient (``source_format`` is the platform's name)."""
    return DeliveryEvent(
        source_format=item.platform,
        status=item.status,
        recipient=item.recipient,
        sender=item.sender,
        queue_id=item.queue_id,
        event_time=item.event_time,
        mta_host=item.mta_host,
        relay=item.remote_mta,
        reply_code=item.reply_code,
        enhanced_code=item.enhanced_code,
        diagnostic=item.diagnostic,
        remote_mta=item.remote_mta,
        original_message=item.original_message,
        platform=item.platform,
        platform_classification=item.classification,
        preset_reason=item.preset_reason,
        identity=item.identity + b"\x00" + item.recipient.lower().encode("utf-8", "replace"),
    )


def headers_dict(**values: str | None) -> dict[str, str] | None:
    """``original_message`` from the given header values, ``None`` when all are absent."""
    found = {key: value[:998] for key, value in values.items() if value}
    return found or None
