"""The prefix of an Exim main log line: stamp, offset, ``[pid]``, message ID.

Source: the Exim 4 specification, chapter "Log files" (sections "Log message flags",
"Reducing or increasing what is logged": the ``millisec``, ``timezone`` and ``pid``
log selectors)::

    2026-11-29 10:00:00[.ddd] [+hhmm] [[pid]] 1tGxyz-000ABC-12 ** bob@example.com ...
    <stamp>                   <offset> <pid>  <message ID>     <flag> <address> ...

Exim writes this line to its main log file (``log_file_path``, default
``/var/spool/exim/log/mainlog``) or to standard output (``log_file_path = :stdout``, the
usual setting of Exim in a container, whose runtime then wraps it: a CRI line, a Docker
json-file record, a log shipper's record). Whether a line with this stamp is Exim's or
an rsyslog line stamped the same way (``2026-11-29 10:00:01 mx1 postfix/smtp[1]: ...``)
is decided in :mod:`processor.parse.syslog` (:func:`~processor.parse.syslog.split_exim`);
here only the prefix is split, without that decision, so that module can use it.

String methods only: linear in the line.
"""

from __future__ import annotations

from typing import NamedTuple

from processor.parse.stamps import iso_timestamp

__all__ = [
    "EXIM_PROGRAM",
    "EximLine",
    "EximPrefix",
    "exim_prefix",
    "is_exim_stamp",
    "is_message_id",
]

EXIM_PROGRAM = "exim"
"""The program (``mta_daemon``) of an Exim main log line, which names none."""


class EximLine(NamedTuple):
    """An Exim main log line split after its stamp.

    :param timestamp: RFC 3339 UTC time, or ``None`` when the stamp is invalid.
    :param pid: the ``[pid]`` as text (``log_selector = +pid``), or ``None``.
    :param message: the rest: ``<message ID> <flag> <address> ...`` or another event.
    """

    timestamp: str | None
    pid: str | None
    message: str


class EximPrefix(NamedTuple):
    """An Exim-stamped line split (:func:`exim_prefix`).

    :param line: the split line.
    :param has_message_id: the rest starts with an Exim message ID (then the line is
        Exim's whatever follows; else only when no syslog prefix reads it).
    """

    line: EximLine
    has_message_id: bool


def is_exim_stamp(line: str) -> bool:
    """``YYYY-MM-DD hh:mm:ss`` (ASCII digits) at the start of ``line``."""
    return (
        line[4:5] == "-"
        and line[7:8] == "-"
        and line[10:11] == " "
        and line[13:14] == ":"
        and line[16:17] == ":"
        and (line[:4] + line[5:7] + line[8:10] + line[11:13] + line[14:16] + line[17:19]).isdigit()
        and line[:19].isascii()
    )


def _is_offset(token: str) -> bool:
    """``+0100`` / ``-0500``: the ``+timezone`` log selector's offset."""
    return len(token) == 5 and token[0] in "+-" and token[1:].isdigit() and token.isascii()


def is_message_id(token: str) -> bool:
    """An Exim message ID: base-62 groups of 6, 6 (11 from 4.97) and 2 (4 from 4.97) digits.

    ``XXXXXX-XXXXXX-XX`` up to Exim 4.96, ``XXXXXX-XXXXXXXXXXX-XXXX`` from 4.97.
    """
    parts = token.split("-")
    return (
        len(parts) == 3
        and len(parts[0]) == 6
        and 6 <= len(parts[1]) <= 11
        and 2 <= len(parts[2]) <= 4
        and token.isascii()
        and "".join(parts).isalnum()
    )


def exim_prefix(line: str, zone: str | None) -> EximPrefix | None:
    """Split ``YYYY-MM-DD hh:mm:ss[.ddd] [+hhmm] [[pid]] <rest>``; ``None`` without that stamp.

    :param line: one log line, without its line ending.
    :param zone: IANA zone name of a stamp without an offset (``None``: UTC).
    :returns: the split and whether ``<rest>`` starts with a message ID.
    :raises TimeZoneError: ``zone`` is not an IANA zone name.
    """
    if not is_exim_stamp(line):
        return None
    date, clock, rest = line[:10], line[11:19], line[19:]
    if rest.startswith(".") and rest[1:4].isdigit():  # +millisec
        fraction, _, rest = rest.partition(" ")
        clock += fraction
    elif rest.startswith(" "):
        rest = rest[1:]
    else:
        return None
    token, _, after = rest.partition(" ")
    offset = ""
    if _is_offset(token):
        offset, rest = token, after
        token, _, after = rest.partition(" ")
    pid = None
    if token.startswith("[") and token.endswith("]") and token[1:-1].isdigit():
        pid, rest = token[1:-1], after
        token = rest.partition(" ")[0]
    stamp = iso_timestamp(f"{date}T{clock}{offset}", zone)
    return EximPrefix(EximLine(stamp, pid, rest), is_message_id(token))
