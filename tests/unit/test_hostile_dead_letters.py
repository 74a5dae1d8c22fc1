"""Dead letters that always fit the producer's limit, and logs that do not flood."""

from __future__ import annotations

from typing import Any

import pytest

from processor.stream.dead_letter import (
    FRAMING_ALLOWANCE,
    ORIGINAL_HEADER_COUNT_HEADER,
    ORIGINAL_KEY_BYTES_HEADER,
    ORIGINAL_VALUE_BYTES_HEADER,
    TRUNCATED_HEADER,
    DeadLetterLog,
    fit_dead_letter,
    record_bytes,
)

ERROR = [("bounce-processor.error.class", b"payload_too_large"), ("x", b"y" * 200)]
LIMIT = 10_000


def test_a_dead_letter_that_fits_is_untouched() -> None:
    key, value, headers = fit_dead_letter(b"k", b"v" * 100, [("h", b"1")], ERROR, LIMIT)
    assert (key, value, headers) == (b"k", b"v" * 100, [("h", b"1"), *ERROR])


def test_a_large_value_is_cut_and_the_cut_is_recorded() -> None:
    key, value, headers = fit_dead_letter(b"k", b"v" * 50_000, [("h", b"1")], ERROR, LIMIT)
    assert key == b"k" and value is not None and value == b"v" * len(value)
    assert record_bytes(key, value, headers) <= LIMIT - FRAMING_ALLOWANCE
    assert len(value) > LIMIT - 1_000  # as much of the original as fits
    notes = dict(headers)
    assert notes[TRUNCATED_HEADER] == b"value"
    assert notes[ORIGINAL_VALUE_BYTES_HEADER] == b"50000"
    assert headers[0] == ("h", b"1")  # original headers kept, first


def test_huge_original_headers_are_dropped_then_the_key_cut() -> None:
    headers_in = [("big", b"h" * 40_000), ("small", b"1")]
    key, value, headers = fit_dead_letter(b"K" * 30_000, b"v" * 10, headers_in, ERROR, LIMIT)
    assert record_bytes(key, value, headers) <= LIMIT - FRAMING_ALLOWANCE
    notes = dict(headers)
    assert notes[TRUNCATED_HEADER] == b"headers,key"
    assert notes[ORIGINAL_HEADER_COUNT_HEADER] == b"2"
    assert notes[ORIGINAL_KEY_BYTES_HEADER] == b"30000"
    assert value == b"v" * 10 and key is not None and key == b"K" * len(key)
    assert ("bounce-processor.error.class", b"payload_too_large") in headers


@pytest.mark.parametrize("value", [None, b""])
def test_no_value_and_an_empty_value(value: bytes | None) -> None:
    key, out, headers = fit_dead_letter(b"K" * 50_000, value, [], ERROR, LIMIT)
    assert out == value
    assert record_bytes(key, out, headers) <= LIMIT - FRAMING_ALLOWANCE


class Recorder:
    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def warning(self, event: str, **fields: Any) -> None:
        self.calls.append((event, fields))


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_dead_letter_log_logs_a_burst_then_one_summary_per_interval() -> None:
    recorder, clock = Recorder(), Clock()
    log = DeadLetterLog(recorder, burst=3, interval=60, clock=clock)
    for offset in range(1_000):
        log.record("invalid_json" if offset % 2 else "invalid_event", "in", 0, offset)
    assert len(recorder.calls) == 3
    assert all(event == "dead-lettering message" for event, _ in recorder.calls)
    assert recorder.calls[0][1] == {
        "error_class": "invalid_event",
        "topic": "in",
        "partition": 0,
        "offset": 0,
    }
    log.flush()
    assert len(recorder.calls) == 3  # the interval is not over yet
    clock.now = 61
    log.flush()
    event, fields = recorder.calls[-1]
    assert event == "dead letters suppressed from the log"
    assert fields["count"] == 997
    assert fields["by_error_class"] == {"invalid_json": 499, "invalid_event": 498}
    log.record("invalid_json", "in", 0, 5_000)  # a new interval: logged again
    assert recorder.calls[-1][1]["offset"] == 5_000
