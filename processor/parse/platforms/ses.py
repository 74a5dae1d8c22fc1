"""Amazon SES notifications and event-publishing records, bare or in an SNS envelope.

Sources: https://docs.aws.amazon.com/ses/latest/dg/notification-contents.html ,
https://docs.aws.amazon.com/ses/latest/dg/event-publishing-retrieving-sns-contents.html ,
https://docs.aws.amazon.com/sns/latest/dg/sns-message-and-json-formats.html (envelope),
https://docs.aws.amazon.com/ses/latest/dg/monitoring-eventbridge.html (SES v2 events on
Amazon EventBridge: the event-publishing record is the ``detail`` of an event whose
``source`` is ``aws.ses``).

Mapping (the platform's outcome first, as for an MTA's own status):

- ``Bounce`` per ``bouncedRecipients[]``: ``Permanent`` -> ``failed``; the
  suppression subtypes (``Suppressed``, ``OnAccountSuppressionList`` and any
  ``*Suppress*``/``UnsubscribedRecipient`` subtype: SES did not attempt
  delivery) -> reason ``suppressed``; ``Transient`` -> ``deferred`` (SES
  publishes it once it stops retrying a temporary failure: soft);
  ``Undetermined`` -> ``unknown`` (the codes decide).
- ``DeliveryDelay`` -> ``deferred``; ``Delivery`` -> ``sent``;
  ``Complaint`` -> reason ``complaint``; ``Reject`` (SES refused to send,
  e.g. a virus) -> ``failed``, reason ``content_rejected``.
- ``Send``, ``Open``, ``Click``, ``Rendering Failure``, ``Subscription`` and
  SNS ``SubscriptionConfirmation`` envelopes are not delivery outcomes (skipped).

``platform_classification`` is ``bounceType/bounceSubType`` (only the parts SES gives;
``Bounce`` when it gives neither),
``DeliveryDelay/<delayType>``, ``Complaint/<complaintFeedbackType>`` (or
``complaintSubType``; bare ``Complaint`` when SES gives neither),
``Delivery`` or ``Reject/<reason>``.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import orjson

from processor.errors import InvalidEventError, InvalidJSONError
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
    text,
)

__all__ = ["is_eventbridge", "is_ses", "is_sns_envelope", "parse_ses"]

PLATFORM = "ses"
_NOT_DELIVERY = frozenset({"send", "open", "click", "rendering failure", "subscription"})
_BOUNCE_TYPES = {
    "permanent": DeliveryStatus.FAILED,
    "transient": DeliveryStatus.DEFERRED,
    "undetermined": DeliveryStatus.UNKNOWN,
}


def is_sns_envelope(document: dict[str, Any]) -> bool:
    """An SNS HTTP/email envelope (``Type``, ``Message``, ``TopicArn``)."""
    return (
        isinstance(document.get("Type"), str) and "Message" in document and "TopicArn" in document
    )


def is_ses(document: dict[str, Any]) -> bool:
    """An SES notification (``notificationType``) or event record (``eventType``) with ``mail``."""
    kind = document.get("notificationType", document.get("eventType"))
    return isinstance(kind, str) and isinstance(document.get("mail"), dict)


def is_eventbridge(document: dict[str, Any]) -> bool:
    """An Amazon EventBridge event from SES (``source: aws.ses``) whose ``detail`` is an SES record.

    Source: https://docs.aws.amazon.com/ses/latest/dg/monitoring-eventbridge.html (fields
    ``source``, ``detail-type``, ``detail``).
    """
    detail = document.get("detail")
    return (
        document.get("source") == "aws.ses"
        and isinstance(detail, dict)
        and isinstance(detail.get("eventType"), str)
    )


def _suppressed(sub_type: str) -> bool:
    lowered = sub_type.lower()
    return "suppress" in lowered or lowered == "unsubscribedrecipient"


def _common(mail: dict[str, Any]) -> tuple[str | None, dict[str, str] | None]:
    headers = as_dict(mail, "commonHeaders")
    to = ", ".join(str(a) for a in as_list(headers, "to")) or None
    sender = ", ".join(str(a) for a in as_list(headers, "from")) or None
    original = headers_dict(
        message_id=text(headers, "messageId"),
        **{"from": sender},
        to=to,
        subject=text(headers, "subject"),
    )
    return text(mail, "source"), original


def _recipient_events(recipients: list[Any], base: PlatformEvent) -> list[PlatformEvent]:
    events = []
    for entry in recipients:
        address = entry if isinstance(entry, str) else text(entry, "emailAddress")
        if not address:
            continue
        if isinstance(entry, dict):
            events.append(
                replace(
                    base,
                    recipient=address,
                    enhanced_code=enhanced(entry.get("status")),
                    diagnostic=text(entry, "diagnosticCode") or base.diagnostic,
                )
            )
        else:
            events.append(replace(base, recipient=address))
    return events


def _label(default: str, *parts: str | None) -> str:
    """The platform's own words joined by ``/`` (absent parts left out), else ``default``."""
    return "/".join(part for part in parts if part) or default


def _outcome(
    kind: str, body: dict[str, Any]
) -> tuple[DeliveryStatus, str | None, Reason | None, str]:
    """(status, classification, preset reason, recipients key) for one SES record kind."""
    if kind == "bounce":
        bounce_type = text(body, "bounceType")
        sub_type = text(body, "bounceSubType")
        status = _BOUNCE_TYPES.get((bounce_type or "").lower(), DeliveryStatus.UNKNOWN)
        preset = Reason.SUPPRESSED if sub_type and _suppressed(sub_type) else None
        if preset is not None:
            status = DeliveryStatus.FAILED
        return status, _label("Bounce", bounce_type, sub_type), preset, "bouncedRecipients"
    if kind == "deliverydelay":
        label = _label("DeliveryDelay", "DeliveryDelay", text(body, "delayType"))
        return DeliveryStatus.DEFERRED, label, None, "delayedRecipients"
    if kind == "delivery":
        return DeliveryStatus.SENT, "Delivery", None, "recipients"
    if kind == "complaint":
        feedback = text(body, "complaintFeedbackType") or text(body, "complaintSubType")
        return (
            DeliveryStatus.UNKNOWN,
            f"Complaint/{feedback}" if feedback else "Complaint",
            Reason.COMPLAINT,
            "complainedRecipients",
        )
    return (
        DeliveryStatus.FAILED,
        f"Reject/{text(body, 'reason') or 'unknown'}",
        Reason.CONTENT_REJECTED,
        "",
    )


def _identity(kind: str, body: dict[str, Any], mail: dict[str, Any], document: Any) -> bytes:
    """The record's feedbackId (bounces, complaints), else the SES message id, plus its kind."""
    key = text(body, "feedbackId") or text(mail, "messageId")
    return identity_of(PLATFORM, f"{kind}:{key}" if key else None, document)


def parse_ses(document: dict[str, Any]) -> PlatformResult:
    """Events of one SES record (or SNS envelope holding one).

    :raises InvalidJSONError: an SNS ``Message`` that should hold JSON does not parse.
    :raises InvalidEventError: a delivery outcome that names no recipient.
    """
    if is_eventbridge(document):
        document = as_dict(document, "detail")
    if is_sns_envelope(document):
        if document.get("Type") != "Notification":
            return PlatformResult(skipped=1)  # SubscriptionConfirmation, UnsubscribeConfirmation
        message = document.get("Message")
        try:
            inner = orjson.loads(message) if isinstance(message, str | bytes) else None
        except orjson.JSONDecodeError as error:
            raise InvalidJSONError(f"SNS Message is not JSON: {error}") from None
        if not isinstance(inner, dict) or not is_ses(inner):
            return PlatformResult(skipped=1)
        document = inner
    if not is_ses(document):  # an EventBridge detail without ``mail``: nothing to read
        return PlatformResult(skipped=1)
    kind = str(document.get("notificationType", document.get("eventType", ""))).lower()
    if kind in _NOT_DELIVERY or kind not in (
        "bounce",
        "deliverydelay",
        "delivery",
        "complaint",
        "reject",
    ):
        return PlatformResult(skipped=1)
    mail = as_dict(document, "mail")
    body = as_dict(document, {"deliverydelay": "deliveryDelay"}.get(kind, kind))
    status, classification, preset, key = _outcome(kind, body)
    sender, original = _common(mail)
    reporting = text(body, "reportingMTA")
    base = PlatformEvent(
        platform=PLATFORM,
        classification=classification,
        status=status,
        recipient="",
        identity=_identity(kind, body, mail, document),
        diagnostic=text(body, "smtpResponse"),
        event_time=epoch_or_iso(body.get("timestamp")) or epoch_or_iso(mail.get("timestamp")),
        sender=sender,
        remote_mta=text(body, "remoteMtaIp"),
        mta_host=reporting.rpartition(";")[2].strip() or None if reporting else None,
        queue_id=text(mail, "messageId"),
        original_message=original,
        preset_reason=preset,
    )
    recipients = as_list(body, key) if key else as_list(mail, "destination")
    events = _recipient_events(recipients, base)
    if not events:
        raise InvalidEventError(f"SES {kind} record names no recipient")
    return PlatformResult([make_event(event) for event in events])
