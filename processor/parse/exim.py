"""Exim main log lines -> :class:`~processor.model.DeliveryEvent`.

Source: the Exim 4 specification, chapter "Log files" (sections "Log message
flags", "Logging message reception", "Logging deliveries", "Deferred
deliveries", "Delivery failures", "Reducing or increasing what is logged")::

    2026-11-29 10:00:00 1tGxyz-000ABC-12 => bob@example.com R=dnslookup T=remote_smtp
        H=mx.example.com [192.0.2.10] X=TLS1.3:...:256 C="250 2.0.0 Ok: queued as 4F3C" DT=1s
    2026-11-29 10:00:00 1tGxyz-000ABC-12 ** bob@example.com R=dnslookup T=remote_smtp
        H=mx.example.com [192.0.2.10]: SMTP error from remote mail server after
        RCPT TO:<bob@example.com>: 550 5.1.1 User unknown

The line's prefix is split by :mod:`processor.parse.exim_prefix`, and
:func:`processor.parse.syslog.split_syslog` reads the whole line (program ``exim``, no
host) bare and behind every prefix and in every log shipper record that carries a
syslog line: Exim in a container logs to standard output (``log_file_path = :stdout``).

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

from processor.model import DeliveryEvent, DeliveryStatus
from processor.parse.exim_fields import (
    address_parts,
    duration,
    failure_command,
    split_failure,
    unbracket,
)
from processor.parse.exim_prefix import EXIM_PROGRAM, EximLine, is_exim_stamp, is_message_id
from processor.parse.syslog import split_exim

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


def parse_exim_message(
    message: str,
    timestamp: str | None,
    identity: bytes,
    *,
    host: str | None = None,
    program: str = EXIM_PROGRAM,
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
    if is_exim_stamp(message):
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
