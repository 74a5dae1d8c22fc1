"""Split a syslog line into timestamp, host, program, pid and message.

Supported prefixes:

- RFC 3164 / BSD: ``Nov 29 10:00:01 mx1 postfix/smtp[1234]: msg`` (no year, no
  zone), optionally ``<PRI>``-prefixed and with a year after the day
  (``Nov 29 2026 10:00:01``) or before the month (``2026 Nov 29 10:00:01``);
- ISO 8601 (rsyslog ``RSYSLOG_FileFormat``, syslog-ng ``ts_format(iso)``):
  ``2026-11-29T10:00:01.123456+01:00 mx1 postfix/smtp[1234]: msg``;
- RFC 5424: ``<22>1 2026-11-29T10:00:01.123Z mx1 postfix/smtp 1234 - - msg``;
- a bare ``postfix/smtp[1234]: msg`` (journald MESSAGE with identifier, tests).

Only string methods are used (no regex), so the work is linear in the line.

Timestamps are returned as RFC 3339 UTC strings (``2026-11-29T10:00:01Z``).
A year-less RFC 3164 timestamp has no zone and is taken as UTC; its year is
the one that puts it nearest to the reference time without being more than
one day after it (a ``Dec 31`` line read on ``Jan 1`` belongs to the previous
year).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import NamedTuple

__all__ = ["SyslogLine", "bsd_timestamp", "resolve_year", "split_syslog", "to_rfc3339_utc"]

_MONTHS = {
    "Jan": 1, "Feb": 2, "Mar": 3, "Apr": 4, "May": 5, "Jun": 6,
    "Jul": 7, "Aug": 8, "Sep": 9, "Oct": 10, "Nov": 11, "Dec": 12,
}  # fmt: skip
_ONE_DAY = timedelta(days=1)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class SyslogLine(NamedTuple):
    """A syslog line split into its parts.

    :param timestamp: RFC 3339 UTC timestamp, or ``None`` if absent or invalid.
    :param host: originating host name, or ``None``.
    :param program: program name, e.g. ``"postfix/smtp"`` (without ``[pid]``).
    :param pid: process id as text, or ``None``.
    :param message: the text after ``program[pid]: ``.
    """

    timestamp: str | None
    host: str | None
    program: str
    pid: str | None
    message: str


@lru_cache(maxsize=1024)
def resolve_year(month: int, day: int, reference_day: int) -> int:
    """Pick the year for a year-less ``month``/``day`` seen on ``reference_day``.

    :param reference_day: days since 1970-01-01 (UTC) of the reference time.

    The candidate years are the reference year and the one before; the later
    candidate that is not more than one day after the reference day wins.
    """
    reference = _EPOCH + timedelta(days=reference_day)
    year = reference.year
    try:
        candidate = datetime(year, month, day, tzinfo=UTC)
    except ValueError:  # Feb 29 in a non-leap reference year
        return year - 1
    if candidate - reference > _ONE_DAY:
        return year - 1
    return year


def to_rfc3339_utc(moment: datetime) -> str:
    """Format an aware ``datetime`` as RFC 3339 UTC with a ``Z`` suffix.

    Fractional seconds are kept (microseconds) when non-zero.
    """
    moment = moment.astimezone(UTC)
    text = moment.strftime("%Y-%m-%dT%H:%M:%S")
    if moment.microsecond:
        text += f".{moment.microsecond:06d}"
    return text + "Z"


@lru_cache(maxsize=4096)
def _iso_timestamp(token: str) -> str | None:
    """Parse an ISO 8601 / RFC 3339 timestamp token; naive times are UTC."""
    try:
        moment = datetime.fromisoformat(token)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return to_rfc3339_utc(moment)


def bsd_timestamp(
    month: str, day: str, clock: str, year: int | None, reference_day: int
) -> str | None:
    """Build an RFC 3339 UTC string from BSD syslog parts; ``None`` if invalid.

    :param month: ``"Jan"`` .. ``"Dec"``; :param day: ``"1"`` .. ``"31"``;
    :param clock: ``"hh:mm:ss"`` with optional ``.ffffff``; :param year: or
    ``None`` to resolve it from ``reference_day`` (see :func:`resolve_year`).
    """
    month_number = _MONTHS.get(month)
    if month_number is None or not day.isdigit() or len(day) > 2 or len(clock) < 8:
        return None
    day_number = int(day)
    if year is None:
        if not 1 <= day_number <= 31:
            return None
        year = resolve_year(month_number, day_number, reference_day)
    return _bsd_moment(year, month_number, day_number, clock[:15])


@lru_cache(maxsize=8192)
def _bsd_moment(year: int, month: int, day: int, clock: str) -> str | None:
    """Cached: consecutive log lines share their second, so most calls are hits."""
    if clock[2:3] != ":" or clock[5:6] != ":":
        return None
    try:
        hour, minute, second = int(clock[0:2]), int(clock[3:5]), int(clock[6:8])
        fraction = clock[9:15] if len(clock) > 9 and clock[8] == "." else ""
        micro = int(fraction.ljust(6, "0")) if fraction.isdigit() else 0
        moment = datetime(year, month, day, hour, minute, second, micro, tzinfo=UTC)
    except ValueError:
        return None
    return to_rfc3339_utc(moment)


def _split_program(token: str) -> tuple[str, str | None] | None:
    """``postfix/smtp[1234]:`` -> (``postfix/smtp``, ``1234``); ``None`` if not a tag."""
    if not token.endswith(":"):
        return None
    token = token[:-1]
    if token.endswith("]"):
        open_at = token.find("[")
        if open_at <= 0:
            return None
        return token[:open_at], token[open_at + 1 : -1]
    return (token, None) if token else None


def _host_program_message(
    rest: str, timestamp: str | None, *, host_required: bool = True
) -> SyslogLine | None:
    """Parse ``host program[pid]: message`` (host optional when ``host_required`` is False)."""
    first, _, after_first = rest.partition(" ")
    tag = _split_program(first)
    if tag is not None and ("/" in first or "[" in first):
        return SyslogLine(timestamp, None, tag[0], tag[1], after_first)
    second, _, message = after_first.partition(" ")
    tag = _split_program(second)
    if tag is None:
        return None
    return SyslogLine(timestamp, first or None, tag[0], tag[1], message)


def _rfc5424(line: str) -> SyslogLine | None:
    """``<PRI>1 TIMESTAMP HOST APP PROCID MSGID SD MSG`` (RFC 5424 §6)."""
    parts = line.split(" ", 6)
    if len(parts) < 7:
        return None
    _version, stamp, host, app, procid, _msgid, rest = parts
    if rest.startswith("-"):
        message = rest[2:]
    elif rest.startswith("["):
        end = rest.find("] ")
        message = rest[end + 2 :] if end >= 0 else ""
    else:
        message = rest
    if message.startswith("\ufeff"):  # RFC 5424 §6.4 BOM before UTF-8 MSG
        message = message[1:]
    timestamp = None if stamp == "-" else _iso_timestamp(stamp)
    return SyslogLine(
        timestamp,
        None if host == "-" else host,
        app,
        None if procid == "-" else procid,
        message,
    )


def split_syslog(line: str, reference_day: int) -> SyslogLine | None:
    """Split one syslog line; ``None`` when the line has no recognisable prefix.

    :param line: one log line without its newline.
    :param reference_day: days since 1970-01-01 UTC of the reference time, used
        to resolve year-less timestamps (see the module docstring).
    """
    if line.startswith("<"):
        close = line.find(">", 1, 5)
        if close < 0:
            return None
        line = line[close + 1 :]
        if line.startswith("1 "):
            return _rfc5424(line[2:])
    head = line[:4]
    if head[:3] in _MONTHS and len(line) > 16:
        return _bsd_line(line, reference_day)
    if head.isdigit():
        if line[4:5] == "-":
            stamp, _, rest = line.partition(" ")
            return _host_program_message(rest, _iso_timestamp(stamp))
        if line[4:5] == " ":  # "2026 Nov 29 10:00:01 host ..."
            return _bsd_line(line[5:], reference_day, year=int(head))
    return _host_program_message(line, None)


def _bsd_line(line: str, reference_day: int, year: int | None = None) -> SyslogLine | None:
    """``Mmm dd [yyyy] hh:mm:ss host program[pid]: message``."""
    month, day_and_rest = line[:3], line[4:].lstrip(" ")
    day, _, rest = day_and_rest.partition(" ")
    clock, _, rest = rest.partition(" ")
    if len(clock) == 4 and clock.isdigit():  # "Nov 29 2026 10:00:01"
        year = int(clock)
        clock, _, rest = rest.partition(" ")
    timestamp = bsd_timestamp(month, day, clock, year, reference_day)
    if timestamp is None:
        return None
    return _host_program_message(rest, timestamp)
