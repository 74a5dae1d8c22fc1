"""Emails a return-path mailbox receives that are not delivery failures, by kind.

A bounce is written by a mail system; much of what else arrives is written by a
person (a reply quoting a bounce, a bounce pasted into a question, a support
request) or is machine mail about something else (list traffic, DMARC and TLS
reports, help-desk and sender-verification messages, account notifications).
Reading such an email's prose as a bounce takes the addresses a person wrote, or a
newsletter quoted, as failed recipients, and a wrong ``hard`` record suppresses a
good address for good. The tests here let the caller tell those kinds apart:

- :func:`machine_written`: evidence that a mail system, not a person, wrote the
  email; without any, its prose is not read as a bounce (a bounce a person pasted
  or quoted is no longer the bounce: edited, without its own identity, often
  about the person's own mail);
- :func:`is_list_traffic`: mailing-list and newsletter mail (RFC 2369, RFC 2919);
- :func:`is_domain_report`: DMARC aggregate reports (RFC 7489 §7.2) and SMTP TLS
  reports (RFC 8460);
- :func:`is_ticket_notice`: a help desk's automatic message about a ticket;
- :func:`is_challenge`: a challenge-response system asking the sender to prove
  it is a person before the message is delivered;
- :func:`is_notification`: other automatic mail (RFC 3834 ``Auto-Submitted``,
  ``Precedence: bulk``) that is not a reply.

All patterns use bounded quantifiers only (linear-time search).
"""

from __future__ import annotations

import re
from email.message import Message

from processor.parse.email.bounce import is_bounce_sender
from processor.parse.email.message import header_addresses, header_text, own_parts
from processor.parse.email.original import has_report_part

__all__ = [
    "is_challenge",
    "is_domain_report",
    "is_list_traffic",
    "is_notification",
    "is_rejection_mdn",
    "is_ticket_notice",
    "machine_written",
]

_RETURNED_TYPES = ("message/rfc822", "text/rfc822-headers", "text/rfc822-header",
                   "message/rfc822-headers")  # fmt: skip
# A list manager's own notices (loop alerts, command errors) name the software: fml, Mailman.
_LIST_MANAGER_FIELDS = ("X-MLServer", "X-Mailman-Version")
_LIST_FIELDS = ("List-Id", "List-Unsubscribe", "List-Post", "List-Help", "List-Subscribe")
# RFC 7489 §7.2.1.1: "Report Domain: <domain> Submitter: <domain> Report-ID: <id>"
_DMARC_SUBJECT = re.compile(
    r"^[ \t]{0,5}(?:\[[^\]\n]{0,40}\][ \t]{0,3})?report[ \t]{1,3}domain:[ \t]{0,3}\S{1,255}"
    r"[ \t]{1,3}submitter:",
    re.IGNORECASE,
)
# RFC 7489 §7.2.1.1 file name: receiver "!" policy domain "!" begin "!" end [ "!" id ] ".xml"
# with ".zip" or ".gz"; RFC 8460 §5.3 likewise ends ".json" or ".json.gz".
_REPORT_FILE = re.compile(
    r"![0-9]{9,11}![0-9]{9,11}(?:![^!.\s]{1,64})?\.(?:xml|json)(?:\.gz|\.zip)?$|"
    r"![0-9]{9,11}![0-9]{9,11}(?:![^!.\s]{1,64})?\.zip$",
    re.IGNORECASE,
)
_TLSRPT_TYPES = ("application/tlsrpt+gzip", "application/tlsrpt+json")
_REPORT_ARCHIVES = ("application/zip", "application/gzip", "application/x-gzip",
                    "application/x-zip-compressed", "application/octet-stream")  # fmt: skip
# A help desk's ticket reference in the subject: "[Ticket #48213]", "[Case 00451277]",
# "[Request ID: 88213]", "[abuse #20261226-114]".
_TICKET = re.compile(
    r"\[[ \t]{0,3}(?:ticket|case|request|incident|issue|support|abuse)[ \t]{0,3}"
    r"(?:id|no\.?|number)?[ \t:#-]{0,4}[0-9][0-9\-]{1,20}[ \t]{0,3}\]",
    re.IGNORECASE,
)
# Challenge-response systems hold the message until the sender proves it is a person.
_CHALLENGE = re.compile(
    r"(?:verify (?:that )?you are (?:a )?(?:human|real person|person)|"
    r"confirm (?:that )?you are (?:a )?(?:human|real person|person)|"
    r"sender verification|"
    r"(?:only )?accepts? (?:e-?mail|mail|messages) (?:only )?from approved senders|"
    r"verify your (?:message|e-?mail)|confirm (?:that )?you sent)",
    re.IGNORECASE,
)

# RFC 5429 §2.2.2 / Dovecot LDA: "Your message to <bob@example.com> was automatically rejected:"
_REJECTED = re.compile(r"\b(?:automatically )?rejected\b|\brejected by sieve\b", re.IGNORECASE)


def _sender(message: Message) -> str:
    return (header_addresses(message, "From") or [""])[0]


def _automatic(message: Message) -> bool:
    """RFC 3834 §5: any ``Auto-Submitted`` value but ``no`` means automatic."""
    return not (header_text(message, "Auto-Submitted") or "no").strip().lower().startswith("no")


def _bounce_marked(message: Message) -> bool:
    """What only a bounce carries: a report part, ``X-Failed-Recipients``, a daemon sender."""
    return (
        has_report_part(message)
        or header_text(message, "X-Failed-Recipients") is not None
        or is_bounce_sender(_sender(message))
    )


def machine_written(message: Message) -> bool:
    """True when something shows a mail system, not a person, wrote ``message``.

    Any of: a delivery-status part or ``X-Failed-Recipients``; a mailer daemon's
    ``From``; no ``From`` address (RFC 5322 §3.6 requires one; mail programs always
    write it, some MTAs write none, ``MAILER-DAEMON <>`` or ``<@>``); a list manager's
    own header (``X-MLServer``, ``X-Mailman-Version``); a null ``Return-Path: <>`` (RFC 5321
    §4.5.5: notifications are sent with a null reverse-path); ``Auto-Submitted``
    other than ``no`` (RFC 3834 §5); the returned message attached as a
    ``message/rfc822`` or ``text/rfc822-headers`` part (RFC 3464 §2).
    """
    if _bounce_marked(message) or not header_addresses(message, "From") or _automatic(message):
        return True
    if any(header_text(message, name) for name in _LIST_MANAGER_FIELDS):
        return True
    if (header_text(message, "Return-Path") or "").strip() == "<>":
        return True
    return any(part.get_content_type() in _RETURNED_TYPES for part in own_parts(message))


def is_list_traffic(message: Message) -> bool:
    """True for mailing-list or newsletter mail: a ``List-*`` header field (RFC 2369 §3,
    RFC 2919 ``List-Id``) and nothing only a bounce carries. MTAs never write list fields
    on a bounce; a list post or newsletter that quotes a bounce carries them."""
    if _bounce_marked(message):
        return False
    return any(header_text(message, name) for name in _LIST_FIELDS)


def is_domain_report(message: Message) -> bool:
    """True for a DMARC aggregate report or an SMTP TLS report (about a domain's mail, not
    about one delivery).

    - RFC 8460 §5.3: ``multipart/report; report-type="tlsrpt"`` with an
      ``application/tlsrpt+gzip`` or ``application/tlsrpt+json`` part;
    - RFC 7489 §7.2.1.1: subject ``Report Domain: ... Submitter: ...``, or a zip/gzip
      attachment named ``receiver!domain!begin!end[!id].xml.gz``/``.zip``.
    """
    if message.get_content_type() == "multipart/report":
        value = message.get_param("report-type", "")
        if (value[2] if isinstance(value, tuple) else str(value)).strip().lower() == "tlsrpt":
            return True
    if _DMARC_SUBJECT.match(header_text(message, "Subject") or ""):
        return True
    for part in own_parts(message):
        content_type = part.get_content_type()
        if content_type in _TLSRPT_TYPES:
            return True
        name = part.get_filename() if content_type in _REPORT_ARCHIVES else None
        if name and _REPORT_FILE.search(name[:300]):
            return True
    return False


def is_ticket_notice(message: Message) -> bool:
    """True for a help desk's automatic message about a ticket: an automatic marker
    (``Auto-Submitted`` other than ``no``, RFC 3834 §5; ``X-Auto-Response-Suppress``;
    ``Precedence: bulk``) and a ticket reference in brackets in the subject ("[Case
    00451277] Update: ..."), from no mailer daemon and with no report part. Its text
    may quote a bounce the customer sent in; MTAs never write a ticket reference."""
    if _bounce_marked(message):
        return False
    precedence = (header_text(message, "Precedence") or "").strip().lower()
    automatic = (
        _automatic(message)
        or header_text(message, "X-Auto-Response-Suppress") is not None
        or precedence in ("bulk", "junk")
    )
    return automatic and _TICKET.search(header_text(message, "Subject") or "") is not None


def is_challenge(message: Message, notice: str) -> bool:
    """True for a challenge-response request ("verify you are human to reach ...",
    "sender verification"): the subject or the first 3,000 characters of the notice
    ask the sender to prove it is a person, and nothing only a bounce carries is there.
    RFC 3834 §2 counts these as automatic responses; the message is held, not refused."""
    if _bounce_marked(message):
        return False
    subject = header_text(message, "Subject") or ""
    return _CHALLENGE.search(subject) is not None or _CHALLENGE.search(notice[:3_000]) is not None


def is_notification(message: Message) -> bool:
    """True for automatic mail that is not a bounce: ``Auto-Submitted`` other than ``no``
    (RFC 3834 §5) or ``Precedence: bulk``/``junk``/``list``, and nothing only a bounce
    carries. The caller asks only once nothing in the email reads as a bounce."""
    if _bounce_marked(message):
        return False
    precedence = (header_text(message, "Precedence") or "").strip().lower()
    return _automatic(message) or precedence in ("bulk", "junk", "list")


def is_rejection_mdn(message: Message, notice: str) -> bool:
    """True for a delivery agent's refusal sent as a disposition notification: a Sieve
    ``reject`` (RFC 5429 §2.2.2: an MDN whose disposition is ``deleted``) or a Dovecot LDA
    rejection ("Quota exceeded"), from a mailer daemon and saying the message was
    rejected (first 3,000 characters of ``notice``). A person's read receipt ("deleted
    without being read") comes from the person, not a mailer daemon."""
    if not is_bounce_sender(_sender(message)):
        return False
    return _REJECTED.search(notice[:3_000]) is not None
