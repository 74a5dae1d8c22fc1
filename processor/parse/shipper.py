"""Log lines wrapped in a log shipper's JSON object.

- Filebeat / Elastic Agent / Vector / Fluent Bit: ``{"message": "<syslog line>",
  "@timestamp": "...", "host": {"name": "mx1"}}``;
- Docker json-file / Fluentd: ``{"log": "<syslog line>\\n", "time": "..."}``;
- journald (``journalctl -o json``): ``{"MESSAGE": "4F3C: to=<...>, ...",
  "SYSLOG_IDENTIFIER": "postfix/smtp", "_PID": "1234", "_HOSTNAME": "mx1",
  "__REALTIME_TIMESTAMP": "1795946401000000"}`` -- MESSAGE holds only the text
  after ``program[pid]: ``; a MESSAGE that is not valid UTF-8 is written as an array
  of byte values (``journalctl(1)``, ``--output=json``), decoded here with
  replacement characters;
- Fluent Bit with its syslog parser (``ident``, ``pid``, ``message``) and a
  numeric ``@timestamp``/``date`` (epoch seconds as a double, its default
  ``json_date_format``), or the parser's own ``time`` (``Nov 30 02:25:06``).

The wrapped line is read like a bare line (a syslog line, an Exim main log line, a
container runtime's line; a JSON line by :func:`wrapped_json`, one level deep); the
shipper's timestamp and host fill in what the line lacks. A record that names its program
(journald) carries only the text after ``program[pid]: ``, unless the program is no MTA's
and the text is a whole MTA line (Docker's ``journald`` logging driver).

A shipper's time is an ISO 8601 string, an RFC 3164 ``Mmm dd hh:mm:ss`` string (year
from the reference time), or a number of seconds, milliseconds, microseconds or
nanoseconds since the epoch (told apart by magnitude: seconds below 10^11, i.e. up to
the year 5138). A shipper time without an offset is read in the source time zone, like
a zone-less syslog timestamp (:func:`processor.parse.syslog.iso_timestamp`).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import orjson

from processor.errors import InvalidJSONError
from processor.parse.container import NOT_A_LINE_MESSAGE, container_content, refusal_message
from processor.parse.mta import is_mta_program
from processor.parse.syslog import (
    SyslogLine,
    bsd_timestamp,
    iso_timestamp,
    split_syslog,
    to_rfc3339_utc,
)

__all__ = [
    "MESSAGE_FIELDS",
    "is_shipper_record",
    "shipper_identity",
    "shipper_refusal",
    "split_lines",
    "unwrap_shipper_record",
    "wrapped_json",
]

MESSAGE_FIELDS = ("message", "log", "MESSAGE")
"""Fields that hold the wrapped log line, in the order they are looked up."""

_TIME_FIELDS = ("@timestamp", "timestamp", "time", "date")
_HOST_FIELDS = ("hostname", "host", "_HOSTNAME", "HOSTNAME")
#: Epoch numbers below these bounds are seconds, milliseconds, microseconds; above, ns.
_EPOCH_UNITS = ((1e11, 1), (1e14, 1_000), (1e17, 1_000_000))


def is_shipper_record(document: dict[str, Any]) -> bool:
    """True when the object carries a log line in one of :data:`MESSAGE_FIELDS`."""
    return _message_text(document) is not None


def _message_text(document: dict[str, Any]) -> str | None:
    """The wrapped text: the first :data:`MESSAGE_FIELDS` string, or journald's byte array."""
    for field in MESSAGE_FIELDS:
        value = document.get(field)
        if isinstance(value, str):
            return value
    value = document.get("MESSAGE")
    if isinstance(value, list) and all(type(b) is int for b in value):
        try:
            return bytes(value).decode("utf-8", "replace")
        except ValueError:  # a number outside 0..255: not a byte array
            return None
    return None


_PROGRAM_FIELDS = ("SYSLOG_IDENTIFIER", "appname", "ident", "program")
_PID_FIELDS = ("_PID", "SYSLOG_PID", "procid", "pid")


def _program(document: dict[str, Any]) -> str | None:
    """The program when the shipper already split the syslog line (journald, Vector
    ``parse_syslog``: ``appname``, Fluent Bit's syslog parser: ``ident``); then the
    message field holds only the text after ``program[pid]: ``."""
    for field in _PROGRAM_FIELDS:
        value = document.get(field)
        if isinstance(value, str) and value:
            return value
    return None


def _pid(document: dict[str, Any]) -> str | None:
    for field in _PID_FIELDS:
        value = document.get(field)
        if isinstance(value, str) and value:
            return value
        if isinstance(value, int) and not isinstance(value, bool):
            return str(value)
    return None


def _shipper_host(document: dict[str, Any]) -> str | None:
    for field in _HOST_FIELDS:
        value = document.get(field)
        if isinstance(value, str) and value:
            return value
        if isinstance(value, dict):  # Elastic Common Schema: host.name / host.hostname
            name = value.get("name") or value.get("hostname")
            if isinstance(name, str) and name:
                return name
    return None


def _epoch_time(seconds: int, microseconds: int) -> str | None:
    try:
        moment = datetime.fromtimestamp(seconds, UTC).replace(microsecond=microseconds)
    except (OverflowError, OSError, ValueError):
        return None
    return to_rfc3339_utc(moment)


def _number_time(value: float) -> str | None:
    """Epoch seconds, ms, us or ns (by magnitude) -> RFC 3339 UTC; ``None`` if out of range."""
    if not 0 < value < 1e20:  # also refuses NaN
        return None
    per_second = next((unit for bound, unit in _EPOCH_UNITS if value < bound), 1_000_000_000)
    if isinstance(value, int):
        seconds, rest = divmod(value, per_second)
        return _epoch_time(seconds, rest * 1_000_000 // per_second)
    micros = round(value * 1_000_000 / per_second)
    return _epoch_time(*divmod(micros, 1_000_000))


def _text_time(value: str, reference_time: float, zone: str | None) -> str | None:
    """An ISO 8601 or RFC 3164 (``Nov 30 02:25:06``, Fluent Bit's syslog parser) time."""
    stamp = iso_timestamp(value, zone)
    if stamp is None and value[:3].isalpha():
        month, day, clock = [*value.split(), "", "", ""][:3]
        stamp = bsd_timestamp(month, day, clock, None, int(reference_time), zone)
    return stamp


def _shipper_time(document: dict[str, Any], reference_time: float, zone: str | None) -> str | None:
    realtime = document.get("__REALTIME_TIMESTAMP")  # journald: microseconds since the epoch
    if isinstance(realtime, str) and realtime.isdigit():
        return _epoch_time(*divmod(int(realtime), 1_000_000))
    for field in _TIME_FIELDS:
        value = document.get(field)
        if isinstance(value, str):
            stamp = _text_time(value, reference_time, zone)
        elif isinstance(value, int | float) and not isinstance(value, bool):
            stamp = _number_time(value)
        else:
            continue
        if stamp is not None:
            return stamp
    return None


def split_lines(text: str) -> list[str]:
    """``text`` split at line endings: ``\\r\\n``, ``\\n`` or a lone ``\\r``, and nothing else.

    ``str.splitlines`` also splits at form feeds, ``\\x1c``-``\\x1e``, NEL and the Unicode
    line and paragraph separators, which a reply text may carry (SMTPUTF8, RFC 6531):
    a line must not break in its diagnostic.
    """
    return text.replace("\r\n", "\n").replace("\r", "\n").split("\n")


def unwrap_shipper_record(
    document: dict[str, Any], reference_time: float, source_timezone: str | None = None
) -> list[SyslogLine]:
    """Return the syslog lines a shipper record carries (usually one).

    :param document: a JSON object for which :func:`is_shipper_record` is True.
    :param reference_time: see :func:`processor.parse.syslog.split_syslog`.
    :param source_timezone: IANA zone name of timestamps without a zone, in the line
        or the shipper's own time field; ``None`` is UTC.
    :returns: split lines; a line without a recognisable syslog prefix is
        returned with an empty program (the caller counts it as unrecognised).
    """
    text = (_message_text(document) or "").removeprefix("\ufeff")  # a file's first line
    identifier = _program(document)
    host = _shipper_host(document)
    shipper_time: str | None = None
    lines: list[SyslogLine] = []
    for raw_line in split_lines(text):
        if not raw_line.strip():
            continue
        if identifier is not None:
            split: SyslogLine | None = _identified_line(
                raw_line, identifier, document, reference_time, source_timezone
            )
        else:
            split = split_syslog(raw_line, reference_time, source_timezone)
        if split is None:
            split = SyslogLine(None, None, "", None, raw_line)
        if split.timestamp is None or split.host is None:
            if shipper_time is None:
                shipper_time = _shipper_time(document, reference_time, source_timezone)
            split = split._replace(
                timestamp=split.timestamp or shipper_time, host=split.host or host
            )
        lines.append(split)
    return lines


def _identified_line(
    line: str, identifier: str, document: dict[str, Any], reference_time: float, zone: str | None
) -> SyslogLine:
    """The line of a record that names its program (journald ``SYSLOG_IDENTIFIER``, ...).

    The message is the text after ``program[pid]: ``, unless the identifier is not an
    MTA's and the message is a whole line of one: Docker's ``journald`` logging driver
    names the container (``SYSLOG_IDENTIFIER`` is its ID or ``--log-opt tag``) and
    passes the container's output line as it is (Postfix ``maillog_file =
    /dev/stdout``, Exim ``log_file_path = :stdout``).
    """
    if not is_mta_program(identifier):
        whole = split_syslog(line, reference_time, zone)
        if whole is not None and is_mta_program(whole.program):
            return whole
    return SyslogLine(None, None, identifier, _pid(document), line)


def shipper_identity(split: SyslogLine) -> bytes:
    """The bytes a shipper record's line is identified by (hashed into ``event_id``).

    The line as its parts rebuild it (``time host program[pid]: message``), so the same
    line shipped with other metadata keeps its identity.
    """
    pid = f"[{split.pid}]" if split.pid else ""
    return f"{split.timestamp} {split.host} {split.program}{pid}: {split.message}".encode(
        "utf-8", "replace"
    )


def wrapped_json(text: str, *, bare: bool) -> Any | None:
    """The JSON document a wrapper's line carries, or ``None`` when it carries none.

    A JSON line (a delivery event, a platform's event, a log record) is read behind a
    container runtime's prefix (:func:`~processor.parse.container.container_content`)
    as it is bare; with ``bare``, ``text`` (a shipper record's message) may also be
    the JSON itself (Docker json-file ``{"log": "{...}\\n"}``).

    :raises InvalidJSONError: the content starts like JSON (``{``, ``[``) but does not parse.
    """
    content = text if bare and text[:1] in ("{", "[") else container_content(text)
    if content is None or content[:1] not in ("{", "["):
        return None
    try:
        return orjson.loads(content)
    except orjson.JSONDecodeError as error:
        where = "log record's message" if content is text else "container log line's content"
        raise InvalidJSONError(f"{where} is invalid JSON: {error}") from None


def shipper_refusal(message: str, *, wrapped: bool) -> str:
    """Why a shipper record's line (``message``) is refused: its content has no shape read
    here, it is a lone CRI partial fragment, or it is JSON inside a ``wrapped`` record
    (a record that is itself a container line's or another record's content)."""
    if wrapped and wrapped_json(message, bare=True) is not None:
        return "shipper record's message is JSON inside a wrapper's JSON (one level is read)"
    reason = refusal_message(message)
    if reason == NOT_A_LINE_MESSAGE:
        return "shipper record's message is not a syslog line, Exim main log line or JSON document"
    return f"shipper record's message: {reason}"
