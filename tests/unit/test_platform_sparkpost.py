"""SparkPost webhook batches, written from the documented fields
(https://developers.sparkpost.com/api/webhooks/) and bounce classes
(https://support.sparkpost.com/docs/deliverability/bounce-classification-codes)."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from processor.enrich import enrich_payload
from processor.model import DeliveryStatus, Reason, Verdict

BATCH = (
    Path(__file__).resolve().parents[1] / "fixtures" / "platforms" / "sparkpost-batch.json"
).read_bytes()


def test_batch() -> None:
    result = enrich_payload(BATCH, reference_time=1_800_000_000.0)
    assert result.errors == [] and result.skipped == 1  # the open (track_event)
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
            "bounce/10",
        ),
        (
            "bob@example.com",
            DeliveryStatus.DEFERRED,
            Verdict.SOFT,
            Reason.MAILBOX_FULL,
            "bounce/22",
        ),
        (
            "carol@example.com",
            DeliveryStatus.FAILED,
            Verdict.HARD,
            Reason.SUPPRESSED,
            "policy_rejection/25",
        ),
        ("dave@example.com", DeliveryStatus.UNKNOWN, Verdict.SOFT, Reason.BLOCKED, "bounce/51"),
        (
            "erin@example.com",
            DeliveryStatus.DEFERRED,
            Verdict.SOFT,
            Reason.REMOTE_SYSTEM_ERROR,
            "delay",
        ),
        ("frank@example.com", DeliveryStatus.SENT, Verdict.SUCCESS, Reason.DELIVERED, "delivery"),
        (
            "grace@example.com",
            DeliveryStatus.UNKNOWN,
            Verdict.UNKNOWN,
            Reason.COMPLAINT,
            "spam_complaint",
        ),
    ]
    alice = result.records[0]
    assert alice.platform == "sparkpost"
    assert alice.reply_code is not None and alice.reply_code.code == 550
    assert alice.event_time == "2026-11-29T10:00:01Z"
    assert alice.sender == "msprvs1=bounces@sp.example.org"


@pytest.mark.parametrize(
    ("bounce_class", "status", "reason"),
    [("26", DeliveryStatus.FAILED, Reason.SUPPRESSED), ("60", DeliveryStatus.UNKNOWN, Reason.AUTO_REPLY),
     ("30", DeliveryStatus.FAILED, Reason.UNDETERMINED), ("1", DeliveryStatus.UNKNOWN, Reason.UNDETERMINED)],
)  # fmt: skip
def test_bounce_classes(bounce_class: str, status: DeliveryStatus, reason: Reason) -> None:
    item = {
        "msys": {
            "message_event": {
                "type": "bounce",
                "bounce_class": bounce_class,
                "rcpt_to": "a@example.com",
                "event_id": "e",
            }
        }
    }
    (record,) = enrich_payload(orjson.dumps([item])).records
    assert (record.delivery_status, record.reason) == (status, reason)
