"""Build :class:`~processor.model.DeliveryEvent` objects from what a bounce email said.

Mapping (RFC 3464 §2.3):

- ``Action: failed`` -> ``bounced`` (permanent), except when the failure was
  transient (the remote reply in ``Diagnostic-Code`` is 4yz, or without a reply
  the ``Status`` is 4.x.x): the MTA gave up after transient failures (its queue
  lifetime ran out), which is ``expired`` like Postfix's ``status=expired``;
- ``Action: delayed`` -> ``deferred``; ``delivered``/``relayed``/``expanded`` -> ``sent``;
- no ``Action`` (prose bounces): ``deferred`` when the notice is a delay
  warning; ``expired`` when the notice says the MTA gave up after retrying
  for a stated time ("aborted after 5 hours", "could not be delivered for
  5 days") and the recipient's error carries no permanent (5yz / 5.x.x)
  code; else as ``failed``. ``expired`` also when the recipient's error is the MTA's
  own expiry status whatever its reply code (Exchange's ``#550 4.4.7 QUEUE.Expired``,
  ``5.4.316 Message expired``).
- ``Status`` -> the event's enhanced code (source ``event``); ``Diagnostic-Code``
  -> the diagnostic text (its reply code and enhanced code are found there by
  the classifier); ``Remote-MTA`` -> ``remote_mta`` and ``relay``;
  ``Reporting-MTA`` -> ``mta_host``; ``Last-Attempt-Date``, else
  ``Arrival-Date``, else the email's ``Date`` -> ``event_time``.

The event identity (hence ``event_id``) is the bounce email's ``Message-ID``
plus the recipient, or a BLAKE2b digest of the raw bytes plus the recipient
when the email has no ``Message-ID``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC
from email.utils import parsedate_to_datetime
from hashlib import blake2b

from processor.model import DeliveryEvent, DeliveryStatus, Reason
from processor.parse.email.dsn import strip_address_type
from processor.parse.syslog import to_rfc3339_utc
from processor.smtp.extract import extract_codes, normalise_enhanced

__all__ = ["EmailContext", "RecipientOutcome", "build_event", "rfc3339"]

SOURCE_FORMAT = "email"

_ACTIONS = {
    "failed": DeliveryStatus.BOUNCED,
    "delayed": DeliveryStatus.DEFERRED,
    "delivered": DeliveryStatus.SENT,
    "relayed": DeliveryStatus.SENT,
    "expanded": DeliveryStatus.SENT,
}


@dataclass(slots=True)
class EmailContext:
    """Per-email facts shared by every recipient's event.

    :param identity: bytes naming the email (its Message-ID, or a digest of it).
    :param date: the email's ``Date`` header.
    :param reporting_mta: ``Reporting-MTA`` without its type.
    :param arrival_date: ``Arrival-Date`` of the report.
    :param queue_id: the reporting MTA's queue ID (``X-Postfix-Queue-ID``), if given.
    :param sender: the original envelope sender, if the report names it.
    :param original_message: headers of the returned message.
    """

    identity: bytes
    date: str | None = None
    reporting_mta: str | None = None
    arrival_date: str | None = None
    queue_id: str | None = None
    sender: str | None = None
    original_message: dict[str, str] | None = None


@dataclass(slots=True)
class RecipientOutcome:
    """What the email says about one recipient, before mapping to an event."""

    recipient: str
    action: str | None = None
    status: str | None = None
    diagnostic: str | None = None
    original_recipient: str | None = None
    remote_mta: str | None = None
    last_attempt: str | None = None
    delayed_notice: bool = False
    expired_notice: bool = False
    gave_up: bool = False  # the MTA's own status says its queue lifetime ran out
    preset_reason: Reason | None = None


def rfc3339(date_text: str | None) -> str | None:
    """An RFC 5322 date (``Thu, 29 Apr 2013 23:45:41 +0900 (JST)``) as RFC 3339 UTC, or ``None``."""
    if not date_text:
        return None
    try:
        moment = parsedate_to_datetime(date_text.strip()[:200])
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    try:
        return to_rfc3339_utc(moment)
    except (ValueError, OverflowError):
        return None


def email_identity(message_id: str | None, raw: bytes) -> bytes:
    """Bytes that name one email: its Message-ID, else a digest of its bytes."""
    if message_id:
        return b"email-message-id\x00" + message_id.strip().encode("utf-8", "replace")
    return b"email-digest\x00" + blake2b(raw, digest_size=16).digest()


def _failure_class(diagnostic: str | None, enhanced: str | None) -> int | None:
    """The failure's class: the remote reply's first digit, else the Status class (RFC 2034 §3).

    :returns: 4 (transient), 5 (permanent) or ``None`` (no code says).
    """
    reply, text_enhanced = extract_codes(diagnostic)
    if reply is not None and reply // 100 in (4, 5):
        return reply // 100
    code = enhanced or text_enhanced
    if code is not None and code[:1] in ("4", "5"):
        return int(code[0])
    return None


def _status(outcome: RecipientOutcome, enhanced: str | None) -> DeliveryStatus:
    if outcome.preset_reason in (Reason.AUTO_REPLY, Reason.COMPLAINT):
        return DeliveryStatus.UNKNOWN
    status = _ACTIONS.get((outcome.action or "").lower())
    if status is None:
        if outcome.delayed_notice:
            return DeliveryStatus.DEFERRED
        if enhanced is not None and enhanced.startswith("2."):
            return DeliveryStatus.SENT
        status = DeliveryStatus.BOUNCED
    if status is DeliveryStatus.BOUNCED:
        failure_class = _failure_class(outcome.diagnostic, enhanced)
        if failure_class == 4 or outcome.gave_up:  # the MTA gave up after transient failures
            return DeliveryStatus.EXPIRED
        if failure_class is None and outcome.action is None and outcome.expired_notice:
            return DeliveryStatus.EXPIRED  # the notice says it gave up after retrying
    return status


def build_event(context: EmailContext, outcome: RecipientOutcome) -> DeliveryEvent:
    """One event for one recipient of a bounce email (see the module docstring for the mapping)."""
    status_words = (
        outcome.status or ""
    ).split()  # "5.0.0 (Remote SMTP server has rejected address)"
    enhanced = normalise_enhanced(status_words[0]) if status_words else None
    recipient = strip_address_type(outcome.recipient) or None  # a redacted ARF report names none
    remote = outcome.remote_mta
    return DeliveryEvent(
        source_format=SOURCE_FORMAT,
        status=_status(outcome, enhanced),
        recipient=recipient,
        original_recipient=outcome.original_recipient,
        sender=context.sender,
        queue_id=context.queue_id,
        event_time=rfc3339(outcome.last_attempt)
        or rfc3339(context.arrival_date)
        or rfc3339(context.date),
        mta_host=context.reporting_mta,
        relay=remote,
        enhanced_code=enhanced,
        diagnostic=outcome.diagnostic or None,
        remote_mta=remote,
        original_message=context.original_message,
        preset_reason=outcome.preset_reason,
        identity=context.identity + b"\x00" + (recipient or "").lower().encode("utf-8", "replace"),
    )
