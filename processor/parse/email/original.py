"""The returned (original) message inside a bounce: where it is and its correlation headers.

RFC 3464 §2 puts the returned message (or only its headers) in the third part
of the report: ``message/rfc822`` or ``text/rfc822-headers`` (RFC 6522).
Non-standard bounces paste it into the notice after a marker line
(``------ This is a copy of the message, including all the headers. ------``).
"""

from __future__ import annotations

import re
from email import message_from_string
from email.message import Message
from email.policy import compat32
from textwrap import dedent

from processor.parse.email.message import (
    MAX_EMAIL_BYTES,
    header_text,
    load_message,
    own_parts,
    part_text,
)

__all__ = [
    "ORIGINAL_HEADERS",
    "correlation_headers",
    "forwarded_report",
    "has_report_part",
    "returned_message",
]

ORIGINAL_HEADERS = {"message_id": "Message-ID", "from": "From", "to": "To", "subject": "Subject"}
"""Keys of ``original_message`` and the header each comes from."""

_HEADER_TYPES = ("text/rfc822-headers", "text/rfc822-header", "message/rfc822-headers")
_MARKER_LINE = re.compile(
    r"^[ \t>]{0,6}(?:[-=*_]{2,80}[^\n]{0,120}|(?:original message follows|message headers follow|"
    r"unsent message follows|included is a copy of the message header)[^\n]{0,40})\n",
    re.IGNORECASE | re.MULTILINE,
)
_HEADER_START = re.compile(r"^[A-Za-z][A-Za-z0-9\-]{0,60}:[ \t]", re.MULTILINE)
_MAX_INLINE = 64_000
_MBOX_FROM = re.compile(r"^From [^\n]{1,200}\n")
_REPORT_TYPES = ("message/delivery-status", "message/global-delivery-status")


def _from_parts(message: Message) -> Message | None:
    for part in own_parts(message):
        content_type = part.get_content_type()
        if content_type == "message/rfc822" and part is not message:
            inner = part.get_payload()
            if isinstance(inner, list) and inner and isinstance(inner[0], Message):
                return inner[0]
        elif content_type in _HEADER_TYPES:
            return message_from_string(part_text(part), policy=compat32)
    return None


def _inline(text: str, notice_end: int) -> Message | None:
    """A header block pasted after the notice (``--- Below this line is a copy ...``)."""
    rest = text[notice_end : notice_end + _MAX_INLINE]
    marker = _MARKER_LINE.match(rest)
    if marker is not None:
        rest = rest[marker.end() :]
    rest = rest.lstrip("\n")
    start = _HEADER_START.search(dedent(rest[:_MAX_INLINE]))
    if start is None or start.start() > 200:
        return None
    candidate = message_from_string(dedent(rest)[start.start() :], policy=compat32)
    return candidate if candidate.get("From") or candidate.get("Message-ID") else None


def _pasted_text(text: str, notice_end: int, limit: int) -> str:
    """What follows the notice, without a marker line, blank lines or an mbox ``From `` line."""
    rest = text[notice_end : notice_end + limit]
    marker = _MARKER_LINE.match(rest)
    if marker is not None:
        rest = rest[marker.end() :]
    rest = rest.lstrip("\n")
    mbox = _MBOX_FROM.match(rest)
    return rest[mbox.end() :] if mbox is not None else rest


def has_report_part(message: Message) -> bool:
    """True when ``message`` itself (not an attached message) has an RFC 3464/6533 report part."""
    return any(part.get_content_type() in _REPORT_TYPES for part in own_parts(message))


def forwarded_report(message: Message, first_text: str, notice_length: int) -> Message | None:
    """A whole delivery report pasted as text after the notice, parsed; else ``None``.

    Some providers send the sender a short notice of their own in a single
    ``text/plain`` body and paste below it, as text, the MTA's complete
    RFC 3464 report (the copy sent to their postmaster: header fields, then a
    ``multipart/report`` body with its ``message/delivery-status`` part). The
    structured per-recipient fields are then only in that pasted message.

    Only used when ``message`` has no report part of its own, and only for a
    pasted (inline) copy: a report *attached* as ``message/rfc822`` is a
    returned message (a double bounce) and describes an earlier delivery.

    :param first_text: the full first text part (before cutting).
    :param notice_length: where the notice ends in ``first_text``.
    :returns: the pasted message when it holds a report part.
    """
    if notice_length >= len(first_text) or has_report_part(message):
        return None
    rest = _pasted_text(first_text, notice_length, MAX_EMAIL_BYTES)
    if not _HEADER_START.match(rest):
        return None
    pasted = load_message(rest.encode("utf-8", "replace"))
    return pasted if has_report_part(pasted) else None


def returned_message(message: Message, first_text: str, notice_length: int) -> Message | None:
    """The returned message or its headers, from a MIME part or pasted after the notice.

    :param first_text: the full first text part (before cutting).
    :param notice_length: where the notice ends in ``first_text``.
    """
    found = _from_parts(message)
    if found is not None:
        return found
    if notice_length < len(first_text):
        return _inline(first_text, notice_length)
    return None


def correlation_headers(returned: Message | None) -> dict[str, str] | None:
    """``message_id``, ``from``, ``to``, ``subject`` of the returned message (those present)."""
    if returned is None:
        return None
    found = {}
    for key, name in ORIGINAL_HEADERS.items():
        value = header_text(returned, name)
        if value:
            found[key] = value[:998]
    return found or None
