"""One-line payloads: the check every payload goes through first, and the split a fast path may use.

:func:`single_line` tells a one-line payload (the common case: one log line per Kafka
message) from the rest; :func:`single_split` gives the syslog split of a one-line payload
whose prefix the RFC 3164 fast regex does not cover, only when
:func:`processor.parse.parse_payload` would read it exactly so.
"""

from __future__ import annotations

import orjson

from processor.errors import PayloadError
from processor.parse.email import looks_like_email
from processor.parse.exim import split_exim
from processor.parse.json_event import is_generic_event
from processor.parse.platforms import parse_platform
from processor.parse.shipper import is_shipper_record, shipper_identity, unwrap_shipper_record
from processor.parse.syslog import SyslogLine, split_syslog

__all__ = ["single_line", "single_split"]

_LF = ord("\n")  # `int in bytes` is a memchr, several times faster than `b"\n" in`
_CR = ord("\r")
_BOM = b"\xef\xbb\xbf"


def single_line(raw: bytes) -> bytes | None:
    """``raw`` as one log line without its line ending, or ``None`` when it holds several.

    ``\n``, ``\r\n`` and a lone ``\r`` end a line; trailing spaces are dropped too.
    The check every payload goes through first (here, ``enrich_payload``, the stream's
    transform): two memchr scans when the payload is one line.
    """
    if _LF in raw:
        return None
    line = raw.rstrip(b"\r ")
    return None if _CR in line else line


def single_split(
    line: bytes, reference_time: float, zone: str | None = None
) -> tuple[SyslogLine, bytes] | None:
    """The one syslog line a one-line payload holds, split, with its event identity.

    For the fast path (:mod:`processor.fast_path`) of lines whose prefix
    :data:`~processor.parse.postfix_fast.FAST_DELIVERY` does not cover: RFC 5424, ISO 8601,
    epoch and container-prefixed lines, and a log shipper's JSON record of one line.
    Returns a split only when :func:`parse_payload` reads the payload as exactly that
    one split and identity (``_syslog_event(split, identity)``); ``None`` whenever it
    might read it otherwise (a BOM, surrounding whitespace, an email, an Exim main log
    line, a platform or generic JSON event, several lines in a record): the caller then takes
    :func:`parse_payload`, which also reports errors.

    :param line: a one-line payload as :func:`single_line` returns it.
    :param reference_time: epoch seconds, as for :func:`parse_payload`.
    :param zone: IANA zone name of zone-less timestamps (``None``: UTC).
    :returns: ``(split, identity)`` or ``None``.
    """
    if not line or line != line.strip() or line.startswith(_BOM):
        return None
    if line[:1] == b"{":
        return _single_record_split(line, reference_time, zone)
    if line[:1] == b"[" or (not line[:1].isalpha() and looks_like_email(line)):
        return None
    text = line.decode("utf-8", "replace")
    # _parse_line reads an Exim main log line ("2026-11-29 10:00:01 <message ID> ...") as
    # Exim's; only a stamp with a space at [10] can be one (RFC 5424, CRI, ISO "T": never)
    if line[10:11] == b" " and split_exim(text, zone) is not None:
        return None
    split = split_syslog(text, reference_time, zone)
    return None if split is None else (split, line)


def _single_record_split(
    line: bytes, reference_time: float, zone: str | None
) -> tuple[SyslogLine, bytes] | None:
    """:func:`single_split` for a JSON object: a shipper record of one syslog line."""
    try:
        document = orjson.loads(line)
    except orjson.JSONDecodeError:
        return None
    if (
        not isinstance(document, dict)
        or is_generic_event(document)
        or not is_shipper_record(document)
    ):
        return None
    try:
        if parse_platform(document) is not None:
            return None
    except PayloadError:
        return None
    splits = unwrap_shipper_record(document, reference_time, zone)
    if len(splits) != 1 or not splits[0].program:
        return None
    return splits[0], shipper_identity(splits[0])
