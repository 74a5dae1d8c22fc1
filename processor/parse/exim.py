"""Exim main log lines -> :class:`~processor.model.DeliveryEvent`.

Source: the Exim 4 specification, chapter "Log files" (sections "Log message
flags", "Logging message reception", "Logging deliveries", "Deferred
deliveries", "Delivery failures", "Reducing or increasing what is logged")::

    2026-11-29 10:00:00 1tGxyz-000ABC-12 => bob@example.com R=dnslookup T=remote_smtp
        H=mx.example.com [192.0.2.10] X=TLS1.3:...:256 C="250 2.0.0 Ok: queued as 4F3C" DT=1s
    2026-11-29 10:00:00 1tGxyz-000ABC-12 ** bob@example.com R=dnslookup T=remote_smtp
        H=mx.example.com [192.0.2.10]: SMTP error from remote mail server after
        RCPT TO:<bob@example.com>: 550 5.1.1 User unknown

The line is a time stamp (``+millisec`` adds ``.ddd``, ``+timezone`` an offset
``+hhmm``; :func:`split_exim` reads both), an optional ``[pid]`` (``+pid``), the
message ID, a two-character flag and the address. Delivery outcomes, one per
recipient: ``=>`` delivered, ``->`` another address of the same delivery, ``*>``
delivery suppressed by ``-N`` (discarded), ``**`` permanent failure (bounced),
``==`` temporary failure (deferred). The delivered address may be followed by its
parents in angle brackets (the address it was generated from, ``+all_parents``
lists every ancestor: the last one is the original recipient), then fields:
``R=`` router, ``T=`` transport, ``H=host [ip]`` next hop, ``X=`` TLS, ``C="..."``
the remote's confirmation (``+smtp_confirmation``), ``DT=`` delivery time,
``F=<sender>`` (``+sender_on_delivery``). On ``**`` and ``==`` lines the failure
text follows the first ``": "`` outside a quoted value: it is the diagnostic.

Not delivery outcomes (skipped): arrivals ``<=``, ``Completed``, ``Frozen``,
per-message SMTP errors, ``==`` lines saying "retry time not reached" (no
attempt was made; the last attempt was already logged), and lines without a
message ID (``SMTP connection from ...``, ``Start queue run``). Exim's own
message IDs: ``XXXXXX-XXXXXX-XX`` (up to 4.96) and the 23-character
``XXXXXX-XXXXXXXXXXX-XXXX`` of 4.97 and later. Exim writes no DSN field, so
``mta_dsn`` stays ``None``; codes come from the remote's text.

String methods only: every step is linear in the line.
"""

from __future__ import annotations

from typing import NamedTuple

from processor.model import DeliveryEvent, DeliveryStatus
from processor.parse.exim_fields import (
    address_parts,
    duration,
    failure_command,
    split_failure,
    unbracket,
)
from processor.parse.syslog import iso_timestamp, split_syslog

__all__ = ["EXIM_PROGRAMS", "EximLine", "is_message_id", "parse_exim_message", "split_exim"]

EXIM_PROGRAMS = frozenset({"exim", "exim4"})
"""Syslog program names Exim logs under (``log_file_path = syslog``)."""

_STATUSES = {
    "=>": DeliveryStatus.SENT,
    "->": DeliveryStatus.SENT,
    "*>": DeliveryStatus.DISCARDED,
    "**": DeliveryStatus.BOUNCED,
    "==": DeliveryStatus.DEFERRED,
}
_FAILURES = frozenset({"**", "=="})
_BLACKHOLE = ":blackhole:"


class EximLine(NamedTuple):
    """An Exim main log line split after its stamp.

    :param timestamp: RFC 3339 UTC time, or ``None`` when the stamp is invalid.
    :param pid: the ``[pid]`` as text (``log_selector = +pid``), or ``None``.
    :param message: the rest: ``<message ID> <flag> <address> ...`` or another event.
    """

    timestamp: str | None
    pid: str | None
    message: str


def _is_stamp(line: str) -> bool:
    """``YYYY-MM-DD hh:mm:ss`` at the start of ``line``."""
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
    """An Exim message ID: base-62 groups of 6, 6 (11 from 4.97) and 2 (4 from 4.97) digits."""
    parts = token.split("-")
    return (
        len(parts) == 3
        and len(parts[0]) == 6
        and 6 <= len(parts[1]) <= 11
        and 2 <= len(parts[2]) <= 4
        and token.isascii()
        and "".join(parts).isalnum()
    )


def split_exim(line: str, zone: str | None) -> EximLine | None:
    """Split an Exim main log line; ``None`` when ``line`` is not one.

    A line is Exim's when it starts with ``YYYY-MM-DD hh:mm:ss`` (optionally
    ``.ddd``, an offset, a ``[pid]``) and then has a message ID, or other text
    that :func:`processor.parse.syslog.split_syslog` cannot split (``SMTP
    connection from ...``, ``Start queue run``): an rsyslog line stamped the same
    way (``2026-11-29 10:00:01 mx1 postfix/smtp[1]: ...``) is left to it.

    :param zone: IANA zone name of a stamp without an offset (``None``: UTC).
    :raises TimeZoneError: ``zone`` is not an IANA zone name.
    """
    if not _is_stamp(line):
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
    if not is_message_id(token) and split_syslog(line, 0.0, zone) is not None:
        return None  # an ISO-stamped syslog line (rsyslog date-pgsql style): not Exim's
    return EximLine(iso_timestamp(f"{date}T{clock}{offset}", zone), pid, rest)


def parse_exim_message(
    message: str,
    timestamp: str | None,
    identity: bytes,
    *,
    host: str | None = None,
    program: str = "exim",
) -> DeliveryEvent | None:
    """Turn the part of an Exim log line after its stamp into a delivery event.

    :param message: ``<message ID> <flag> <address> [<parent>...] [fields][: text]``
        (see the module docstring). A syslog message from Exim may still start
        with Exim's own stamp (``syslog_timestamp``, true by default): it is
        skipped, and gives the time only when ``timestamp`` is ``None`` (then read
        as UTC unless it has an offset), since the syslog stamp was already read
        in the source time zone.
    :param timestamp: RFC 3339 UTC time of the line, or ``None``.
    :param identity: bytes identifying the line (for the deterministic event ID).
    :param host: the logging host when known (syslog), else ``None``.
    :param program: ``mta_daemon`` of the event (``exim``, or the syslog program).
    :returns: a :class:`DeliveryEvent`, or ``None`` for lines that are not
        delivery outcomes (skipped). Never raises on malformed text.
    """
    if _is_stamp(message):
        inner = split_exim(message, None)
        if inner is not None:
            timestamp, message = timestamp or inner.timestamp, inner.message
    queue_id, _, rest = message.partition(" ")
    flag, _, rest = rest.partition(" ")
    status = _STATUSES.get(flag)
    if status is None or not is_message_id(queue_id) or not rest:
        return None
    head, diagnostic = split_failure(rest) if flag in _FAILURES else (rest, None)
    if flag == "==" and diagnostic is not None and "retry time not reached" in diagnostic:
        return None
    address, parents, fields = address_parts(head)
    recipient, original = _recipients(address, parents)
    if address == _BLACKHOLE:  # a router's ":blackhole:" discards on purpose
        status = DeliveryStatus.DISCARDED
    if diagnostic is None:
        diagnostic = fields.get("C")
    return DeliveryEvent(
        source_format="exim",
        status=status,
        recipient=recipient,
        original_recipient=original,
        sender=unbracket(fields.get("F")),
        queue_id=queue_id,
        event_time=timestamp,
        mta_host=host,
        mta_daemon=program,
        relay=fields.get("H"),
        delay_seconds=duration(fields.get("DT")),
        diagnostic=diagnostic or None,
        smtp_command=failure_command(diagnostic) if flag in _FAILURES else None,
        identity=identity,
    )


def _recipients(address: str, parents: list[str]) -> tuple[str | None, str | None]:
    """(recipient, original recipient) from the logged address and its parents.

    A local delivery logs the local part, a pipe (``|command``), a file or
    ``:blackhole:`` in place of an address; then the recipient is the address it
    was generated from (the first parent). The original recipient is the last
    (top-level) parent when it differs from the recipient.
    """
    recipient: str | None = address or None
    if (not address or "@" not in address) and parents:
        recipient = parents[0]
    original = parents[-1] if parents else None
    return recipient, None if original == recipient else original
