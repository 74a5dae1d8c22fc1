"""Bounce emails of each format -> one record per recipient, with codes, verdict and reason.

Fixtures are our own anonymised emails (tests/fixtures/email/), one per layout:
RFC 3464 DSNs (Postfix, delayed, expired, global DSN, base64 + CRLF + ISO-2022-JP),
prose bounces (Exim, qmail, Gmail, Exchange 2003, Exchange Online, Yahoo), ARF,
Microsoft JMRP, an automatic reply, SES notifications delivered by SNS email.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from processor.enrich import enrich_payload
from processor.model import Action, DeliveryStatus, EnrichedRecord, Reason, Verdict
from tests.email_rows import records as records_at
from tests.email_rows import row, summary

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "email"
REFERENCE_TIME = 1_800_000_000.0


def records(name: str) -> list[EnrichedRecord]:
    return records_at(FIXTURES / name)


BOUNCED, EXPIRED, DEFERRED = DeliveryStatus.BOUNCED, DeliveryStatus.EXPIRED, DeliveryStatus.DEFERRED
HARD, SOFT = Verdict.HARD, Verdict.SOFT
UNKNOWN_STATUS = DeliveryStatus.UNKNOWN

CASES = {
    "postfix-dsn-two-recipients.eml": [
        row("alice@example.com", BOUNCED, "5.1.1", 550, HARD, Reason.USER_UNKNOWN),
        row("carol@example.com", BOUNCED, "5.2.2", 552, SOFT, Reason.MAILBOX_FULL),
    ],
    "dsn-delayed.eml": [
        row("dave@example.com", DEFERRED, "4.4.1", None, SOFT, Reason.NETWORK_ERROR)
    ],
    "dsn-expired.eml": [row("dave@example.com", EXPIRED, "4.2.2", 452, SOFT, Reason.MAILBOX_FULL)],
    "global-dsn-utf8.eml": [
        row("zoë@example.com", BOUNCED, "5.1.1", 550, HARD, Reason.USER_UNKNOWN)
    ],
    "crlf-base64-dsn-iso2022jp.eml": [
        row("victor@example.jp", BOUNCED, "5.1.1", 550, HARD, Reason.USER_UNKNOWN)
    ],
    "exim-two-recipients.eml": [
        row("erin@example.com", BOUNCED, "5.1.1", 550, HARD, Reason.USER_UNKNOWN),
        row("frank@example.com", BOUNCED, "5.7.1", 554, SOFT, Reason.CONTENT_REJECTED),
    ],
    "qmail-prose.eml": [
        row("grace@example.com", BOUNCED, "5.1.1", 550, HARD, Reason.USER_UNKNOWN),
        row("heidi@example.com", BOUNCED, "5.1.8", 553, SOFT, Reason.SENDER_REJECTED),
    ],
    "gmail-prose.eml": [row("judy@example.com", BOUNCED, "5.2.2", 552, SOFT, Reason.MAILBOX_FULL)],
    "exchange-2003-prose.eml": [
        row("leo@example.net", BOUNCED, None, None, HARD, Reason.USER_UNKNOWN)
    ],
    "office365-ndr.eml": [
        row("niaj@example.com", BOUNCED, "5.1.10", 550, HARD, Reason.USER_UNKNOWN)
    ],
    "yahoo-prose.eml": [
        row("peggy@example.com", BOUNCED, "5.2.1", 550, HARD, Reason.MAILBOX_DISABLED)
    ],
    # a provider's own ISO-2022-JP notice with the MTA's whole report pasted below it as text
    # Google Groups refuses a post in the sender's language, without an SMTP code; posting
    # permission belongs to the sender's address (group membership)
    "google-groups-fr.eml": [
        row("equipe@googlegroups.com", BOUNCED, None, None, SOFT, Reason.SENDER_REJECTED)
    ],
    # a prose notice: "abandoned after 48 hours" (the MTA gave up), no code at all; the
    # last error, "Could not find a gateway", names the cause (routing: network_error)
    "gateway-gave-up-prose.eml": [
        row("rita@example.com", EXPIRED, None, None, SOFT, Reason.NETWORK_ERROR)
    ],
    # a Sendmail transcript: the remote refused the session at MAIL FROM (its "<<<" reply is
    # rosa's evidence, not Sendmail's "Remote protocol error" or the next host's line)
    "sendmail-transcript-session-refused.eml": [
        row("rosa@example.net", BOUNCED, "5.7.1", 550, SOFT, Reason.BLOCKED),
        row("sven@example.com", BOUNCED, "5.1.1", 550, HARD, Reason.USER_UNKNOWN),
    ],
    # a Sendmail transcript of local deliveries: each mailer's own output above Sendmail's
    # generic summary says why (mail.local: unknown user; procmail: quota), and each
    # recipient reads its own transcript lines, not those of the recipient listed after it
    "sendmail-local-mailer-output.eml": [
        row("piet@example.net", BOUNCED, "5.5.0", 554, HARD, Reason.USER_UNKNOWN),
        row("rhea@example.net", BOUNCED, "5.0.0", 550, SOFT, Reason.MAILBOX_FULL),
    ],
    # localized prose without enhanced codes: "Empfänger:" / "Destinataire :" label each
    # recipient; a bare 550 with "Postfach voll" / "Boîte aux lettres pleine" is a full
    # mailbox (soft), not a hard bounce decided by the reply code alone
    "localized-prose-de.eml": [
        row("anton@example.de", BOUNCED, None, 550, HARD, Reason.USER_UNKNOWN),
        row("berta@example.de", BOUNCED, None, 550, SOFT, Reason.MAILBOX_FULL),
    ],
    "localized-ndr-fr-qp.eml": [  # quoted-printable ISO-8859-1 text part
        row("pierre@example.fr", BOUNCED, None, 550, SOFT, Reason.MAILBOX_FULL),
        row("paul@example.fr", BOUNCED, None, 550, HARD, Reason.USER_UNKNOWN),
    ],
    # Exchange's delay notice: "Remote Server at HOST (IP) returned '400 4.4.7 Message
    # delayed'" is its own summary; the timestamped line after it is the last attempt's
    # error and names the cause (a delay notice's reason is the cause, never expiry)
    "exchange-delay-notice.eml": [
        row("yusuf@example.com", DEFERRED, "4.4.1", 441, SOFT, Reason.NETWORK_ERROR)
    ],
    "exim-generated-from.eml": [
        row("zack@example.net", BOUNCED, None, None, SOFT, Reason.MAILBOX_FULL),
        row("anna@example.com", BOUNCED, "5.1.1", 550, HARD, Reason.USER_UNKNOWN),
    ],
    # Exchange's store driver failing "due to a transient exception" under a 5.2.0 code:
    # the destination's system, soft (was hard, undetermined)
    "exchange-storedrv-transient.eml": [
        row("carmen@example.com", BOUNCED, "5.2.0", 550, SOFT, Reason.REMOTE_SYSTEM_ERROR)
    ],
    # Microsoft 365 refusing the submission of a sender restricted for outbound spam: the
    # sender's own account, every recipient gets it (was hard, undetermined)
    "office365-outbound-spam.eml": [
        row("dario@example.net", BOUNCED, "5.2.0", 554, SOFT, Reason.SENDER_REJECTED),
        row("elena@example.com", BOUNCED, "5.2.0", 554, SOFT, Reason.SENDER_REJECTED),
    ],
    # Gmail's final notice for a TLS failure (no code): a transport failure, soft (was hard)
    "gmail-tls-failed.eml": [
        row("finance@example.net", BOUNCED, None, None, SOFT, Reason.NETWORK_ERROR)
    ],
    # Exim: the domain's MX hosts do not resolve -> host_unknown (was undetermined)
    "exim-mx-nonexistent.eml": [
        row("gerda@example.com", BOUNCED, None, None, HARD, Reason.HOST_UNKNOWN),
        row("hanna@example.net", BOUNCED, None, None, SOFT, Reason.NETWORK_ERROR),
    ],
    # recipients named inside sentences ("Your message to \"addr\" could not be delivered",
    # "Unable to deliver your message to addr."): the second one was missed
    "sentence-recipients-prose.eml": [
        row("lara@example.com", BOUNCED, "5.1.1", 550, HARD, Reason.USER_UNKNOWN),
        row("moritz@example.net", EXPIRED, "4.2.2", 452, SOFT, Reason.MAILBOX_FULL),
    ],
    # Lotus Domino's notice: "mail file is full" is the recipient's quota (was hard, undetermined)
    "domino-mail-file-full.eml": [
        row("jola@example.net", BOUNCED, None, None, SOFT, Reason.MAILBOX_FULL)
    ],
    # Amazon SES gave up ("554 4.4.7 Message expired ... <last reply>"): the last reply names
    # the cause, soft whatever it is, even when the cause's rule comes before the expiry rule
    # (pia was hard, nora's DNS failure was reason expired)
    "ses-bounce-email-expired.eml": [
        row("nora@example.com", BOUNCED, "4.4.7", 554, SOFT, Reason.NETWORK_ERROR),
        row("pia@example.com", BOUNCED, "4.4.7", 554, SOFT, Reason.USER_UNKNOWN),
        row("otto@example.net", BOUNCED, "5.1.1", 550, HARD, Reason.USER_UNKNOWN),
    ],
    # Exchange's French delay notice, no code at all: a warning, the server keeps trying
    # (was read as a failure: hard, undetermined)
    "localized-delay-fr.eml": [
        row("rene@example.fr", DEFERRED, None, None, SOFT, Reason.UNDETERMINED)
    ],
    # Amazon SES did not try these addresses: they are on the account's suppression list
    # (bounce sub-type OnAccountSuppressionList) or SES's global one (Suppressed); reason
    # suppressed, hard, as for the SES JSON notification (were user_unknown and, for the
    # "history of bouncing as an invalid address" wording, address_invalid)
    "ses-suppression-list.eml": [
        row("ines@example.com", BOUNCED, "5.1.1", 550, HARD, Reason.SUPPRESSED),
        row("kurt@example.net", BOUNCED, "5.1.1", 550, HARD, Reason.SUPPRESSED),
    ],
    # a person forwarded a Postfix DSN as an attachment: the attached report is the
    # evidence; the addresses in the person's own words (a colleague's) are not recipients
    # (was dead-lettered as unrecognised)
    "forwarded-bounce-attached.eml": [
        row("olaf@example.com", BOUNCED, "5.1.1", 550, HARD, Reason.USER_UNKNOWN)
    ],
    # an Exchange inbox rule's reply ("this mailbox is no longer monitored", no automatic-reply
    # subject, bounce-like wording): X-MS-Exchange-Inbox-Rules-Loop says what it is; the
    # addresses it suggests are not failed recipients (were two hard, undetermined records)
    "inbox-rule-reply.eml": [
        row("kim@example.com", UNKNOWN_STATUS, None, None, Verdict.UNKNOWN, Reason.AUTO_REPLY)
    ],
    # a help desk's ticket receipt (Auto-Submitted: auto-generated, In-Reply-To our message,
    # no bounce wording): an automatic reply (was dead-lettered as unrecognised)
    "ticket-acknowledgement.eml": [
        row("support@example.net", UNKNOWN_STATUS, None, None, Verdict.UNKNOWN, Reason.AUTO_REPLY)
    ],
    "forwarded-report-iso2022jp.eml": [
        row("walter@example.jp", EXPIRED, "4.0.0", 421, SOFT, Reason.NETWORK_ERROR)
    ],
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_bounce_formats(name: str) -> None:
    assert [summary(r) for r in records(name)] == CASES[name]


SKIPPED = {
    # a read receipt (RFC 8098 MDN): the message was delivered, then displayed; not a
    # delivery outcome (was dead-lettered as unrecognised)
    "read-receipt-mdn.eml": 1,
}
"""Emails that are not delivery outcomes: no record, no error, this many skipped."""


@pytest.mark.parametrize("name", sorted(SKIPPED))
def test_emails_that_are_skipped(name: str) -> None:
    result = enrich_payload((FIXTURES / name).read_bytes(), reference_time=REFERENCE_TIME)
    assert (result.records, result.errors, result.skipped) == ([], [], SKIPPED[name])


def test_every_fixture_is_covered() -> None:
    covered = set(CASES) | set(SKIPPED) | {
        "arf-abuse.eml", "jmrp-complaint.eml", "vacation-auto-reply.eml", "ses-sns-email.eml",
        "ses-sns-email-folded.eml", "not-a-bounce.eml", "unsubscribe-request.eml",
        "auto-reply-names-colleagues.eml",
    }  # fmt: skip
    assert {p.name for p in FIXTURES.glob("*.eml")} == covered


def test_dsn_fields_and_returned_message() -> None:
    alice, carol = records("postfix-dsn-two-recipients.eml")
    assert alice.source_format == "email"
    assert alice.original_recipient == "info@example.com"
    assert carol.original_recipient is None  # same as the final recipient
    assert alice.sender == "news@example.org"
    assert alice.queue_id == "4F3C2A1B9D"
    assert alice.mta_host == "mx1.example.net"
    assert alice.remote_mta == alice.relay == "mx.example.com"
    assert alice.event_time == "2026-11-29T10:00:04Z"  # Last-Attempt-Date
    assert carol.event_time == "2026-11-29T10:00:01Z"  # no Last-Attempt-Date: Arrival-Date
    assert alice.smtp_command is None
    assert alice.diagnostic is not None
    assert alice.diagnostic.startswith(
        "smtp; 550 5.1.1 <alice@example.com>: Recipient address rejected"
    )
    assert alice.original_message == {
        "message_id": "<newsletter-2026-11@example.org>",
        "from": "Example News <news@example.org>",
        "to": "info@example.com, carol@example.com",
        "subject": "November news \u2014 issue 11",  # RFC 2047 encoded word decoded
    }
    assert alice.action is Action.SUPPRESS and carol.action is Action.RETRY


def test_event_ids_are_stable_and_distinct_per_recipient() -> None:
    first = [r.event_id for r in records("postfix-dsn-two-recipients.eml")]
    again = [r.event_id for r in records("postfix-dsn-two-recipients.eml")]
    assert first == again
    assert len(set(first)) == 2


def test_event_id_without_message_id_uses_the_bytes() -> None:
    raw = (FIXTURES / "dsn-delayed.eml").read_bytes()
    without = raw.replace(b"Message-ID: <20261130081500.77AA@relay.example.net>\n", b"")
    other = without.replace(b"still being retried", b"still being retried!")
    ids = [
        enrich_payload(data, reference_time=REFERENCE_TIME).records[0].event_id
        for data in (raw, without, other)
    ]
    assert len(set(ids)) == 3


def test_prose_bounce_remote_host_and_command() -> None:
    erin, frank = records("exim-two-recipients.eml")
    assert erin.remote_mta == "mx.example.com [192.0.2.10]"
    assert erin.smtp_command == "RCPT TO"
    assert frank.smtp_command == "DATA"
    assert erin.original_message is not None
    assert erin.original_message["message_id"] == "<order-1234@example.org>"
    assert erin.sender == "shop@example.org"  # Return-path of the returned message


def test_report_pasted_below_a_notice_is_the_evidence() -> None:
    # the notice's contact address is not a recipient; the pasted report's fields are used
    (walter,) = records("forwarded-report-iso2022jp.eml")
    assert walter.original_recipient == "sales@example.jp"
    assert walter.sender == "tanaka@example.org"  # X-Postfix-Sender of the pasted report
    assert walter.original_message is not None
    assert walter.original_message["message_id"] == "<quote-2026-11-27@example.org>"
    assert walter.diagnostic is not None and "421 Service not" in walter.diagnostic


def test_exim_generated_from_is_the_original_recipient() -> None:
    # Exim names the alias a router expanded under the failed address; the note is
    # neither part of the diagnostic nor a recipient of its own
    zack, anna = records("exim-generated-from.eml")
    assert zack.original_recipient is None
    assert anna.original_recipient == "info@example.net"
    assert anna.diagnostic == (
        "550 5.1.1 <anna@example.com>: Recipient address rejected: User unknown"
        " (in reply to RCPT TO command)"
    )
    assert anna.remote_mta == "mx.example.com [192.0.2.80]"
    assert anna.original_message is not None
    assert anna.original_message["message_id"] == "<ticket-4411-3@example.org>"


def test_expiry_wording_anywhere_says_the_mta_gave_up() -> None:
    nora, pia, _ = records("ses-bounce-email-expired.eml")
    assert nora.rule_id == "text.expired.queue_lifetime+text.network_error.dns_temporary"
    assert pia.rule_id == "text.expired.queue_lifetime+text.user_unknown.no_such_user"
    assert pia.action is Action.RETRY


def test_localized_notice_cut_before_the_returned_copy() -> None:
    # "--- Kopie der Nachricht ---" starts the returned message: its To: line names no
    # recipient of its own and its headers are the original message
    anton, berta = records("localized-prose-de.eml")
    assert anton.original_message == berta.original_message
    assert anton.original_message == {
        "message_id": "<angebot-2026-11@example.org>",
        "from": "Example Shop <shop@example.org>",
        "to": "anton@example.de, berta@example.de",
        "subject": "Ihr Angebot",
    }
    assert anton.diagnostic is not None and "Kopie" not in anton.diagnostic
    assert berta.diagnostic is not None and "Kopie" not in berta.diagnostic


def test_sender_side_addresses_are_never_recipients() -> None:
    # the qmail notice names the sender in "<alerts@example.org>: Sender address rejected"
    assert [r.recipient for r in records("qmail-prose.eml")] == [
        "grace@example.com",
        "heidi@example.com",
    ]


def test_ses_notification_delivered_by_email() -> None:
    for name in ("ses-sns-email.eml", "ses-sns-email-folded.eml"):
        (record,) = records(name)
        assert record.platform == "ses"
        assert record.platform_classification == "Permanent/General"
        assert (record.recipient, record.verdict, record.reason) == (
            "ursula@example.com", HARD, Reason.USER_UNKNOWN,
        )  # fmt: skip
        assert record.remote_mta == "192.0.2.60"
        assert record.original_message is not None
        assert record.original_message["message_id"] == "<status-7@example.org>"


def test_records_match_the_published_schema() -> None:
    import jsonschema  # type: ignore[import-untyped]
    import orjson

    from processor.record import load_schema, serialize

    schema = load_schema()
    platforms = Path(__file__).resolve().parents[1] / "fixtures" / "platforms"
    for path in [*FIXTURES.glob("*.eml"), *platforms.glob("*.json")]:
        for record in enrich_payload(path.read_bytes(), reference_time=REFERENCE_TIME).records:
            jsonschema.validate(orjson.loads(serialize(record)), schema)


def test_a_suppressed_address_is_suppressed_by_the_report() -> None:
    ines, _ = records("ses-suppression-list.eml")
    assert (ines.rule_id, ines.action) == ("report.suppressed", Action.SUPPRESS)
    assert ines.diagnostic is not None and "suppression list for your account" in ines.diagnostic


def test_other_wording_about_suppression_lists_is_not_a_suppression() -> None:
    # a remote server's own reply mentioning a list is the remote's refusal, read by the rules
    raw = (FIXTURES / "ses-suppression-list.eml").read_bytes()
    raw = raw.replace(b"Amazon SES did not send the message to this address\n because it is on",
                      b"User unknown; this address\n is on")  # fmt: skip
    ines, kurt = records_of(raw)
    assert (ines.reason, ines.verdict) == (Reason.USER_UNKNOWN, HARD)
    assert kurt.reason is Reason.SUPPRESSED


def records_of(raw: bytes) -> list[EnrichedRecord]:
    result = enrich_payload(raw, reference_time=REFERENCE_TIME)
    assert result.errors == [], result.errors
    return result.records
