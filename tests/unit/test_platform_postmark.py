"""Postmark bounce, delivery and spam-complaint webhooks, written from the documented fields
(https://postmarkapp.com/developer/webhooks/bounce-webhook)."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from processor.enrich import enrich_payload
from processor.model import DeliveryStatus, Reason, Verdict

RECORDS = (
    Path(__file__).resolve().parents[1] / "fixtures" / "platforms" / "postmark-bounces.json"
).read_bytes()


def test_records() -> None:
    result = enrich_payload(RECORDS, reference_time=1_800_000_000.0)
    assert result.errors == [] and result.skipped == 1  # the Open record
    got = [
        (r.recipient, r.delivery_status, r.verdict, r.reason, r.platform_classification)
        for r in result.records
    ]
    assert got == [
        (
            "alice@example.com",
            DeliveryStatus.FAILED,
            Verdict.HARD,
            Reason.USER_UNKNOWN,
            "HardBounce",
        ),
        (
            "bob@example.com",
            DeliveryStatus.DEFERRED,
            Verdict.SOFT,
            Reason.MAILBOX_FULL,
            "SoftBounce",
        ),
        (
            "carol@example.com",
            DeliveryStatus.FAILED,
            Verdict.HARD,
            Reason.SUPPRESSED,
            "ManuallyDeactivated",
        ),
        (
            "dave@example.com",
            DeliveryStatus.UNKNOWN,
            Verdict.UNKNOWN,
            Reason.AUTO_REPLY,
            "AutoResponder",
        ),
        ("erin@example.com", DeliveryStatus.UNKNOWN, Verdict.SOFT, Reason.BLOCKED, "Blocked"),
        (
            "frank@example.com",
            DeliveryStatus.UNKNOWN,
            Verdict.UNKNOWN,
            Reason.COMPLAINT,
            "SpamComplaint",
        ),
        ("grace@example.com", DeliveryStatus.SENT, Verdict.SUCCESS, Reason.DELIVERED, "Delivery"),
    ]
    alice, bob = result.records[:2]
    assert alice.platform == "postmark"
    assert alice.queue_id == "00000000-0000-0000-0000-000000000001"
    assert alice.original_message == {"from": "news@example.org", "subject": "November news"}
    assert bob.event_time == "2026-11-29T15:01:00.123456Z"  # offset -05:00, seven fraction digits


def test_description_is_not_evidence() -> None:
    # Postmark's generic Description mentions "unknown user" for every hard bounce.
    record = orjson.loads(RECORDS)[0]
    record["Details"] = ""
    (result,) = enrich_payload(orjson.dumps(record)).records
    assert result.reason is Reason.UNDETERMINED
    assert result.diagnostic is None


@pytest.mark.parametrize(
    ("kind", "reason"),
    [("BadEmailAddress", Reason.ADDRESS_INVALID), ("HardBounce", Reason.UNDETERMINED)],
)
def test_hard_types(kind: str, reason: Reason) -> None:
    record = {
        "RecordType": "Bounce",
        "ID": 1,
        "Type": kind,
        "Email": "a@example.com",
        "Details": "",
    }
    (result,) = enrich_payload(orjson.dumps(record)).records
    assert (result.verdict, result.reason) == (Verdict.HARD, reason)
