"""Emails that are not bounces: ARF complaints (RFC 5965), JMRP, unsubscribe requests
(RFC 2369), automatic replies (RFC 3834).

Their reason is ``complaint`` or ``auto_reply``; they are not bounces, so the
verdict is ``unknown`` and the action ``none``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from processor.enrich import enrich_payload
from processor.errors import UnrecognisedPayloadError
from processor.model import Action, DeliveryStatus, Reason, Verdict
from processor.parse.email import parse_email

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "email"


def only_record(name: str):  # type: ignore[no-untyped-def]
    result = enrich_payload((FIXTURES / name).read_bytes(), reference_time=1_800_000_000.0)
    assert result.errors == []
    (record,) = result.records
    return record


def test_arf_abuse_report_is_a_complaint() -> None:
    record = only_record("arf-abuse.eml")
    assert record.recipient == "quentin@example.net"  # Original-Rcpt-To
    assert (record.verdict, record.reason, record.action) == (
        Verdict.UNKNOWN,
        Reason.COMPLAINT,
        Action.NONE,
    )
    assert record.rule_id == "report.complaint"
    assert record.delivery_status is DeliveryStatus.UNKNOWN
    assert record.diagnostic == "feedback-report; Feedback-Type: abuse; Source-IP: 192.0.2.33"
    assert record.event_time == "2026-12-06T09:00:00Z"  # Arrival-Date
    assert record.original_message is not None
    assert record.original_message["message_id"] == "<offers-49@example.org>"


def test_arf_without_original_rcpt_to_uses_the_returned_message() -> None:
    raw = (
        (FIXTURES / "arf-abuse.eml")
        .read_bytes()
        .replace(b"Original-Rcpt-To: <quentin@example.net>\n", b"")
    )
    (event,) = parse_email(raw)
    assert event.recipient == "quentin@example.net"
    assert event.preset_reason is Reason.COMPLAINT


def test_feedback_type_is_kept() -> None:
    raw = (
        (FIXTURES / "arf-abuse.eml")
        .read_bytes()
        .replace(b"Feedback-Type: abuse", b"Feedback-Type: opt-out")
    )
    (event,) = parse_email(raw)
    assert event.diagnostic is not None and "Feedback-Type: opt-out" in event.diagnostic


def test_microsoft_jmrp_report_is_a_complaint() -> None:
    record = only_record("jmrp-complaint.eml")
    assert (record.recipient, record.reason, record.verdict) == (
        "rupert@example.com", Reason.COMPLAINT, Verdict.UNKNOWN,
    )  # fmt: skip


def test_vacation_reply_is_an_auto_reply() -> None:
    record = only_record("vacation-auto-reply.eml")
    assert record.recipient == "sybil@example.com"  # the person who is away
    assert (record.verdict, record.reason, record.action) == (
        Verdict.UNKNOWN,
        Reason.AUTO_REPLY,
        Action.NONE,
    )
    assert record.rule_id == "report.auto_reply"
    assert record.original_message == {"message_id": "<weekly-news-50@example.org>"}  # In-Reply-To


def test_auto_reply_naming_colleagues_is_not_a_bounce() -> None:
    # Exchange's OOF reply: no Auto-Submitted, bounce-like wording ("will not be delivered")
    # and other people's addresses on lines of their own; its subject says what it is
    record = only_record("auto-reply-names-colleagues.eml")
    assert (record.recipient, record.verdict, record.reason, record.action) == (
        "nils@example.com",
        Verdict.UNKNOWN,
        Reason.AUTO_REPLY,
        Action.NONE,
    )
    assert record.original_message == {"message_id": "<news-2026-11@example.org>"}


def test_unsubscribe_request_is_an_opt_out_complaint() -> None:
    # a mail client following List-Unsubscribe (RFC 2369 mailto): the recipient says stop
    record = only_record("unsubscribe-request.eml")
    assert (record.recipient, record.reason, record.verdict, record.action) == (
        "tilda@example.com", Reason.COMPLAINT, Verdict.UNKNOWN, Action.NONE,
    )  # fmt: skip
    assert record.diagnostic == "feedback-report; Feedback-Type: opt-out"


@pytest.mark.parametrize(
    ("marker", "replacement"),
    [
        (b"X-Apple-Unsubscribe: true\n", b""),  # the subject alone (RFC 2369 mailto)
        (b"Subject: unsubscribe", b"Subject: Unsubscribe "),
    ],
)
def test_unsubscribe_request_markers(marker: bytes, replacement: bytes) -> None:
    raw = (FIXTURES / "unsubscribe-request.eml").read_bytes().replace(marker, replacement)
    (event,) = parse_email(raw)
    assert event.preset_reason is Reason.COMPLAINT


def test_a_reply_mentioning_unsubscribe_is_not_a_request() -> None:
    raw = (FIXTURES / "unsubscribe-request.eml").read_bytes()
    raw = raw.replace(b"X-Apple-Unsubscribe: true\n", b"")
    raw = raw.replace(b"Subject: unsubscribe", b"Subject: Re: how do I unsubscribe?")
    (event,) = parse_email(raw)
    assert event.preset_reason is Reason.AUTO_REPLY  # Auto-Submitted: auto-replied


@pytest.mark.parametrize(
    ("subject", "header"),
    [
        (b"Re: news", b"X-Autoreply: yes"),
        (b"Re: news", b"Precedence: auto_reply"),
        (b"Automatic reply: Weekly news", b"X-Mailer: example"),
    ],
)
def test_other_auto_reply_markers(subject: bytes, header: bytes) -> None:
    raw = (FIXTURES / "vacation-auto-reply.eml").read_bytes()
    raw = raw.replace(b"Auto-Submitted: auto-replied\n", header + b"\n")
    raw = raw.replace(b"Out of Office: Weekly news", subject)
    (event,) = parse_email(raw)
    assert event.preset_reason is Reason.AUTO_REPLY


def test_an_email_without_auto_reply_markers_is_not_an_auto_reply() -> None:
    raw = (FIXTURES / "vacation-auto-reply.eml").read_bytes()
    raw = raw.replace(b"Auto-Submitted: auto-replied\n", b"").replace(
        b"Out of Office: Weekly news", b"Re: news"
    )
    with pytest.raises(UnrecognisedPayloadError):
        parse_email(raw)


def test_a_bounce_marked_auto_replied_is_still_a_bounce() -> None:
    # RFC 3464 reports carry "Auto-Submitted: auto-replied" too (the Postfix fixture does)
    (first, _) = parse_email((FIXTURES / "postfix-dsn-two-recipients.eml").read_bytes())
    assert first.preset_reason is None
    assert first.status is DeliveryStatus.BOUNCED


def test_an_ordinary_email_is_not_recognised() -> None:
    with pytest.raises(UnrecognisedPayloadError):
        parse_email((FIXTURES / "not-a-bounce.eml").read_bytes())
    result = enrich_payload((FIXTURES / "not-a-bounce.eml").read_bytes())
    assert result.records == []
    assert [e.error_class for e in result.errors] == ["unrecognised_format"]


def test_redacted_arf_report_gives_one_record_without_recipient() -> None:
    raw = (FIXTURES / "arf-abuse.eml").read_bytes()
    raw = raw.replace(b"Original-Rcpt-To: <quentin@example.net>\n", b"").replace(
        b"To: <quentin@example.net>\n", b""
    )
    (event,) = parse_email(raw)
    assert event.recipient is None
    assert event.preset_reason is Reason.COMPLAINT


# ------------------------------------------------- read receipts (RFC 8098)

MDN = "read-receipt-mdn.eml"


@pytest.mark.parametrize(
    ("old", "new"),
    [
        (b"Subject: Read:", b"Subject: Read:"),  # report type and part both say so
        # the UTF-8 form (RFC 6533 section 6)
        (b"Content-Type: message/disposition-notification;",
         b"Content-Type: message/global-disposition-notification;"),
        # a client that labels the report type but not the part
        (b"Content-Type: message/disposition-notification;", b"Content-Type: text/plain;"),
        # a client that sends the part in a multipart/mixed
        (b"Content-Type: multipart/report; report-type=disposition-notification;",
         b"Content-Type: multipart/mixed;"),
    ],
)  # fmt: skip
def test_read_receipts_are_not_delivery_outcomes(old: bytes, new: bytes) -> None:
    original = (FIXTURES / MDN).read_bytes()
    assert old in original
    raw = original.replace(old, new)
    assert parse_email(raw) == []
    result = enrich_payload(raw)
    assert (result.records, result.errors, result.skipped) == ([], [], 1)


def test_a_receipt_without_its_disposition_part_is_unrecognised() -> None:
    # neither the report type nor the part: an ordinary message about a receipt
    raw = (FIXTURES / MDN).read_bytes()
    raw = raw.replace(
        b"multipart/report; report-type=disposition-notification;", b"multipart/mixed;"
    )
    raw = raw.replace(b"message/disposition-notification;", b"text/plain;")
    with pytest.raises(UnrecognisedPayloadError):
        parse_email(raw)


def test_a_bounce_returning_a_read_receipt_is_still_a_bounce() -> None:
    # the returned message (an attached message/rfc822) is a receipt: its parts are not ours
    receipt = (FIXTURES / MDN).read_bytes()
    bounce = (FIXTURES / "postfix-dsn-two-recipients.eml").read_bytes()
    head, _, _ = bounce.rpartition(b"--4F3C2A1B9D.1796032805/mx1.example.net--")
    cut = head.rfind(b"--4F3C2A1B9D.1796032805/mx1.example.net\n")
    raw = (
        head[:cut]
        + b"--4F3C2A1B9D.1796032805/mx1.example.net\nContent-Type: message/rfc822\n\n"
        + receipt
        + b"\n--4F3C2A1B9D.1796032805/mx1.example.net--\n"
    )
    events = parse_email(raw)
    assert [(e.recipient, e.status) for e in events] == [
        ("alice@example.com", DeliveryStatus.BOUNCED),
        ("carol@example.com", DeliveryStatus.BOUNCED),
    ]


# -------------------------------- automatic replies that used to be missed


def test_inbox_rule_reply_is_an_auto_reply_not_a_bounce() -> None:
    record = only_record("inbox-rule-reply.eml")
    assert (record.recipient, record.reason, record.action) == (
        "kim@example.com", Reason.AUTO_REPLY, Action.NONE,
    )  # fmt: skip
    assert record.original_message == {"message_id": "<weekly-news-51@example.org>"}


@pytest.mark.parametrize(
    "header",
    [b"X-Autoreply: yes", b"X-Autorespond: vacation", b"Precedence: auto_reply"],
)
def test_responder_headers_come_before_the_bounce_reading(header: bytes) -> None:
    # the body names addresses on lines of their own and says "will not be delivered"
    raw = (FIXTURES / "inbox-rule-reply.eml").read_bytes()
    raw = raw.replace(b"X-MS-Exchange-Inbox-Rules-Loop: kim@example.com", header)
    assert [(e.recipient, e.preset_reason) for e in parse_email(raw)] == [
        ("kim@example.com", Reason.AUTO_REPLY)
    ]


def test_without_a_responder_marker_the_rule_reply_is_not_read_as_a_bounce() -> None:
    # without the marker nothing shows a mail system wrote it (no daemon sender, null
    # Return-Path, Auto-Submitted or returned message): its prose is not read as a bounce,
    # so the suggested addresses are never failed recipients; it is dead-lettered
    raw = (FIXTURES / "inbox-rule-reply.eml").read_bytes()
    raw = raw.replace(b"X-MS-Exchange-Inbox-Rules-Loop: kim@example.com\n", b"")
    with pytest.raises(UnrecognisedPayloadError):
        parse_email(raw)


def test_ticket_acknowledgement_is_an_auto_reply() -> None:
    record = only_record("ticket-acknowledgement.eml")
    assert (record.recipient, record.reason, record.verdict) == (
        "support@example.net", Reason.AUTO_REPLY, Verdict.UNKNOWN,
    )  # fmt: skip
    assert record.rule_id == "report.auto_reply"


TICKET = "ticket-acknowledgement.eml"


@pytest.mark.parametrize(
    ("old", "new"),
    [
        # a ticket subject without a reference to our message
        (b"In-Reply-To: <weekly-news-51@example.org>\nReferences: <weekly-news-51@example.org>\n",
         b""),
        # a reference without a ticket subject, marked only by X-Auto-Response-Suppress
        (b"Subject: [Ticket #48213] Request received: Weekly news 51\n"
         b"Date: Fri, 18 Dec 2026 08:10:39 +0000\n",
         b"Subject: Re: Weekly news 51\nDate: Fri, 18 Dec 2026 08:10:39 +0000\n"),
        (b"Auto-Submitted: auto-generated\nX-Auto-Response-Suppress: All\n", b"Precedence: bulk\n"),
    ],
)  # fmt: skip
def test_ticket_acknowledgement_markers(old: bytes, new: bytes) -> None:
    original = (FIXTURES / TICKET).read_bytes()
    assert old in original
    (event,) = parse_email(original.replace(old, new))
    assert event.preset_reason is Reason.AUTO_REPLY


def test_a_message_without_an_automatic_marker_is_not_an_acknowledgement() -> None:
    raw = (FIXTURES / TICKET).read_bytes()
    raw = raw.replace(b"Auto-Submitted: auto-generated\nX-Auto-Response-Suppress: All\n", b"")
    with pytest.raises(UnrecognisedPayloadError):
        parse_email(raw)


def test_an_automatic_message_with_bounce_wording_is_not_an_acknowledgement() -> None:
    # a failure notice whose recipient could not be found stays unrecognised (dead-lettered,
    # nothing lost) rather than read as a harmless receipt
    raw = (
        (FIXTURES / TICKET)
        .read_bytes()
        .replace(
            b"thank you for contacting us.",
            b"your message could not be delivered to one or more recipients.",
        )
    )
    with pytest.raises(UnrecognisedPayloadError):
        parse_email(raw)
