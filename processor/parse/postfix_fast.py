"""The common Postfix delivery line in one regex match: the fast path's parser.

:data:`FAST_DELIVERY` reads an RFC 3164 line from a delivery agent with the usual fields in
Postfix's order; :data:`FAST_DELIVERY_MESSAGE` the same message behind a prefix another
parser split. The events they build equal :func:`processor.parse.postfix.parse_postfix_message`'s
for the same line (``tests/unit/test_fast_path.py``, ``test_fast_regex.py``).
"""

from __future__ import annotations

import re
from functools import lru_cache

from processor.model import DeliveryEvent, DeliveryStatus
from processor.parse.postfix import DELIVERY_DAEMONS, STATUSES
from processor.parse.syslog import SyslogLine, bsd_timestamp

__all__ = [
    "FAST_DELIVERY",
    "FAST_DELIVERY_MESSAGE",
    "event_from_fast_match",
    "event_from_message_match",
    "fast_fields_refused",
    "parse_delivery_line_fast",
    "stamp_time",
]

# The common case in one anchored match: an RFC 3164 line from a delivery
# agent with the usual fields in Postfix's order. Every field's character
# class excludes the delimiter after it, so the match never backtracks into a
# field; the final ``(.*)\)`` backtracks at most once over the text, and the
# optional leading "reply enhanced " of the text is tried at one position: linear.
# Lines this does not match take the general path (same result, slower). A ``relay=``
# value starting with "<" is left to it too: the general parser (postfix._split_fields)
# reads any value in angle brackets up to its ">" (an address may hold ", "), so it would
# read such a relay otherwise, and a line must give the same event whatever its prefix.
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
    :returns: the same event :func:`~processor.parse.postfix.parse_postfix_message` would build, or
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
    :returns: the event :func:`~processor.parse.postfix.parse_postfix_message` builds
        for the same line, or ``None`` for a status or daemon this shape does not cover, or a match
        :func:`fast_fields_refused` refuses.
    """
    (queue_id, to, orig_to, relay, delay, delays, dsn, status_word, text,
     _reply, _enhanced) = groups  # fmt: skip
    status = STATUSES.get(status_word)
    if status is None or daemon not in DELIVERY_DAEMONS:
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
