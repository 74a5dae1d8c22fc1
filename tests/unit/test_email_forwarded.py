"""Bounces a person forwarded as an attachment (message/rfc822): the attached bounce is read.

The fixture tests/fixtures/email/forwarded-bounce-attached.eml is a forwarded Postfix DSN;
the other cases wrap our other fixtures in a forward built here.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from processor.enrich import enrich_payload
from processor.errors import UnrecognisedPayloadError
from processor.model import DeliveryStatus, Reason
from processor.parse.email import parse_email

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "email"
FORWARDED = "forwarded-bounce-attached.eml"


def forward(
    *attachments: bytes,
    subject: bytes = b"Fwd: Mail delivery failed",
    sender: bytes = b"Marta <marta@example.org>",
) -> bytes:
    """A person's email with ``attachments`` attached as message/rfc822 parts."""
    parts = b"".join(
        b"--f\nContent-Type: message/rfc822\nContent-Disposition: attachment\n\n" + item + b"\n"
        for item in attachments
    )
    return (
        b"From: " + sender + b"\nTo: bounces@example.org\nSubject: " + subject + b"\n"
        b"Date: Thu, 17 Dec 2026 15:31:08 +0100\nMessage-ID: <fwd-test@example.org>\n"
        b'MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="f"\n\n'
        b"--f\nContent-Type: text/plain\n\nPlease remove these. Ask ulla@example.net if unsure.\n\n"
        + parts
        + b"--f--\n"
    )


def recipients(raw: bytes) -> list[tuple[str | None, DeliveryStatus, Reason | None]]:
    return [(e.recipient, e.status, e.preset_reason) for e in parse_email(raw)]


def test_the_attached_report_gives_the_same_event_as_the_bounce_itself() -> None:
    raw = (FIXTURES / FORWARDED).read_bytes()
    start = raw.index(b"Return-Path: <>")
    end = raw.index(b"\n--fwd-boundary-41aa--")
    direct = enrich_payload(raw[start:end], reference_time=1_800_000_000.0).records
    forwarded = enrich_payload(raw, reference_time=1_800_000_000.0).records
    assert [r.recipient for r in forwarded] == ["olaf@example.com"]
    # the bounce's own Message-ID and dates: received twice, it is one event downstream
    assert [r.event_id for r in forwarded] == [r.event_id for r in direct]
    assert forwarded[0].event_time == "2026-12-17T08:02:44Z"  # Last-Attempt-Date
    assert forwarded[0].sender == "marta@example.org"  # X-Postfix-Sender


@pytest.mark.parametrize(
    "subject",
    [b"Fwd: Mail delivery failed", b"FW: Mail delivery failed", b"WG: Unzustellbar",
     b"TR: Non remis", b"[EXTERNAL] Fwd: bounce", b"this bounced, please check"],
)  # fmt: skip
def test_a_forwarded_prose_bounce(subject: bytes) -> None:
    exim = (FIXTURES / "exim-two-recipients.eml").read_bytes()
    assert recipients(forward(exim, subject=subject)) == [
        ("erin@example.com", DeliveryStatus.BOUNCED, None),
        ("frank@example.com", DeliveryStatus.BOUNCED, None),
    ]


def test_several_attached_bounces_give_all_their_recipients() -> None:
    exim = (FIXTURES / "exim-two-recipients.eml").read_bytes()
    ses = (FIXTURES / "ses-suppression-list.eml").read_bytes()
    assert recipients(forward(exim, ses)) == [
        ("erin@example.com", DeliveryStatus.BOUNCED, None),
        ("frank@example.com", DeliveryStatus.BOUNCED, None),
        ("ines@example.com", DeliveryStatus.BOUNCED, Reason.SUPPRESSED),
        ("kurt@example.net", DeliveryStatus.BOUNCED, Reason.SUPPRESSED),
    ]


def test_a_forward_of_a_forward() -> None:
    exim = (FIXTURES / "exim-two-recipients.eml").read_bytes()
    twice = forward(forward(exim), subject=b"Fwd: Fwd: Mail delivery failed")
    assert [r for r, _, _ in recipients(twice)] == ["erin@example.com", "frank@example.com"]


def test_a_forwarded_ordinary_email_is_still_unrecognised() -> None:
    ordinary = (FIXTURES / "not-a-bounce.eml").read_bytes()
    with pytest.raises(UnrecognisedPayloadError):
        parse_email(forward(ordinary, subject=b"Fwd: Question about my invoice"))


def test_a_bounce_from_a_mailer_daemon_reads_its_own_report_not_its_attachment() -> None:
    # a double bounce: the returned message is itself a bounce (an earlier delivery)
    exim = (FIXTURES / "exim-two-recipients.eml").read_bytes()
    raw = forward(exim, sender=b"MAILER-DAEMON@relay.example.net", subject=b"Fwd: failed")
    raw = raw.replace(
        b"Please remove these.",
        b"<news@example.org>: host mx.example.org[192.0.2.5] said: 550 5.1.1 user unknown"
        b"\n\nPlease remove these.",
    )
    assert [r for r, _, _ in recipients(raw)] == ["news@example.org"]


def test_a_bounce_without_a_forward_subject_reads_itself_first() -> None:
    # a prose bounce from a non-daemon sender that returns a bounce: its own recipient wins
    exim = (FIXTURES / "exim-two-recipients.eml").read_bytes()
    raw = forward(exim, sender=b"Relay <relay@example.net>", subject=b"Undeliverable: news")
    raw = raw.replace(
        b"Please remove these.",
        b"Delivery has failed to these recipients:\n\nnews@example.org\n"
        b"550 5.1.1 user unknown\n\nPlease remove these.",
    )
    assert [r for r, _, _ in recipients(raw)] == ["news@example.org"]


def test_an_attached_read_receipt_is_not_a_bounce() -> None:
    receipt = (FIXTURES / "read-receipt-mdn.eml").read_bytes()
    with pytest.raises(UnrecognisedPayloadError):
        parse_email(forward(receipt, subject=b"Fwd: Read: Your order 1042 has shipped"))
