"""Sendmail delivery log lines (syslog, ``/var/log/maillog``) -> delivery events.

Source: the Sendmail Installation and Operation Guide (``doc/op/op.me``), section
"The System Log" (the ``to=`` line and its fields)::

    Nov 29 10:00:00 mx1 sendmail[1234]: 4ATA0x1C012345: to=<bob@example.com>,
        ctladdr=<news@example.org> (1000/1000), delay=00:00:01, xdelay=00:00:01,
        mailer=esmtp, pri=120000, relay=mx.example.com. [192.0.2.10], dsn=5.1.1,
        stat=User unknown

``to=`` lists the recipients of one delivery attempt, comma-separated: one event
per recipient. ``dsn=`` is the RFC 3463 status Sendmail recorded (``mta_dsn``).
``stat=`` is the outcome and comes last: ``Sent`` (with the remote's reply text
in parentheses) is delivered; ``Deferred`` (``Deferred: 451 4.7.1 ...``,
``Deferred: Connection refused by ...``) is a temporary failure Sendmail will
retry; any other text is the reason of a permanent failure (``User unknown``,
``Service unavailable``): bounced, unless ``dsn=`` says ``4.x.x`` (deferred)
or ``2.x.x`` (sent). ``Cannot send message for 5 days`` (the queue return
timeout, ``dsn=4.4.7``) is Sendmail giving up: expired. ``stat=queued`` (no
attempt yet) is not an outcome.
``delay=`` is ``[days+]hh:mm:ss`` since the message arrived.

Programs: ``sendmail``, ``sm-mta`` (Debian's MTA daemon) and ``sm-msp-queue``
(the submission queue). Other Sendmail lines (``from=``, the ``DSN:`` notices
Sendmail sends back, ``ruleset=`` rejections, ``STARTTLS=``, ``AUTH=``) are
skipped. String methods only: linear in the line.
"""

from __future__ import annotations

from processor.model import DeliveryEvent, DeliveryStatus
from processor.parse.syslog import SyslogLine

__all__ = ["SENDMAIL_PROGRAMS", "is_sendmail", "parse_sendmail_message"]

SENDMAIL_PROGRAMS = frozenset({"sendmail", "sm-mta", "sm-msp-queue"})
"""Syslog program names of Sendmail's daemons."""

_MAX_QUEUE_ID = 32
#: Sendmail's words for the ``<sysexits.h>`` exit statuses of a failed delivery.
_SYSEXITS_PHRASES = frozenset(
    {
        "bad usage",
        "data format error",
        "cannot open input",
        "user unknown",
        "host unknown",
        "service unavailable",
        "internal error",
        "operating system error",
        "system file missing",
        "can't create output",
        "i/o error",
        "remote protocol error",
        "insufficient permission",
        "local configuration error",
    }
)
_MAX_RECIPIENTS = 1_000
#: ``stat=`` of the recipients Sendmail gave up on (``queue.c``: the queue return
#: timeout ``Timeout.queuereturn``, 5 days by default).
_GAVE_UP = "cannot send message for "


def is_sendmail(program: str) -> bool:
    """Whether a syslog program name is one of Sendmail's (:data:`SENDMAIL_PROGRAMS`)."""
    return program in SENDMAIL_PROGRAMS


def parse_sendmail_message(line: SyslogLine, identity: bytes) -> list[DeliveryEvent]:
    """Turn one Sendmail syslog line into delivery events, one per ``to=`` recipient.

    :param line: the syslog parts; ``line.message`` is ``QUEUEID: to=..., stat=...``.
    :param identity: bytes identifying the line; with several recipients each
        event's identity is ``identity + b"\\x00" + recipient`` (distinct event IDs).
    :returns: the events, or ``[]`` for a line that is not a delivery outcome
        (skipped). Never raises on malformed text.
    """
    queue_id, rest = _split_queue_id(line.message)
    if queue_id is None or not rest.startswith("to="):
        return []
    head, found, stat = rest.partition(", stat=")
    if not found:
        return []
    stat = stat.strip()
    fields = _fields(head)
    status = _status(stat, fields.get("dsn"))
    if status is None:
        return []
    recipients = _recipients(fields.get("to", ""))
    diagnostic = _diagnostic(stat, status, fields.get("dsn"))
    many = len(recipients) > 1
    return [
        DeliveryEvent(
            source_format="sendmail",
            status=status,
            recipient=recipient,
            queue_id=queue_id,
            event_time=line.timestamp,
            mta_host=line.host,
            mta_daemon=line.program,
            relay=fields.get("relay"),
            delay_seconds=_delay(fields.get("delay")),
            mta_dsn=fields.get("dsn"),
            diagnostic=diagnostic,
            identity=identity + b"\x00" + recipient.encode("utf-8", "replace")
            if many
            else identity,
        )
        for recipient in recipients
    ]


def _split_queue_id(message: str) -> tuple[str | None, str]:
    colon = message.find(": ", 0, _MAX_QUEUE_ID + 2)
    queue_id = message[:colon] if colon > 0 else ""
    if not (queue_id.isascii() and queue_id.isalnum()):
        return None, message
    return queue_id, message[colon + 2 :]


def _fields(head: str) -> dict[str, str]:
    """``to=..., ctladdr=..., relay=host. [ip], dsn=5.1.1`` -> fields (first wins)."""
    fields: dict[str, str] = {}
    key = ""
    for item in head.split(", "):
        name, equals, value = item.partition("=")
        if equals and name.isidentifier():
            key = name
            fields.setdefault(key, value)
        elif key == "to":  # a recipient list with ", " inside a quoted name
            fields["to"] += ", " + item
    return fields


def _status(stat: str, dsn: str | None) -> DeliveryStatus | None:
    """``stat=`` text and ``dsn=`` -> the outcome; ``None`` for ``stat=queued``."""
    word = stat[:8].lower()
    if word.startswith("sent"):
        return DeliveryStatus.SENT
    if word.startswith("deferred"):
        return DeliveryStatus.DEFERRED
    if word.startswith("queued") or not stat:
        return None
    if stat[: len(_GAVE_UP)].lower() == _GAVE_UP:
        return DeliveryStatus.EXPIRED
    if dsn is not None and dsn[:2] == "4.":
        return DeliveryStatus.DEFERRED
    if dsn is not None and dsn[:2] == "2.":
        return DeliveryStatus.SENT
    return DeliveryStatus.BOUNCED


def _diagnostic(stat: str, status: DeliveryStatus, dsn: str | None) -> str | None:
    """The explanation: ``Sent (text)`` -> ``text``; ``Deferred: text`` -> ``text``.

    A permanent failure's ``stat=`` is Sendmail's own phrase for the exit status
    (``<sysexits.h>``: ``Service unavailable`` for any 5xx it has no better word
    for), not the remote's reply. When ``dsn=`` is specific (not ``X.0.0``) that
    phrase is left out, so the classifier decides by the code rather than by
    the generic words (``dsn=5.2.2, stat=Service unavailable`` is a full
    mailbox, not a remote system error); with ``dsn=X.0.0`` or no ``dsn=`` the
    phrase is the only clue and is kept.
    """
    if status is DeliveryStatus.SENT:
        open_at = stat.find("(")
        close = stat.rfind(")")
        if 0 <= open_at < close:
            return stat[open_at + 1 : close] or None
        return None
    if stat[:9].lower() == "deferred:":
        return stat[9:].strip() or None
    if stat.lower() in _SYSEXITS_PHRASES and dsn is not None and dsn[1:] not in (".0.0", ""):
        return None
    return stat or None


def _recipients(value: str) -> list[str]:
    """``<a@example.com>,<b@example.com>`` / ``alice,bob`` -> addresses, in order.

    Commas inside double quotes or angle brackets do not split; an item's
    address is what its angle brackets hold, else the item itself.
    """
    if '"' not in value and ",@" not in value:  # no quoted names, no source routes
        return [address for address in map(_address, value.split(",")[:_MAX_RECIPIENTS]) if address]
    items: list[str] = []
    start, quoted, depth = 0, False, 0
    for index, char in enumerate(value):
        if char == '"':
            quoted = not quoted
        elif char == "<" and not quoted:
            depth += 1
        elif char == ">" and not quoted and depth:
            depth -= 1
        elif char == "," and not quoted and not depth:
            items.append(value[start:index])
            start = index + 1
    items.append(value[start:])
    addresses = [_address(item) for item in items[:_MAX_RECIPIENTS]]
    return [address for address in addresses if address]


def _address(item: str) -> str:
    item = item.strip()
    open_at = item.rfind("<")
    if open_at >= 0:
        close = item.find(">", open_at)
        return item[open_at + 1 : close] if close > open_at else item[open_at + 1 :]
    return item


def _delay(value: str | None) -> float | None:
    """``hh:mm:ss`` or ``days+hh:mm:ss`` -> seconds; ``None`` when absent or malformed."""
    if not value:
        return None
    days, plus, clock = value.partition("+")
    if not plus:
        days, clock = "0", value
    parts = clock.split(":")
    if not days.isdigit() or len(parts) != 3 or not all(p.isdigit() for p in parts):
        return None
    hours, minutes, seconds = (int(part) for part in parts)
    return float(int(days) * 86_400 + hours * 3_600 + minutes * 60 + seconds)
