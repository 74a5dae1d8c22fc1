"""SendGrid (Twilio SendGrid) Event Webhook items.

Source: https://www.twilio.com/docs/sendgrid/for-developers/tracking-events/event ;
bounce/block classifications:
https://docs.sendgrid.com/ui/analytics-and-reporting/bounce-and-block-classifications .
The webhook posts a JSON array; each item is parsed on its own.

Mapping:

- ``bounce`` with ``type: bounce`` (or no type) -> ``failed``; with
  ``type: blocked`` -> ``deferred``: SendGrid defines a block as the receiver
  refusing the message *temporarily* (bounce/block classifications page above),
  so it is soft whatever code the remote gave, like an MTA's own deferral;
  the reason still comes from the text. ``reason`` is the diagnostic,
  ``status`` the enhanced code.
- ``deferred`` -> ``deferred`` (diagnostic: ``response``); ``delivered`` -> ``sent``.
- ``dropped`` (SendGrid never attempted delivery) -> ``failed`` with a reason
  from the drop reason: ``Bounced Address``, ``Unsubscribed Address``,
  ``Spam Reporting Address`` -> ``suppressed``; ``Invalid`` -> ``address_invalid``;
  ``Spam Content`` -> ``content_rejected``; ``Recipient List over Package
  Quota`` -> ``rate_limited``; ``Invalid SMTPAPI header`` -> ``protocol_error``;
  any other drop reason -> ``unknown`` status (nothing to classify on). A drop
  reason is matched on its documented name at the start of the text, case-insensitively
  (SendGrid writes ``Spam Content (if Spam Checker app is enabled)``).
- ``spamreport`` -> reason ``complaint``.
- ``processed``, ``open``, ``click``, ``unsubscribe``, ``group_unsubscribe``,
  ``group_resubscribe`` and account events are not delivery outcomes (skipped).

``platform_classification``: ``bounce/<bounce_classification>``,
``blocked/<bounce_classification>``, ``dropped/<reason>``, ``deferred``,
``delivered``, ``spamreport``.
"""

from __future__ import annotations

from typing import Any

from processor.errors import InvalidEventError
from processor.model import DeliveryStatus, Reason
from processor.parse.platforms.common import (
    PlatformEvent,
    PlatformResult,
    enhanced,
    epoch_or_iso,
    headers_dict,
    identity_of,
    make_event,
    text,
)

__all__ = ["is_sendgrid", "parse_sendgrid"]

PLATFORM = "sendgrid"
_ID_KEYS = ("sg_event_id", "sg_message_id", "smtp-id")
_DROP_REASONS = {
    "bounced address": Reason.SUPPRESSED,
    "unsubscribed address": Reason.SUPPRESSED,
    "spam reporting address": Reason.SUPPRESSED,
    "invalid": Reason.ADDRESS_INVALID,
    "spam content": Reason.CONTENT_REJECTED,
    "recipient list over package quota": Reason.RATE_LIMITED,
    "invalid smtpapi header": Reason.PROTOCOL_ERROR,
}


def is_sendgrid(document: dict[str, Any]) -> bool:
    """A SendGrid event: ``event`` and ``email`` plus one of SendGrid's id fields."""
    return (
        isinstance(document.get("event"), str)
        and "email" in document
        and any(key in document for key in _ID_KEYS)
    )


def _drop_reason(reason_text: str) -> Reason | None:
    """Our reason for a documented ``dropped`` reason: exact name, or the name and a remark.

    Source: https://www.twilio.com/docs/sendgrid/for-developers/tracking-events/event
    (``dropped``: ``reason``).
    """
    lowered = reason_text.strip().lower()
    found = _DROP_REASONS.get(lowered)
    if found is None:
        head = lowered.partition("(")[0].strip()
        found = _DROP_REASONS.get(head)
    return found


def _outcome(
    event: str, document: dict[str, Any]
) -> tuple[DeliveryStatus, str, Reason | None, str | None]:
    """(status, classification, preset reason, diagnostic)."""
    classification = text(document, "bounce_classification")
    if event == "bounce":
        kind = (text(document, "type") or "bounce").lower()
        status = DeliveryStatus.DEFERRED if kind == "blocked" else DeliveryStatus.FAILED
        label = f"{kind}/{classification}" if classification else kind
        return status, label, None, text(document, "reason") or text(document, "response")
    if event == "dropped":
        reason_text = text(document, "reason") or ""
        preset = _drop_reason(reason_text)
        status = DeliveryStatus.FAILED if preset is not None else DeliveryStatus.UNKNOWN
        return status, f"dropped/{reason_text}", preset, reason_text or None
    if event == "deferred":
        return (
            DeliveryStatus.DEFERRED,
            "deferred",
            None,
            text(document, "response") or text(document, "reason"),
        )
    if event == "delivered":
        return DeliveryStatus.SENT, "delivered", None, text(document, "response")
    return DeliveryStatus.UNKNOWN, "spamreport", Reason.COMPLAINT, None


def parse_sendgrid(document: dict[str, Any]) -> PlatformResult:
    """The event of one SendGrid webhook item.

    :raises InvalidEventError: a delivery outcome without an ``email``.
    """
    event = str(document.get("event", "")).lower()
    if event not in ("bounce", "dropped", "deferred", "delivered", "spamreport"):
        return PlatformResult(skipped=1)
    recipient = text(document, "email")
    if not recipient:
        raise InvalidEventError(f"SendGrid {event} event has no 'email'")
    status, classification, preset, diagnostic = _outcome(event, document)
    item = PlatformEvent(
        platform=PLATFORM,
        classification=classification,
        status=status,
        recipient=recipient,
        identity=identity_of(PLATFORM, text(document, "sg_event_id"), document),
        diagnostic=diagnostic,
        enhanced_code=enhanced(document.get("status")),
        event_time=epoch_or_iso(document.get("timestamp")),
        remote_mta=None,
        queue_id=text(document, "sg_message_id"),
        original_message=headers_dict(message_id=text(document, "smtp-id")),
        preset_reason=preset,
    )
    return PlatformResult([make_event(item)])
