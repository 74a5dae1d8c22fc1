"""SendGrid Event Webhook batches (a JSON array), written from the documented fields
(https://www.twilio.com/docs/sendgrid/for-developers/tracking-events/event)."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from processor.enrich import enrich_payload
from processor.model import DeliveryStatus, Reason, Verdict
from processor.parse.platforms import parse_platform

BATCH = (
    Path(__file__).resolve().parents[1] / "fixtures" / "platforms" / "sendgrid-batch.json"
).read_bytes()


def test_batch() -> None:
    result = enrich_payload(BATCH, reference_time=1_800_000_000.0)
    assert result.errors == []
    assert result.skipped == 1  # the "open" event
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
            "bounce/Invalid Address",
        ),
        (
            "bob@example.com",
            DeliveryStatus.DEFERRED,  # a SendGrid block is temporary by definition
            Verdict.SOFT,
            Reason.BLOCKED,
            "blocked/Reputation",
        ),
        ("carol@example.com", DeliveryStatus.DEFERRED, Verdict.SOFT, Reason.GREYLISTED, "deferred"),
        (
            "dave@example.com",
            DeliveryStatus.FAILED,
            Verdict.HARD,
            Reason.SUPPRESSED,
            "dropped/Bounced Address",
        ),
        ("erin@example.com", DeliveryStatus.SENT, Verdict.SUCCESS, Reason.DELIVERED, "delivered"),
        (
            "frank@example.com",
            DeliveryStatus.UNKNOWN,
            Verdict.UNKNOWN,
            Reason.COMPLAINT,
            "spamreport",
        ),
    ]
    alice = result.records[0]
    assert alice.platform == "sendgrid"
    assert alice.event_time == "2026-11-29T10:00:01Z"
    assert alice.queue_id == "sg-msg-0001.filter-1"
    assert alice.original_message == {"message_id": "<news-11@example.org>"}


@pytest.mark.parametrize(
    ("reason", "ours", "verdict"),
    [("Unsubscribed Address", Reason.SUPPRESSED, Verdict.HARD),
     ("Spam Reporting Address", Reason.SUPPRESSED, Verdict.HARD),
     ("Invalid", Reason.ADDRESS_INVALID, Verdict.HARD),
     ("Spam Content", Reason.CONTENT_REJECTED, Verdict.SOFT),
     ("Recipient List over Package Quota", Reason.RATE_LIMITED, Verdict.SOFT),
     ("Some New Reason", Reason.UNDETERMINED, Verdict.UNKNOWN)],
)  # fmt: skip
def test_dropped_reasons(reason: str, ours: Reason, verdict: Verdict) -> None:
    event = {
        "email": "a@example.com",
        "timestamp": 1795946401,
        "event": "dropped",
        "reason": reason,
        "sg_event_id": "x",
    }
    (record,) = enrich_payload(orjson.dumps(event)).records
    assert (record.reason, record.verdict) == (ours, verdict)


def test_event_id_comes_from_sg_event_id() -> None:
    event = {
        "email": "a@example.com",
        "timestamp": 1795946401,
        "event": "delivered",
        "sg_event_id": "ev-1",
    }
    first = enrich_payload(orjson.dumps(event)).records[0].event_id
    event["response"] = "250 OK"  # same SendGrid event, extra field
    assert enrich_payload(orjson.dumps(event)).records[0].event_id == first


def test_items_without_an_email_are_invalid() -> None:
    result = enrich_payload(orjson.dumps([{"event": "bounce", "email": None, "sg_event_id": "x"}]))
    assert [e.error_class for e in result.errors] == ["invalid_event"]


def test_processed_events_are_skipped() -> None:
    found = parse_platform({"email": "a@example.com", "event": "processed", "sg_message_id": "m"})
    assert found is not None and found.skipped == 1
