"""SparkPost (Bird) webhook batches: ``[{"msys": {"message_event": {...}}}, ...]``.

Sources: https://developers.sparkpost.com/api/webhooks/ (event fields),
https://support.sparkpost.com/docs/deliverability/bounce-classification-codes (bounce classes).

``bounce``, ``out_of_band`` and ``policy_rejection`` events by ``bounce_class``:

- 10 Invalid Recipient, 30 Generic Bounce: No RCPT, 90 Unsubscribe (category Hard) -> ``failed``;
- 25 Admin Failure, 26 Smart Send Suppression (SparkPost did not deliver by its
  own policy or suppression) -> ``failed``, reason ``suppressed``;
- 20-24, 40, 70 (category Soft) -> ``deferred``;
- 60 Auto-Reply and 100 Challenge-Response (automatic replies, not failures of the
  address) -> reason ``auto_reply``;
- 1 Undetermined, 50-54 Block, 80 Subscribe and unknown classes -> ``unknown``
  status: the reply code (``error_code``/``raw_reason``) decides.

``delay`` -> ``deferred``; ``delivery`` -> ``sent``; ``spam_complaint`` ->
reason ``complaint``; other events (``injection``, ``open``, ``click``,
``generation_*``, ``relay_*``, ``unsubscribe``) are skipped.
``platform_classification``: ``<type>/<bounce_class>`` or ``<type>``.
"""

from __future__ import annotations

from typing import Any

from processor.errors import InvalidEventError
from processor.model import DeliveryStatus, Reason
from processor.parse.platforms.common import (
    PlatformEvent,
    PlatformResult,
    as_dict,
    epoch_or_iso,
    headers_dict,
    identity_of,
    make_event,
    reply,
    text,
)

__all__ = ["is_sparkpost", "parse_sparkpost"]

PLATFORM = "sparkpost"
_HARD = frozenset({"10", "30", "90"})
_ADMIN = frozenset({"25", "26"})
_SOFT = frozenset({"20", "21", "22", "23", "24", "40", "70"})
_AUTO_REPLIES = frozenset({"60", "100"})
_BOUNCES = ("bounce", "out_of_band", "policy_rejection")


def is_sparkpost(document: dict[str, Any]) -> bool:
    """A SparkPost webhook item (``msys`` object)."""
    return isinstance(document.get("msys"), dict)


def _inner(document: dict[str, Any]) -> dict[str, Any]:
    msys = as_dict(document, "msys")
    for value in msys.values():
        if isinstance(value, dict):
            return value
    return {}


def _status(event: str, bounce_class: str | None) -> tuple[DeliveryStatus, Reason | None]:
    if event == "delivery":
        return DeliveryStatus.SENT, None
    if event == "delay":
        return DeliveryStatus.DEFERRED, None
    if event == "spam_complaint":
        return DeliveryStatus.UNKNOWN, Reason.COMPLAINT
    if bounce_class in _HARD:
        return DeliveryStatus.FAILED, None
    if bounce_class in _ADMIN:
        return DeliveryStatus.FAILED, Reason.SUPPRESSED
    if bounce_class in _SOFT:
        return DeliveryStatus.DEFERRED, None
    if bounce_class in _AUTO_REPLIES:
        return DeliveryStatus.UNKNOWN, Reason.AUTO_REPLY
    return DeliveryStatus.UNKNOWN, None


def parse_sparkpost(document: dict[str, Any]) -> PlatformResult:
    """The event of one SparkPost webhook item.

    :raises InvalidEventError: a delivery outcome without ``rcpt_to``.
    """
    data = _inner(document)
    event = str(data.get("type", "")).lower()
    if event not in (*_BOUNCES, "delay", "delivery", "spam_complaint"):
        return PlatformResult(skipped=1)
    recipient = text(data, "rcpt_to") or text(data, "raw_rcpt_to")
    if not recipient:
        raise InvalidEventError(f"SparkPost {event} event has no 'rcpt_to'")
    bounce_class = text(data, "bounce_class")
    status, preset = _status(event, bounce_class)
    item = PlatformEvent(
        platform=PLATFORM,
        classification=f"{event}/{bounce_class}" if bounce_class else event,
        status=status,
        recipient=recipient,
        identity=identity_of(PLATFORM, text(data, "event_id"), document),
        diagnostic=text(data, "raw_reason") or text(data, "reason"),
        reply_code=reply(data.get("error_code")),
        event_time=epoch_or_iso(data.get("timestamp")),
        sender=text(data, "msg_from"),
        queue_id=text(data, "message_id"),
        original_message=headers_dict(
            **{"from": text(data, "friendly_from")}, subject=text(data, "subject")
        ),
        preset_reason=preset,
    )
    return PlatformResult([make_event(item)])
