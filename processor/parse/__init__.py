"""Raw payload bytes -> delivery events, with the format detected per payload and line.

A payload (one Kafka message value, or one file) may hold:

- one or several syslog lines (Postfix, Sendmail, Exim delivery lines and any other
  lines) or Exim main log lines, also behind a container runtime's prefix
  (:mod:`processor.parse.syslog`); the partial fragments of a CRI container log line are
  joined (:mod:`processor.parse.container`); a JSON line behind that prefix is read as
  a JSON line (one wrapper level: :func:`~processor.parse.shipper.wrapped_json`);
- one JSON document: a log shipper record wrapping any line above, or a JSON line
  (:mod:`processor.parse.shipper`), a sending platform's webhook event
  (:mod:`processor.parse.platforms`: SES/SNS, SendGrid, Mailgun, Postmark,
  SparkPost; checked before the generic schema), a generic delivery event
  (:mod:`processor.parse.json_event`), or an array of these;
- one whole email (RFC 5322): a bounce, feedback report or automatic reply
  (:mod:`processor.parse.email`), one event per recipient; a bounce a person
  forwarded as an attachment is read from the attachment; a read receipt
  (RFC 8098 MDN) is not a delivery outcome and counts as one skipped line;
- several JSON documents, one per line (NDJSON).

Lines that are log lines but not delivery outcomes are *skipped* (counted);
lines that cannot be understood at all are *errors* (the stream loop sends
the payload to the dead-letter topic). A payload that is JSON as a whole but
does not parse raises :class:`~processor.errors.InvalidJSONError`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import orjson

from processor.errors import InternalError, InvalidEventError, InvalidJSONError, PayloadError
from processor.model import DeliveryEvent
from processor.parse.container import has_partial_lines, join_partial_lines, refusal_message
from processor.parse.email import looks_like_email, parse_email
from processor.parse.json_event import is_generic_event, parse_generic_event
from processor.parse.mta import other_mta_events
from processor.parse.one_line import single_line, single_split
from processor.parse.platforms import parse_platform
from processor.parse.postfix import daemon_of, parse_postfix_message
from processor.parse.postfix_fast import parse_delivery_line_fast
from processor.parse.shipper import (
    is_shipper_record,
    shipper_identity,
    shipper_refusal,
    unwrap_shipper_record,
    wrapped_json,
)
from processor.parse.stamps import reference_or_now
from processor.parse.syslog import SyslogLine, split_syslog, zone_info

_LF = ord("\n")  # `int in bytes` is a memchr, several times faster than `b"\n" in`
_CR = ord("\r")
_BOM = b"\xef\xbb\xbf"

__all__ = ["LineError", "ParsedPayload", "parse_payload", "single_line", "single_split"]

_MAX_ERROR_TEXT = 300


@dataclass(frozen=True, slots=True)
class LineError:
    """A line (1-based ``line_number``; 0 = whole payload) that could not be processed."""

    line_number: int
    error_class: str
    message: str


@dataclass(slots=True)
class ParsedPayload:
    """What one payload held: delivery events, skipped non-delivery lines, errors."""

    events: list[DeliveryEvent] = field(default_factory=list)
    skipped: int = 0
    errors: list[LineError] = field(default_factory=list)

    def add_error(self, line_number: int, error: PayloadError) -> None:
        """Record ``error`` for ``line_number`` with a bounded message."""
        self.errors.append(LineError(line_number, error.error_class, str(error)[:_MAX_ERROR_TEXT]))


def _syslog_event(result: ParsedPayload, split: SyslogLine, identity: bytes) -> None:
    events = other_mta_events(split, identity)  # Sendmail, Exim
    if events is not None:
        result.events.extend(events)
        result.skipped += not events
        return
    if daemon_of(split.program) is None:
        result.skipped += 1
        return
    event = parse_postfix_message(split, identity)
    if event is None:
        result.skipped += 1
    else:
        result.events.append(event)


def _json_document(
    result: ParsedPayload,
    document: Any,
    line_number: int,
    reference_time: float,
    zone: str | None,
    wrapped: bool = False,
) -> None:
    """Read one JSON document (``wrapped``: carried by a wrapper, whose JSON is not read)."""
    items = document if isinstance(document, list) else [document]
    for item in items:
        if not isinstance(item, dict):
            result.add_error(
                line_number, InvalidEventError(f"expected a JSON object, got {type(item).__name__}")
            )
        elif _platform_event(result, item, line_number):
            continue
        elif is_generic_event(item):
            try:
                result.events.extend(parse_generic_event(item))
            except PayloadError as error:
                result.add_error(line_number, error)
        elif is_shipper_record(item):
            splits = unwrap_shipper_record(item, reference_time, zone)
            if not splits:  # a log record with an empty message: nothing to deliver
                result.skipped += 1
            for split in splits:
                try:
                    _shipper_line(result, split, line_number, reference_time, zone, wrapped)
                except PayloadError as error:
                    result.add_error(line_number, error)
        else:
            result.add_error(
                line_number,
                InvalidEventError(
                    "JSON object is neither a delivery event (no 'recipient') "
                    "nor a log record (no 'message', 'log' or 'MESSAGE')"
                ),
            )


def _shipper_line(
    result: ParsedPayload,
    split: SyslogLine,
    line_number: int,
    reference_time: float,
    zone: str | None,
    wrapped: bool,
) -> None:
    """One line of a shipper record: a log line, or a JSON line (one wrapper level)."""
    if split.program:
        _syslog_event(result, split, shipper_identity(split))
        return
    document = None if wrapped else wrapped_json(split.message, bare=True)
    if document is None:
        raise InvalidEventError(shipper_refusal(split.message, wrapped=wrapped))
    _json_document(result, document, line_number, reference_time, zone, wrapped=True)


def _platform_event(result: ParsedPayload, item: dict[str, Any], line_number: int) -> bool:
    """Parse ``item`` when it has a sending platform's event shape; False when it has none."""
    try:
        found = parse_platform(item)
    except PayloadError as error:
        result.add_error(line_number, error)
        return True
    if found is None:
        return False
    result.events.extend(found.events)
    result.skipped += found.skipped
    return True


def _email(result: ParsedPayload, raw: bytes) -> None:
    """One whole email: its events, or one skipped line when it is not a delivery outcome."""
    try:
        events = parse_email(raw)
    except PayloadError as error:
        result.add_error(1, error)
        return
    result.events.extend(events)
    if not events:  # a read receipt, an SES sending/opening notification ...
        result.skipped += 1


def _text_line(
    result: ParsedPayload,
    raw_line: bytes,
    line_number: int,
    reference_time: float,
    zone: str | None,
) -> None:
    """Parse one line into ``result``; an unexpected error spoils only this line."""
    try:
        _parse_line(result, raw_line, line_number, reference_time, zone)
    except PayloadError as error:
        result.add_error(line_number, error)
    except Exception as error:  # a bug on one line must not lose the other lines
        result.add_error(line_number, InternalError(f"{type(error).__name__}: {error}"))


def _parse_line(
    result: ParsedPayload,
    raw_line: bytes,
    line_number: int,
    reference_time: float,
    zone: str | None,
) -> None:
    if raw_line.startswith(_BOM):  # a file saved with a UTF-8 byte order mark
        raw_line = raw_line[len(_BOM) :]
    first = raw_line[:1]
    if first in (b"{", b"["):
        try:
            document = orjson.loads(raw_line)
        except orjson.JSONDecodeError as error:
            raise InvalidJSONError(f"invalid JSON: {error}") from None
        _json_document(result, document, line_number, reference_time, zone)
        return
    line = raw_line.decode("utf-8", "replace")
    event = parse_delivery_line_fast(line, raw_line, reference_time, zone)
    if event is not None:
        result.events.append(event)
        return
    split = split_syslog(line, reference_time, zone)
    if split is not None:
        _syslog_event(result, split, raw_line)
        return
    document = wrapped_json(line, bare=False)  # a JSON line behind a container's prefix
    if document is None:
        raise InvalidEventError(refusal_message(line))
    _json_document(result, document, line_number, reference_time, zone, wrapped=True)


def parse_payload(
    raw: bytes, reference_time: float, *, source_timezone: str | None = None
) -> ParsedPayload:
    """Parse one payload into delivery events.

    :param raw: the payload bytes (any encoding; invalid UTF-8 is replaced). Lines
        end with ``\\n``, ``\\r\\n`` or a lone ``\\r`` (classic Mac OS, some serial and
        network syslog relays).
    :param reference_time: epoch seconds used to resolve year-less syslog
        timestamps (usually the Kafka message timestamp); one that cannot be a date
        (not finite, outside 1970-9999) is replaced by now.
    :param source_timezone: IANA zone name of timestamps without a zone (RFC 3164,
        ISO 8601 without an offset, a shipper's zone-less time field); ``None`` is UTC.
        Skipped and ambiguous local times resolve with ``fold=0``
        (:mod:`processor.parse.syslog`).
    :returns: :class:`ParsedPayload` with events, skipped count and line errors.
    :raises InvalidJSONError: the payload is a single JSON document that does not parse.
    :raises TimeZoneError: ``source_timezone`` is not an IANA zone name.
    """
    zone = source_timezone
    if zone is not None:
        zone_info(zone)  # a bad name is the caller's error, not every line's
    reference_time = reference_or_now(reference_time)
    result = ParsedPayload()
    line = single_line(raw) if raw[:1].isalpha() else None
    if line is not None:  # the common case: one syslog line, no BOM
        _text_line(result, line, 1, reference_time, zone)
        return result
    stripped = raw.strip()
    if not stripped:
        return result
    if stripped[:1] not in (b"{", b"[") and looks_like_email(stripped):
        _email(result, stripped)
        return result
    if stripped[:1] in (b"{", b"[") and (_LF in stripped or _CR in stripped):
        try:  # one pretty-printed JSON document rather than NDJSON
            document = orjson.loads(stripped)
        except orjson.JSONDecodeError:
            pass
        else:
            _json_document(result, document, 1, reference_time, zone)
            return result
    # "\r\n" and a lone "\r" end a line too (bytes.splitlines splits at nothing else)
    lines = stripped.splitlines() if _CR in stripped else stripped.split(b"\n")
    if len(lines) == 1 and stripped[:1] in (b"{", b"["):
        try:
            document = orjson.loads(stripped)
        except orjson.JSONDecodeError as error:
            raise InvalidJSONError(f"invalid JSON: {error}") from None
        _json_document(result, document, 1, reference_time, zone)
        return result
    # CRI partial fragments (container logs) are joined to the rest of their line
    numbered = join_partial_lines(lines) if has_partial_lines(stripped) else enumerate(lines, 1)
    for number, line in numbered:
        if line.strip():
            _text_line(result, line.rstrip(b"\r"), number, reference_time, zone)
    return result
