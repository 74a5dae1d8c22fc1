"""The relay log corpus (tests/fixtures/logs/): every line gets its expected outcome.

Each line of ``relay-corpus.log`` is one payload (as ``bounce-processor classify`` and the
stream read it); ``relay-corpus-expected.tsv`` says what it must give, written from the
classification policy (see tests/fixtures/logs/README.md). The whole file as one payload,
with LF or with CR line endings, must give the same records as its lines one by one.
"""

from __future__ import annotations

import csv
from datetime import UTC, datetime
from pathlib import Path

import pytest

from processor.enrich import enrich_payload
from processor.model import EnrichedRecord

LOGS = Path(__file__).resolve().parent.parent / "fixtures" / "logs"
LINES = (LOGS / "relay-corpus.log").read_bytes().split(b"\n")[:-1]
with (LOGS / "relay-corpus-expected.tsv").open(encoding="utf-8", newline="") as _handle:
    ROWS = list(csv.DictReader(_handle, delimiter="\t"))
REFERENCE_TIME = datetime(2026, 11, 30, 12, tzinfo=UTC).timestamp()
DAEMONS = ("smtp", "lmtp", "local", "virtual", "pipe", "error", "retry", "discard", "qmgr")


def _record(line: bytes) -> EnrichedRecord:
    result = enrich_payload(line, reference_time=REFERENCE_TIME)
    assert not result.errors, result.errors
    assert result.skipped == 0
    (record,) = result.records
    return record


def test_corpus_shape() -> None:
    assert len(LINES) == len(ROWS) >= 300
    assert [int(row["line"]) for row in ROWS] == list(range(1, len(LINES) + 1))
    deliveries = [row for row in ROWS if row["expected_verdict"] != "skip"]
    assert len(deliveries) >= 200 and len(ROWS) - len(deliveries) >= 50
    text = b"\n".join(LINES)
    for daemon in DAEMONS:
        assert f"/{daemon}[".encode() in text or f'"postfix/{daemon}"'.encode() in text


@pytest.mark.parametrize("row", ROWS, ids=[f"line{row['line']}" for row in ROWS])
def test_corpus_line_outcome(row: dict[str, str]) -> None:
    line = LINES[int(row["line"]) - 1]
    if row["expected_verdict"] == "skip":
        result = enrich_payload(line, reference_time=REFERENCE_TIME)
        assert (result.records, result.errors, result.skipped) == ([], [], 1)
        return
    record = _record(line)
    assert record.verdict.value == row["expected_verdict"], record.rule_id
    if row["event_time"]:
        assert record.event_time == row["event_time"]
    else:
        assert record.event_time is not None and record.event_time.startswith("2026-11-30T")


_REASON_ROWS = [
    pytest.param(
        row,
        id=f"line{row['line']}",
        marks=[pytest.mark.xfail(strict=True, reason=row["known_issue"])]
        if row["known_issue"]
        else [],
    )
    for row in ROWS
    if row["expected_verdict"] != "skip"
]


@pytest.mark.parametrize("row", _REASON_ROWS)
def test_corpus_line_reason(row: dict[str, str]) -> None:
    record = _record(LINES[int(row["line"]) - 1])
    assert record.reason.value == row["expected_reason"], record.rule_id


@pytest.mark.parametrize("ending", [b"\n", b"\r\n", b"\r"], ids=["lf", "crlf", "cr"])
def test_whole_file_as_one_payload_gives_the_same_records(ending: bytes) -> None:
    one_by_one: list[EnrichedRecord] = []
    skipped = 0
    for line in LINES:
        result = enrich_payload(line, reference_time=REFERENCE_TIME)
        one_by_one.extend(result.records)
        skipped += result.skipped
    whole = enrich_payload(ending.join(LINES) + ending, reference_time=REFERENCE_TIME)
    assert whole.errors == []
    assert whole.skipped == skipped
    assert whole.records == one_by_one
