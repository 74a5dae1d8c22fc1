"""The pieces of the bounce-email parser: detection, DSN fields, prose recipients, diagnostics.

Prose layouts are written inline here (one short notice per MTA family); whole
emails live in tests/fixtures/email/.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from processor.cli import main as cli
from processor.model import DeliveryStatus
from processor.parse import parse_payload
from processor.parse.email import looks_like_email, parse_email
from processor.parse.email.diagnostic import from_prose
from processor.parse.email.dsn import parse_delivery_status, strip_address_type
from processor.parse.email.events import rfc3339
from processor.parse.email.notice import cut_returned_message, is_delay_notice, is_expiry_notice
from processor.parse.email.recipients import find_recipients

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "email"

# ------------------------------------------------------------------ detection


@pytest.mark.parametrize("name", sorted(p.name for p in FIXTURES.glob("*.eml")))
def test_every_fixture_looks_like_an_email(name: str) -> None:
    assert looks_like_email((FIXTURES / name).read_bytes())


@pytest.mark.parametrize(
    "payload",
    [
        b"Nov 29 10:00:01 mx1 postfix/smtp[1234]: 4F3C2A1B: to=<a@example.com>, status=sent (250 ok)",
        b"2026-11-29T10:00:01.123456+00:00 mx1 postfix/smtp[1234]: 4F3C2A1B: to=<a@example.com>\n"
        b"2026-11-29T10:00:02.123456+00:00 mx1 postfix/smtp[1234]: 4F3C2A1C: to=<b@example.com>\n",
        b"<22>1 2026-11-29T10:00:01.123Z mx1 postfix/smtp 1234 - - 4F3C2A1B: to=<a@example.com>",
        b'{"recipient": "a@example.com", "status": "bounced"}',
        b"Subject: only one header field\n\nbody",
        b"X-Custom: 1\nX-Other: 2\n\nno common header field",
        b"",
    ],
)
def test_other_payloads_do_not_look_like_email(payload: bytes) -> None:
    assert not looks_like_email(payload)


def test_mbox_separator_line_is_accepted() -> None:
    raw = (
        b"From MAILER-DAEMON  Mon Dec  7 10:00:00 2026\n"
        + (FIXTURES / "qmail-prose.eml").read_bytes()
    )
    assert looks_like_email(raw)
    assert [e.recipient for e in parse_email(raw)] == ["grace@example.com", "heidi@example.com"]


def test_parse_payload_routes_whole_emails_and_log_batches() -> None:
    email = parse_payload((FIXTURES / "exim-two-recipients.eml").read_bytes(), 1_800_000_000.0)
    assert [e.source_format for e in email.events] == ["email", "email"]
    logs = parse_payload(
        b"Nov 29 10:00:01 mx1 postfix/smtp[1]: 4F3C2A1B: to=<a@example.com>, relay=none, delay=1, "
        b"delays=0/0/1/0, dsn=5.1.1, status=bounced (host mx.example.com[192.0.2.1] said: 550 5.1.1 "
        b"user unknown (in reply to RCPT TO command))\nNov 29 10:00:02 mx1 postfix/qmgr[2]: 4F3C2A1B: removed\n",
        1_800_000_000.0,
    )
    assert [e.source_format for e in logs.events] == ["postfix"]
    assert logs.skipped == 1


def test_classify_cli_reads_an_eml_file_as_one_payload(tmp_path: Path) -> None:
    log = tmp_path / "mail.log"
    log.write_bytes(
        b"Nov 29 10:00:01 mx1 postfix/smtp[1]: 4F3C2A1B: to=<a@example.com>, relay=none, delay=1, "
        b"delays=0/0/1/0, dsn=5.1.1, status=bounced (host mx.example.com[192.0.2.1] said: 550 5.1.1 "
        b"user unknown (in reply to RCPT TO command))\n" * 3
    )
    runner = CliRunner()
    email = runner.invoke(cli, ["classify", str(FIXTURES / "postfix-dsn-two-recipients.eml")])
    assert email.exit_code == 0, email.output
    assert len(email.stdout.splitlines()) == 2
    lines = runner.invoke(cli, ["classify", str(log)])
    assert lines.exit_code == 0, lines.output
    assert len(lines.stdout.splitlines()) == 3


# ---------------------------------------------------------------- DSN fields


def test_delivery_status_blocks_and_continuations() -> None:
    report = parse_delivery_status(
        "Reporting-MTA: dns; mx.example.net\nArrival-Date: Sun, 29 Nov 2026 10:00:01 +0000\n\n"
        "Original-Recipient: rfc822;list@example.com\nFinal-Recipient: rfc822; <a@example.com>\n"
        "Action: Failed\nStatus: 5.1.1 (bad destination mailbox)\nRemote-MTA: dns; mx.example.com\n"
        "Diagnostic-Code: smtp; 550 5.1.1 user\n    unknown\n\n"
        "Final-Recipient: rfc822; b@example.com\nAction: delayed\nStatus: 4.4.1\n"
        "Final-Recipient: rfc822; c@example.com\nAction: relayed\n"
    )
    assert report.reporting_mta == "dns; mx.example.net"
    assert report.arrival_date == "Sun, 29 Nov 2026 10:00:01 +0000"
    a, b, c = report.recipients
    assert (a.final_recipient, a.original_recipient, a.action) == (
        "a@example.com",
        "list@example.com",
        "failed",
    )
    assert a.status == "5.1.1 (bad destination mailbox)"
    assert a.diagnostic == "smtp; 550 5.1.1 user unknown"
    assert a.remote_mta == "mx.example.com"
    assert (b.address, b.action, c.address, c.action) == (
        "b@example.com",
        "delayed",
        "c@example.com",
        "relayed",
    )


def test_delivery_status_recipient_inside_a_pipe_or_display_name() -> None:
    report = parse_delivery_status(
        "Final-Recipient: rfc822;|/usr/local/bin/filter a@example.com /var/spool/a\nAction: failed\n\n"
        "Final-Recipient: rfc822; Bob Example <b@example.com>\nAction: failed\n\n"
        "Final-Recipient: rfc822; no-address-here\nAction: failed\n"
    )
    assert [r.address for r in report.recipients] == ["a@example.com", "b@example.com"]


@pytest.mark.parametrize(
    ("value", "address"),
    [("rfc822; a@example.com", "a@example.com"), ("rfc822;<a@example.com>", "a@example.com"),
     ("a@example.com", "a@example.com"), ("utf-8; zoë@example.com", "zoë@example.com")],
)  # fmt: skip
def test_strip_address_type(value: str, address: str) -> None:
    assert strip_address_type(value) == address


@pytest.mark.parametrize(
    ("text", "expected"),
    [("Sun, 29 Nov 2026 10:00:01 +0900 (JST)", "2026-11-29T01:00:01Z"),
     ("29 Nov 2026 10:00:01 -0000", "2026-11-29T10:00:01Z"), ("yesterday", None), ("", None), (None, None)],
)  # fmt: skip
def test_rfc5322_dates(text: str | None, expected: str | None) -> None:
    assert rfc3339(text) == expected


def test_transient_failed_report_is_expired_and_delayed_is_deferred() -> None:
    expired = parse_email((FIXTURES / "dsn-expired.eml").read_bytes())
    delayed = parse_email((FIXTURES / "dsn-delayed.eml").read_bytes())
    assert [e.status for e in expired + delayed] == [
        DeliveryStatus.EXPIRED,
        DeliveryStatus.DEFERRED,
    ]


def test_reply_code_decides_over_a_contradicting_status() -> None:
    raw = (FIXTURES / "dsn-expired.eml").read_bytes().replace(b"smtp; 452 4.2.2", b"smtp; 552")
    (event,) = parse_email(raw)
    assert event.status is DeliveryStatus.BOUNCED  # RFC 2034 §3: the reply's class decides


def test_delivered_report() -> None:
    raw = (FIXTURES / "dsn-delayed.eml").read_bytes()
    raw = raw.replace(b"Action: delayed\nStatus: 4.4.1", b"Action: delivered\nStatus: 2.0.0")
    (event,) = parse_email(
        raw.replace(b"X-Postfix; connect to", b"smtp; 250 2.0.0 queued; connect to")
    )
    assert event.status is DeliveryStatus.SENT


# --------------------------------------------------------------------- prose

PROSE = [
    # (layout, notice, recipients, diagnostics start)
    ("exim",
     "The following address(es) failed:\n\n  a@example.com\n    host mx.example.com [192.0.2.1]\n"
     "    SMTP error from remote mail server after RCPT TO:<a@example.com>:\n"
     "    550 5.1.1 no such user\n  b@example.com\n    retry timeout exceeded\n",
     ["a@example.com", "b@example.com"], ["550 5.1.1 no such user (in reply to RCPT TO command)", "retry timeout exceeded"]),
    ("postfix notice",
     "<a@example.com>: host mx.example.com[192.0.2.1] said: 550 5.7.1 Relay access\n"
     "    denied (in reply to RCPT TO command)\n",
     ["a@example.com"], ["550 5.7.1 Relay access denied (in reply to RCPT TO command)"]),
    ("dragonfly",
     "There was an error delivering your mail to <a@example.com>.\n"
     "mx.example.com [192.0.2.1] did not like our RCPT TO:\n550 5.1.1 <a@example.com>: User unknown\n",
     ["a@example.com"], ["550 5.1.1 <a@example.com>: User unknown (in reply to RCPT TO command)"]),
    ("opensmtpd",
     "An error has occurred while attempting to deliver a message for\nthe following list of recipients:\n\n"
     "a@example.com: 550 5.2.2 mailbox full\n\nPlease note that this is only a temporary failure report.\n",
     ["a@example.com"], ["550 5.2.2 mailbox full"]),
    ("sendmail transcript",
     "   ----- Transcript of session follows -----\n"
     "550 5.1.1 <a@example.com>... User unknown\n554 <b@example.com>... Service unavailable\n",
     ["a@example.com", "b@example.com"], ["550 5.1.1 <a@example.com>... User unknown", "554 <b@example.com>... Service unavailable"]),
    ("zoho",
     "a@example.com Invalid Address, ERROR_CODE :550, ERROR_CODE :5.1.1 <a@example.com>... User Unknown\n",
     ["a@example.com"], ["550 5.1.1 <a@example.com>... User Unknown"]),
    ("gmx quoted",
     '"a@example.com":\nSMTP error from remote server after RCPT command:\nhost: mx.example.com\n'
     "5.1.1 <a@example.com>... User Unknown\n",
     ["a@example.com"], ["5.1.1 <a@example.com>... User Unknown (in reply to RCPT TO command)"]),
    ("bracketed reply",
     "SMTP Server <mx.example.com> rejected recipient <a@example.com> (Error following RCPT command). "
     "It responded as follows: [550 5.1.1 User unknown] Please verify the address.\n",
     ["a@example.com"], ["550 5.1.1 User unknown (in reply to RCPT TO command)"]),
]  # fmt: skip


@pytest.mark.parametrize(
    ("layout", "notice", "recipients", "diagnostics"), PROSE, ids=[p[0] for p in PROSE]
)
def test_prose_layouts(
    layout: str, notice: str, recipients: list[str], diagnostics: list[str]
) -> None:
    found = find_recipients(notice, excluded={"sender@example.org"})
    assert [r.address for r in found] == recipients
    assert [from_prose(r.diagnostic).text for r in found] == diagnostics


def test_sender_mentions_are_excluded() -> None:
    notice = (
        "The original message was received from sender@example.org\n"
        "SMTP error from remote mail server after MAIL FROM:<other@example.org>:\n"
        "<other@example.org>: 550 sender rejected\n<a@example.com>: 550 5.1.1 unknown\n"
    )
    assert [r.address for r in find_recipients(notice, excluded=set())] == ["a@example.com"]


def test_notice_is_cut_before_the_returned_message() -> None:
    text = "Error for <a@example.com>: 550 unknown\n\n------ This is a copy of the message, including all the headers. ------\nTo: <b@example.com>\n"
    assert "b@example.com" not in cut_returned_message(text)
    inline = (
        "Error for <a@example.com>: 550 unknown\n\nReturn-Path: <c@example.org>\nReceived: from x\n"
    )
    assert "c@example.org" not in cut_returned_message(inline)


@pytest.mark.parametrize(
    ("subject", "text", "delayed"),
    [("Delivery Status Notification (Delay)", "Delivery to the following recipient has been delayed:", True),
     ("Warning: message delayed 24 hours", "Delivery attempts will continue for some time", True),
     ("Mail delivery failed", "This is a permanent error. The following address(es) failed:", False),
     ("Delivery Status Notification (Failure)", "Delivery to the following recipient failed permanently:", False)],
)  # fmt: skip
def test_delay_notices(subject: str, text: str, delayed: bool) -> None:
    assert is_delay_notice(subject, text) is delayed


@pytest.mark.parametrize(
    ("text", "expired"),
    [("Delivery to the following recipients was aborted after 5.0 hour(s):", True),
     ("We tried for more than 3 days and gave up.", True),
     ("Delivery has failed after 48 hours of retries", True),
     ("Retried for 2 days; giving up.", True),
     ("Your message could not be delivered for 5 days.", True),
     ("This message has been in the queue too long.", True),
     # qmail says this on every permanent failure: not an expiry
     ("This is a permanent error; I've given up. Sorry it didn't work out.", False),
     ("The following address(es) failed: user unknown", False)],
)  # fmt: skip
def test_expiry_notices(text: str, expired: bool) -> None:
    assert is_expiry_notice(text) is expired


def test_expiry_notice_does_not_override_a_permanent_reply() -> None:
    raw = (FIXTURES / "gateway-gave-up-prose.eml").read_bytes()
    (gave_up,) = parse_email(raw)
    assert gave_up.status is DeliveryStatus.EXPIRED
    raw = raw.replace(b"Routing: Could not find", b"550 5.1.1 User unknown; could not find")
    (refused,) = parse_email(raw)
    assert refused.status is DeliveryStatus.BOUNCED  # the remote's 5yz says permanent


def test_remote_host_from_prose() -> None:
    found = from_prose("host mx.example.com [192.0.2.1]: 550 5.1.1 unknown\n")
    assert found.remote_host == "mx.example.com [192.0.2.1]"
    assert found.has_reply
    assert not from_prose("all hosts have been failing for a long time").has_reply
