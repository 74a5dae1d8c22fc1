"""Emails that are not bounces: feedback-loop complaints and automatic replies.

- ARF feedback reports (RFC 5965): ``multipart/report; report-type=feedback-report``
  with a ``message/feedback-report`` part (``Feedback-Type``, ``Original-Rcpt-To``,
  ``Original-Mail-From``, ``Arrival-Date``, ``Source-IP``, ``Reported-Domain``),
  and Microsoft's JMRP reports (a forwarded ``message/rfc822`` carrying
  ``X-HmXmrOriginalRecipient``, sent by the Junk Mail Reporting Program,
  https://learn.microsoft.com/en-us/defender-office-365/junk-mail-reporting-program).
- Unsubscribe requests sent to a ``List-Unsubscribe`` mailto address (RFC 2369
  §3.2): complaints of type ``opt-out``, like the ARF type.
- Message disposition notifications (read receipts, RFC 8098; RFC 6533 for the
  ``message/global-disposition-notification`` form): a report on what a reader did
  with a delivered message, not a delivery outcome (:func:`is_disposition_notification`).
- Automatic replies (RFC 3834 §5: ``Auto-Submitted: auto-replied``; also the
  widespread non-standard ``X-Autoreply``, ``X-Autorespond``,
  ``Precedence: auto_reply`` headers and "Out of Office"/"Automatic reply"
  subjects). Bounces carry ``Auto-Submitted`` too (RFC 3464 reports are
  auto-replied), so :func:`is_auto_reply` is only asked once an email turned
  out not to be a bounce.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from email.message import Message

from processor.parse.email.dsn import strip_address_type
from processor.parse.email.message import header_addresses, header_text, own_parts, part_text

__all__ = [
    "Feedback",
    "declares_auto_reply",
    "is_acknowledgement",
    "is_auto_reply",
    "is_disposition_notification",
    "parse_feedback",
    "unsubscribe_request",
]

_MAX_FEEDBACK_RECIPIENTS = 100
_FIELD = re.compile(
    r"^([A-Za-z][A-Za-z0-9\-]{0,60})[ \t]{0,20}:[ \t]{0,20}(.{0,2000})$", re.MULTILINE
)
_AUTO_SUBJECT = re.compile(
    r"^[ \t]{0,5}(?:auto(?:matic|matische?|matisch)?[ \-_]?"
    r"(?:reply|response|answer|antwort|antwoord|respuesta|risposta|resposta)|"
    r"auto:|autoreply|out of (?:the )?office|away from (?:the )?office|on vacation|vacation|"
    r"abwesenheit|abwesend|réponse automatique|reponse automatique|absence|i am away|i'm away|"
    r"away until|ooo\b|"
    # Spanish, Italian, Portuguese put the adjective last; Chinese, Japanese, Korean
    r"(?:respuesta|risposta|resposta) autom[aá]tica|fuera de la oficina|fuori ufficio|"
    r"自动回复|自動回復|自動応答|自動返信|자동 ?응답|"
    # "absent" and "out of office" as Outlook and webmail write them in French, Italian,
    # Dutch, Polish, Swedish, Norwegian/Danish, Portuguese, Czech, Russian, Japanese;
    # English "on (annual/parental ...) leave"
    r"absent(?:e|a)? du bureau|absent\b|fuori sede|assente|afwezig|poza biurem|nieobecno[śs][ćc]|"
    r"fr[åa]nvaro|frånvarande|fravær|ausência|ausente|fora do escrit[óo]rio|nepřítomnost|"
    r"mimo kancelář|нет на месте|вне офиса|автоответ|отсутств|不在|"
    r"(?:i am |i'm )?on (?:[a-z]{1,12} )?leave\b)",
    re.IGNORECASE,
)
_BOUNCE_SENDER = re.compile(
    r"^(?:mailer-daemon|postmaster|mail-daemon|mailerdaemon)@", re.IGNORECASE
)


@dataclass(slots=True)
class Feedback:
    """One complaint report.

    :param feedback_type: RFC 5965 ``Feedback-Type`` (``abuse``, ``fraud``, ``opt-out``,
        ``auth-failure``, ``not-spam``, ``virus``, ``other``), lowercased.
    :param recipients: the complained-about recipients (``Original-Rcpt-To``, or
        the returned message's ``To``).
    :param arrival_date: ``Arrival-Date`` / ``Received-Date`` text, if any.
    :param source_ip: ``Source-IP``, if any.
    :param reporter: ``Reporting-MTA`` or ``User-Agent`` of the report.
    """

    feedback_type: str
    recipients: list[str]
    arrival_date: str | None
    source_ip: str | None
    reporter: str | None


def _fields(text: str) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for match in _FIELD.finditer(text):
        found.setdefault(match.group(1).lower(), []).append(match.group(2).strip())
    return found


def _first(fields: dict[str, list[str]], *names: str) -> str | None:
    for name in names:
        if fields.get(name):
            return fields[name][0]
    return None


def _returned_message(message: Message) -> Message | None:
    for part in own_parts(message):
        content_type = part.get_content_type()
        if content_type == "message/rfc822":
            inner = part.get_payload()
            if isinstance(inner, list) and inner and isinstance(inner[0], Message):
                return inner[0]
        if content_type in ("text/rfc822-headers", "text/rfc822-header", "message/rfc822-headers"):
            from email import message_from_string
            from email.policy import compat32

            return message_from_string(part_text(part), policy=compat32)
    return None


def _arf_part(message: Message) -> Message | None:
    for part in own_parts(message):
        if part.get_content_type() == "message/feedback-report":
            return part
    return None


def parse_feedback(message: Message) -> Feedback | None:
    """Return the complaint when ``message`` is an ARF or JMRP report, else ``None``."""
    report = _arf_part(message)
    returned = _returned_message(message)
    if report is not None:
        fields = _fields(part_text(report))
        recipients = [strip_address_type(value) for value in fields.get("original-rcpt-to", [])]
        if not recipients and returned is not None:
            recipients = header_addresses(returned, "To")
        feedback_type = (_first(fields, "feedback-type") or "abuse").split() or ["abuse"]
        return Feedback(
            feedback_type=feedback_type[0].lower(),
            recipients=[r for r in recipients if "@" in r][:_MAX_FEEDBACK_RECIPIENTS],
            arrival_date=_first(fields, "arrival-date", "received-date"),
            source_ip=_first(fields, "source-ip"),
            reporter=_first(fields, "reporting-mta", "user-agent"),
        )
    if returned is not None and returned.get("X-HmXmrOriginalRecipient"):
        recipients = header_addresses(returned, "X-HmXmrOriginalRecipient")
        return Feedback("abuse", recipients[:_MAX_FEEDBACK_RECIPIENTS], None, None, "jmrp")
    return None


_UNSUBSCRIBE_SUBJECT = re.compile(r"^[ \t]{0,5}unsubscribe[ \t]{0,5}$", re.IGNORECASE)


def unsubscribe_request(message: Message) -> Feedback | None:
    """The recipient's opt-out when ``message`` is an unsubscribe request, else ``None``.

    A mail client that follows a ``List-Unsubscribe: <mailto:...?subject=unsubscribe>``
    header (RFC 2369 §3.2) sends the recipient's request as an email with the
    subject "unsubscribe"; Apple Mail marks its own with ``X-Apple-Unsubscribe:
    true``. The request is the recipient saying "stop", like an ARF report of
    type ``opt-out``, not an automatic reply to read and forget. The requester is
    the ``From`` address. Asked only once an email turned out not to be a bounce.
    """
    sender = (header_addresses(message, "From") or [""])[0]
    if not sender or _BOUNCE_SENDER.match(sender):
        return None
    apple = (header_text(message, "X-Apple-Unsubscribe") or "").strip().lower() == "true"
    subject = header_text(message, "Subject") or ""
    if not apple and not _UNSUBSCRIBE_SUBJECT.match(subject):
        return None
    return Feedback("opt-out", [sender], None, None, "unsubscribe request")


_MDN_TYPES = ("message/disposition-notification", "message/global-disposition-notification")


def is_disposition_notification(message: Message) -> bool:
    """True when ``message`` is a message disposition notification (a read receipt).

    RFC 8098 §3: ``multipart/report; report-type=disposition-notification`` whose
    second part is ``message/disposition-notification`` (``Final-Recipient``,
    ``Disposition: manual-action/MDN-sent-manually; displayed`` ...); RFC 6533 §6
    adds the UTF-8 ``message/global-disposition-notification``. Either the report
    type or such a part is enough (clients get one or the other wrong). The parts of
    an attached ``message/rfc822`` are not looked at.
    """
    if message.get_content_type() == "multipart/report":
        value = message.get_param("report-type", "")
        report_type = (value[2] if isinstance(value, tuple) else str(value)).strip().lower()
        if report_type in ("disposition-notification", "global-disposition-notification"):
            return True
    return any(part.get_content_type() in _MDN_TYPES for part in own_parts(message))


def _explicit_marker(message: Message) -> bool:
    """A header only automatic responders write (bounces never carry these)."""
    if header_text(message, "X-Autoreply") or header_text(message, "X-Autorespond"):
        return True
    if header_text(message, "X-MS-Exchange-Inbox-Rules-Loop"):  # an Exchange inbox rule's reply
        return True
    return (header_text(message, "Precedence") or "").lower() == "auto_reply"


def declares_auto_reply(message: Message) -> bool:
    """True when the subject or a responder's own header says automatic reply, and no
    mailer daemon sent ``message``.

    Bounces carry ``Auto-Submitted: auto-replied`` too (RFC 3464 §6.2), so that
    header alone cannot put an automatic reply before the bounce reading; a
    subject such as "Automatic reply: ...", "Out of Office: ..." or
    "Abwesenheitsnotiz" (what Exchange, Outlook and RFC 3834 §3.1.5 responders
    write) can, and so can the headers only responders write: ``X-Autoreply``,
    ``X-Autorespond``, ``Precedence: auto_reply`` and Exchange's
    ``X-MS-Exchange-Inbox-Rules-Loop`` (set on what a mailbox's inbox rule sends,
    e.g. "this mailbox is no longer monitored"). The body of such a reply
    ("messages to this address will not be delivered to me; please write to
    <colleague>") names other people's addresses that are not failed recipients.
    The caller asks only for an email with no delivery-status part.
    """
    sender = (header_addresses(message, "From") or [""])[0]
    if _BOUNCE_SENDER.match(sender):
        return False
    if _explicit_marker(message):
        return True
    return bool(_AUTO_SUBJECT.search(header_text(message, "Subject") or ""))


def is_auto_reply(message: Message) -> bool:
    """True when ``message`` declares itself an automatic reply and is not from a mailer daemon."""
    sender = (header_addresses(message, "From") or [""])[0]
    if _BOUNCE_SENDER.match(sender):
        return False
    auto_submitted = (header_text(message, "Auto-Submitted") or "").lower()
    if auto_submitted.startswith("auto-replied") or _explicit_marker(message):
        return True
    subject = header_text(message, "Subject") or ""
    return bool(_AUTO_SUBJECT.search(subject))


# A help desk's acknowledgement: "[Ticket #48213] Request received: ...", "Case 01234 created".
_TICKET_SUBJECT = re.compile(
    r"(?:\[[ \t]{0,3}(?:ticket|case|request|incident|issue|support)?[ \t:#-]{0,3}"
    r"[0-9]{2,15}[ \t]{0,3}\]|"
    r"\b(?:ticket|case|request|incident)[ \t]{0,3}(?:#|no\.?|id:?)?[ \t]{0,3}[0-9]{2,15}\b|"
    r"request (?:received|created)|we(?:'ve| have) received your|"
    r"has been (?:received|created|opened)|ticket (?:created|opened|received))",
    re.IGNORECASE,
)


def is_acknowledgement(message: Message) -> bool:
    """True when an automatic process answered a message: a help desk's ticket receipt.

    Ticket systems acknowledge every incoming message, ours included, as an
    automatic response marked ``Auto-Submitted: auto-generated`` (RFC 3834 §5.1:
    any value but ``no`` means automatic) or ``X-Auto-Response-Suppress`` /
    ``Precedence: bulk``. Accepted when an automatic marker comes with a reference
    to the message answered (``In-Reply-To``/``References``) or a ticket subject
    ("[Ticket #48213] Request received"), and no mailer daemon sent it. Bounces are
    automatic too: the caller asks only once nothing in the email reads as a
    delivery failure.
    """
    sender = (header_addresses(message, "From") or [""])[0]
    if _BOUNCE_SENDER.match(sender):
        return False
    auto_submitted = (header_text(message, "Auto-Submitted") or "no").lower()
    precedence = (header_text(message, "Precedence") or "").lower()
    automatic = (
        not auto_submitted.startswith("no")
        or header_text(message, "X-Auto-Response-Suppress") is not None
        or precedence in ("bulk", "junk")
    )
    if not automatic:
        return False
    answers = header_text(message, "In-Reply-To") or header_text(message, "References")
    ticket = _TICKET_SUBJECT.search(header_text(message, "Subject") or "") is not None
    return bool(answers) or ticket
