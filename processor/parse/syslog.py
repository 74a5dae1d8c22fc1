"""Split a syslog line into timestamp, host, program, pid and message.

Supported prefixes:

- RFC 3164 / BSD: ``Nov 29 10:00:01 mx1 postfix/smtp[1234]: msg`` (no year, no
  zone), optionally ``<PRI>``-prefixed, with microseconds (``journalctl -o
  short-precise``) and with a year after the day (``Nov 29 2026 10:00:01``) or before
  the month (syslog-ng ``$YEAR $BSDDATE``: ``2026 Nov 29 10:00:01``);
- ISO 8601 (rsyslog ``RSYSLOG_FileFormat``, syslog-ng ``ts_format(iso)``, ``journalctl
  -o short-iso``/``short-iso-precise``): ``2026-11-29T10:00:01.123456+01:00 mx1
  postfix/smtp[1234]: msg``, the offset also without a colon (``+0100``), or a space
  between date and time (``2026-11-29 10:00:01 mx1 ...``: rsyslog's
  ``date-pgsql``/``date-mysql``-style templates, no zone);
- RFC 5424: ``<22>1 2026-11-29T10:00:01.123Z mx1 postfix/smtp 1234 - - msg``;
- ``journalctl -o short-full``: ``Sun 2026-11-29 10:00:01 CET mx1 ...`` (the zone
  abbreviation is read by :func:`processor.parse.stamps.zoned_wall_time`);
- ``journalctl -o short-unix``: ``1795946401.123456 mx1 ...`` (epoch seconds);
- a ``facility.severity`` token after the host, bare or in angle brackets
  (``mx1 mail.info postfix/smtp[1]: ...``, ``mx1 <mail.info> ...``);
- a container runtime's RFC 3339 time before any of these lines: Kubernetes CRI
  (``2026-11-29T10:00:01.123456789Z stdout F <line>``; partial ``P`` fragments, see
  :mod:`processor.parse.container`) and ``docker``/``kubectl logs --timestamps``
  (``2026-11-29T10:00:01.123456789Z <line>``); the runtime's time wins
  (:func:`_container_line` says why);
- a bare ``postfix/smtp[1234]: msg`` (journald MESSAGE with identifier, tests);
- not syslog, but read here so that every wrapper above reads it too: an Exim main log
  line (``2026-11-29 10:00:01 1tGxyz-000ABC-12 ** bob@example.com ...``, Exim's
  ``log_file_path`` file or ``:stdout`` in a container), returned as program ``exim``
  without a host (:func:`split_exim`).

Only string methods are used (no regex), so the work is linear in the line.
Timestamps are returned as RFC 3339 UTC strings; the rules for zone-less and
year-less times are in :mod:`processor.parse.stamps`.
"""

from __future__ import annotations

from typing import NamedTuple

from processor.parse.container import CRI_STREAMS, cri_tags
from processor.parse.exim_prefix import EXIM_PROGRAM, EximLine, exim_prefix
from processor.parse.priority import is_priority
from processor.parse.stamps import (
    MONTHS,
    bsd_timestamp,
    epoch_timestamp,
    iso_timestamp,
    resolve_year,
    to_rfc3339_utc,
    zone_info,
    zoned_wall_time,
)

__all__ = [
    "SyslogLine",
    "bsd_timestamp",
    "iso_timestamp",
    "resolve_year",
    "split_exim",
    "split_syslog",
    "to_rfc3339_utc",
    "zone_info",
]

_WEEKDAYS = frozenset({"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"})


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


def _host_program_message(rest: str, timestamp: str | None) -> SyslogLine | None:
    """Parse ``[host] [facility.severity] program[pid]: message``.

    The host may be left out when the program has a ``/`` or ``[pid]`` (a bare Postfix
    line); the ``facility.severity`` token is only looked for after a host.
    """
    if rest[:1] in ("{", "["):  # JSON, never a syslog line (a container line's content)
        return None
    first, _, after_first = rest.partition(" ")
    tag = _split_program(first)
    if tag is not None and ("/" in first or "[" in first):
        return SyslogLine(timestamp, None, tag[0], tag[1], after_first)
    second, _, message = after_first.partition(" ")
    tag = _split_program(second)
    if tag is None:
        if not is_priority(second):
            return None
        third, _, message = message.partition(" ")
        tag = _split_program(third)
        if tag is None:
            return None
    return SyslogLine(timestamp, first or None, tag[0], tag[1], message)


def _rfc5424(line: str, zone: str | None) -> SyslogLine | None:
    """``TIMESTAMP HOST APP PROCID MSGID SD MSG``, after ``<PRI>1 `` (RFC 5424 §6)."""
    parts = line.split(" ", 5)
    if len(parts) < 6:
        return None
    stamp, host, app, procid, _msgid, rest = parts
    if rest.startswith("-"):
        message = rest[2:]
    elif rest.startswith("["):
        end = rest.find("] ")
        message = rest[end + 2 :] if end >= 0 else ""
    else:
        message = rest
    if message.startswith("\ufeff"):  # RFC 5424 §6.4 BOM before UTF-8 MSG
        message = message[1:]
    timestamp = None if stamp == "-" else iso_timestamp(stamp, zone)
    return SyslogLine(
        timestamp,
        None if host == "-" else host,
        app,
        None if procid == "-" else procid,
        message,
    )


def split_syslog(
    line: str, reference_time: float, source_timezone: str | None = None
) -> SyslogLine | None:
    """Split one syslog line; ``None`` when the line has no recognisable prefix.

    :param line: one log line without its newline.
    :param reference_time: epoch seconds used to resolve year-less timestamps
        (see :func:`resolve_year`).
    :param source_timezone: IANA zone name of timestamps without a zone (RFC 3164,
        ISO 8601 without an offset); ``None`` is UTC.
    :returns: the parts; ``None`` also for a CRI partial fragment (tag ``P``, see
        :mod:`processor.parse.container`), which is never classified alone.
    :raises TimeZoneError: ``source_timezone`` is not an IANA zone name.
    """
    return _split(line, reference_time, source_timezone, wrapped=False)


def _split(
    line: str, reference_time: float, zone: str | None, *, wrapped: bool
) -> SyslogLine | None:
    """:func:`split_syslog`; ``wrapped``: ``line`` is a container line's content (one level)."""
    if line.startswith("<"):
        close = line.find(">", 1, 5)
        if close < 0:
            return None
        line = line[close + 1 :]
        if line.startswith("1 "):
            return _rfc5424(line[2:], zone)
    head = line[:4]
    if head[:3] in MONTHS and len(line) > 16:
        return _bsd_line(line, reference_time, zone)
    if head.isdigit():
        if line[4:5] == "-":
            return _iso_line(line, reference_time, zone, wrapped=wrapped)
        if line[4:5] == " ":  # "2026 Nov 29 10:00:01 host ...": syslog-ng year-first
            return _bsd_line(line[5:], reference_time, zone, year=int(head))
        return _epoch_line(line)
    if head[:3] in _WEEKDAYS and head[3:4] == " ":
        return _full_line(line, zone)
    return _host_program_message(line, None)


def _iso_line(
    line: str, reference_time: float, zone: str | None, *, wrapped: bool
) -> SyslogLine | None:
    """``2026-11-29T10:00:01[.f][zone] host program[pid]: message`` (rsyslog, syslog-ng,
    ``journalctl -o short-iso``/``short-iso-precise``), ``2026-11-29 10:00:01 host ...``,
    or a container runtime's time before a whole line (:func:`_container_line`)."""
    if line[10:11] == " " and line[13:14] == ":":  # "2026-11-29 10:00:01[.ffffff]"
        exim = split_exim(line, zone)
        if exim is not None:  # Exim's main log line: mta_daemon "exim", no host
            return SyslogLine(exim.timestamp, None, EXIM_PROGRAM, exim.pid, exim.message)
        return _iso_space_line(line, zone)
    stamp, _, rest = line.partition(" ")
    timestamp = iso_timestamp(stamp, zone)
    split = _host_program_message(rest, timestamp)
    if wrapped or (split is not None and not _is_line_start(split.host)):
        return split
    # no host, or a "host" that is a date or a <PRI>: a runtime's time before a line
    return _container_line(rest, timestamp, reference_time, zone)


def _is_line_start(host: str | None) -> bool:
    """A "host" that starts a line's own prefix: ``<PRI>``, a ``YYYY-`` date."""
    return host is not None and (host[:1] == "<" or (host[4:5] == "-" and host[:4].isdigit()))


def _iso_space_line(line: str, zone: str | None) -> SyslogLine | None:
    """``2026-11-29 10:00:01[.ffffff] host program[pid]: message`` (rsyslog ``date-pgsql``)."""
    date, _, line = line.partition(" ")
    clock, _, rest = line.partition(" ")
    return _host_program_message(rest, iso_timestamp(f"{date}T{clock}", zone))


def split_exim(line: str, zone: str | None) -> EximLine | None:
    """Split an Exim main log line (:mod:`processor.parse.exim_prefix`); ``None`` when
    ``line`` is not one.

    A line is Exim's when it starts with ``YYYY-MM-DD hh:mm:ss`` (optionally ``.ddd``,
    an offset, a ``[pid]``) and then has a message ID, or other text no syslog prefix
    reads (``SMTP connection from ...``, ``Start queue run``): an rsyslog line stamped
    the same way (``2026-11-29 10:00:01 mx1 postfix/smtp[1]: ...``) is not Exim's.
    :func:`split_syslog` returns an Exim line, bare or behind a container prefix, as a
    :class:`SyslogLine` of program ``exim`` without a host.

    :param zone: IANA zone name of a stamp without an offset (``None``: UTC).
    :raises TimeZoneError: ``zone`` is not an IANA zone name.
    """
    found = exim_prefix(line, zone)
    if found is None:
        return None
    if not found.has_message_id and _iso_space_line(line, zone) is not None:
        return None
    return found.line


def _container_line(
    rest: str, outer: str | None, reference_time: float, zone: str | None
) -> SyslogLine | None:
    """A line behind a container runtime's time (``rest``: what follows that time).

    - CRI (Kubernetes ``/var/log/containers/*.log``): ``stdout F <line>``, ``stderr F
      <line>``; a partial fragment (``P``) is refused (:mod:`processor.parse.container`);
    - ``docker logs --timestamps``, ``kubectl logs --timestamps``: ``<line>``.

    ``<line>`` is any prefix this module reads (Postfix's own ``postlog`` writes
    ``Mmm dd hh:mm:ss host postfix/smtp[pid]: ...`` to ``maillog_file = /dev/stdout``, Exim
    its main log line with ``log_file_path = :stdout``), one level deep; a byte order mark
    before it (a file's first line) is dropped, as bare. A ``--timestamps`` time before an
    ISO line without a host, or before a ``<PRI>`` line, is read so, not as the host of an
    ISO line (:func:`_is_line_start`). A JSON content is read by :mod:`processor.parse`
    (:func:`processor.parse.container.container_content`).

    The runtime's time wins over the line's own: it is RFC 3339 with a zone and a year,
    and nanosecond-precise (Go's ``RFC3339Nano`` drops trailing zeros, so fewer digits
    are still exact), while the line's own stamp is usually RFC 3164 (no zone, no year)
    and at best microseconds; both come from the same host clock, the runtime's a pipe
    read later. The line's own stamp is used only when the runtime's does not parse.
    """
    stream, _, after = rest.partition(" ")
    if stream in CRI_STREAMS:
        field, _, content = after.partition(" ")
        tags = cri_tags(field)
        if tags is None or tags.partial:
            return None
        rest = content
    inner = _split(rest.removeprefix("\ufeff"), reference_time, zone, wrapped=True)
    if inner is None or outer is None:
        return inner
    return inner._replace(timestamp=outer)


def _epoch_line(line: str) -> SyslogLine | None:
    """``1795946400.123456 host program[pid]: message`` (``journalctl -o short-unix``)."""
    stamp, _, rest = line.partition(" ")
    timestamp = epoch_timestamp(stamp)
    if timestamp is None:
        return _host_program_message(line, None)
    return _host_program_message(rest, timestamp)


def _full_line(line: str, zone: str | None) -> SyslogLine | None:
    """``Sun 2026-11-29 10:00:01 CET host program[pid]: message`` (``journalctl -o
    short-full``); the zone abbreviation is read by :func:`zoned_wall_time`."""
    parts = line.split(" ", 4)
    if len(parts) < 5 or parts[1][4:5] != "-" or parts[1][7:8] != "-" or parts[2][2:3] != ":":
        return _host_program_message(line, None)  # a host named like a weekday
    _weekday, date, clock, abbreviation, rest = parts
    return _host_program_message(rest, zoned_wall_time(date, clock, abbreviation, zone))


def _bsd_line(
    line: str, reference_time: float, zone: str | None, year: int | None = None
) -> SyslogLine | None:
    """``Mmm dd [yyyy] hh:mm:ss host program[pid]: message``."""
    month, day_and_rest = line[:3], line[4:].lstrip(" ")
    day, _, rest = day_and_rest.partition(" ")
    clock, _, rest = rest.partition(" ")
    if len(clock) == 4 and clock.isdigit():  # "Nov 29 2026 10:00:01"
        year = int(clock)
        clock, _, rest = rest.partition(" ")
    if month not in MONTHS or clock[2:3] != ":" or clock[5:6] != ":":
        return None
    # A well-formed prefix with an impossible date ("Nov 31") keeps its line; the
    # timestamp is then unknown (None), as on the fast path.
    timestamp = bsd_timestamp(month, day, clock, year, int(reference_time), zone)
    return _host_program_message(rest, timestamp)
