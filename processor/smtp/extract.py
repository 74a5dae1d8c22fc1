"""Find the reply code, enhanced status code and SMTP command in diagnostic text.

Diagnostic text is written by remote mail servers, so every pattern here has
bounded quantifiers only: each start position costs constant work and a search
is linear in the text length (``tests/unit/test_extract.py`` checks the pattern
structure and runs a crafted worst case per pattern).

Recognised shapes (RFC 5321 §4.2 reply lines, RFC 3463 §2 code syntax,
RFC 3464 §2.3.6 ``smtp;`` Diagnostic-Code prefix):

- ``550 5.1.1 <u@example.com>: Recipient address rejected``
- ``550-5.1.1 The email account ... 550 5.1.1 ...`` (multi-line reply, Postfix joins lines)
- ``host mx.example.com[192.0.2.1] said: 550 ...`` (Postfix)
- ``smtp; 550 #5.1.1 ...`` and ``#5.1.1 smtp;550 ...`` (DSN / Exchange)
- ``5.7.606 Access denied`` (2-3 digit subject/detail)

Not codes: IP addresses (``192.0.2.1``), versions (``v2.1.10``), dates
(``2026.11.29``), queue IDs and ``[InternalId=1234.5.6]``.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import NamedTuple

__all__ = [
    "ExtractedCodes",
    "extract_codes",
    "extract_smtp_command",
    "normalise_enhanced",
    "reply_text",
]

# A reply code followed by an enhanced code: the strongest evidence.
# (?<![\w.]) and (?![\w]|\.\d) keep digits of IP addresses, versions and
# dates out; every quantifier is bounded.
_REPLY_THEN_ENHANCED = re.compile(
    r"(?<![\w.\-])([2-5][0-5][0-9])[ \-](?:#|\()?([245]\.[0-9]{1,3}\.[0-9]{1,3})(?![\w\-]|\.[0-9])"
)
# A reply code where a reply starts: text start, after "said:", "smtp;", or
# "talk to me:" (Postfix), followed by a space, dash or the end.
# Exim names the command a reply answered: "SMTP error from remote mail server after
# RCPT TO:<bob@example.com>: 550 No such user", "... after end of data: 550 Rejected".
_EXIM_AFTER = (
    r"after (?:pipelined )?(?:(?:RCPT TO|MAIL FROM):<[^<>]{0,320}>[^:<>]{0,100}|end of data|"
    r"DATA|initial connection|(?:EHLO|HELO) [^ :]{1,255}): ?"
)
_REPLY_AT_START = re.compile(
    r"(?:^|said: ?|smtp; ?|SMTP; ?|to me: ?|reply: ?|" + _EXIM_AFTER + r")"
    r"([2-5][0-5][0-9])(?:[ \-]|$)"
)
# An enhanced code standing alone where a reply starts: text start, after
# "#" (Exchange), ";" (DSN "smtp; 5.1.1"), or ":" ("said: 5.7.1"). Elsewhere a
# dotted triple is more likely a version ("Dovecot 2.3.21") than a code.
_ENHANCED_ALONE = re.compile(
    r"(?:^ ?|#|; ?|: ?)([245]\.[0-9]{1,3}\.[0-9]{1,3})(?=[\s)\];:,>]|\.(?![0-9])|$)"
)
# Reply-line prefixes inside a joined multi-line reply ("... unusual rate of
# 421-4.7.28 unsolicited mail ..."): removed before matching wording.
# A continuation line may start right after its hyphen ("550-or domain may not exist":
# RFC 5321 §4.2.1 puts no space there), so a hyphen needs no space after it.
# The first digit comes before the lookbehind so that re scans for it with its fast
# character-set search and checks the space before it only there (same matches).
_REPLY_LINE_PREFIX = re.compile(
    r"[2-5](?<=\s[2-5])[0-9]{2}"
    r"(?:-(?: ?[245]\.[0-9]{1,3}\.[0-9]{1,3})? {0,3}"  # "550-", "550-5.1.1 "
    r"|(?= [245]\.[0-9]) ?[245]\.[0-9]{1,3}\.[0-9]{1,3} {1,3})"  # last line: "550 5.1.1 "
)
_SMTP_COMMAND = re.compile(r"in reply to ([A-Za-z][A-Za-z ]{0,24}?) command")
_COMMAND_NAMES = {
    "rcpt to": "RCPT TO",
    "mail from": "MAIL FROM",
    "end of data": "DATA",
    "data": "DATA",
    "ehlo": "EHLO",
    "helo": "HELO",
    "lhlo": "LHLO",
    "starttls": "STARTTLS",
    "auth": "AUTH",
    "bdat": "BDAT",
    "quit": "QUIT",
    "rset": "RSET",
    "xforward": "XFORWARD",
}


class ExtractedCodes(NamedTuple):
    """Codes found in one diagnostic text.

    :param reply_code: RFC 5321 reply code (200-559) or ``None``.
    :param enhanced_code: RFC 3463 code ``"C.S.D"`` or ``None``.
    """

    reply_code: int | None
    enhanced_code: str | None


_NONE = ExtractedCodes(None, None)


#: Longer text is never a code (``#5.123.123`` is 10 characters) and is not cached:
#: the cache would otherwise keep up to 4096 remote strings of any length.
_MAX_CODE_TEXT = 32


def normalise_enhanced(code: str) -> str | None:
    """Return ``code`` as a canonical RFC 3463 code, or ``None`` if malformed.

    Leading zeros are dropped (``5.01.001`` -> ``5.1.1``); class must be 2, 4
    or 5 and subject/detail 1-3 digits (RFC 3463 §2).
    """
    if len(code) > _MAX_CODE_TEXT:
        return None
    return _normalise_enhanced(code)


@lru_cache(maxsize=4096)
def _normalise_enhanced(code: str) -> str | None:
    parts = code.strip().lstrip("#").split(".")
    if len(parts) != 3 or parts[0] not in ("2", "4", "5"):
        return None
    subject, detail = parts[1], parts[2]
    if not (0 < len(subject) <= 3 and 0 < len(detail) <= 3):
        return None
    if not (subject.isdigit() and detail.isdigit() and subject.isascii() and detail.isascii()):
        return None
    return f"{parts[0]}.{int(subject)}.{int(detail)}"


def extract_codes(text: str | None) -> ExtractedCodes:
    """Extract the first reply code and enhanced status code from ``text``.

    :param text: diagnostic text, any length (searches are linear).
    :returns: :class:`ExtractedCodes`; fields are ``None`` when absent.

    A reply code immediately followed by an enhanced code is preferred; else a
    reply code where a reply starts and an enhanced code standing alone are
    taken independently.
    """
    if not text:
        return _NONE
    if text[3:4] == " " and text[5:6] == "." and text[:3].isdigit():
        # The common "250 2.0.0 Ok: queued as ..." / "550 5.1.1 ..." at the start.
        end = text.find(" ", 6)
        code = normalise_enhanced(text[4:end] if end > 0 else text[4:])
        first = text[0]
        if code is not None and first in "2345" and text[1] in "012345":
            return ExtractedCodes(int(text[:3]), code)
    pair = _REPLY_THEN_ENHANCED.search(text)
    if pair is not None:
        return ExtractedCodes(int(pair.group(1)), normalise_enhanced(pair.group(2)))
    reply = _REPLY_AT_START.search(text)
    alone = _ENHANCED_ALONE.search(text)
    return ExtractedCodes(
        int(reply.group(1)) if reply is not None else None,
        normalise_enhanced(alone.group(1)) if alone is not None else None,
    )


def extract_smtp_command(text: str | None) -> str | None:
    """Return the SMTP command a reply answered (Postfix ``(in reply to RCPT TO command)``).

    The last mention counts: a reply may quote another server's reply (sender
    address verification), and Postfix appends its own note at the end.

    :returns: canonical command name (``"RCPT TO"``, ``"MAIL FROM"``, ``"DATA"``,
        ``"EHLO"`` ...), the text as given (upper-cased) for unknown names, or ``None``.
    """
    if not text:
        return None
    last = text.rfind("in reply to ")
    if last < 0:
        return None
    found = _SMTP_COMMAND.match(text, last)
    if found is None:
        return None
    name = found.group(1).strip()
    return _COMMAND_NAMES.get(name.lower(), name.upper())


def reply_text(text: str) -> str:
    """Remove reply-line prefixes (``550-5.1.1 ``) so a multi-line reply reads as one text.

    Postfix and DSNs join multi-line replies with spaces, which puts a code in
    the middle of the provider's wording; text rules match the wording.
    """
    if "-" not in text and " 5." not in text and " 4." not in text:
        return text
    return _REPLY_LINE_PREFIX.sub("", text)
