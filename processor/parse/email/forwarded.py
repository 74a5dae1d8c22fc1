"""Bounces a person forwarded as an attachment.

A user who received a bounce often forwards it to whoever handles bounces (a
support desk, the bounce mailbox) with "Forward as attachment": the email
received is then an ordinary message from that person, and the bounce itself
(an RFC 3464 report, or an MTA's prose notice) is one of its ``message/rfc822``
parts (RFC 2046 §5.2.1). The person's own words ("my colleague left the
company") name addresses that are not failed recipients; the attached bounce
is the evidence.

An attached ``message/rfc822`` is also how a bounce returns the original
message, and the original can itself be a bounce (a double bounce). So an
attachment is read as a forwarded bounce only when the email around it is not
a bounce itself: it has no delivery-status part, no ``X-Failed-Recipients``
header, and was not sent by a mailer daemon. The caller reads the attachment
first when the subject says forward ("Fwd:", "FW:", "WG:", "TR:", ...), else
only when the outer email turned out to be nothing it recognises.

All patterns use bounded quantifiers only (linear-time search).
"""

from __future__ import annotations

import re
from email.message import Message

from processor.parse.email.bounce import is_bounce_sender, looks_like_bounce
from processor.parse.email.message import header_addresses, header_text, own_parts
from processor.parse.email.notice import cut_returned_message, first_text
from processor.parse.email.original import has_report_part

__all__ = ["MAX_FORWARD_DEPTH", "attached_bounces", "passes_on_bounce", "says_forwarded"]

MAX_FORWARD_DEPTH = 3
"""Forwards of forwards followed (a user forwards to the help desk, which forwards on)."""

MAX_ATTACHED_BOUNCES = 20
"""Attached bounces read from one email."""

# "Fwd:", "FW:" and the prefixes mail clients write in other languages: German WG,
# French TR, Spanish RV, Portuguese ENC, Italian I/Inoltro, Dutch Doorst, Nordic VS/VB/Vid.
_FORWARD_SUBJECT = re.compile(
    r"^[ \t]{0,5}(?:\[[^\]\n]{0,40}\][ \t]{0,3})?"
    r"(?:fwd?|fw|wg|tr|rv|enc|i|inoltro|doorst|vs|vb|vid|rif)[ \t]{0,3}:",
    re.IGNORECASE,
)

# A list manager passing on a bounce it could not read to the list owners (Mailman 3's
# "Uncaught bounce notification": "The attached message was received as a bounce, but
# either the bounce format was not recognized ...").
_PASSED_ON = re.compile(
    r"(?:uncaught bounce|received as a bounce|unrecogni[sz]ed bounce)", re.IGNORECASE
)


def passes_on_bounce(message: Message) -> bool:
    """True when the subject or the first 2,000 characters of the text say the attached
    message is a bounce passed on unread (a list manager's owner notice)."""
    subject = header_text(message, "Subject") or ""
    return _PASSED_ON.search(subject) is not None or (
        _PASSED_ON.search(first_text(message)[:2_000]) is not None
    )


def says_forwarded(message: Message) -> bool:
    """True when the subject starts with a forward prefix ("Fwd:", "FW:", "WG:", ...)."""
    return _FORWARD_SUBJECT.match(header_text(message, "Subject") or "") is not None


def _is_bounce(candidate: Message) -> bool:
    if has_report_part(candidate):
        return True
    return looks_like_bounce(candidate, cut_returned_message(first_text(candidate)))


def attached_bounces(message: Message) -> list[Message]:
    """The bounces attached to ``message`` when it is a forward of them, else ``[]``.

    :param message: the email received.
    :returns: each attached ``message/rfc822`` that is a bounce (a delivery-status
        part, a mailer-daemon sender, bounce wording or an SMTP error line), in
        order, at most :data:`MAX_ATTACHED_BOUNCES`; ``[]`` when ``message`` is
        itself a bounce (see the module docstring).
    """
    if has_report_part(message) or header_text(message, "X-Failed-Recipients"):
        return []
    if is_bounce_sender((header_addresses(message, "From") or [""])[0]):
        return []
    found: list[Message] = []
    for part in own_parts(message):
        if part is message or part.get_content_type() != "message/rfc822":
            continue
        inner = part.get_payload()
        if (
            isinstance(inner, list)
            and inner
            and isinstance(inner[0], Message)
            and _is_bounce(inner[0])
        ):
            found.append(inner[0])
        if len(found) >= MAX_ATTACHED_BOUNCES:
            break
    return found
