"""Load a bounce email defensively and get at its parts, text and headers.

Bounce emails are written by thousands of different programs and are often
broken: wrong or missing charsets, bad base64, truncated MIME structures.
Everything here is bounded and never raises on bad input:

- at most :data:`MAX_EMAIL_BYTES` bytes are parsed (the delivery report comes
  first; the returned message, last, is what gets cut);
- at most :data:`MAX_PARTS` MIME parts are visited;
- decoded text is cut to :data:`MAX_TEXT_CHARS` characters per part;
- charsets that Python does not know fall back to UTF-8, then Latin-1.

Parsing uses the standard library's :mod:`email` package with the
``compat32`` policy, the one that never raises on malformed headers
(RFC 5322 §3, RFC 2045-2047 for MIME and encoded words).
"""

from __future__ import annotations

import base64
import binascii
import quopri
import re
from collections.abc import Iterator
from contextlib import suppress
from email import message_from_bytes
from email.header import Header, decode_header, make_header
from email.message import Message
from email.policy import compat32
from email.utils import getaddresses
from html.parser import HTMLParser

__all__ = [
    "MAX_EMAIL_BYTES",
    "MAX_PARTS",
    "MAX_TEXT_CHARS",
    "addresses_in",
    "header_text",
    "html_to_text",
    "load_message",
    "own_parts",
    "part_text",
    "walk_parts",
]

MAX_EMAIL_BYTES = 2 << 20
"""Bytes of an email that are parsed; the rest (usually the returned message) is ignored."""

MAX_PARTS = 64
"""MIME parts visited per email, nested parts included."""

MAX_TEXT_CHARS = 200_000
"""Characters of decoded text kept per part."""

_MAX_HEADER_CHARS = 2_000
_FOLD = re.compile(r"\r?\n[ \t]{1,1000}")
# RFC 5321 §4.1.2 Mailbox, simplified: a dot-atom or quoted local part, a domain with a dot
# (or an address literal). Every quantifier is bounded, so a search is linear.
_ADDRESS = re.compile(
    r"(?<![\w.+\-=/#$%&'*!?^`{|}~@])"
    r"([\w.+\-=/#$%&'*!?^`{|}~]{1,64}@(?:[A-Za-z0-9](?:[A-Za-z0-9\-]{0,62}\.){1,10}[A-Za-z]{2,24}"
    r"|\[[0-9.:A-Fa-f]{2,45}\]))"
    r"(?![\w\-])"
)


def load_message(raw: bytes) -> Message:
    """Parse ``raw`` (RFC 5322 bytes, any line ends) into a message tree.

    :param raw: the email; only the first :data:`MAX_EMAIL_BYTES` bytes are read.
    :returns: the :class:`email.message.Message` (``compat32`` policy; never raises
        on malformed input, defects are recorded on the message).
    """
    data = raw[:MAX_EMAIL_BYTES]
    if b"\r\n" in data[:4096]:
        data = data.replace(b"\r\n", b"\n")
    if data.startswith(b"From ") and b"\n" in data:  # mbox separator line
        data = data.split(b"\n", 1)[1]
    return message_from_bytes(data, policy=compat32)


def walk_parts(message: Message, *, attached: bool = True) -> Iterator[Message]:
    """Yield ``message`` and its sub-parts depth first, at most :data:`MAX_PARTS` of them.

    Only ``multipart/*`` and ``message/rfc822`` parts are descended into (the
    parser turns each ``message/delivery-status`` block into a sub-message too;
    those are not parts). With ``attached=False`` the parts of an attached
    ``message/rfc822`` are skipped: a returned message can itself be a bounce
    (a double bounce) whose reports describe an earlier delivery.
    """
    stack = [message]
    count = 0
    while stack and count < MAX_PARTS:
        part = stack.pop()
        count += 1
        yield part
        content_type = part.get_content_type()
        descend = part.get_content_maintype() == "multipart" or (
            attached and content_type == "message/rfc822"
        )
        children = part.get_payload() if descend else None
        if isinstance(children, list):
            stack.extend(reversed([child for child in children if isinstance(child, Message)]))


def own_parts(message: Message) -> Iterator[Message]:
    """The parts of ``message`` itself, not of an attached message (see :func:`walk_parts`)."""
    return walk_parts(message, attached=False)


# Charsets that mail programs declare while writing their vendor superset: GBK/GB18030
# text labelled gb2312, Windows-31J labelled shift_jis, CP949 labelled euc-kr or
# ks_c_5601-1987 (Outlook's name), TIS-620 labelled windows-874 (WHATWG Encoding
# Standard, "Legacy multi-byte Chinese/Japanese/Korean encodings", maps the labels so).
_SUPERSETS = {
    "gb2312": "gb18030", "gbk": "gb18030", "x-gbk": "gb18030", "euc-cn": "gb18030",
    "cn-gb": "gb18030", "shift_jis": "cp932", "shift-jis": "cp932", "sjis": "cp932",
    "x-sjis": "cp932", "ms_kanji": "cp932", "euc-kr": "cp949", "ks_c_5601-1987": "cp949",
    "windows-874": "cp874",
}  # fmt: skip


def _decode(payload: bytes, charset: str | None) -> str:
    superset = _SUPERSETS.get(charset.lower()) if charset else None
    for name in (charset, superset, "utf-8"):
        if not name:
            continue
        try:
            return payload.decode(name)
        except (LookupError, UnicodeDecodeError, ValueError):
            continue
    return payload.decode("latin-1")


def part_text(part: Message) -> str:
    """Decoded text of a leaf part (transfer encoding and charset undone), bounded.

    For a ``message/*`` part whose payload the parser turned into sub-messages,
    the sub-messages are serialised back to text. Never raises.
    """
    try:
        payload = part.get_payload(decode=True)
        if payload is None:
            inner = part.get_payload()
            if isinstance(inner, list):  # message/* parts: the parser made sub-messages
                charset = part.get_content_charset() or "utf-8"
                joined = "\n".join(_message_as_text(item, charset) for item in inner)
                return _undo_transfer_encoding(joined, part, charset)[:MAX_TEXT_CHARS]
            return str(inner)[:MAX_TEXT_CHARS]
        if not isinstance(payload, bytes):
            return str(payload)[:MAX_TEXT_CHARS]
        text = _decode(payload[: MAX_TEXT_CHARS * 4], part.get_content_charset())
    except Exception:  # the email package can fail on hostile input in many ways
        return ""
    return text[:MAX_TEXT_CHARS]


def _unescape(text: str, charset: str) -> str:
    """Undo the parser's surrogate escapes (raw 8-bit bytes) with the part's charset."""
    if not any("\udc80" <= ch <= "\udcff" for ch in text):
        return text
    return _decode(text.encode("ascii", "surrogateescape"), charset)


def _message_as_text(item: object, charset: str) -> str:
    if not isinstance(item, Message):
        return str(item)
    lines = [f"{name}: {_unescape(str(value), charset)}" for name, value in item.raw_items()]
    body = None if item.is_multipart() else item.get_payload(decode=True)
    if isinstance(body, bytes) and body.strip():
        lines.append(_decode(body, charset))
    return "\n".join(lines) + "\n"


def _undo_transfer_encoding(text: str, part: Message, charset: str) -> str:
    """A ``message/*`` part sent base64 or quoted-printable encoded (RFC 2045 §6 forbids
    it for ``message/rfc822``, but reports arrive so): decode it."""
    encoding = str(part.get("Content-Transfer-Encoding", "")).strip().lower()
    try:
        if encoding == "base64":
            return _decode(base64.b64decode("".join(text.split()), validate=False), charset)
        if encoding == "quoted-printable":
            return _decode(quopri.decodestring(text.encode("ascii", "replace")), charset)
    except (ValueError, binascii.Error):
        return text
    return text


def header_text(message: Message, name: str) -> str | None:
    """One header's value, RFC 2047 encoded words decoded, folding undone, bounded.

    :returns: the text, or ``None`` when the header is absent or empty.
    """
    try:
        value = message.get(name)
    except Exception:
        return None
    if value is None:
        return None
    text = _raw_utf8(value) if isinstance(value, Header) else str(value)
    if "=?" in text:
        with suppress(Exception):  # a malformed encoded word stays as written
            text = _encoded_words(text)
    text = _FOLD.sub(" ", text).strip()[:_MAX_HEADER_CHARS]
    return text or None


def _raw_utf8(value: Header) -> str:
    """A header written in raw 8-bit bytes (the parser keeps it as ``unknown-8bit``):
    UTF-8 as RFC 6532 §3.2 allows, else Latin-1, instead of replacement characters."""
    try:
        pieces = decode_header(value)
    except Exception:
        return str(value)
    return "".join(
        _decode(chunk, None if charset in (None, "unknown-8bit") else charset)
        if isinstance(chunk, bytes)
        else chunk
        for chunk, charset in pieces
    )


def _encoded_words(text: str) -> str:
    """RFC 2047 encoded words decoded, each with its charset or that charset's vendor
    superset (``=?gb2312?B?...?=`` written in GBK); raises on a malformed word."""
    try:
        return str(make_header(decode_header(text)))
    except (UnicodeDecodeError, LookupError):
        pieces = decode_header(text)
    return "".join(
        _decode(chunk, charset) if isinstance(chunk, bytes) else chunk for chunk, charset in pieces
    )


def addresses_in(text: str | None) -> list[str]:
    """Email addresses found in ``text``, in order, without duplicates (case-insensitive)."""
    if not text:
        return []
    seen: set[str] = set()
    found: list[str] = []
    for match in _ADDRESS.finditer(text):
        address = match.group(1).strip(".")
        key = address.lower()
        if key not in seen:
            seen.add(key)
            found.append(address)
    return found


def header_addresses(message: Message, name: str) -> list[str]:
    """Addresses of an address header (``To``, ``From``, ``X-Failed-Recipients``)."""
    value = header_text(message, name)
    if value is None:
        return []
    try:
        pairs = getaddresses([value])
    except Exception:
        pairs = []
    found = [address for _, address in pairs if "@" in address]
    return found or addresses_in(value)


class _TextCollector(HTMLParser):
    _BLOCK = frozenset({"br", "p", "div", "tr", "li", "table", "h1", "h2", "h3", "h4", "pre", "hr"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.chunks: list[str] = []
        self._skip = 0
        self._mailto: tuple[str, int] | None = None  # address of an open mailto link, chunk

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style", "head"):
            self._skip += 1
        elif tag in self._BLOCK:
            self.chunks.append("\n")
        elif tag == "a":
            href = next((value or "" for name, value in attrs if name == "href"), "")
            address = href[7:].split("?", 1)[0] if href[:7].lower() == "mailto:" else ""
            self._mailto = (address, len(self.chunks)) if "@" in address else None

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style", "head") and self._skip:
            self._skip -= 1
        elif tag in self._BLOCK or tag == "td":
            self.chunks.append("\n" if tag != "td" else " ")
        elif tag == "a" and self._mailto is not None:
            # a link showing a name ("Pia Example") for its mailto address: keep the address
            address, start = self._mailto
            if address.lower() not in "".join(self.chunks[start:]).lower():
                self.chunks.append(f" <{address[:320]}>")
            self._mailto = None

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.chunks.append(data)


def html_to_text(html: str) -> str:
    """Visible text of an HTML body, one line per block element. Never raises."""
    collector = _TextCollector()
    with suppress(Exception):  # keep what was collected before the parser gave up
        collector.feed(html)
        collector.close()
    lines = ("".join(collector.chunks)).replace("\xa0", " ").splitlines()
    return "\n".join(line.strip() for line in lines if line.strip())
