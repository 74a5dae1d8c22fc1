"""Worst-case messages: bounded time and memory, the right outcome, nothing leaked.

No timing assertions: a super-linear path would hang and the suite's timeout fails it.
Memory is measured with tracemalloc (the Python heap) and bounded generously.
"""

from __future__ import annotations

import tracemalloc
from typing import Any

import orjson
import pytest

from processor.stream.dead_letter import TRUNCATED_HEADER
from tests.fuzzing import WORST_CASES, check, handle

PEAK_BYTES = 128 * 1024 * 1024


@pytest.mark.parametrize("name", list(WORST_CASES))
def test_worst_case_is_bounded(name: str) -> None:
    make, kind = WORST_CASES[name]
    value = make()
    tracemalloc.start()
    try:
        outcome = handle(value)
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert outcome.kind == kind, outcome.dead_letter and outcome.dead_letter[2]
    check(outcome)
    assert peak < PEAK_BYTES, f"{name}: peak {peak} bytes"


def _record(name: str) -> dict[str, Any]:
    outcome = handle(WORST_CASES[name][0]())
    return orjson.loads(outcome.records[0][1])  # type: ignore[no-any-return]


def test_ten_megabyte_payload_dead_letter_is_cut_to_fit() -> None:
    outcome = handle(b"A" * 10_000_000)
    assert outcome.dead_letter is not None
    _key, value, headers = outcome.dead_letter
    names = dict(headers)
    assert names["bounce-processor.error.class"] == b"payload_too_large"
    assert names[TRUNCATED_HEADER] == b"value"
    assert names["bounce-processor.original.value.bytes"] == b"10000000"
    assert value is not None and value == b"A" * len(value) and 900_000 < len(value) < 1_000_000


def test_ten_thousand_recipients_give_ten_thousand_records() -> None:
    outcome = handle(WORST_CASES["10,000 recipients in one event"][0]())
    keys = [key for key, _value, _headers in outcome.records]
    assert len(keys) == 10_000 and len(set(keys)) == 10_000


def test_megabyte_diagnostic_is_cut_to_two_thousand_characters() -> None:
    record = _record("1 MB single-line diagnostic")
    assert record["verdict"] == "hard" and record["enhanced_status"]["code"] == "5.1.1"
    assert record["diagnostic"].endswith(" [truncated]")
    assert len(record["diagnostic"]) == 2_000 + len(" [truncated]")


def test_oversized_record_goes_to_the_dead_letter_topic_whole() -> None:
    outcome = handle(WORST_CASES["600 KB recipient address"][0]())
    assert outcome.records == [] and outcome.dead_letter is not None
    _key, value, headers = outcome.dead_letter
    assert dict(headers)["bounce-processor.error.class"] == b"record_too_large"
    assert value is not None and len(value) > 600_000  # the input itself fits: not cut
    assert TRUNCATED_HEADER not in dict(headers)


def test_escapes_stay_escaped_in_the_json_record() -> None:
    outcome = handle(WORST_CASES["terminal escapes in a diagnostic"][0]())
    raw = outcome.records[0][1]
    assert b"\x1b" not in raw and b"\x07" not in raw  # JSON escapes them as \u001b
    assert "\x1b" in orjson.loads(raw)["diagnostic"]  # the data itself is kept


@pytest.mark.parametrize(
    "headers",
    [
        {"trace": "text", "n": 3, "none": None},
        [("bin", b"\xff\x00"), ("", b""), ("dup", b"1"), ("dup", b"2")],
        [("big", b"h" * 900_000)],
        [(f"h{i}", b"v" * 100) for i in range(20_000)],
    ],
)
def test_headers_of_odd_types_and_sizes(headers: Any) -> None:
    outcome = handle(b"{not json", key=b"k" * 10, headers=headers)
    check(outcome)
    assert outcome.dead_letter is not None


def test_long_field_values_are_not_kept_by_caches() -> None:
    """Caches keyed by remote text (code normalisation, classification) must not keep
    arbitrarily long values: 200 events with a unique 100 KB ``enhanced_status`` each."""
    tracemalloc.start()
    try:
        before, _ = tracemalloc.get_traced_memory()
        for i in range(200):
            value = orjson.dumps(
                {
                    "recipient": "a@example.com",
                    "status": "bounced",
                    "enhanced_status": f"{i}" + "5" * 100_000,
                }
            )
            assert handle(value).kind == "dead_letter"
        after, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert after - before < 2_000_000, f"{after - before} bytes kept after 200 events"
