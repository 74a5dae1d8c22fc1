"""Mailgun webhooks and Events API items, written from the documented fields
(https://documentation.mailgun.com/docs/mailgun/user-manual/tracking-messages/tracking-failures)."""

from __future__ import annotations

from pathlib import Path

from processor.enrich import enrich_payload
from processor.model import DeliveryStatus, Reason, Verdict
from processor.parse.platforms import detect_platform

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "platforms"


def test_webhook_permanent_failure() -> None:
    (record,) = enrich_payload((FIXTURES / "mailgun-failed-permanent.json").read_bytes()).records
    assert (record.recipient, record.delivery_status, record.verdict, record.reason) == (
        "alice@example.com", DeliveryStatus.FAILED, Verdict.HARD, Reason.USER_UNKNOWN,
    )  # fmt: skip
    assert record.platform == "mailgun"
    assert record.platform_classification == "failed/permanent/bounce"
    assert (
        record.reply_code is not None and record.reply_code.code == 550
    )  # from delivery-status.code
    assert record.enhanced_status is not None and record.enhanced_status.code == "5.1.1"
    assert record.remote_mta == "mx.example.com"
    assert record.sender == "bounce@mg.example.org"
    assert record.event_time == "2026-11-29T10:00:01.25Z"
    assert record.original_message == {
        "message_id": "news-11@example.org", "from": "news@example.org", "to": "alice@example.com",
        "subject": "November news",
    }  # fmt: skip


def test_events_api_items() -> None:
    result = enrich_payload((FIXTURES / "mailgun-events-api.json").read_bytes())
    assert result.errors == [] and result.skipped == 1  # "opened"
    got = [
        (r.recipient, r.delivery_status, r.verdict, r.reason, r.platform_classification)
        for r in result.records
    ]
    assert got == [
        (
            "bob@example.com",
            DeliveryStatus.DEFERRED,
            Verdict.SOFT,
            Reason.REMOTE_SYSTEM_ERROR,  # "Temporary System Problem. Try again later."
            "failed/temporary/generic",
        ),
        (
            "carol@example.com",
            DeliveryStatus.FAILED,
            Verdict.HARD,
            Reason.SUPPRESSED,
            "failed/permanent/suppress-bounce",
        ),
        (
            "dave@example.com",
            DeliveryStatus.EXPIRED,
            Verdict.SOFT,
            Reason.EXPIRED,
            "failed/temporary/old",
        ),
        ("erin@example.com", DeliveryStatus.SENT, Verdict.SUCCESS, Reason.DELIVERED, "delivered"),
        (
            "frank@example.com",
            DeliveryStatus.UNKNOWN,
            Verdict.UNKNOWN,
            Reason.COMPLAINT,
            "complained",
        ),
    ]
    carol = result.records[1]
    assert carol.reply_code is None  # 605 is Mailgun's own number, not an SMTP reply


def test_items_with_recipient_are_not_generic_events() -> None:
    item = {
        "event": "failed",
        "severity": "permanent",
        "reason": "bounce",
        "recipient": "a@example.com",
    }
    assert detect_platform(item) == "mailgun"
    assert detect_platform({"recipient": "a@example.com", "status": "bounced"}) is None
