"""Enrichment: records, event ids, schema contract, library API, the classify command."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import jsonschema
import orjson
import pytest
from click.testing import CliRunner

from processor import classify
from processor.cli import main
from processor.enrich import MAX_DIAGNOSTIC_CHARS, enrich_payload
from processor.errors import PayloadError, PayloadTooLargeError
from processor.record import load_schema, record_key, serialize

REFERENCE = 1_796_000_000.0  # 2026-11-30
BOUNCE = (
    b"Nov 29 10:00:01 mx1 postfix/smtp[1234]: 4F3C2A1B9D: to=<Alice@Example.COM>, "
    b"relay=mx.example.com[192.0.2.10]:25, delay=0.52, delays=0.1/0/0.2/0.22, dsn=5.1.1, "
    b"status=bounced (host mx.example.com[192.0.2.10] said: 550 5.1.1 <Alice@Example.COM>: "
    b"Recipient address rejected: User unknown in virtual mailbox table (in reply to RCPT TO command))"
)
SENT = (
    b"Nov 29 10:00:02 mx1 postfix/smtp[1234]: 5A3C2A1B9D: to=<bob@example.net>, "
    b"relay=mx.example.net[192.0.2.20]:25, delay=1.1, delays=0.1/0/0.5/0.5, dsn=2.0.0, "
    b"status=sent (250 2.0.0 Ok: queued as 8B7C6D5E4F)"
)


def test_record_fields_and_meanings() -> None:
    (record,) = enrich_payload(BOUNCE, reference_time=REFERENCE).records
    assert record.recipient == "Alice@Example.COM"
    assert record.recipient_domain == "example.com"
    assert record.event_time == "2026-11-29T10:00:01Z"
    assert record.enhanced_status is not None
    assert (record.enhanced_status.code, record.enhanced_status.detail_title) == (
        "5.1.1",
        "Bad destination mailbox address",
    )
    assert record.enhanced_status.class_title == "Permanent Failure"
    assert record.reply_code is not None
    assert (record.reply_code.code, record.reply_code.group) == (
        550,
        "Permanent Negative Completion",
    )
    assert (record.verdict.value, record.reason.value, record.action.value) == (
        "hard",
        "user_unknown",
        "suppress",
    )
    assert record.smtp_command == "RCPT TO"
    assert record_key(record) == b"alice@example.com"


def test_event_id_is_deterministic_and_distinct() -> None:
    first = enrich_payload(BOUNCE, reference_time=REFERENCE).records[0].event_id
    again = enrich_payload(BOUNCE, reference_time=REFERENCE + 3600).records[0].event_id
    other = enrich_payload(SENT, reference_time=REFERENCE).records[0].event_id
    assert first == again != other
    assert len(first) == 32 and int(first, 16) >= 0


def test_records_validate_against_the_published_schema() -> None:
    schema = load_schema()
    payloads = [
        BOUNCE,
        SENT,
        b"Nov 29 10:00:05 mx1 postfix/qmgr[99]: 8D3C2A1B9D: from=<>, status=expired, returned to sender",
        orjson.dumps(
            {
                "recipients": ["a@example.com", "b@example.org"],
                "status": "deferred",
                "diagnostic": "451 4.7.1 Greylisted",
            }
        ),
        orjson.dumps(
            {"recipient": "c@example.com", "reply_code": 552, "enhanced_status": "5.7.606"}
        ),
        orjson.dumps({"message": SENT.decode(), "host": "mx9"}),
    ]
    count = 0
    for payload in payloads:
        for record in enrich_payload(payload, reference_time=REFERENCE).records:
            jsonschema.validate(orjson.loads(serialize(record)), schema)
            count += 1
    assert count == 7


def test_diagnostic_is_bounded() -> None:
    payload = orjson.dumps(
        {
            "recipient": "a@example.com",
            "status": "bounced",
            "diagnostic": "550 5.1.1 " + "x" * 50_000,
        }
    )
    (record,) = enrich_payload(payload).records
    assert record.diagnostic is not None
    assert len(record.diagnostic) == MAX_DIAGNOSTIC_CHARS + len(" [truncated]")


def test_payload_size_limit() -> None:
    with pytest.raises(PayloadTooLargeError, match="exceeds the limit of 100 bytes"):
        enrich_payload(b"x" * 101, max_bytes=100)


def test_library_classify() -> None:
    records = classify(BOUNCE.decode() + "\n" + SENT.decode(), reference_time=REFERENCE)
    assert [(r.verdict.value, r.reason.value) for r in records] == [
        ("hard", "user_unknown"),
        ("success", "delivered"),
    ]
    with pytest.raises(PayloadError, match="line 2") as raised:
        classify(SENT + b"\nnot a log line")
    assert raised.value.error_class == "invalid_event"


def test_core_does_not_import_kafka() -> None:
    code = "import sys, processor; processor.classify; import processor.enrich; print('confluent_kafka' in sys.modules)"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "False"


def test_classify_command(tmp_path: Path) -> None:
    log = tmp_path / "mail.log"
    log.write_bytes(
        BOUNCE
        + b"\n"
        + SENT
        + b"\nNov 29 10:00:03 mx1 postfix/smtpd[1]: connect from x[192.0.2.9]\n"
    )
    result = CliRunner().invoke(
        main, ["classify", "--summary", "--reference-time", "2026-11-30", str(log)]
    )
    assert result.exit_code == 0, result.output
    lines = [line for line in result.stdout.splitlines() if line.startswith("{")]
    assert [orjson.loads(line)["verdict"] for line in lines] == ["hard", "success"]
    assert "records: 2  skipped lines: 1  lines with errors: 0" in result.stderr


def test_classify_command_reports_bad_lines_safely(tmp_path: Path) -> None:
    log = tmp_path / "bad.log"
    log.write_bytes(b'{"recipient": 5}\nbad \x1b[31mred\x1b[0m line\n')
    result = CliRunner().invoke(main, ["classify", str(log)])
    assert result.exit_code == 1
    assert "bad.log:1: invalid_event: field 'recipient' must be a string" in result.stderr
    assert (
        "\x1b" not in result.stderr and "\\x1b[31mred" not in result.stderr
    )  # error names no raw text
    assert "bad.log:2: invalid_event" in result.stderr


def test_classify_command_rejects_bad_policy(tmp_path: Path) -> None:
    policy = tmp_path / "p.toml"
    policy.write_text('profile = "nope"')
    result = CliRunner().invoke(main, ["classify", "--policy", str(policy)], input=SENT)
    assert result.exit_code == 2
    assert "profile = 'nope'" in result.output


def test_explain_command() -> None:
    result = CliRunner().invoke(main, ["explain", "5.7.26", "550", "5.7.606"])
    assert result.exit_code == 0
    assert "Multiple authentication checks failed" in result.output
    assert "Permanent Negative Completion" in result.output
    assert "not in the IANA registry" in result.output


def test_classify_command_reads_a_pretty_printed_json_document_whole(tmp_path: Path) -> None:
    # A platform notification saved as written (over several lines) is one payload; JSON
    # Lines (a whole document per line) stay one payload per line.
    notice = tmp_path / "ses.json"
    notice.write_bytes(
        b'{\n  "notificationType": "Bounce",\n  "mail": {"messageId": "m-1", '
        b'"source": "news@example.org", "destination": ["ana@example.com"]},\n'
        b'  "bounce": {"bounceType": "Permanent", "bounceSubType": "General",\n'
        b'    "bouncedRecipients": [{"emailAddress": "ana@example.com", "action": "failed",\n'
        b'      "status": "5.1.1", "diagnosticCode": "smtp; 550 5.1.1 user unknown"}],\n'
        b'    "timestamp": "2026-11-29T10:00:00.000Z"}\n}\n'
    )
    lines = tmp_path / "events.jsonl"
    lines.write_bytes(
        b'{"recipient": "bea@example.com", "status": "bounced", "enhanced_status": "5.1.1"}\n'
        b'{"recipient": "cem@example.com", "status": "sent"}\n'
    )
    for path, expected in (
        (notice, ["ana@example.com"]),
        (lines, ["bea@example.com", "cem@example.com"]),
    ):
        result = CliRunner().invoke(main, ["classify", str(path)])
        assert result.exit_code == 0, result.output
        records = [
            orjson.loads(line) for line in result.stdout.splitlines() if line.startswith("{")
        ]
        assert [r["recipient"] for r in records] == expected
