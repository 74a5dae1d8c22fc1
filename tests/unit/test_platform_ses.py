"""Amazon SES notifications and event records, bare and in SNS envelopes.

Payloads are written from the documented fields
(https://docs.aws.amazon.com/ses/latest/dg/notification-contents.html).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest

from processor.enrich import enrich_payload
from processor.errors import InvalidEventError
from processor.model import Action, DeliveryStatus, EnrichedRecord, Reason, Verdict
from processor.parse.platforms import detect_platform, parse_platform

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "platforms"


def load(name: str) -> dict[str, Any]:
    document = orjson.loads((FIXTURES / name).read_bytes())
    assert isinstance(document, dict)
    return document


def enriched(document: object) -> list[EnrichedRecord]:
    result = enrich_payload(orjson.dumps(document), reference_time=1_800_000_000.0)
    assert result.errors == []
    return result.records


def sns(document: dict[str, Any], kind: str = "Notification") -> dict[str, Any]:
    return {
        "Type": kind, "MessageId": "sns-0001", "TopicArn": "arn:aws:sns:eu-west-1:000000000000:bounces",
        "Message": orjson.dumps(document).decode(), "Timestamp": "2026-11-29T10:00:06.000Z",
        "SignatureVersion": "1", "Signature": "c2lnbmF0dXJl", "SigningCertURL": "https://sns.example/cert.pem",
    }  # fmt: skip


def test_permanent_bounce_one_record_per_recipient() -> None:
    alice, bob = enriched(load("ses-bounce-permanent.json"))
    assert (alice.recipient, bob.recipient) == ("alice@example.com", "bob@example.com")
    assert alice.source_format == "ses"
    assert alice.platform == "ses"
    assert alice.platform_classification == "Permanent/NoEmail"
    assert alice.delivery_status is DeliveryStatus.FAILED
    assert (alice.verdict, alice.reason, alice.action) == (
        Verdict.HARD,
        Reason.USER_UNKNOWN,
        Action.SUPPRESS,
    )
    assert alice.enhanced_status is not None and alice.enhanced_status.code == "5.1.1"
    assert alice.reply_code is not None and alice.reply_code.code == 550
    assert alice.remote_mta == "192.0.2.25"
    assert alice.mta_host == "a1-2.smtp-out.example.net"
    assert alice.sender == "news@example.org"
    assert alice.queue_id == "0100018c-example-message-0001"
    assert alice.event_time == "2026-11-29T10:00:05Z"
    assert alice.original_message == {
        "message_id": "<news-11@example.org>", "from": "Example News <news@example.org>",
        "to": "alice@example.com, bob@example.com", "subject": "November news",
    }  # fmt: skip
    assert alice.event_id != bob.event_id


def test_sns_envelope_gives_the_same_records() -> None:
    bare = enriched(load("ses-bounce-permanent.json"))
    wrapped = enriched(sns(load("ses-bounce-permanent.json")))
    assert [(r.recipient, r.reason, r.event_id) for r in bare] == [
        (r.recipient, r.reason, r.event_id) for r in wrapped
    ]


def test_subscription_confirmation_is_skipped() -> None:
    result = enrich_payload(
        orjson.dumps(sns(load("ses-bounce-permanent.json"), "SubscriptionConfirmation"))
    )
    assert (result.records, result.skipped, result.errors) == ([], 1, [])


def test_account_suppression_list_is_suppressed_and_hard() -> None:
    (record,) = enriched(load("ses-bounce-suppressed.json"))
    assert (record.verdict, record.reason, record.rule_id) == (
        Verdict.HARD,
        Reason.SUPPRESSED,
        "platform.suppressed",
    )
    assert record.platform_classification == "Permanent/OnAccountSuppressionList"


@pytest.mark.parametrize(
    ("bounce_type", "sub_type", "status", "verdict", "reason"),
    [("Permanent", "Suppressed", DeliveryStatus.FAILED, Verdict.HARD, Reason.SUPPRESSED),
     ("Transient", "MailboxFull", DeliveryStatus.DEFERRED, Verdict.SOFT, Reason.USER_UNKNOWN),
     ("Undetermined", "Undetermined", DeliveryStatus.UNKNOWN, Verdict.HARD, Reason.USER_UNKNOWN)],
)  # fmt: skip
def test_bounce_types(
    bounce_type: str, sub_type: str, status: DeliveryStatus, verdict: Verdict, reason: Reason
) -> None:
    document = load("ses-bounce-permanent.json")
    document["bounce"].update(bounceType=bounce_type, bounceSubType=sub_type)
    record = enriched(document)[0]
    assert (record.delivery_status, record.verdict, record.reason) == (status, verdict, reason)
    assert record.platform_classification == f"{bounce_type}/{sub_type}"


def test_transient_bounce_is_soft_even_with_a_permanent_code() -> None:
    # The platform's outcome comes first (SES gave up retrying a temporary failure).
    document = load("ses-bounce-permanent.json")
    document["bounce"]["bounceType"] = "Transient"
    assert {r.verdict for r in enriched(document)} == {Verdict.SOFT}


def test_delivery_delay_complaint_and_delivery() -> None:
    (delay,) = enriched(load("ses-delivery-delay.json"))
    assert (delay.delivery_status, delay.verdict, delay.reason) == (
        DeliveryStatus.DEFERRED,
        Verdict.SOFT,
        Reason.MAILBOX_FULL,
    )
    assert delay.platform_classification == "DeliveryDelay/MailboxFull"
    (complaint,) = enriched(load("ses-complaint.json"))
    assert (complaint.verdict, complaint.reason, complaint.action) == (
        Verdict.UNKNOWN,
        Reason.COMPLAINT,
        Action.NONE,
    )
    assert complaint.platform_classification == "Complaint/abuse"
    (delivery,) = enriched(load("ses-delivery.json"))
    assert (delivery.delivery_status, delivery.verdict, delivery.reason) == (
        DeliveryStatus.SENT,
        Verdict.SUCCESS,
        Reason.DELIVERED,
    )
    assert delivery.diagnostic == "250 2.6.0 Message received"


@pytest.mark.parametrize("kind", ["Send", "Open", "Click", "Rendering Failure", "Subscription"])
def test_engagement_events_are_skipped(kind: str) -> None:
    document = {"eventType": kind, "mail": {"messageId": "m-1", "destination": ["a@example.com"]}}
    found = parse_platform(document)
    assert found is not None
    assert (found.events, found.skipped) == ([], 1)


def test_reject_event_is_content_rejected() -> None:
    document = {
        "eventType": "Reject",
        "mail": {"messageId": "m-2", "destination": ["a@example.com"]},
        "reject": {"reason": "Bad content"},
    }
    (record,) = enriched(document)
    assert (record.verdict, record.reason, record.platform_classification) == (
        Verdict.SOFT,
        Reason.CONTENT_REJECTED,
        "Reject/Bad content",
    )


def test_bounce_without_recipients_is_an_invalid_event() -> None:
    document = load("ses-bounce-permanent.json")
    document["bounce"]["bouncedRecipients"] = []
    with pytest.raises(InvalidEventError):
        parse_platform(document)
    result = enrich_payload(orjson.dumps(document))
    assert [e.error_class for e in result.errors] == ["invalid_event"]


def test_detection() -> None:
    assert detect_platform(load("ses-bounce-permanent.json")) == "ses"
    assert detect_platform(sns(load("ses-complaint.json"))) == "ses"
    assert detect_platform({"recipient": "a@example.com", "status": "bounced"}) is None
