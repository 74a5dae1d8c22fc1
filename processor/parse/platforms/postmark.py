"""Postmark webhooks: Bounce, Delivery and SpamComplaint records.

Sources: https://postmarkapp.com/developer/webhooks/bounce-webhook ,
https://postmarkapp.com/developer/api/bounce-api (bounce types),
https://postmarkapp.com/developer/webhooks/delivery-webhook ,
https://postmarkapp.com/developer/webhooks/spam-complaint-webhook .

Mapping of the bounce ``Type``:

- ``HardBounce`` -> ``failed``; ``BadEmailAddress`` -> ``failed``, reason
  ``address_invalid``; ``ManuallyDeactivated`` -> ``failed``, reason ``suppressed``;
- ``SoftBounce``, ``Transient``, ``DnsError`` -> ``deferred`` (Postmark: temporary);
- ``AutoResponder`` and ``ChallengeVerification`` (an automatic reply asking the
  sender to prove it is a person: not a failure of the address) -> reason
  ``auto_reply``; ``SpamComplaint`` -> reason ``complaint``;
- every other type (``Blocked``, ``SpamNotification``, ``VirusNotification``,
  ``DMARCPolicy``, ``Unknown``, ``AddressChange``, ``ChallengeVerification`` ...)
  -> ``unknown`` status: the reply code in ``Details`` decides.

``Details`` is the diagnostic (the remote reply). ``Description`` is Postmark's
generic explanation of the type and is not used as evidence.
``platform_classification`` is the ``Type`` (``Delivery`` for deliveries); a record
with only ``TypeCode`` (number or digits) gets the type that code names in the bounce
API table.
Other record types (``Open``, ``Click``, ``SubscriptionChange``) are skipped.
"""

from __future__ import annotations

from typing import Any

from processor.errors import InvalidEventError
from processor.model import DeliveryStatus, Reason
from processor.parse.platforms.common import (
    PlatformEvent,
    PlatformResult,
    epoch_or_iso,
    headers_dict,
    identity_of,
    make_event,
    text,
)

__all__ = ["is_postmark", "parse_postmark"]

PLATFORM = "postmark"
_TYPES: dict[str, tuple[DeliveryStatus, Reason | None]] = {
    "hardbounce": (DeliveryStatus.FAILED, None),
    "bademailaddress": (DeliveryStatus.FAILED, Reason.ADDRESS_INVALID),
    "manuallydeactivated": (DeliveryStatus.FAILED, Reason.SUPPRESSED),
    "softbounce": (DeliveryStatus.DEFERRED, None),
    "transient": (DeliveryStatus.DEFERRED, None),
    "dnserror": (DeliveryStatus.DEFERRED, None),
    "autoresponder": (DeliveryStatus.UNKNOWN, Reason.AUTO_REPLY),
    "challengeverification": (DeliveryStatus.UNKNOWN, Reason.AUTO_REPLY),
    "spamcomplaint": (DeliveryStatus.UNKNOWN, Reason.COMPLAINT),
}

#: ``TypeCode`` -> ``Type``, https://postmarkapp.com/developer/api/bounce-api (bounce types).
_TYPE_CODES = {
    "1": "HardBounce",
    "2": "Transient",
    "16": "Unsubscribe",
    "32": "Subscribe",
    "64": "AutoResponder",
    "128": "AddressChange",
    "256": "DnsError",
    "512": "SpamNotification",
    "1024": "OpenRelayTest",
    "2048": "Unknown",
    "4096": "SoftBounce",
    "8192": "VirusNotification",
    "16384": "ChallengeVerification",
    "100000": "BadEmailAddress",
    "100001": "SpamComplaint",
    "100002": "ManuallyDeactivated",
    "100003": "Unconfirmed",
    "100006": "Blocked",
    "100007": "SMTPApiError",
    "100008": "InboundError",
    "100009": "DMARCPolicy",
    "100010": "TemplateRenderingFailed",
}


def _bounce_type(document: dict[str, Any], record_type: str) -> str:
    """The record's ``Type``, else the type its ``TypeCode`` names, else a default."""
    found = text(document, "Type") or _TYPE_CODES.get(text(document, "TypeCode") or "")
    if found:
        return found
    return "SpamComplaint" if record_type == "spamcomplaint" else "Unknown"


def is_postmark(document: dict[str, Any]) -> bool:
    """A Postmark webhook record (``RecordType``)."""
    return isinstance(document.get("RecordType"), str)


def parse_postmark(document: dict[str, Any]) -> PlatformResult:
    """The event of one Postmark webhook record.

    :raises InvalidEventError: a delivery outcome without ``Email``/``Recipient``.
    """
    record_type = str(document.get("RecordType", "")).lower()
    if record_type not in ("bounce", "delivery", "spamcomplaint"):
        return PlatformResult(skipped=1)
    recipient = text(document, "Email") or text(document, "Recipient")
    if not recipient:
        raise InvalidEventError(f"Postmark {record_type} record has no 'Email'")
    if record_type == "delivery":
        classification = "Delivery"
        status, preset = DeliveryStatus.SENT, None
        moment = document.get("DeliveredAt")
    else:
        classification = _bounce_type(document, record_type)
        status, preset = _TYPES.get(classification.lower(), (DeliveryStatus.UNKNOWN, None))
        moment = document.get("BouncedAt")
    item = PlatformEvent(
        platform=PLATFORM,
        classification=classification,
        status=status,
        recipient=recipient,
        identity=identity_of(
            PLATFORM,
            f"{record_type}:{text(document, 'ID') or text(document, 'MessageID')}",
            document,
        ),
        diagnostic=text(document, "Details"),
        event_time=epoch_or_iso(moment),
        queue_id=text(document, "MessageID"),
        original_message=headers_dict(
            **{"from": text(document, "From")}, subject=text(document, "Subject")
        ),
        preset_reason=preset,
    )
    return PlatformResult([make_event(item)])
