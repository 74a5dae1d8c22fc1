"""The common Postfix delivery line, parsed, classified and recorded in one step.

A busy relay's log is mostly one shape of line (``postfix/smtp[pid]: QUEUEID:
to=<...>, relay=..., delay=..., delays=..., dsn=..., status=... (text)``), and
most of a record does not depend on the line at all but on its *outcome*: the
status, the ``dsn=``, and the reply text. This module matches the common shape
with one regex (:data:`processor.parse.postfix_fast.FAST_DELIVERY`), looks the outcome
up in a per-policy cache (``Policy.outcomes``, bounded), and builds the record from
the cached parts plus the line's own fields (recipient, queue ID, time, relay, delay, text): as an
:class:`~processor.model.EnrichedRecord` (:func:`enrich_common_line`, the library) or
directly as the record's JSON bytes, Kafka key and metric labels
(:func:`serialize_common_line`, the stream loop). The JSON is assembled from the
line's fields serialised by orjson and the outcome's fields serialised once, in the
record's field order, so the bytes equal ``orjson.dumps(record)``.

The cache key is everything the classification reads (``processor.classifier``):

- delivered lines (``status=sent``/``deliverable``, and ``discard`` deliveries): the
  status word, the daemon, the ``dsn=``, the codes found in the text and the SMTP
  command. The decision does not read the text beyond those, and the text itself
  holds the remote queue ID, different on every line;
- every other line: the status word, the daemon, the ``dsn=`` and the text with the
  recipient masked (:func:`processor.classifier.classification_text`), so one
  reply to many recipients shares one entry.

On a miss the line goes through the general path (:func:`processor.assemble.enrich_event`);
the second time a key is seen, the line-independent parts of its record are stored.
``tests/unit/test_fast_path.py`` checks that the paths give the same record and the same
bytes for every line of the fixture tables and for generated lines.
"""

from __future__ import annotations

import dataclasses
from typing import Any, NamedTuple

import orjson

from processor.assemble import (
    EVENT_ID_HASH,
    MAX_DIAGNOSTIC_CHARS,
    SCHEMA_VERSION,
    bounded_diagnostic,
    enrich_event,
)
from processor.classifier import mask_addresses
from processor.classifier.policy import Policy
from processor.model import DeliveryEvent, EnrichedRecord
from processor.parse import single_split
from processor.parse.postfix import daemon_of
from processor.parse.postfix_fast import (
    FAST_DELIVERY,
    FAST_DELIVERY_MESSAGE,
    event_from_fast_match,
    event_from_message_match,
    fast_fields_refused,
    stamp_time,
)
from processor.parse.syslog import SyslogLine
from processor.record import RecordLabels, record_key, record_labels, serialize
from processor.smtp.extract import extract_codes, extract_smtp_command

__all__ = ["enrich_common_line", "serialize_common_line"]

#: Keys kept per policy. A relay's log has a few dozen common outcomes and a tail of unique
#: replies (provider session IDs in the text), each seen once (kept as a key alone): when
#: full, those are dropped, and everything if the outcomes alone fill it (re-learnt at
#: once). 4,096 entries of at most ~5 KB bound the memory to about 20 MB.
_CACHE_LIMIT = 4_096
_CACHE_TEXT_LIMIT = 2_048
_DELIVERED = frozenset({"sent", "deliverable"})

_FIELDS = [f.name for f in dataclasses.fields(EnrichedRecord)]
_new_record = object.__new__
#: Record fields from ``delivery_status`` to ``explanation``: fixed by the outcome.
_MIDDLE = _FIELDS[_FIELDS.index("delivery_status") : _FIELDS.index("diagnostic")]
#: Record fields after ``diagnostic``: fixed too (``None`` for a log line, the version).
_TAIL = _FIELDS[_FIELDS.index("diagnostic") + 1 :]


class _Outcome(NamedTuple):
    """What a record takes from its line's outcome, ready for both builders.

    :param values: a record's ``__dict__`` for the outcome: every field in the record's
        order, those fixed by the outcome set (:data:`_MIDDLE`, :data:`_TAIL`, the schema
        version and source format), the line's own ``None`` (filled per line on a copy).
    :param middle: JSON of the fields :data:`_MIDDLE`, from the comma before
        ``"delivery_status"`` to ``"diagnostic":``.
    :param tail: JSON of the fields :data:`_TAIL` and the closing brace.
    :param labels: the record's metric labels.
    """

    values: dict[str, Any]
    middle: bytes
    tail: bytes
    labels: RecordLabels


def _outcome_of(record: EnrichedRecord) -> _Outcome:
    values = record.__dict__
    middle = orjson.dumps({name: values[name] for name in _MIDDLE})
    tail = orjson.dumps({name: values[name] for name in _TAIL})
    fixed = dict.fromkeys(_FIELDS)
    fixed.update(schema_version=SCHEMA_VERSION, source_format="postfix")
    fixed.update((name, values[name]) for name in (*_MIDDLE, *_TAIL))
    return _Outcome(
        fixed,
        b"," + middle[1:-1] + b',"diagnostic":',
        b"," + tail[1:],
        record_labels(record),
    )


def _outcome_key(
    status_word: str, daemon: str, dsn: str, text: str | None, to: str, orig_to: str | None
) -> tuple[object, ...] | None:
    """The cache key of a line's outcome; ``None`` when the line must not be cached."""
    if text is None:
        return (status_word, daemon, dsn, None)
    masked = mask_addresses(text, to, orig_to)
    if status_word in _DELIVERED:
        return (status_word, daemon, dsn, extract_codes(masked), extract_smtp_command(masked))
    if len(masked) > _CACHE_TEXT_LIMIT:
        return None
    return (status_word, daemon, dsn, masked)


#: A line's own fields, in record order: identity (hashed into ``event_id``), event time,
#: recipient, original recipient, queue ID, host, program, relay, delay (text), ``dsn=``,
#: reply text.
_LineFields = tuple[
    bytes, str | None, str, str | None, str, str | None, str, str, str, str, str | None
]
_Found = tuple[_LineFields, _Outcome]
_STATUS_FIELD = b", status="
#: The last RFC 3164 stamp :func:`enrich_common_line` read: (stamp, reference second, zone,
#: RFC 3339 time). Replaced whole (one reference store), so threads never see a mix.
_LAST_STAMP: list[tuple[str, int, str | None, str | None]] = [("", -1, None, None)]


def _look_up(
    line: bytes, policy: Policy, reference_time: float, zone: str | None
) -> _Found | EnrichedRecord | None:
    """Match ``line`` and find its outcome: (line fields, outcome), or the general path's
    record when the outcome was not cached yet, or ``None`` for another shape."""
    found = FAST_DELIVERY.match(line.decode("utf-8", "replace"))
    if found is not None:
        groups = found.groups()
        (stamp, host, program, daemon, queue_id, to, orig_to,
         relay, delay, _delays, dsn, status_word, text, reply, enhanced) = groups  # fmt: skip
        # fast_fields_refused(to, orig_to, relay), inlined: such a match counts as none
        if "<" in to or " " in relay or (orig_to is not None and "<" in orig_to):
            found = None
    if found is None:
        return _look_up_split(line, policy, reference_time, zone) if _STATUS_FIELD in line else None
    # Inline rather than _outcome_for(): this is the hot path (a call costs ~3% here).
    try:  # free in CPython 3.11+ unless raised
        key = _key(status_word, daemon, dsn, text, to, orig_to, reply, enhanced)
        outcome = policy.outcomes.get(key) if key is not None else None
        if outcome is None:
            event = event_from_fast_match(groups, line, reference_time, zone)
            return None if event is None else _first_of_its_kind(event, policy, key)
        event_time = stamp_time(stamp, int(reference_time), zone)
    except Exception:  # e.g. a reference time out of range: the general path reports the line
        return None
    fields = (line, event_time, to, orig_to, queue_id, host, program, relay, delay, dsn, text)
    return fields, outcome


def _look_up_split(
    line: bytes, policy: Policy, reference_time: float, zone: str | None
) -> _Found | EnrichedRecord | None:
    """:func:`_look_up` for a delivery line whose prefix another parser splits
    (:func:`processor.parse.single_split`): RFC 5424, ISO 8601, container, shipper JSON."""
    try:
        found = single_split(line, reference_time, zone)
    except Exception:  # the general path reports what is wrong with the line
        return None
    if found is None:
        return None
    split, identity = found
    daemon = daemon_of(split.program)
    matched = FAST_DELIVERY_MESSAGE.match(split.message) if daemon else None
    if daemon is None or matched is None:
        return None
    groups = matched.groups()
    return _outcome_for(
        groups, daemon, split.timestamp, split.host, split.program, identity, policy
    )


def _outcome_for(
    groups: tuple[Any, ...],
    daemon: str,
    event_time: str | None,
    host: str | None,
    program: str,
    identity: bytes,
    policy: Policy,
) -> _Found | EnrichedRecord | None:
    """The outcome of a matched delivery message (:data:`FAST_DELIVERY_MESSAGE` groups)."""
    (queue_id, to, orig_to, relay, delay, _delays, dsn, status_word, text,
     reply, enhanced) = groups  # fmt: skip
    if fast_fields_refused(to, orig_to, relay):
        return None
    try:
        key = _key(status_word, daemon, dsn, text, to, orig_to, reply, enhanced)
        outcome = policy.outcomes.get(key) if key is not None else None
        if outcome is None:
            prefix = SyslogLine(event_time, host, program, None, "")
            event = event_from_message_match(groups, prefix, daemon, identity)
            return None if event is None else _first_of_its_kind(event, policy, key)
    except Exception:  # the general path reports the line (a line error, never a raise)
        return None
    fields = (identity, event_time, to, orig_to, queue_id, host, program, relay, delay, dsn, text)
    return fields, outcome


def _key(
    status_word: str,
    daemon: str,
    dsn: str,
    text: str | None,
    to: str,
    orig_to: str | None,
    reply: str | None,
    enhanced: str | None,
) -> tuple[object, ...] | None:
    """The outcome cache key of a matched line (see the module docstring)."""
    if reply is not None and status_word in _DELIVERED and " " not in to and not orig_to:
        # The text starts with "250 2.0.0 ": extract_codes() returns exactly these codes
        # for it, and masking cannot touch them (an address without a space cannot
        # overlap the "250 2.0.0 " the text starts with).
        assert text is not None
        command = _delivered_command(text, to) if "in reply to " in text else None
        return (status_word, daemon, dsn, reply, enhanced, command)
    return _outcome_key(status_word, daemon, dsn, text, to, orig_to)


def _delivered_command(text: str, to: str) -> str | None:
    """The SMTP command of a delivered line's text, read as the classifier reads it
    (masked; the line has no ``orig_to=``)."""
    return extract_smtp_command(mask_addresses(text, to))


def _first_of_its_kind(
    event: DeliveryEvent, policy: Policy, key: tuple[object, ...] | None
) -> EnrichedRecord:
    """Take the general path for a line whose outcome is not cached yet.

    The outcome is cached the second time its key is seen; the first time, the key is
    kept with ``None``. A reply quoting a provider's session ID is seen once (~3% of a
    relay's lines), and its outcome would cost more than its record (~70,000
    instructions, orjson and labels included): a common outcome pays one more general
    path, once.
    """
    record = enrich_event(event, policy)
    if key is not None:
        cache = policy.outcomes
        if key in cache:
            cache[key] = _outcome_of(record)
        else:
            if len(cache) >= _CACHE_LIMIT:
                _make_room(cache)
            cache[key] = None
    return record


def _make_room(cache: dict[Any, _Outcome | None]) -> None:
    """Drop the keys seen once from a full outcome cache; all of it if that frees too little."""
    outcomes = {key: outcome for key, outcome in cache.items() if outcome is not None}
    cache.clear()
    if len(outcomes) < _CACHE_LIMIT // 2:
        cache.update(outcomes)


def enrich_common_line(
    line: bytes, policy: Policy, reference_time: float, source_timezone: str | None = None
) -> EnrichedRecord | None:
    """Enrich one log line of the common Postfix delivery shape.

    :param line: one log line, without its line ending (any bytes; invalid UTF-8 is replaced).
    :param policy: the classification policy; its ``outcomes`` cache holds the outcomes.
    :param reference_time: epoch seconds for resolving the year-less syslog timestamp.
    :param source_timezone: IANA zone name the zone-less timestamp is read in (``None``:
        UTC; see :func:`processor.parse.syslog.zone_info`).
    :returns: the same record :func:`processor.enrich.enrich_payload` builds for the
        line, or ``None`` when the line is not of the common shape (the caller takes
        the general path, which also reports errors). The common shape is a Postfix
        delivery line (:data:`~processor.parse.postfix_fast.FAST_DELIVERY_MESSAGE`) behind an
        RFC 3164 prefix, or behind any prefix :func:`processor.parse.single_split` splits
        (RFC 5424, ISO 8601, container lines, a log shipper's JSON record of one line).
        A line whose reading fails (e.g. its year-less time against a ``reference_time``
        out of the calendar's range) gives ``None`` too, not an exception: the general
        path reports it as a line error.
    """
    # The RFC 3164 case (most of a relay's log) is matched, looked up and built in this
    # one frame: it is :func:`_look_up` inlined, with its ``_key`` for a delivered line,
    # because each call and tuple pack here costs 1-3% of the line (README "Performance").
    found = FAST_DELIVERY.match(line.decode("utf-8", "replace"))
    if found is not None:
        identity = line
        groups = found.groups()
        (stamp, host, program, daemon, queue_id, to, orig_to,
         relay, delay, _delays, dsn, status_word, text, reply, enhanced) = groups  # fmt: skip
        # fast_fields_refused(to, orig_to, relay), inlined: such a match counts as none
        if "<" in to or " " in relay or (orig_to is not None and "<" in orig_to):
            found = None
    if found is not None:
        try:  # free in CPython 3.11+ unless raised
            if reply is not None and status_word in _DELIVERED and " " not in to and not orig_to:
                key: tuple[object, ...] | None = (
                    status_word,
                    daemon,
                    dsn,
                    reply,
                    enhanced,
                    _delivered_command(text, to) if "in reply to " in text else None,
                )
            else:
                key = _outcome_key(status_word, daemon, dsn, text, to, orig_to)
            outcome = policy.outcomes.get(key) if key is not None else None
            if outcome is None:
                event = event_from_fast_match(groups, line, reference_time, source_timezone)
                return None if event is None else _first_of_its_kind(event, policy, key)
            # stamp_time(stamp, second, zone), memoised for the last stamp read: consecutive
            # lines share their second, and a cached call costs ~2,300 instructions (its
            # LRU key, hash and relinking), a fifth of that here.
            second = int(reference_time)
            last = _LAST_STAMP[0]
            if stamp == last[0] and second == last[1] and source_timezone == last[2]:
                event_time = last[3]
            else:
                event_time = stamp_time(stamp, second, source_timezone)
                _LAST_STAMP[0] = (stamp, second, source_timezone, event_time)
        except Exception:  # e.g. a reference time out of range: the general path reports it
            return None
    else:
        split = (
            _look_up_split(line, policy, reference_time, source_timezone)
            if _STATUS_FIELD in line
            else None
        )
        if split is None or isinstance(split, EnrichedRecord):
            return split
        (identity, event_time, to, orig_to, queue_id, host, program,
         relay, delay, dsn, text), outcome = split  # fmt: skip
    domain = to.rpartition("@")[2] if "@" in to else None
    digest = EVENT_ID_HASH.copy()
    digest.update(identity)
    # The record's __dict__ is the outcome's, copied, with the line's own fields set: half
    # the instructions of EnrichedRecord(...) (whose 31st attribute makes CPython turn
    # its inline attribute values into a dict anyway). Same fields, order, type and bytes.
    values = outcome.values.copy()
    values["event_id"] = digest.hexdigest()
    values["event_time"] = event_time
    values["recipient"] = to
    values["recipient_domain"] = domain.lower() if domain else None
    values["original_recipient"] = orig_to
    values["queue_id"] = queue_id
    values["mta_host"] = host
    values["mta_daemon"] = program
    values["relay"] = relay
    values["delay_seconds"] = float(delay)
    values["mta_dsn"] = dsn
    values["diagnostic"] = (
        text if text is None or len(text) <= MAX_DIAGNOSTIC_CHARS else bounded_diagnostic(text)
    )
    record: EnrichedRecord = _new_record(EnrichedRecord)
    record.__dict__ = values
    return record


def serialize_common_line(
    line: bytes, policy: Policy, reference_time: float, source_timezone: str | None = None
) -> tuple[bytes | None, bytes, RecordLabels] | None:
    """The stream's output for one log line of the common Postfix delivery shape.

    :param source_timezone: as for :func:`enrich_common_line`.

    :returns: ``(key, value, labels)``: the Kafka key (:func:`processor.record.record_key`),
        the JSON value (the bytes :func:`processor.record.serialize` gives for the record
        :func:`enrich_common_line` builds) and the metric labels; ``None`` when the line
        is not of the common shape (as for :func:`enrich_common_line`).
    """
    found = _look_up(line, policy, reference_time, source_timezone)
    if found is None:
        return None
    if isinstance(found, EnrichedRecord):
        return record_key(found), serialize(found), record_labels(found)
    (identity, event_time, to, orig_to, queue_id, host, program,
     relay, delay, _dsn, text), outcome = found  # fmt: skip
    domain = to.rpartition("@")[2] if "@" in to else None
    digest = EVENT_ID_HASH.copy()
    digest.update(identity)
    head = orjson.dumps(
        {
            "schema_version": SCHEMA_VERSION,
            "event_id": digest.hexdigest(),
            "source_format": "postfix",
            "event_time": event_time,
            "recipient": to,
            "recipient_domain": domain.lower() if domain else None,
            "original_recipient": orig_to,
            "sender": None,
            "queue_id": queue_id,
            "mta_host": host,
            "mta_daemon": program,
            "relay": relay,
            "delay_seconds": float(delay),
        }
    )
    if text is not None and len(text) > MAX_DIAGNOSTIC_CHARS:
        text = bounded_diagnostic(text)
    value = b"".join((head[:-1], outcome.middle, orjson.dumps(text), outcome.tail))
    key = to.lower().encode("utf-8", "replace") if to else None
    return key, value, outcome.labels
