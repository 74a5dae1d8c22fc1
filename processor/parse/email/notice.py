"""The human-readable notice of a bounce email, and what its wording says.

Non-standard bounces (Exim, qmail, Sendmail transcripts, Exchange 2003, Gmail,
Yahoo, Mail.Ru, Zoho ...) carry their information only in prose. This module
finds the notice text (the first text part, or the body), cuts it where the
returned message begins, and recognises wording that says the message was only
delayed (a warning, not a final failure).

All patterns use bounded quantifiers only (linear-time search).
"""

from __future__ import annotations

import re
from email.message import Message

from processor.parse.email.message import html_to_text, own_parts, part_text

__all__ = [
    "cut_returned_message",
    "first_text",
    "is_delay_notice",
    "is_expiry_notice",
    "returned_start",
    "with_html_alternative",
]

MAX_NOTICE_CHARS = 20_000
"""Characters of notice text kept for recipient and diagnostic search."""

# Lines where a bounce's copy of the original message (or its headers) begins.
_RETURNED = re.compile(
    r"^[ \t>]{0,6}(?:"
    r"[-=*_]{2,80}[ \t]{0,10}(?:this is a copy|below this line|original message|"
    r"unsent message|the header of the original|returned message|original mail|"
    r"original message header|message header|copy of (?:the|your) message|"
    r"end of transcript|rfc822|headers? of (?:the )?(?:original|returned)|"
    r"kopie der (?:ursprünglichen |originalen )?nachricht|originalnachricht|copie du message|"
    r"message d'origine|copia del mensaje|mensaje original)"
    r"|(?:original message follows|message headers follow|unsent message follows|"
    r"below is a copy of the (?:original )?message|original message headers:|"
    r"included is a copy of the message|the original message (?:headers? )?(?:was|is|are) "
    r"(?:attached|included|below|follows)|your message reads|--- original message)"
    r")",
    re.IGNORECASE | re.MULTILINE,
)
# An inline copy of the returned message without a marker line.
_INLINE_HEADERS = re.compile(
    r"^(?:Return-Path|Received|DKIM-Signature|Message-I[Dd]):[ \t]", re.MULTILINE
)

_DELAY = re.compile(
    r"(?:this is a warning message only|has (?:not yet|still not) been delivered|"
    r"delivery to the following recipients? (?:has been|was) delayed|"
    r"delivery attempts will continue|will (?:continue to )?(?:be )?retr(?:y|ied)|"
    # "The router will continue to try delivering the message" (Domino), "will keep trying to
    # deliver it" (gateways), "will continue attempting to deliver" (MDaemon)
    r"will (?:continue to (?:try|attempt)|continue (?:trying|attempting)|keep trying)|"
    r"message (?:is|has been) delayed|delay reason|"
    r"delivery (?:has been |is )?delayed|not been delivered yet|still trying|"
    # the same in localized notices (Exchange's "Delivery is delayed to these recipients")
    r"verzögert sich|noch nicht (?:übermittelt|zugestellt)|wird weiterhin versucht|"
    r"est retardée|pas encore été remis|continuerons à essayer|"
    r"(?:aún|todavía) no se ha entregado|se está retrasando|seguirá intentando|"
    r"non è ancora stato recapitato|ainda não foi entregue|nog niet (?:bezorgd|afgeleverd))",
    re.IGNORECASE,
)
# A banner that says outright the notice is only a warning. It beats final-sounding words
# around it: Postfix's delay notice says "THIS IS A WARNING ONLY" and then "Your message
# could not be delivered for more than 4 hour(s). It will be retried until it is 5 day(s)
# old" (Postfix bounce(8) delay template); Sendmail's "THIS IS A WARNING MESSAGE ONLY".
_WARNING_ONLY = re.compile(
    r"(?:this is a warning (?:message )?only|"
    r"it will be retried until it is [0-9]{1,4} ?(?:day|hour)|will keep trying until message is)",
    re.IGNORECASE,
)
_FINAL = re.compile(
    r"(?:permanent(?:ly)? (?:error|failure|fatal)|failed permanently|i've given up|"
    r"could not be delivered|giving up|not going to try again|too long in (?:the )?queue|"
    r"has been in the queue too long|retry timeout exceeded)",
    re.IGNORECASE,
)
# The MTA says it retried for a stated time and gave up (its queue lifetime ran out).
# "I've given up" alone is not enough: qmail writes it on every permanent failure.
_EXPIRY = re.compile(
    r"(?:(?:aborted|abandoned|gave up|given up|giving up|failed|retried|tried|trying)"
    r"(?:[ \t]{1,3}[\w()]{1,20}){0,3}[ \t]{1,3}(?:after|for)[ \t]{1,3}"
    r"(?:(?:the|last|past|more than|over)[ \t]{1,3}){0,2}[0-9.]{1,6}[ \t]{0,3}"
    r"(?:hours?|hour\(s\)|days?|day\(s\)|minutes?)|"
    r"could not be delivered (?:for|within) [0-9.]{1,6} ?(?:hours?|days?)|"
    r"could not deliver for the (?:last|past)|too long in (?:the )?queue|"
    r"has been in the queue too long|retry (?:timeout|time limit) (?:exceeded|reached)|"
    # Cisco Secure Email (IronPort): "the destination server was unreachable within the
    # allowed queue period"
    r"within the allowed queue (?:period|time|lifetime)|"
    # Exim: "retry time not reached for any host ... after a long failure period"
    r"after a long failure period)",
    re.IGNORECASE,
)
_SUBJECT_DELAY = re.compile(
    r"(?:delay|warning|delivery status notification \(delay\)|verzögert|retardée|retrasad|"
    r"ritardat|atrasad|vertraagd)",
    re.IGNORECASE,
)


def _is_attachment(part: Message) -> bool:
    disposition = str(part.get("Content-Disposition", "")).lower()
    return disposition.startswith("attachment")


def first_text(message: Message) -> str:
    """The first human-readable text of ``message`` (text/plain preferred over text/html).

    Parts inside a returned ``message/rfc822`` are not considered; a ``text/plain``
    attachment only when the email has no other text (some gateways attach their
    notice as ``details.txt`` and write nothing inline).
    """
    plain: str | None = None
    html: str | None = None
    attached: str | None = None
    for part in own_parts(message):
        content_type = part.get_content_type()
        if content_type.startswith("message/") or content_type.endswith("rfc822-headers"):
            continue
        if part.is_multipart():
            continue
        if _is_attachment(part):
            if content_type == "text/plain" and attached is None:
                attached = part_text(part) or None
            continue
        if content_type == "text/plain" and plain is None:
            text = part_text(part)
            if text.strip():
                plain = text
        elif content_type == "text/html" and html is None:
            html = html_to_text(part_text(part))
        if plain is not None:
            break
    if plain is not None:
        return plain
    # a gateway that sends its notice only as a text attachment ("details.txt")
    return html or attached or _broken_multipart_text(message)


def _broken_multipart_text(message: Message) -> str:
    """Text of a multipart whose boundary is missing or wrong (the parser kept its body as text)."""
    for part in own_parts(message):
        payload = part.get_payload()
        if (
            part.get_content_maintype() in ("multipart", "text")
            and isinstance(payload, str)
            and payload.strip()
        ):
            return part_text(part)
        preamble = part.preamble if part.is_multipart() else None
        if preamble and preamble.strip():
            return preamble[: MAX_NOTICE_CHARS * 5]
    return ""


_CODE = re.compile(r"(?<![\w.])(?:[45][0-9][0-9][ \-]|[45]\.[0-9]{1,3}\.[0-9]{1,3}\b)")


def with_html_alternative(message: Message, notice: str) -> str:
    """``notice``, followed by the text of its HTML alternative when the notice names no
    reply or enhanced code and the HTML does (RFC 2046 §5.1.4: the parts of a
    ``multipart/alternative`` say the same thing; some notices write the remote's reply
    only in the HTML version)."""
    if _CODE.search(notice):
        return notice
    for part in own_parts(message):
        if part.get_content_type() != "text/html" or _is_attachment(part):
            continue
        html = cut_returned_message(html_to_text(part_text(part)))
        if _CODE.search(html) and html.strip() not in notice:
            return f"{notice}\n\n{html}"[: MAX_NOTICE_CHARS * 2]
        return notice
    return notice


def returned_start(text: str) -> int:
    """Index in ``text`` of the line where a copy of the returned message begins (or its length)."""
    window = text[: MAX_NOTICE_CHARS * 5]
    end = len(text)
    marker = _RETURNED.search(window)
    if marker is not None:
        end = marker.start()
    inline = _INLINE_HEADERS.search(window, 0, min(end, len(window)))
    if inline is not None and inline.start() > 0:
        end = inline.start()
    return end


def cut_returned_message(text: str) -> str:
    """``text`` before the returned message, at most :data:`MAX_NOTICE_CHARS` characters."""
    return text[: min(returned_start(text), MAX_NOTICE_CHARS)]


def is_expiry_notice(text: str) -> bool:
    """True when the notice says the MTA gave up after retrying for a stated time."""
    return _EXPIRY.search(text) is not None


def is_delay_notice(subject: str | None, text: str) -> bool:
    """True when the notice says delivery is only delayed (a warning; the MTA keeps trying)."""
    if _WARNING_ONLY.search(text):
        return True
    if _FINAL.search(text):
        return False
    if _DELAY.search(text):
        return True
    return bool(subject and _SUBJECT_DELAY.search(subject) and "fail" not in subject.lower())
