"""Mailgun webhook payloads (``{"signature": ..., "event-data": {...}}``) and Events API items.

Sources:
https://documentation.mailgun.com/docs/mailgun/user-manual/tracking-messages/tracking-failures ,
https://help.mailgun.com/hc/en-us/articles/203661564 (event types),
https://documentation.mailgun.com/docs/mailgun/api-reference/openapi-final/tag/Events/
(Events API page: ``items`` array and ``paging`` links).

Mapping:

- ``failed``: ``severity: permanent`` -> ``failed``; ``temporary`` -> ``deferred``;
  ``reason: old`` (Mailgun gave up after its retry window) -> ``expired``;
  ``reason: suppress-bounce|suppress-unsubscribe|suppress-complaint`` (not
  attempted: the address is on a suppression list) -> reason ``suppressed``.
  Legacy ``bounced`` -> ``failed``; legacy ``dropped`` -> as ``failed``.
- ``delivered`` -> ``sent``; ``complained`` -> reason ``complaint``;
  ``rejected`` (Mailgun refused the send request) -> ``unknown`` status.
- ``accepted``, ``opened``, ``clicked``, ``unsubscribed``, ``stored``, ``list_member_uploaded``
  ... are not delivery outcomes (skipped).
- ``delivery-status``: ``code`` -> reply code only when it is an SMTP reply
  (Mailgun's synthetic 605/606/607/498 are not), ``enhanced-code``,
  ``message``/``description`` -> diagnostic, ``mx-host`` -> remote MTA.

An Events API page (``{"items": [...], "paging": {...}}``) is read item by item; an
empty page counts as one skipped event.

``platform_classification``: ``<event>/<severity>/<reason>`` (present parts only).
"""

from __future__ import annotations

from typing import Any

from processor.errors import InvalidEventError
from processor.model import DeliveryStatus, Reason
from processor.parse.platforms.common import (
    PlatformEvent,
    PlatformResult,
    as_dict,
    as_list,
    enhanced,
    epoch_or_iso,
    headers_dict,
    identity_of,
    make_event,
    reply,
    text,
)

__all__ = ["is_mailgun", "parse_mailgun"]

PLATFORM = "mailgun"
_BARE_MARKERS = (
    "delivery-status",
    "log-level",
    "severity",
    "envelope",
    "recipient-domain",
    "user-variables",
)
_OUTCOMES = ("failed", "bounced", "dropped", "delivered", "complained", "rejected")


def is_mailgun(document: dict[str, Any]) -> bool:
    """A Mailgun webhook body (``event-data``), Events API page or Events API item."""
    if isinstance(document.get("event-data"), dict) or _is_page(document):
        return True
    return isinstance(document.get("event"), str) and any(key in document for key in _BARE_MARKERS)


def _is_page(document: dict[str, Any]) -> bool:
    """An Events API page: ``items`` (array) and ``paging`` (object of links)."""
    return isinstance(document.get("items"), list) and isinstance(document.get("paging"), dict)


def _page(document: dict[str, Any]) -> PlatformResult:
    """Events of every item of an Events API page (items that are not objects are skipped)."""
    result = PlatformResult()
    for item in as_list(document, "items"):
        found = parse_mailgun(item) if isinstance(item, dict) else PlatformResult(skipped=1)
        result.events.extend(found.events)
        result.skipped += found.skipped
    if not result.events and not result.skipped:
        result.skipped = 1
    return result


def _status(event: str, severity: str, reason: str) -> tuple[DeliveryStatus, Reason | None]:
    if event == "delivered":
        return DeliveryStatus.SENT, None
    if event == "complained":
        return DeliveryStatus.UNKNOWN, Reason.COMPLAINT
    if event == "rejected":
        return DeliveryStatus.UNKNOWN, None
    if reason.startswith("suppress-"):
        return DeliveryStatus.FAILED, Reason.SUPPRESSED
    if reason == "old":
        return DeliveryStatus.EXPIRED, None
    if severity == "temporary":
        return DeliveryStatus.DEFERRED, None
    return DeliveryStatus.FAILED, None


def _diagnostic(status: dict[str, Any], data: dict[str, Any]) -> str | None:
    message = text(status, "message") or text(status, "description")
    if message is None:
        reject = as_dict(data, "reject")
        message = text(reject, "reason") or text(data, "reason")
    return message


def parse_mailgun(document: dict[str, Any]) -> PlatformResult:
    """The event of one Mailgun webhook body or Events API item.

    :raises InvalidEventError: a delivery outcome without a ``recipient``.
    """
    if _is_page(document):
        return _page(document)
    data = as_dict(document, "event-data") or document
    event = str(data.get("event", "")).lower()
    if event not in _OUTCOMES:
        return PlatformResult(skipped=1)
    recipient = text(data, "recipient")
    if not recipient:
        raise InvalidEventError(f"Mailgun {event} event has no 'recipient'")
    severity = (text(data, "severity") or "").lower()
    reason = (text(data, "reason") or "").lower()
    status, preset = _status(event, severity, reason)
    delivery = as_dict(data, "delivery-status")
    headers = as_dict(as_dict(data, "message"), "headers")
    item = PlatformEvent(
        platform=PLATFORM,
        classification="/".join(part for part in (event, severity, reason) if part),
        status=status,
        recipient=recipient,
        identity=identity_of(PLATFORM, text(data, "id"), document),
        diagnostic=_diagnostic(delivery, data),
        enhanced_code=enhanced(delivery.get("enhanced-code")),
        reply_code=reply(delivery.get("code")),
        event_time=epoch_or_iso(data.get("timestamp")),
        sender=text(as_dict(data, "envelope"), "sender"),
        remote_mta=text(delivery, "mx-host"),
        queue_id=text(headers, "message-id"),
        original_message=headers_dict(
            message_id=text(headers, "message-id"),
            **{"from": text(headers, "from")},
            to=text(headers, "to"),
            subject=text(headers, "subject"),
        ),
        preset_reason=preset,
    )
    return PlatformResult([make_event(item)])
