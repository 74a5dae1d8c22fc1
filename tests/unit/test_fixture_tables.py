"""Table-driven classification tests: every case in ``tests/fixtures/events/*.yaml``.

Each YAML file is a list of cases::

    - name: gmail-nosuchuser            # unique within the file
      reference_time: "2027-01-01T00:00:30Z"   # optional; default REFERENCE_TIME below
      input: |                          # the exact payload (UTF-8 encoded before use)
        Nov 29 10:00:01 mx1 postfix/smtp[1234]: ...
      expect:
        skipped: 0                      # optional, default 0
        errors: 0                       # optional, default 0 (line errors)
        records:                        # in order; default []
          - recipient: alice@example.com
            delivery_status: bounced
            enhanced_status: 5.1.1      # record.enhanced_status.code, or null
            enhanced_status_source: diagnostic
            reply_code: 550             # record.reply_code.code, or null
            verdict: hard
            reason: user_unknown
            rule_id: text.user_unknown.no_such_user   # optional: the deciding rule
            # any other key is compared with the record attribute of that name;
            # ``registered`` is record.enhanced_status.registered.

The expected values are written from ``notes/policy.md`` (the contract with downstream
services), RFC 5321 (reply codes), RFC 3463 / the IANA registry (enhanced status codes),
RFC 2034 §3 (class must agree with the reply), RFC 7504/7505 (521/556, null MX) and
RFC 7372 (authentication codes); never from the classifier's output.

Year-less RFC 3164 timestamps are resolved against ``reference_time``: the year that puts
the timestamp closest to it and not more than one day after it; times without a zone are UTC.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from pathlib import Path
from typing import Any

import pytest
import yaml

from processor.model import Action, CodeSource, DeliveryStatus, Reason, Verdict

FIXTURE_DIR = Path(__file__).resolve().parent.parent / "fixtures" / "events"

#: Default reference time handed to ``enrich_payload`` (seconds since the epoch).
REFERENCE_TIME_TEXT = "2026-11-30T00:00:00Z"

MIN_CASES = 150
#: Reasons only platform events / bounce emails produce (not Postfix logs or generic events).
REASONS_NOT_COVERED = {Reason.SUPPRESSED, Reason.AUTO_REPLY, Reason.COMPLAINT}
#: Statuses a Postfix log never gives; generic-event cases may still use them.
STATUSES_NOT_REQUIRED = {DeliveryStatus.FAILED, DeliveryStatus.UNKNOWN}
#: Postfix delivery daemons whose log lines must appear in some input.
DELIVERY_DAEMONS = ("smtp", "lmtp", "local", "virtual", "pipe", "error", "retry", "discard", "qmgr")
MIN_CASES_PER_REASON = 3

#: Reasons that are hard when the failure is permanent (policy.md, "Verdicts").
HARD_REASONS = {
    Reason.USER_UNKNOWN,
    Reason.HOST_UNKNOWN,
    Reason.ADDRESS_INVALID,
    Reason.MAILBOX_DISABLED,
    Reason.HAS_MOVED,
    Reason.UNDETERMINED,
}
SUCCESS_REASONS = {Reason.DELIVERED, Reason.DISCARDED}
ACTION_FOR_VERDICT = {
    Verdict.HARD: Action.SUPPRESS,
    Verdict.SOFT: Action.RETRY,
    Verdict.SUCCESS: Action.NONE,
    Verdict.UNKNOWN: Action.NONE,
}
TRANSIENT_STATUSES = {DeliveryStatus.DEFERRED, DeliveryStatus.SOFTBOUNCE, DeliveryStatus.EXPIRED}
SUCCESS_STATUSES = {DeliveryStatus.SENT, DeliveryStatus.DELIVERABLE, DeliveryStatus.DISCARDED}

ENUM_FIELDS: dict[str, type[Enum]] = {
    "delivery_status": DeliveryStatus,
    "verdict": Verdict,
    "reason": Reason,
    "action": Action,
    "enhanced_status_source": CodeSource,
}
REQUIRED_RECORD_KEYS = {
    "recipient",
    "delivery_status",
    "enhanced_status",
    "enhanced_status_source",
    "reply_code",
    "verdict",
    "reason",
}
OPTIONAL_RECORD_KEYS = {
    "mta_dsn",
    "registered",
    "queue_id",
    "relay",
    "sender",
    "original_recipient",
    "event_time",
    "smtp_command",
    "probe",
    "recipient_domain",
    "mta_host",
    "mta_daemon",
    "action",
    "delay_seconds",
    "rule_id",
}
CASE_KEYS = {"name", "input", "expect", "reference_time"}
EXPECT_KEYS = {"skipped", "errors", "records"}
ENHANCED_RE = re.compile(r"[245]\.[0-9]{1,3}\.[0-9]{1,3}")
EVENT_TIME_RE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,9})?Z")


@dataclass(frozen=True)
class Case:
    """One table row: where it came from, its payload and what the pipeline must produce."""

    file_stem: str
    name: str
    raw: bytes
    reference_time: float
    expect: Mapping[str, Any]
    row: Mapping[str, Any]

    @property
    def case_id(self) -> str:
        """``<file stem>/<case name>``, the pytest id."""
        return f"{self.file_stem}/{self.name}"

    @property
    def records(self) -> list[Mapping[str, Any]]:
        """Expected records in order (possibly empty)."""
        return list(self.expect.get("records") or [])


def _epoch(text: str) -> float:
    """Seconds since the epoch for an RFC 3339 UTC timestamp ending in ``Z``."""
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def _load_cases() -> list[Case]:
    cases: list[Case] = []
    for path in sorted(FIXTURE_DIR.glob("*.yaml")):
        rows = yaml.safe_load(path.read_text(encoding="utf-8"))
        assert isinstance(rows, list), f"{path.name}: top level must be a list"
        for row in rows:
            assert isinstance(row, dict), f"{path.name}: every case must be a mapping"
            ref = row.get("reference_time", REFERENCE_TIME_TEXT)
            cases.append(
                Case(
                    file_stem=path.stem,
                    name=str(row.get("name")),
                    raw=str(row.get("input", "")).encode("utf-8"),
                    reference_time=_epoch(str(ref)),
                    expect=row.get("expect") or {},
                    row=row,
                )
            )
    return cases


CASES = _load_cases()


def _actual(record: Any, key: str) -> Any:
    """The record's value for an expectation key, reduced to plain YAML-comparable data."""
    if key == "enhanced_status":
        return record.enhanced_status.code if record.enhanced_status else None
    if key == "registered":
        return record.enhanced_status.registered if record.enhanced_status else None
    if key == "reply_code":
        return record.reply_code.code if record.reply_code else None
    value = getattr(record, key)
    if isinstance(value, Enum):
        return value.value
    return value


def _expected(key: str, value: Any) -> Any:
    """Expectation as the type ``_actual`` yields (YAML may read ``550`` as int or str)."""
    if key == "reply_code" and value is not None:
        return int(value)
    if key in {"enhanced_status", "mta_dsn"} and value is not None:
        return str(value)
    return value


@pytest.fixture(scope="module")
def enrich() -> Any:
    """``processor.enrich.enrich_payload`` (imported here so the file checks run without it)."""
    from processor.enrich import enrich_payload

    return enrich_payload


@pytest.mark.parametrize("case", CASES, ids=[c.case_id for c in CASES])
def test_fixture_case(case: Case, enrich: Any) -> None:
    result = enrich(case.raw, reference_time=case.reference_time)
    expected_records = case.records
    assert result.skipped == case.expect.get("skipped", 0), "skipped line count"
    assert len(result.errors) == case.expect.get("errors", 0), f"line errors: {result.errors}"
    assert len(result.records) == len(expected_records), "number of records"
    for index, (record, want) in enumerate(zip(result.records, expected_records, strict=True)):
        got = {key: _actual(record, key) for key in want}
        wanted = {key: _expected(key, value) for key, value in want.items()}
        assert got == wanted, f"record {index}"
    for record in result.records:
        assert record.action is ACTION_FOR_VERDICT[record.verdict], "action follows verdict"


# --- checks on the tables themselves (run without the classifier) -------------------------


def test_case_names_unique_within_each_file() -> None:
    seen: set[str] = set()
    for case in CASES:
        assert case.name and case.name != "None", f"{case.file_stem}: a case has no name"
        assert case.case_id not in seen, f"duplicate case {case.case_id}"
        seen.add(case.case_id)


def _iter_records() -> Iterator[tuple[Case, Mapping[str, Any]]]:
    for case in CASES:
        for record in case.records:
            yield case, record


@pytest.mark.parametrize("case", CASES, ids=[c.case_id for c in CASES])
def test_fixture_is_well_formed(case: Case) -> None:
    """Keys, types and enum values are valid, so a typo cannot silently weaken a test."""
    row = case.row
    assert set(row) <= CASE_KEYS, f"unknown case keys {set(row) - CASE_KEYS}"
    assert case.raw.strip(), "empty input"
    if case.raw.lstrip()[:1] in (b"{", b"["):
        json.loads(case.raw)  # JSON payloads must be valid JSON
    assert b"\t" not in case.raw, "tab in payload (YAML indentation slip?)"
    assert set(case.expect) <= EXPECT_KEYS
    skipped = case.expect.get("skipped", 0)
    assert isinstance(skipped, int) and skipped >= 0
    assert case.records or skipped, "a case must expect records or skipped lines"
    for record in case.records:
        keys = set(record)
        assert keys >= REQUIRED_RECORD_KEYS, f"missing keys {REQUIRED_RECORD_KEYS - keys}"
        assert keys <= REQUIRED_RECORD_KEYS | OPTIONAL_RECORD_KEYS, f"unknown {keys}"
        for key, enum in ENUM_FIELDS.items():
            if record.get(key) is not None:
                enum(record[key])  # raises ValueError on a typo
        for key in ("enhanced_status", "mta_dsn"):
            if record.get(key) is not None:
                assert ENHANCED_RE.fullmatch(str(record[key])), f"{key} {record[key]!r}"
        assert (record["enhanced_status"] is None) == (record["enhanced_status_source"] is None)
        if record["reply_code"] is not None:
            assert 200 <= int(record["reply_code"]) <= 599
        if record.get("event_time") is not None:
            assert EVENT_TIME_RE.fullmatch(str(record["event_time"])), record["event_time"]


@pytest.mark.parametrize("case", CASES, ids=[c.case_id for c in CASES])
def test_fixture_follows_policy_verdict_rules(case: Case) -> None:
    """Each expected verdict obeys policy.md's verdict rules (a check on the tables)."""
    for record in case.records:
        verdict = Verdict(record["verdict"])
        reason = Reason(record["reason"])
        status = DeliveryStatus(record["delivery_status"])
        if "action" in record:
            assert Action(record["action"]) is ACTION_FOR_VERDICT[verdict]
        if verdict is Verdict.HARD:
            assert reason in HARD_REASONS, "only recipient/domain reasons are hard"
            assert status not in TRANSIENT_STATUSES | SUCCESS_STATUSES
        if verdict is Verdict.SUCCESS or reason in SUCCESS_REASONS:
            assert verdict is Verdict.SUCCESS and reason in SUCCESS_REASONS
        if status in TRANSIENT_STATUSES:
            assert verdict is Verdict.SOFT, "MTA retries: soft whatever the text says"
        if status in SUCCESS_STATUSES:
            assert verdict is Verdict.SUCCESS
        if verdict is Verdict.UNKNOWN:
            assert reason is Reason.UNDETERMINED and status is DeliveryStatus.UNKNOWN
        if status in {DeliveryStatus.DELIVERABLE, DeliveryStatus.UNDELIVERABLE}:
            assert record.get("probe") is True, "probe results carry probe: true"


def test_tables_cover_the_taxonomy_and_statuses() -> None:
    reasons: dict[Reason, int] = {}
    statuses: set[DeliveryStatus] = set()
    for _case, record in _iter_records():
        reason = Reason(record["reason"])
        reasons[reason] = reasons.get(reason, 0) + 1
        statuses.add(DeliveryStatus(record["delivery_status"]))
    missing_reasons = set(Reason) - REASONS_NOT_COVERED - set(reasons)
    assert not missing_reasons, f"reasons without a case: {sorted(missing_reasons)}"
    thin = {r.value: n for r, n in reasons.items() if n < MIN_CASES_PER_REASON}
    assert not thin, f"reasons with fewer than {MIN_CASES_PER_REASON} cases: {thin}"
    missing_statuses = set(DeliveryStatus) - STATUSES_NOT_REQUIRED - statuses
    assert not missing_statuses, f"statuses without a case: {sorted(missing_statuses)}"
    assert len(CASES) >= MIN_CASES


def test_tables_cover_every_delivery_daemon_and_skip_only_cases() -> None:
    text = "\n".join(case.raw.decode("utf-8") for case in CASES)
    for daemon in DELIVERY_DAEMONS:
        pattern = rf"postfix[A-Za-z0-9_.-]*/{daemon}(\[| |\")"
        assert re.search(pattern, text), f"no input logged by postfix/{daemon}"
    assert any(not c.records and c.expect.get("skipped") for c in CASES)
    assert any(len(c.records) > 1 and c.expect.get("skipped") for c in CASES)
