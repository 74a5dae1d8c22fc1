"""Bounce emails (RFC 5322 messages) -> delivery events, one per recipient.

Accepted:

- RFC 3464 delivery status notifications (``multipart/report;
  report-type=delivery-status``), RFC 6533 global DSNs;
- non-standard bounces whose information is only in prose (Postfix's notice,
  Exim, qmail, Sendmail transcripts, Exchange, Gmail, Yahoo, Mail.Ru, ...);
- Amazon SES notifications delivered by email (SNS email subscriptions);
- ARF feedback reports (RFC 5965) and unsubscribe requests (RFC 2369 mailto) -> reason
  ``complaint``;
- automatic replies (RFC 3834, responders' own headers, Exchange inbox-rule
  replies, help-desk ticket receipts) -> reason ``auto_reply``;
- a bounce a person forwarded as an attachment (``message/rfc822``) -> the
  attached bounce's events (:mod:`processor.parse.email.forwarded`);
- read receipts (RFC 8098 message disposition notifications), DMARC aggregate and
  TLS reports (RFC 7489, RFC 8460), mailing-list and newsletter mail (RFC 2369/2919
  ``List-*`` fields) and other automatic mail with nothing of a bounce (RFC 3834
  ``Auto-Submitted``, ``Precedence: bulk``) -> no event: not delivery outcomes, and
  the caller counts them as skipped;
- challenge-response requests ("verify you are human") -> reason ``auto_reply``.

Prose is read as a bounce only when something shows a mail system wrote the email
(:func:`~processor.parse.email.kinds.machine_written`): a person's reply quoting a
bounce, a bounce pasted into a question, phishing dressed as a bounce are never read
as one (no record; unrecognised, so dead-lettered for a look).

Complaints and automatic replies are not bounces: their verdict is
``unknown`` and their action ``none``.

Entry points: :func:`looks_like_email` (cheap detection on the first bytes)
and :func:`parse_email`. Parsing is bounded (:data:`MAX_EMAIL_BYTES`,
:data:`~processor.parse.email.message.MAX_PARTS`) and raises only
:class:`~processor.errors.PayloadError` subclasses.
"""

from __future__ import annotations

import re
from email.message import Message

from processor.errors import InvalidEventError, PayloadError, UnrecognisedPayloadError
from processor.model import DeliveryEvent, Reason
from processor.parse.email.bounce import delivery_reports, looks_like_bounce, outcomes_from_email
from processor.parse.email.dsn import DsnReport, strip_address_type
from processor.parse.email.events import (
    EmailContext,
    RecipientOutcome,
    build_event,
    email_identity,
)
from processor.parse.email.forwarded import (
    MAX_FORWARD_DEPTH,
    attached_bounces,
    passes_on_bounce,
    says_forwarded,
)
from processor.parse.email.kinds import (
    is_challenge,
    is_domain_report,
    is_list_traffic,
    is_notification,
    is_rejection_mdn,
    is_ticket_notice,
    machine_written,
)
from processor.parse.email.message import (
    MAX_EMAIL_BYTES,
    header_addresses,
    header_text,
    load_message,
)
from processor.parse.email.notice import (
    MAX_NOTICE_CHARS,
    first_text,
    returned_start,
    with_html_alternative,
)
from processor.parse.email.original import (
    correlation_headers,
    forwarded_report,
    returned_message,
)
from processor.parse.email.reports import (
    Feedback,
    declares_auto_reply,
    is_acknowledgement,
    is_auto_reply,
    is_disposition_notification,
    parse_feedback,
    unsubscribe_request,
)
from processor.parse.email.sns import ses_events_in

__all__ = ["MAX_EMAIL_BYTES", "looks_like_email", "parse_email"]

_SNIFF_BYTES = 16_384
_FIELD_NAME = re.compile(rb"^([!-9;-~]{1,76}):", re.MULTILINE)
_KNOWN_FIELDS = frozenset(
    {
        b"from", b"to", b"subject", b"date", b"message-id", b"received", b"return-path",
        b"mime-version", b"content-type", b"delivered-to", b"x-failed-recipients",
        b"reply-to", b"sender", b"auto-submitted", b"x-original-to", b"dkim-signature",
    }
)  # fmt: skip


def looks_like_email(data: bytes) -> bool:
    """True when ``data`` starts like an RFC 5322 message (header fields, then a blank line).

    Cheap: looks at the first 16 KiB only. An mbox ``From `` line may come first.
    A syslog line never matches (its first word is followed by a space, not a
    colon); neither does JSON. At least two header fields are required, one of
    them a common one (``From``, ``Received``, ``Content-Type`` ...).

    :param data: the payload's first bytes (more is fine).
    """
    head = data[:_SNIFF_BYTES].lstrip(b"\r\n")
    if head.startswith(b"From "):
        head = head.split(b"\n", 1)[1] if b"\n" in head else b""
    if not _FIELD_NAME.match(head):
        return False
    end = head.find(b"\n\n")
    if end < 0:
        end = head.find(b"\r\n\r\n")
    block = head if end < 0 else head[:end]
    names = [m.group(1).lower() for m in _FIELD_NAME.finditer(block)]
    return len(names) >= 2 and any(name in _KNOWN_FIELDS for name in names)


def _context(
    message: Message, raw: bytes, returned: Message | None, reports: list[DsnReport]
) -> EmailContext:
    """Per-email fields; ``message`` is the email received (its Message-ID and Date)."""
    first = next((r for r in reports if r.reporting_mta or r.arrival_date), None)
    sender = next((r.sender for r in reports if r.sender), None)
    if sender is None and returned is not None:
        sender = next(iter(header_addresses(returned, "Return-Path")), None)
    return EmailContext(
        identity=email_identity(header_text(message, "Message-ID"), raw),
        date=header_text(message, "Date"),
        reporting_mta=strip_address_type(first.reporting_mta)
        if first and first.reporting_mta
        else None,
        arrival_date=first.arrival_date if first else None,
        queue_id=next((r.queue_id for r in reports if r.queue_id), None),
        sender=strip_address_type(sender) if sender else None,
        original_message=correlation_headers(returned),
    )


def _complaints(message: Message, context: EmailContext) -> list[DeliveryEvent] | None:
    feedback = parse_feedback(message)
    if feedback is None:
        return None
    return _complaint_events(feedback, context)


def _complaint_events(feedback: Feedback, context: EmailContext) -> list[DeliveryEvent]:
    words = f"feedback-report; Feedback-Type: {feedback.feedback_type}"
    if feedback.source_ip:
        words += f"; Source-IP: {feedback.source_ip}"
    if feedback.arrival_date:
        context.arrival_date = feedback.arrival_date
    if feedback.reporter:
        context.reporting_mta = feedback.reporter[:255]
    recipients = feedback.recipients or [""]
    return [
        build_event(
            context, RecipientOutcome(recipient, diagnostic=words, preset_reason=Reason.COMPLAINT)
        )
        for recipient in recipients
    ]


def _auto_reply(message: Message, context: EmailContext) -> list[DeliveryEvent]:
    sender = (header_addresses(message, "From") or [""])[0]
    subject = header_text(message, "Subject") or "automatic reply"
    in_reply_to = header_text(message, "In-Reply-To")
    if in_reply_to and context.original_message is None:
        context.original_message = {"message_id": in_reply_to}
    outcome = RecipientOutcome(sender, diagnostic=subject, preset_reason=Reason.AUTO_REPLY)
    return [build_event(context, outcome)]


def _read(received: Message, raw: bytes) -> list[DeliveryEvent] | None:
    """The events of one email (the one received, or a bounce attached to it); ``None``
    when it is neither a bounce, a feedback report nor an automatic reply."""
    message = received
    text = first_text(message)
    cut = returned_start(text)
    pasted = forwarded_report(message, text, cut)
    if pasted is not None:  # the real report is pasted below a provider's own notice
        message = pasted
        text = first_text(message)
        cut = returned_start(text)
    notice = text[: min(cut, MAX_NOTICE_CHARS)]
    returned = returned_message(message, text, cut)
    reports = delivery_reports(message)
    if not reports and _not_about_delivery(message, notice):
        return []
    context = _context(received, raw, returned, reports)
    complaints = _complaints(message, context)
    if complaints is not None:
        return complaints
    if not reports and declares_auto_reply(message):  # its body's addresses are not recipients
        return _auto_reply(message, context)
    if reports or _bounce_author(message):
        prose = with_html_alternative(message, notice)
        outcomes = outcomes_from_email(message, prose, returned, reports)
        if outcomes:
            return [build_event(context, outcome) for outcome in outcomes if outcome.recipient]
    platform = ses_events_in(text)
    if platform:
        return platform
    return _not_a_bounce(message, notice, context)


def _not_a_bounce(
    message: Message, notice: str, context: EmailContext
) -> list[DeliveryEvent] | None:
    """An email in which no failed recipient was found: an opt-out, an automatic reply,
    or automatic mail about something else (``[]``, skipped); ``None``: unrecognised."""
    unsubscribe = unsubscribe_request(message)
    if unsubscribe is not None:
        return _complaint_events(unsubscribe, context)
    if is_auto_reply(message) or is_challenge(message, notice):  # a challenge holds the message
        return _auto_reply(message, context)
    if not looks_like_bounce(message, notice):
        if is_acknowledgement(message):  # a help desk's ticket receipt
            return _auto_reply(message, context)
        if is_notification(message):  # automatic mail about something else: skipped
            return []
    return None


def _bounce_author(message: Message) -> bool:
    """True when a mail system may have written ``message`` as a bounce: machine-written
    and not a help desk's ticket message (whose text may quote a customer's bounce).
    A person's words, or a bounce a person pasted, are never read as one (kinds.py)."""
    return machine_written(message) and not is_ticket_notice(message)


def _not_about_delivery(message: Message, notice: str) -> bool:
    """True for an email without a delivery-status part that is about something else:
    a read receipt (RFC 8098; not a Sieve or LDA rejection sent as one, RFC 5429), a
    DMARC or TLS report (RFC 7489, RFC 8460), list traffic (RFC 2369, RFC 2919). No
    record; the caller counts it as skipped."""
    return (
        (is_disposition_notification(message) and not is_rejection_mdn(message, notice))
        or is_domain_report(message)
        or is_list_traffic(message)
    )


def _read_forwarded(message: Message, raw: bytes, depth: int) -> list[DeliveryEvent] | None:
    """Read ``message``, or the bounces a person forwarded in it as attachments.

    A forward's subject ("Fwd:", "FW:"), or a list manager's notice passing on a
    bounce it could not read, sends the reading to the attachments first; otherwise
    the email itself is read first and its attached bounces only when it is nothing
    recognised (:mod:`processor.parse.email.forwarded`).
    Each attached bounce is read with its own Message-ID and Date, so a bounce
    received both directly and forwarded gives the same ``event_id``.
    """
    attached = attached_bounces(message) if depth < MAX_FORWARD_DEPTH else []
    if not (attached and (says_forwarded(message) or passes_on_bounce(message))):
        events = _read(message, raw)
        if events is not None or not attached:
            return events
    found: list[DeliveryEvent] | None = None
    for bounce in attached:
        events = _read_forwarded(bounce, raw, depth + 1)
        if events is not None:
            found = (found or []) + events
    return found


def _parse(raw: bytes) -> list[DeliveryEvent]:
    events = _read_forwarded(load_message(raw), raw, 0)
    if events is None:
        raise UnrecognisedPayloadError(
            "email is neither a bounce (no failed recipient found), a feedback report "
            "nor an automatic reply"
        )
    return events


def parse_email(raw: bytes) -> list[DeliveryEvent]:
    """Parse one bounce email into delivery events, one per recipient.

    :param raw: the email bytes (any line ends, any charsets; at most
        :data:`MAX_EMAIL_BYTES` are read).
    :returns: the events, in the order the email lists the recipients; empty when
        the email is a notification that is not a delivery outcome (a read receipt,
        an SES notification of a sending or opening event): count it as skipped.
    :raises UnrecognisedPayloadError: the email is neither a bounce, a
        feedback report nor an automatic reply (no recipient could be found).
    :raises InvalidEventError: the email could not be parsed at all.
    """
    try:
        return _parse(raw)
    except PayloadError:
        raise
    except Exception as error:  # the email package fails in many ways on hostile input
        raise InvalidEventError(
            f"bounce email could not be parsed: {type(error).__name__}"
        ) from None
