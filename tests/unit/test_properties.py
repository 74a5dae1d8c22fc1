"""Property-based tests: any bytes in, never an unexpected exception; every line accounted for."""

from __future__ import annotations

import json

import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from processor.enrich import enrich_payload
from processor.errors import PayloadError
from processor.smtp.extract import extract_codes

LINE = (
    "Nov 29 10:00:01 mx1 postfix/smtp[1]: 4F3C2A1B9D: to=<a@example.com>, relay=x[192.0.2.1]:25, "
    "delay=1, delays=0/0/1/0, dsn=5.1.1, status=bounced (host x[192.0.2.1] said: {text})"
)


def _check(payload: bytes) -> None:
    try:
        result = enrich_payload(payload, reference_time=1_796_000_000.0)
    except PayloadError:
        return
    lines = [line for line in payload.strip().split(b"\n") if line.strip()]
    # Each non-empty line yields records, a skip, or an error (a JSON line may hold several events).
    assert len(result.records) + result.skipped + len(result.errors) >= min(len(lines), 1)
    for record in result.records:
        orjson.dumps(record)


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=2_000))
def test_any_bytes(payload: bytes) -> None:
    _check(payload)


@settings(max_examples=300)
@given(st.text(max_size=500))
def test_any_diagnostic_in_a_delivery_line(text: str) -> None:
    _check(LINE.format(text=text).encode("utf-8", "surrogatepass"))


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=20,
)
fields = st.fixed_dictionaries(
    {},
    optional={
        k: json_values
        for k in (
            "recipient",
            "recipients",
            "status",
            "reply_code",
            "enhanced_status",
            "diagnostic",
            "timestamp",
            "sender",
            "message",
            "log",
            "MESSAGE",
        )
    },
)


@settings(max_examples=400)
@given(fields)
def test_any_json_object(document: dict[str, object]) -> None:
    _check(json.dumps(document).encode())  # stdlib: also writes integers beyond 64 bits


def test_megabyte_diagnostic_is_classified() -> None:
    text = "550 5.1.1 " + "user unknown " * 80_000 + "(" * 10_000
    (record,) = enrich_payload(LINE.format(text=text).encode()).records
    assert (record.reason.value, record.verdict.value) == ("user_unknown", "hard")
    assert extract_codes("x" * 1_000_000 + " 550 5.1.1") == (550, "5.1.1")
