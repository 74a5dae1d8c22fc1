"""Log lines wrapped in a log shipper's JSON object.

- Filebeat / Elastic Agent / Vector / Fluent Bit: ``{"message": "<syslog line>",
  "@timestamp": "...", "host": {"name": "mx1"}}``;
- Docker json-file / Fluentd: ``{"log": "<syslog line>\\n", "time": "..."}``;
- journald (``journalctl -o json``): ``{"MESSAGE": "4F3C: to=<...>, ...",
  "SYSLOG_IDENTIFIER": "postfix/smtp", "_PID": "1234", "_HOSTNAME": "mx1",
  "__REALTIME_TIMESTAMP": "1795946401000000"}`` -- MESSAGE holds only the text
  after ``program[pid]: ``.

The wrapped line is split like any syslog line; the shipper's timestamp and
host fill in what the line lacks. A shipper timestamp without an offset is read in
the source time zone, like a zone-less syslog timestamp
(:func:`processor.parse.syslog.iso_timestamp`).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from processor.parse.syslog import SyslogLine, iso_timestamp, split_syslog, to_rfc3339_utc

__all__ = ["MESSAGE_FIELDS", "is_shipper_record", "split_lines", "unwrap_shipper_record"]

MESSAGE_FIELDS = ("message", "log", "MESSAGE")
"""Fields that hold the wrapped log line, in the order they are looked up."""

_TIME_FIELDS = ("@timestamp", "timestamp", "time")
_HOST_FIELDS = ("hostname", "host", "_HOSTNAME", "HOSTNAME")


def is_shipper_record(document: dict[str, Any]) -> bool:
    """True when the object carries a log line in one of :data:`MESSAGE_FIELDS`."""
    return any(isinstance(document.get(field), str) for field in MESSAGE_FIELDS)


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


def _shipper_time(document: dict[str, Any], zone: str | None) -> str | None:
    realtime = document.get("__REALTIME_TIMESTAMP")  # journald: microseconds since the epoch
    if isinstance(realtime, str) and realtime.isdigit():
        try:
            return to_rfc3339_utc(datetime.fromtimestamp(int(realtime) / 1_000_000, UTC))
        except (OverflowError, OSError, ValueError):
            return None
    for field in _TIME_FIELDS:
        value = document.get(field)
        if isinstance(value, str):
            stamp = iso_timestamp(value, zone)
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
    text = next(document[f] for f in MESSAGE_FIELDS if isinstance(document.get(f), str))
    identifier = _program(document)
    host = _shipper_host(document)
    shipper_time: str | None = None
    lines: list[SyslogLine] = []
    for raw_line in split_lines(text):
        if not raw_line.strip():
            continue
        if identifier is not None:
            split: SyslogLine | None = SyslogLine(None, None, identifier, _pid(document), raw_line)
        else:
            split = split_syslog(raw_line, reference_time, source_timezone)
        if split is None:
            split = SyslogLine(None, None, "", None, raw_line)
        if split.timestamp is None or split.host is None:
            if shipper_time is None:
                shipper_time = _shipper_time(document, source_timezone)
            split = split._replace(
                timestamp=split.timestamp or shipper_time, host=split.host or host
            )
        lines.append(split)
    return lines
