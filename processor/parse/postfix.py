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

import re
from functools import lru_cache

from processor.errors import InvalidEventError
from processor.model import DeliveryEvent, DeliveryStatus
from processor.parse.syslog import SyslogLine, bsd_timestamp

__all__ = [
    "FAST_DELIVERY",
    "FAST_DELIVERY_MESSAGE",
    "NOT_DELIVERY",
    "event_from_fast_match",
    "event_from_message_match",
    "fast_fields_refused",
    "parse_delivery_line_fast",
    "parse_postfix_message",
    "stamp_time",
]

NOT_DELIVERY = None
"""Returned for Postfix lines that are not delivery outcomes (skipped, counted)."""

_DELIVERY_DAEMONS = frozenset(
    {"smtp", "lmtp", "local", "virtual", "pipe", "error", "retry", "discard", "relay"}
)
_STATUSES = {
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

# The common case in one anchored match: an RFC 3164 line from a delivery
# agent with the usual fields in Postfix's order. Every field's character
# class excludes the delimiter after it, so the match never backtracks into a
# field; the final ``(.*)\)`` backtracks at most once over the text, and the
# optional leading "reply enhanced " of the text is tried at one position: linear.
# Lines this does not match take the general path (same result, slower). A ``relay=``
# value starting with "<" is left to it too: :func:`_split_fields` reads any value in
# angle brackets up to its ">" (an address may hold ", "), so it would read such a
# relay otherwise, and a line must give the same event whatever its prefix.
# Groups: RFC 3164 timestamp, host, program, daemon, queue ID, to, orig_to, relay,
# delay, delays, dsn, status, text, and the text's leading reply and enhanced codes
# when it starts with both ("250 2.0.0 Ok: queued as ..."). "NOQUEUE" is not a queue
# ID (smtpd's rejections before a queue file exists): such a line is not a delivery.
#
# Written for the speed of ``re`` (a third fewer instructions per match than the plain
# form, which ``tests/unit/test_fast_regex.py`` keeps and proves it equal to):
# - a field followed by a delimiter its class excludes is possessive (``{m,n}+``):
#   giving characters back could never let the delimiter match, so the same lines
#   match, and ``re`` keeps no backtracking state for it;
# - ``to``, ``orig_to`` and ``relay`` exclude only the delimiter that ends them
#   (``[^>]``, ``[^,]``): ``re`` scans a class of one excluded character in a tight
#   loop, 4-5 times faster than ``[^<>]`` or ``[^ ,]`` (a fifth of the match). So the
#   regex alone accepts more: an address with a "<", a relay with a space. Every user
#   refuses such a match (:func:`fast_fields_refused`), which leaves exactly the lines
#   the plain form matches, with the same groups;
# - a fixed count of one class is spelt out (``[0-9][0-9]``, not ``[0-9]{2}``: no repeat);
# - an optional part is ``(?:X|)`` rather than ``(?:X)?``: both try X first, then
#   nothing, but ``re`` runs ``?`` over a group as a general repeat (a context
#   and a copy of all 15 group marks per attempt), and the alternation as a branch.
_DELIVERY_MESSAGE = (
    r"(?!NOQUEUE:)([0-9A-Za-z]{5,32}+): to=<([^>]{0,512}+)>, (?:orig_to=<([^>]{0,512}+)>, |)"
    r"relay=([^ ,<][^,]{0,511}+), (?:conn_use=[0-9]{1,6}+, |)"
    r"delay=([0-9]{1,10}+(?:\.[0-9]{1,9}+|)), "
    r"delays=([0-9./]{1,64}+), dsn=([0-9.]{5,11}+), status=([A-Za-z]{1,16}+)"
    r"(?: \(((?:([2-5][0-5][0-9]) ([245]\.[0-9]{1,3}+\.[0-9]{1,3}+) |).*)\)|)\Z"
)
FAST_DELIVERY = re.compile(
    r"([A-Z][a-z][a-z] {1,2}+[0-9]{1,2}+ [0-9][0-9]:[0-9][0-9]:[0-9][0-9](?:\.[0-9]{1,6}+|)) "
    r"([^ ]{1,255}+) "
    r"(postfix[^ \[\]:/]{0,64}+/(?:[^ \[\]:/]{1,64}+/|)([a-z]{1,16}+))\[[0-9]{1,10}+\]: "
    + _DELIVERY_MESSAGE,
    re.DOTALL,
)
#: The message part of :data:`FAST_DELIVERY` alone (what follows ``program[pid]: ``), for
#: lines whose prefix another parser split (RFC 5424, ISO 8601 stamps, container and
#: shipper records). Groups: queue ID, to, orig_to, relay, delay, delays, dsn, status,
#: text, and the text's leading reply and enhanced codes.
FAST_DELIVERY_MESSAGE = re.compile(_DELIVERY_MESSAGE, re.DOTALL)


def fast_fields_refused(to: str, orig_to: str | None, relay: str) -> bool:
    """Whether a :data:`FAST_DELIVERY` (or ``_MESSAGE``) match is no common line after all.

    The regexes read ``to``/``orig_to`` up to the first ">" and ``relay`` up to the first
    ",", for speed (see their comment); the common shape has no "<" in an address and no
    space in the relay. A refused match is treated as no match (the general path reads
    the line). The fast path inlines this check on its hot path.
    """
    return "<" in to or " " in relay or (orig_to is not None and "<" in orig_to)


_DAEMONS = _DELIVERY_DAEMONS | {"qmgr", "cleanup"}


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
    status = _STATUSES.get(status_word)
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
        if daemon in _DELIVERY_DAEMONS or ", status=" in rest:
            return _delivery(line, daemon, queue_id, rest, identity)
        return NOT_DELIVERY
    if daemon == "qmgr" and rest.startswith("from=<"):
        return _qmgr_expired(line, queue_id, rest, identity)
    if daemon == "cleanup":
        return _cleanup_discard(line, queue_id, rest, identity)
    return NOT_DELIVERY


@lru_cache(maxsize=8192)
def stamp_time(stamp: str, reference_second: int, zone: str | None = None) -> str | None:
    """``"Nov 29 10:00:01"`` (RFC 3164, no year) -> RFC 3339 UTC, see :func:`bsd_timestamp`.

    :param zone: IANA zone name the time is read in (``None``: UTC); part of the
        cache key. Cached: consecutive log lines share their second.
    """
    month, day, clock = stamp.split()
    return bsd_timestamp(month, day, clock, None, reference_second, zone)


def parse_delivery_line_fast(
    line: str, identity: bytes, reference_time: float, source_timezone: str | None = None
) -> DeliveryEvent | None:
    """Parse the common RFC 3164 delivery line in one regex match (:data:`FAST_DELIVERY`).

    :param source_timezone: IANA zone name of the zone-less timestamp (``None``: UTC).
    :returns: the same event :func:`parse_postfix_message` would build, or
        ``None`` when the line is not of the common shape (then use the general path).
    """
    found = FAST_DELIVERY.match(line)
    if found is None:
        return None
    return event_from_fast_match(found.groups(), identity, reference_time, source_timezone)


def event_from_fast_match(
    groups: tuple[str, ...],
    identity: bytes,
    reference_time: float,
    source_timezone: str | None = None,
) -> DeliveryEvent | None:
    """Build the event from the groups of a :data:`FAST_DELIVERY` match.

    :returns: the event, or ``None`` for a status or daemon this shape does not
        cover (the general path decides what such a line is).
    """
    stamp, host, program, daemon = groups[:4]
    line = SyslogLine(
        stamp_time(stamp, int(reference_time), source_timezone), host, program, None, ""
    )
    return event_from_message_match(groups[4:], line, daemon, identity)


def event_from_message_match(
    groups: tuple[str, ...], line: SyslogLine, daemon: str, identity: bytes
) -> DeliveryEvent | None:
    """Build the event from the groups of a :data:`FAST_DELIVERY_MESSAGE` match.

    :param groups: the match's groups (queue ID, to, orig_to, relay, delay, delays, dsn,
        status, text, leading reply and enhanced codes).
    :param line: the line's split prefix: its time, host and program (the message is
        not read again).
    :param daemon: ``daemon_of(line.program)``.
    :param identity: bytes identifying the line (for the deterministic event ID).
    :returns: the event :func:`parse_postfix_message` builds for the same line, or
        ``None`` for a status or daemon this shape does not cover, or a match
        :func:`fast_fields_refused` refuses.
    """
    (queue_id, to, orig_to, relay, delay, delays, dsn, status_word, text,
     _reply, _enhanced) = groups  # fmt: skip
    status = _STATUSES.get(status_word)
    if status is None or daemon not in _DELIVERY_DAEMONS:
        return None
    if fast_fields_refused(to, orig_to, relay):
        return None
    if daemon == "discard" and status is DeliveryStatus.SENT:
        status = DeliveryStatus.DISCARDED
    return DeliveryEvent(
        "postfix",
        status,
        to,
        orig_to,
        None,
        queue_id,
        line.timestamp,
        line.host,
        line.program,
        relay,
        float(delay),
        delays,
        dsn,
        None,
        None,
        text,
        None,
        status is DeliveryStatus.DELIVERABLE or status is DeliveryStatus.UNDELIVERABLE,
        identity=identity,
    )
