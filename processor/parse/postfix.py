"""Postfix delivery log lines -> :class:`~processor.model.DeliveryEvent`.

A delivery line (smtp, lmtp, local, virtual, pipe, error, retry, discard)::

    QUEUEID: to=<rcpt>, orig_to=<alias>, relay=host[ip]:port, delay=1.2,
             delays=0.1/0/0.5/0.6, dsn=5.1.1, status=bounced (diagnostic text)

plus ``qmgr`` ``QUEUEID: from=<sender>, status=expired, returned to sender``
(the message outlived ``maximal_queue_lifetime``) and ``cleanup``
``QUEUEID: discard: ... from=<s> to=<r> ...: text`` (a header/body check or
milter discarded the message). Every other Postfix line (smtpd connections,
cleanup message-id, qmgr ``from=`` bookkeeping, bounce notifications,
postscreen, warnings) is a non-delivery line: :data:`NOT_DELIVERY`.

Parsing is done with string methods, linear in the line length. Field names
follow Postfix's own logging (``smtp(8)``, ``qmgr(8)``, ``cleanup(8)``
manuals; ``dsn=`` is the RFC 3463 status Postfix recorded).
"""

from __future__ import annotations

from processor.errors import InvalidEventError
from processor.model import DeliveryEvent, DeliveryStatus
from processor.parse.syslog import SyslogLine

__all__ = ["DELIVERY_DAEMONS", "NOT_DELIVERY", "STATUSES", "daemon_of", "parse_postfix_message"]

NOT_DELIVERY = None
"""Returned for Postfix lines that are not delivery outcomes (skipped, counted)."""

#: Postfix daemons whose log lines are delivery outcomes.
DELIVERY_DAEMONS = frozenset(
    {"smtp", "lmtp", "local", "virtual", "pipe", "error", "retry", "discard", "relay"}
)
#: Postfix ``status=`` words -> the MTA's outcome.
STATUSES = {
    "sent": DeliveryStatus.SENT,
    "bounced": DeliveryStatus.BOUNCED,
    "deferred": DeliveryStatus.DEFERRED,
    "expired": DeliveryStatus.EXPIRED,
    "SOFTBOUNCE": DeliveryStatus.SOFTBOUNCE,
    "softbounce": DeliveryStatus.SOFTBOUNCE,
    "deliverable": DeliveryStatus.DELIVERABLE,
    "undeliverable": DeliveryStatus.UNDELIVERABLE,
}
_MAX_QUEUE_ID = 32


_DAEMONS = DELIVERY_DAEMONS | {"qmgr", "cleanup"}


def daemon_of(program: str) -> str | None:
    """The Postfix daemon of a syslog program name, or ``None`` if it is not Postfix's.

    ``postfix/smtp``, ``postfix-out/submission/smtp`` -> ``smtp``. Postfix logs as
    ``syslog_name/daemon``, and ``syslog_name`` is a setting (``mta-out/smtp``), so
    any ``name/daemon`` with a Postfix delivery or queue daemon counts.
    """
    slash = program.rfind("/")
    if slash <= 0:
        return None
    daemon = program[slash + 1 :]
    if program.startswith("postfix") or daemon in _DAEMONS:
        return daemon
    return None


def _split_queue_id(message: str) -> tuple[str, str] | None:
    """``4F3C2A1B: to=<...>`` -> (``4F3C2A1B``, ``to=<...>``); ``None`` without a queue ID."""
    colon = message.find(": ", 0, _MAX_QUEUE_ID + 2)
    if colon <= 0:
        return None
    queue_id = message[:colon]
    if not queue_id.isalnum() or queue_id == "NOQUEUE":
        return None
    return queue_id, message[colon + 2 :]


def _split_fields(text: str) -> tuple[dict[str, str], str | None]:
    """Split ``k=v, k=<v>, ..., status=word (text)`` into fields and the parenthesised text.

    Fast path: split on ``", "`` before ``, status=``; when an address in angle
    brackets holds ``", "`` itself, :func:`_split_fields_slowly` takes over.
    """
    head, found, tail = text.partition(", status=")
    if not found:
        return _split_fields_slowly(text)
    fields: dict[str, str] = {}
    for item in head.split(", "):
        key, equals, value = item.partition("=")
        if not equals or (value.startswith("<") and not value.endswith(">")):
            return _split_fields_slowly(text)
        fields[key] = value
    return _status_field(fields, tail, 0)


def _split_fields_slowly(text: str) -> tuple[dict[str, str], str | None]:
    """Field by field, reading values in angle brackets whole (they may hold ``", "``)."""
    fields: dict[str, str] = {}
    position, length = 0, len(text)
    while position < length:
        equals = text.find("=", position)
        if equals < 0:
            break
        key = text[position:equals]
        start = equals + 1
        if text.startswith("<", start):
            end = text.find(">", start)
            end = length if end < 0 else end + 1
        elif key == "status":
            return _status_field(fields, text, start)
        else:
            end = text.find(", ", start)
            end = length if end < 0 else end
        fields[key] = text[start:end]
        position = end + 2
    return fields, None


def _status_field(
    fields: dict[str, str], text: str, start: int
) -> tuple[dict[str, str], str | None]:
    """Read ``status=WORD`` and an optional `` (diagnostic)`` / ``, returned to sender``."""
    space = text.find(" ", start)
    comma = text.find(",", start)
    if space < 0 or 0 <= comma < space:
        space = comma
    end = len(text) if space < 0 else space
    fields["status"] = text[start:end]
    rest = text[end:].lstrip(" ")
    if rest.startswith("("):
        close = rest.rfind(")")
        return fields, rest[1:close] if close > 0 else rest[1:]
    if rest.startswith(","):
        return fields, rest[1:].strip() or None
    return fields, None


def _address(value: str | None) -> str | None:
    """``<user@example.com>`` -> ``user@example.com``; ``<>`` -> ``""``."""
    if value is None:
        return None
    if value.startswith("<") and value.endswith(">"):
        return value[1:-1]
    return value


def _delay(value: str | None) -> float | None:
    """Postfix ``delay=`` in seconds; ``None`` when absent or not a finite, non-negative number."""
    if value is None:
        return None
    try:
        seconds = float(value)
    except ValueError:
        return None
    return seconds if 0 <= seconds < float("inf") else None


def _delivery(
    line: SyslogLine, daemon: str, queue_id: str, rest: str, identity: bytes
) -> DeliveryEvent:
    """Build the event for a ``to=<...>, ..., status=...`` line."""
    fields, diagnostic = _split_fields(rest)
    status_word = fields.get("status")
    if status_word is None:
        raise InvalidEventError(
            f"Postfix {daemon} delivery line without status= (queue ID {queue_id})"
        )
    status = STATUSES.get(status_word)
    if status is None:
        raise InvalidEventError(
            f"unknown Postfix status={status_word[:40]!r} (queue ID {queue_id})"
        )
    if daemon == "discard" and status is DeliveryStatus.SENT:
        status = DeliveryStatus.DISCARDED
    return DeliveryEvent(
        source_format="postfix",
        status=status,
        recipient=_address(fields.get("to")),
        original_recipient=_address(fields.get("orig_to")),
        sender=_address(fields.get("from")),
        queue_id=queue_id,
        event_time=line.timestamp,
        mta_host=line.host,
        mta_daemon=line.program,
        relay=fields.get("relay"),
        delay_seconds=_delay(fields.get("delay")),
        delays=fields.get("delays"),
        mta_dsn=fields.get("dsn"),
        diagnostic=diagnostic,
        probe=status in (DeliveryStatus.DELIVERABLE, DeliveryStatus.UNDELIVERABLE),
        identity=identity,
    )


def _qmgr_expired(
    line: SyslogLine, queue_id: str, rest: str, identity: bytes
) -> DeliveryEvent | None:
    """``from=<s>, status=expired, returned to sender`` -> expired event (no recipient).

    ``status=force-expired`` is logged when an operator expired the message
    with ``postsuper -e`` (Postfix 3.1 and later).
    """
    if ", status=expired" not in rest and ", status=force-expired" not in rest:
        return NOT_DELIVERY
    fields, diagnostic = _split_fields(rest)
    return DeliveryEvent(
        source_format="postfix",
        status=DeliveryStatus.EXPIRED,
        sender=_address(fields.get("from")),
        queue_id=queue_id,
        event_time=line.timestamp,
        mta_host=line.host,
        mta_daemon=line.program,
        diagnostic=diagnostic or "message expired",
        identity=identity,
    )


def _cleanup_discard(
    line: SyslogLine, queue_id: str, rest: str, identity: bytes
) -> DeliveryEvent | None:
    """``discard: header Subject: ... from host[ip]; from=<s> to=<r> ... helo=<h>: text``."""
    if not rest.startswith("discard: "):
        return NOT_DELIVERY
    sender = _bracketed_after(rest, " from=<")
    recipient = _bracketed_after(rest, " to=<")
    reason_at = rest.find(">: ", rest.rfind(" helo=<") if " helo=<" in rest else 0)
    diagnostic = rest[reason_at + 3 :] if reason_at >= 0 else rest[len("discard: ") :]
    return DeliveryEvent(
        source_format="postfix",
        status=DeliveryStatus.DISCARDED,
        recipient=recipient,
        sender=sender,
        queue_id=queue_id,
        event_time=line.timestamp,
        mta_host=line.host,
        mta_daemon=line.program,
        diagnostic=diagnostic or "discarded",
        identity=identity,
    )


def _bracketed_after(text: str, marker: str) -> str | None:
    start = text.find(marker)
    if start < 0:
        return None
    start += len(marker)
    end = text.find(">", start)
    return text[start:end] if end >= 0 else None


def parse_postfix_message(line: SyslogLine, identity: bytes) -> DeliveryEvent | None:
    """Turn one split Postfix syslog line into a delivery event.

    :param line: the syslog parts; ``line.program`` must be a Postfix program.
    :param identity: bytes identifying the line (for the deterministic event ID).
    :returns: a :class:`DeliveryEvent`, or :data:`NOT_DELIVERY` (``None``) for
        Postfix lines that are not delivery outcomes.
    :raises InvalidEventError: a delivery line whose ``status=`` is missing or unknown.
    """
    daemon = daemon_of(line.program)
    if daemon is None:
        return NOT_DELIVERY
    split = _split_queue_id(line.message)
    if split is None:
        return NOT_DELIVERY
    queue_id, rest = split
    if rest.startswith("to=<"):
        if daemon in DELIVERY_DAEMONS or ", status=" in rest:
            return _delivery(line, daemon, queue_id, rest, identity)
        return NOT_DELIVERY
    if daemon == "qmgr" and rest.startswith("from=<"):
        return _qmgr_expired(line, queue_id, rest, identity)
    if daemon == "cleanup":
        return _cleanup_discard(line, queue_id, rest, identity)
    return NOT_DELIVERY
