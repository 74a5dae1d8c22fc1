"""The pure transform: size limit, dead-letter policy, internal errors, header cleaning."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import orjson
import pytest

from processor.errors import InvalidEventError
from processor.stream import transform as transform_module
from processor.stream.kafka_io import clean_error_message
from processor.stream.transform import transform


def test_oversized_payload_is_dead_lettered_before_parsing(monkeypatch: pytest.MonkeyPatch) -> None:
    def must_not_parse(*_a: Any, **_k: Any) -> Any:
        raise AssertionError("parsed an oversized payload")

    monkeypatch.setattr(transform_module, "enrich_payload", must_not_parse)
    result = transform(b"x" * 11, max_payload_bytes=10)
    assert result.error == ("payload_too_large", "payload of 11 bytes exceeds the limit of 10")
    assert result.outputs == ()


def test_payload_error_keeps_its_class(monkeypatch: pytest.MonkeyPatch) -> None:
    def invalid(*_a: Any, **_k: Any) -> Any:
        raise InvalidEventError("status missing")

    monkeypatch.setattr(transform_module, "enrich_payload", invalid)
    assert transform(b"{}", max_payload_bytes=100).error == ("invalid_event", "status missing")


def test_unexpected_exception_becomes_internal_error(monkeypatch: pytest.MonkeyPatch) -> None:
    def bug(*_a: Any, **_k: Any) -> Any:
        raise KeyError("oops")

    monkeypatch.setattr(transform_module, "enrich_payload", bug)
    result = transform(b"line", max_payload_bytes=100)
    assert result.error == ("internal_error", "KeyError: 'oops'")
    assert result.outputs == () and result.labels == ()


def test_tombstone_counts_as_skipped() -> None:
    result = transform(None, max_payload_bytes=100)
    assert (result.skipped, result.error, result.outputs) == (1, None, ())


def test_error_message_is_bounded_and_has_no_control_characters() -> None:
    text = clean_error_message("bad\x00line\r\nnext\x1b[31m" + "y" * 1000)
    assert text.startswith("bad\\x00line\\x0d\\x0anext\\x1b[31m")
    assert len(text) == 512 and text.endswith("...")
    assert all(ord(c) >= 0x20 and not 0x7F <= ord(c) <= 0x9F for c in text)


def test_cr_only_line_endings_split_into_lines_on_the_stream() -> None:
    # A lone CR ends a line like LF: two common-shape delivery lines give two records, not
    # one record whose diagnostic swallowed the next line (the one-line fast path).
    lines = [
        (
            f"Nov 29 17:03:2{n} mx1 postfix/smtp[9333]: A4B5C6D7E{n}: to=<u{n}@example.com>, "
            "relay=mx.example.com[192.0.2.10]:25, delay=0.4, delays=0.05/0/0.2/0.15, "
            f"dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as 5E6F7A8B9{n})"
        ).encode()
        for n in range(2)
    ]
    result = transform(b"\r".join(lines), max_payload_bytes=10_000, reference_time=1_796_000_000)
    assert result.error is None
    assert [key for key, _value in result.outputs] == [b"u0@example.com", b"u1@example.com"]
    assert all(b"\\r" not in value for _key, value in result.outputs)


@pytest.mark.parametrize(
    "reference_time",
    [1.796e15, float("nan"), float("inf"), -1e12],
    ids=["microseconds", "nan", "inf", "before-1970"],
)
def test_a_reference_time_that_cannot_be_a_date_is_replaced_by_now(
    reference_time: float,
) -> None:
    line = (
        b"Nov 29 10:00:01 mx1 postfix/smtp[1]: 4F3C2A1B9D: to=<jo@example.com>, "
        b"relay=mx.example.com[192.0.2.1]:25, delay=1, delays=0/0/0/1, dsn=5.1.1, "
        b"status=bounced (host mx.example.com[192.0.2.1] said: 550 5.1.1 User unknown)"
    )
    result = transform(line, max_payload_bytes=10_000, reference_time=reference_time)
    assert result.error is None
    (record,) = (orjson.loads(value) for _key, value in result.outputs)
    year = datetime.now(UTC).year
    assert record["event_time"] in {f"{y}-11-29T10:00:01Z" for y in (year - 1, year, year + 1)}
    assert (record["verdict"], record["reason"]) == ("hard", "user_unknown")
