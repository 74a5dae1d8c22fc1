"""The fuzz target of the per-message path, and hypothesis strategies for hostile messages.

:func:`handle` does for one message what the stream loop does, minus Kafka: the pure
transform, the size-bounded output records with their headers, and the size-bounded
dead-letter record with its headers (``processor.stream.pipeline``). :func:`check` states
the promises: nothing raises, every message ends up as exactly one of output, dead letter
(possibly with the outputs of its good lines) or skipped, and every record produced stays
within its size limit, carries no control character in the error header and no more than
2,000 characters of diagnostic text.

Used by ``tests/unit/test_fuzz_transform.py`` (a bounded budget in the suite) and by
``bench/fuzz.py`` (a longer budget, printing how many inputs were tried).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import orjson
from confluent_kafka import Message
from hypothesis import strategies as st

from processor.enrich import MAX_DIAGNOSTIC_CHARS
from processor.stream.dead_letter import FRAMING_ALLOWANCE, fit_dead_letter, record_bytes
from processor.stream.kafka_io import (
    MAX_ERROR_MESSAGE_CHARS,
    dead_letter_headers,
    message_headers,
    output_headers,
)
from processor.stream.pipeline import OUTPUT_HEADERS_ALLOWANCE
from processor.stream.transform import transform

REFERENCE_TIME = 1_796_000_000.0
#: C0 and C1 controls (terminal escapes start with ESC or CSI): never in a header or log.
UNSAFE_CHARACTERS = re.compile("[\x00-\x1f\x7f-\x9f]")
TRUNCATION_MARK = " [truncated]"


@dataclass(frozen=True)
class Outcome:
    """What became of one message.

    :param kind: ``output`` (records, no error), ``dead_letter`` (an error; records of
        its good lines may also exist) or ``skipped`` (no delivery line, no error).
    :param records: ``(key, value, headers)`` of each output record.
    :param dead_letter: ``(key, value, headers)`` of the dead-letter record, if any.
    :param skipped: lines counted as skipped.
    """

    kind: str
    records: list[tuple[bytes | None, bytes, list[tuple[str, Any]]]]
    dead_letter: tuple[bytes | None, bytes | None, list[tuple[str, Any]]] | None
    skipped: int


def handle(
    value: bytes | None,
    key: bytes | None = None,
    headers: Any = None,
    *,
    max_payload_bytes: int = 1_048_576,
    max_record_bytes: int = 1_000_000,
) -> Outcome:
    """Process one message as the loop does; any exception escaping is a bug."""
    msg = Message(
        topic="mail-delivery-events",
        partition=3,
        offset=123_456,
        key=key,
        value=value,
        headers=headers,
        timestamp=(1, int(REFERENCE_TIME * 1000)),
    )
    result = transform(
        msg.value(),
        max_payload_bytes=max_payload_bytes,
        reference_time=REFERENCE_TIME,
        max_record_bytes=max_record_bytes - FRAMING_ALLOWANCE - OUTPUT_HEADERS_ALLOWANCE,
    )
    out_headers = output_headers("mail-delivery-events", 3, 123_456, result.schema_version)
    records = [(k, v, list(out_headers)) for k, v in result.outputs]
    dead = None
    if result.error is not None:
        dead = fit_dead_letter(
            msg.key(),
            msg.value(),
            message_headers(msg),
            dead_letter_headers(msg, *result.error),
            max_record_bytes,
        )
    if dead is not None:
        kind = "dead_letter"
    elif records:
        kind = "output"
    else:
        kind = "skipped"
    return Outcome(kind, records, dead, result.skipped)


def check(outcome: Outcome, max_record_bytes: int = 1_000_000) -> None:
    """Assert the promises about one message's outcome (see the module docstring)."""
    kinds = [
        outcome.dead_letter is not None,
        outcome.dead_letter is None and bool(outcome.records),
        outcome.dead_letter is None and not outcome.records and outcome.skipped > 0,
    ]
    assert sum(kinds) == 1, f"message not accounted for exactly once: {outcome}"
    for key, value, headers in outcome.records:
        assert record_bytes(key, value, headers) <= max_record_bytes - FRAMING_ALLOWANCE
        record = orjson.loads(value)
        diagnostic = record.get("diagnostic")
        if diagnostic is not None:
            assert len(diagnostic) <= MAX_DIAGNOSTIC_CHARS + len(TRUNCATION_MARK)
        recipient = record["recipient"]
        assert key == (recipient.lower().encode("utf-8", "replace") if recipient else None)
    if outcome.dead_letter is not None:
        dead_key, dead_value, dead_headers = outcome.dead_letter
        assert record_bytes(dead_key, dead_value, dead_headers) <= (
            max_record_bytes - FRAMING_ALLOWANCE
        )
        names = [name for name, _ in dead_headers]
        assert "bounce-processor.error.class" in names
        message = dict(dead_headers)["bounce-processor.error.message"]
        text = message.decode()
        assert len(text) <= MAX_ERROR_MESSAGE_CHARS
        assert not UNSAFE_CHARACTERS.search(text), text


# ------------------------------------------------------------------ strategies

_CONTROL = st.sampled_from(
    ["\x00", "\x1b[31m", "\x1b]0;title\x07", "\r", "\x08", "\x7f", "\x9b", "\u202e", "\ufeff"]
)
_TEXT = st.text(
    alphabet=st.characters(codec=None, exclude_categories=["Cs"]), max_size=300
) | st.lists(st.one_of(_CONTROL, st.text(max_size=20)), max_size=20).map("".join)
_ADDRESS = st.one_of(
    st.just("user@example.com"),
    st.from_regex(r"[a-z0-9.+_-]{1,20}@[a-z0-9-]{1,20}\.example", fullmatch=True),
    _TEXT,
)
_POSTFIX_LINE = st.builds(
    lambda status, to, diagnostic, dsn: (
        f"Nov 29 10:00:01 mx1 postfix/smtp[123]: 4F3C2A1B9D: to=<{to}>, "
        f"relay=mx.example.com[192.0.2.10]:25, delay=1.2, delays=0.1/0/0.5/0.6, "
        f"dsn={dsn}, status={status} ({diagnostic})"
    ),
    st.sampled_from(["sent", "bounced", "deferred", "expired", "SOFTBOUNCE", "weird", ""]),
    _ADDRESS,
    _TEXT,
    st.sampled_from(["5.1.1", "4.7.28", "2.0.0", "9.9.9", "5.1", ""]),
)
_JSON_SCALAR = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False),
    _TEXT,
)
_JSON_VALUE = st.recursive(
    _JSON_SCALAR,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=12,
)
_EVENT = st.fixed_dictionaries(
    {},
    optional={
        "recipient": st.one_of(_ADDRESS, _JSON_VALUE),
        "recipients": st.one_of(st.lists(_ADDRESS, max_size=30), _JSON_VALUE),
        "status": st.one_of(
            st.sampled_from(["bounced", "deferred", "sent", "BOUNCED"]), _JSON_VALUE
        ),
        "reply_code": st.one_of(st.integers(100, 700), _JSON_VALUE),
        "enhanced_status": st.one_of(st.sampled_from(["5.1.1", "4.2.2", "5.7.606"]), _JSON_VALUE),
        "diagnostic": st.one_of(_TEXT, _JSON_VALUE),
        "timestamp": st.one_of(
            st.sampled_from(["2026-11-29T10:00:01Z", 1_796_000_000]), _JSON_VALUE
        ),
        "sender": st.one_of(_ADDRESS, _JSON_VALUE),
        "message": st.one_of(_POSTFIX_LINE, _JSON_VALUE),
        "log": st.one_of(_POSTFIX_LINE, _JSON_VALUE),
        "MESSAGE": _POSTFIX_LINE,
        "SYSLOG_IDENTIFIER": st.just("postfix/smtp"),
    },
)


def _json(document: Any) -> bytes:
    try:
        return orjson.dumps(document)
    except TypeError:  # integers beyond 64 bits: the stdlib writes them
        import json

        return json.dumps(document).encode()


def _mutate(data: bytes, cuts: list[tuple[int, bytes]]) -> bytes:
    for position, insert in cuts:
        at = position % (len(data) + 1)
        data = data[:at] + insert + data[at:]
    return data


_BYTE_NOISE = st.sampled_from(
    [b"\x00", b"\xff", b"\xc3", b"\xed\xa0\x80", b"\n", b"\r\n", b"{", b"["]
)
_ONE_PAYLOAD = st.one_of(
    st.binary(max_size=2_000),
    _POSTFIX_LINE.map(lambda s: s.encode("utf-8", "surrogatepass")),
    _EVENT.map(_json),
    st.lists(_EVENT, max_size=5).map(_json),
    st.builds(lambda e: _json({"message": e}), _POSTFIX_LINE),
)
PAYLOADS = st.one_of(
    _ONE_PAYLOAD,
    st.lists(_ONE_PAYLOAD, min_size=2, max_size=6).map(b"\n".join),
    st.builds(
        _mutate,
        _ONE_PAYLOAD,
        st.lists(st.tuples(st.integers(0, 10_000), _BYTE_NOISE), max_size=4),
    ),
    st.none(),
)
"""Message values: raw bytes, Postfix lines, JSON events and arrays, shipper records,
NDJSON mixes, the same with NUL, invalid UTF-8, stray newlines and brackets inserted, and
tombstones."""

_HEADER_VALUE = st.one_of(st.none(), st.binary(max_size=50), st.text(max_size=20), st.integers())
HEADERS = st.one_of(
    st.none(),
    st.lists(st.tuples(st.text(max_size=20), _HEADER_VALUE), max_size=6),
    st.dictionaries(st.text(max_size=20), _HEADER_VALUE, max_size=4),
)
"""Headers as a client may hand them over: none, ``(name, value)`` lists, dicts; values
of odd types (``None``, bytes, ``str``, ``int``)."""

KEYS = st.one_of(st.none(), st.binary(max_size=64))
LIMITS = st.tuples(st.integers(1, 5_000), st.integers(4_096, 20_000))
"""``(max_payload_bytes, max_record_bytes)``: small, so limits are hit often."""


# ------------------------------------------------------------------ worst cases

_LINE = (
    "Nov 29 10:00:01 mx1 postfix/smtp[123]: 4F3C2A1B9D: to=<{to}>, "
    "relay=mx.example.com[192.0.2.10]:25, delay=1.2, delays=0.1/0/0.5/0.6, "
    "dsn=5.1.1, status=bounced (host mx.example.com[192.0.2.10] said: {text})"
)


def _ten_thousand_recipients() -> bytes:
    return orjson.dumps(
        {
            "recipients": [f"user{i}@example.com" for i in range(10_000)],
            "status": "bounced",
            "enhanced_status": "5.1.1",
            "reply_code": 550,
            "diagnostic": "smtp; 550 5.1.1 user unknown",
        }
    )


def _nested(depth: int) -> bytes:
    return (
        b'{"recipient": "a@example.com", "extra": ' + b'{"a": ' * depth + b"1" + b"}" * depth + b"}"
    )


WORST_CASES: dict[str, tuple[Any, str]] = {
    "10 MB payload": (lambda: b"A" * 10_000_000, "dead_letter"),
    "1 MB single-line diagnostic": (
        lambda: _LINE.format(to="a@example.com", text="550 5.1.1 " + "x" * 1_000_000).encode(),
        "output",
    ),
    "1 MB of parentheses in a diagnostic": (
        lambda: _LINE.format(to="a@example.com", text="(" * 500_000 + ")" * 499_999).encode(),
        "output",
    ),
    "600 KB recipient address": (
        lambda: _LINE.format(to="a" * 600_000 + "@example.com", text="550 5.1.1 no").encode(),
        "dead_letter",
    ),
    "10,000 recipients in one event": (_ten_thousand_recipients, "output"),
    "4,500 delivery lines in one payload": (
        lambda: b"\n".join(
            _LINE.format(to=f"u{i}@example.com", text="550 5.1.1 no").encode() for i in range(4_500)
        ),
        "output",
    ),
    "500,000 invalid lines in one payload": (lambda: b"\n".join([b"x"] * 500_000), "dead_letter"),
    "JSON nested 100,000 deep (arrays)": (lambda: b"[" * 100_000 + b"]" * 100_000, "dead_letter"),
    "JSON nested 5,000 deep inside an event": (lambda: _nested(5_000), "dead_letter"),
    "JSON nested 100 deep inside an event": (lambda: _nested(100), "output"),
    "huge JSON numbers": (
        lambda: (
            b'{"recipient": "a@example.com", "reply_code": 1e999999, "timestamp": '
            + b"9" * 5_000
            + b"}"
        ),
        "dead_letter",
    ),
    "invalid UTF-8 and NUL bytes": (lambda: b"\xff\xfe\x00\xc3(" * 200_000, "dead_letter"),
    "terminal escapes in a diagnostic": (
        lambda: _LINE.format(
            to="a@example.com", text="550 5.1.1 " + "\x1b[2J\x1b]0;owned\x07\x9b31m\u202e" * 20_000
        ).encode(),
        "output",
    ),
    "NUL and escapes in a JSON event's fields": (
        lambda: orjson.dumps(
            {
                "recipient": "a\x00\x1b[31m@example.com",
                "status": "bounced",
                "diagnostic": "550 5.1.1 \x00\x1b[2J" * 1_000,
                "sender": "\u202e" * 1_000,
            }
        ),
        "output",
    ),
}
"""Hostile messages with the outcome each must have: a name -> (value factory, kind)."""
