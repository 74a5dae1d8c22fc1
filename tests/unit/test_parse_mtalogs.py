"""Exim main log and Sendmail lines: fields the tables cannot name, time zones, hostile input.

The classification of each line shape is in ``tests/fixtures/events/exim.yaml`` and
``sendmail.yaml``; here: ``source_format``, diagnostics, event IDs, the source time
zone, the boundary with rsyslog's ISO-stamped Postfix lines, shipper JSON, the
``classify`` command on a mixed file, and input built to break the parsers.
"""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from processor.cli import main
from processor.enrich import enrich_payload
from processor.model import DeliveryEvent, DeliveryStatus, Reason, Verdict
from processor.parse import parse_payload
from processor.parse.exim import is_message_id, parse_exim_message, split_exim
from processor.parse.sendmail import parse_sendmail_message
from processor.parse.syslog import SyslogLine

REFERENCE = 1_796_083_200.0  # 2026-12-01T00:00:00Z

EXIM_BOUNCE = (
    "2026-11-29 10:01:00 1tGa2a-000BcD-12 ** ivan@example.com R=dnslookup T=remote_smtp "
    "H=mx.example.com [192.0.2.10]: SMTP error from remote mail server after "
    "RCPT TO:<ivan@example.com>: 550 5.1.1 User unknown"
)
EXIM_SENT = (
    "2026-11-29 10:00:00 1tGa1b-000AbC-12 => bob@example.com R=dnslookup T=remote_smtp "
    'H=mx.example.com [192.0.2.10] C="250 2.0.0 Ok: queued as 4F3C2A1B9D" DT=2m3s'
)
SENDMAIL_TWO = (
    "Nov 29 11:01:05 mx1 sendmail[3015]: 4ATB15a1003015: to=<judy@example.com>,"
    "<karl@example.com>, delay=00:00:01, xdelay=00:00:01, mailer=esmtp, pri=150620, "
    "relay=mx.example.com. [192.0.2.10], dsn=5.1.1, stat=User unknown"
)
SENDMAIL_GENERIC = (
    "Nov 29 11:01:02 mx1 sendmail[3012]: 4ATB12a1003012: to=<grace@example.com>, "
    "delay=00:00:01, xdelay=00:00:01, mailer=esmtp, pri=120310, "
    "relay=mx.example.com. [192.0.2.10], dsn={dsn}, stat=Service unavailable"
)


def _events(line: str, zone: str | None = None) -> list[DeliveryEvent]:
    parsed = parse_payload(line.encode(), REFERENCE, source_timezone=zone)
    assert parsed.errors == []
    return list(parsed.events)


def test_exim_event_fields() -> None:
    bounce = parse_payload(EXIM_BOUNCE.encode(), REFERENCE).events[0]
    assert bounce.source_format == "exim"
    assert bounce.status is DeliveryStatus.BOUNCED
    assert bounce.diagnostic == (
        "SMTP error from remote mail server after RCPT TO:<ivan@example.com>: "
        "550 5.1.1 User unknown"
    )
    assert bounce.smtp_command == "RCPT TO"
    assert bounce.mta_dsn is None
    assert bounce.identity == EXIM_BOUNCE.encode()
    sent = parse_payload(EXIM_SENT.encode(), REFERENCE).events[0]
    assert sent.status is DeliveryStatus.SENT
    assert sent.diagnostic == "250 2.0.0 Ok: queued as 4F3C2A1B9D"
    assert sent.delay_seconds == 123.0
    assert sent.smtp_command is None


def test_exim_stamp_without_offset_is_read_in_the_source_zone() -> None:
    (event,) = parse_payload(EXIM_BOUNCE.encode(), REFERENCE, source_timezone="Europe/Paris").events
    assert event.event_time == "2026-11-29T09:01:00Z"  # Paris is UTC+1 in November
    with_offset = EXIM_BOUNCE.replace("10:01:00 ", "10:01:00 -0500 ", 1)
    (event,) = parse_payload(with_offset.encode(), REFERENCE, source_timezone="Europe/Paris").events
    assert event.event_time == "2026-11-29T15:01:00Z"  # the line's own offset wins


def test_exim_via_syslog_takes_the_syslog_stamp_read_in_the_source_zone() -> None:
    line = "Nov 29 10:01:00 mx1 exim[2345]: " + EXIM_BOUNCE
    (event,) = parse_payload(line.encode(), REFERENCE, source_timezone="Europe/Paris").events
    assert (event.event_time, event.mta_host, event.queue_id) == (
        "2026-11-29T09:01:00Z",
        "mx1",
        "1tGa2a-000BcD-12",
    )
    assert event.identity == line.encode()


def test_exim_message_ids_of_both_generations() -> None:
    assert is_message_id("1tGa2a-000BcD-12")  # up to 4.96
    assert is_message_id("1tGa2a-0000000BcDe-12ab")  # 4.97 and later, 23 characters
    assert not is_message_id("1tGa2a-000BcD")
    assert not is_message_id("1tGa2a-000BcD-1")
    assert not is_message_id("1tGa2é-000BcD-12")
    assert not is_message_id("4F3C2A1B9D")


def test_rsyslog_iso_space_stamp_postfix_line_is_not_taken_for_exim() -> None:
    line = (
        "2026-11-29 10:00:01 mx1 postfix/smtp[1234]: 4F3C2A1B9D: to=<bob@example.com>, "
        "relay=mx.example.com[192.0.2.10]:25, delay=1.2, delays=0.1/0/0.5/0.6, dsn=5.1.1, "
        "status=bounced (host mx.example.com[192.0.2.10] said: 550 5.1.1 unknown user)"
    )
    assert split_exim(line, None) is None
    (event,) = _events(line)
    assert event.source_format == "postfix"
    facility = line.replace(" mx1 ", " mx1 mail.info ", 1)  # a facility.severity token
    assert split_exim(facility, None) is None
    (event,) = _events(facility)
    assert (event.source_format, event.recipient) == ("postfix", "bob@example.com")


def test_sendmail_recipients_get_distinct_stable_event_ids() -> None:
    first = enrich_payload(SENDMAIL_TWO.encode(), reference_time=REFERENCE)
    again = enrich_payload(SENDMAIL_TWO.encode(), reference_time=REFERENCE)
    assert [r.recipient for r in first.records] == ["judy@example.com", "karl@example.com"]
    assert {r.source_format for r in first.records} == {"sendmail"}
    ids = [r.event_id for r in first.records]
    assert len(set(ids)) == 2
    assert ids == [r.event_id for r in again.records]


def test_sendmail_generic_phrase_is_kept_only_when_dsn_says_nothing_more() -> None:
    (specific,) = parse_payload(SENDMAIL_GENERIC.format(dsn="5.2.2").encode(), REFERENCE).events
    assert specific.diagnostic is None and specific.mta_dsn == "5.2.2"
    (generic,) = parse_payload(SENDMAIL_GENERIC.format(dsn="5.0.0").encode(), REFERENCE).events
    assert generic.diagnostic == "Service unavailable"
    assert generic.status is DeliveryStatus.BOUNCED


def test_sendmail_sent_and_deferred_diagnostics() -> None:
    sent = SENDMAIL_TWO.replace("dsn=5.1.1, stat=User unknown", "dsn=2.0.0, stat=Sent (Ok: id 7)")
    deferred = SENDMAIL_TWO.replace(
        "dsn=5.1.1, stat=User unknown", "dsn=4.0.0, stat=Deferred: Connection reset by peer"
    )
    assert [e.diagnostic for e in parse_payload(sent.encode(), REFERENCE).events] == [
        "Ok: id 7"
    ] * 2
    events = parse_payload(deferred.encode(), REFERENCE).events
    assert [(e.status, e.diagnostic) for e in events] == [
        (DeliveryStatus.DEFERRED, "Connection reset by peer")
    ] * 2


def test_sendmail_quoted_names_and_bare_users_in_to() -> None:
    line = SENDMAIL_TWO.replace(
        "to=<judy@example.com>,<karl@example.com>",
        'to="Judy, Sales" <judy@example.com>,karl,<@relay.example.net:lee@example.com>',
    )
    events = parse_payload(line.encode(), REFERENCE).events
    assert [e.recipient for e in events] == [
        "judy@example.com",
        "karl",
        "@relay.example.net:lee@example.com",
    ]


def test_shipper_json_carries_sendmail_and_exim_syslog_lines() -> None:
    record = {"message": SENDMAIL_TWO.split(": ", 1)[1], "SYSLOG_IDENTIFIER": "sendmail"}
    parsed = parse_payload(orjson.dumps(record), REFERENCE)
    assert parsed.errors == []
    assert [e.recipient for e in parsed.events] == ["judy@example.com", "karl@example.com"]
    exim = {"message": "Nov 29 10:01:00 mx1 exim4[77]: " + EXIM_BOUNCE.split(" ", 2)[2]}
    parsed = parse_payload(orjson.dumps(exim), REFERENCE)
    assert [(e.source_format, e.mta_host) for e in parsed.events] == [("exim", "mx1")]


def test_classify_command_reads_a_mixed_file(tmp_path: Path) -> None:
    log = tmp_path / "mixed.log"
    postfix = (
        "Nov 29 10:00:01 mx1 postfix/smtp[1234]: 4F3C2A1B9D: to=<ann@example.com>, "
        "relay=mx.example.com[192.0.2.10]:25, delay=1.2, delays=0.1/0/0.5/0.6, dsn=2.0.0, "
        "status=sent (250 2.0.0 Ok: queued as 5A6B7C)"
    )
    lines = [postfix, EXIM_SENT, EXIM_BOUNCE, SENDMAIL_TWO, "2026-11-29 10:05:00 Start queue run"]
    log.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["classify", "--summary", str(log)])
    assert result.exit_code == 0, result.output
    records = [orjson.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    assert [(r["source_format"], r["recipient"], r["verdict"]) for r in records] == [
        ("postfix", "ann@example.com", "success"),
        ("exim", "bob@example.com", "success"),
        ("exim", "ivan@example.com", "hard"),
        ("sendmail", "judy@example.com", "hard"),
        ("sendmail", "karl@example.com", "hard"),
    ]
    assert "records: 5  skipped lines: 1  lines with errors: 0" in result.stderr


def test_exim_pipe_transport_failure_is_soft() -> None:
    line = (
        "2026-11-29 10:01:14 1tGa2o-000BcR-de ** |/usr/local/bin/handler <list@example.com> "
        "R=pipe_router T=address_pipe: Child process of address_pipe transport returned 69 "
        "(could mean service or program unavailable) from command: /usr/local/bin/handler"
    )
    (record,) = enrich_payload(line.encode(), reference_time=REFERENCE).records
    assert record.recipient == "list@example.com"
    assert (record.verdict, record.reason) == (Verdict.SOFT, Reason.REMOTE_SYSTEM_ERROR)


# --- hostile input: never an exception, never an internal error --------------------------

HUGE = 1_000_000


def _hostile_lines() -> list[bytes]:
    exim_head = b"2026-11-29 10:00:00 1tGa1b-000AbC-12 "
    sendmail_head = b"Nov 29 11:00:00 mx1 sendmail[1]: 4ATB00a1003001: to="
    return [
        exim_head + b"** " + b"a" * HUGE + b"@example.com: Unrouteable address",
        exim_head + b'=> bob@example.com C="' + b"x " * (HUGE // 2),  # unterminated quote
        exim_head + b"** bob@example.com " + b'"' * HUGE + b": text",
        exim_head + b"** bob@example.com " + b'"a" ' * (HUGE // 4) + b": text",
        exim_head + b"** bob@example.com " + b"<p@example.org> " * (HUGE // 16) + b": x",
        exim_head + b"=> bob@example.com " + b"H=" + b"[" * HUGE,
        exim_head + b"=> bob@example.com DT=" + b"9" * HUGE + b"s",
        exim_head + b"** \xff\xfe\x80@example.com: \xc3\x28 invalid UTF-8",
        b"2026-11-29 10:00:00" + b" " * HUGE,
        b"2026-11-29 10:00:00.\xff\xff\xff 1tGa1b-000AbC-12 ** bob@example.com: x",
        b"2026-11-29 99:99:99 +9999 [1] 1tGa1b-000AbC-12 ** bob@example.com: x",
        sendmail_head + b"<a@example.com>," * (HUGE // 16) + b", stat=User unknown",
        sendmail_head + b'"' + b"a," * (HUGE // 2) + b", dsn=5.1.1, stat=User unknown",
        sendmail_head + b"<a@example.com>, delay=" + b"9" * HUGE + b", stat=Deferred: x",
        sendmail_head + b"<a@example.com>, stat=Sent (" + b"(" * HUGE,
        sendmail_head + b"<\xff@example.com>, dsn=5.1.1, stat=\xc3\x28",
    ]


@pytest.mark.parametrize("index", range(len(_hostile_lines())))
def test_hostile_lines_never_raise(index: int) -> None:
    line = _hostile_lines()[index]
    result = enrich_payload(line, reference_time=REFERENCE)
    assert all(error.error_class != "internal_error" for error in result.errors)
    assert len(result.records) + result.skipped + len(result.errors) >= 1


def test_every_truncation_of_table_lines_is_handled() -> None:
    """Each prefix of an Exim and a Sendmail line parses, is skipped, or is a line error."""
    for line in (EXIM_BOUNCE, EXIM_SENT, SENDMAIL_TWO):
        for end in range(1, len(line) + 1):
            result = parse_payload(line[:end].encode(), REFERENCE)
            assert all(e.error_class != "internal_error" for e in result.errors), line[:end]
            assert len(result.events) + result.skipped + len(result.errors) >= 1, line[:end]


_TAIL = st.text(
    alphabet=st.sampled_from(list(' "<>:=@[](),.-*+|abcAB019\\xff\u00e9')), max_size=200
)


@settings(max_examples=400, deadline=None)
@given(flag=st.sampled_from(["=>", "->", "*>", "**", "==", "<=", ""]), tail=_TAIL)
def test_any_exim_delivery_text_parses_or_is_skipped(flag: str, tail: str) -> None:
    message = f"1tGa2a-000BcD-12 {flag} {tail}"
    event = parse_exim_message(message, None, b"x")
    if event is not None:
        assert event.source_format == "exim" and event.queue_id == "1tGa2a-000BcD-12"
        assert event.recipient is None or " " not in event.recipient or '"' in event.recipient
    line = split_exim("2026-11-29 10:00:00" + tail, "Europe/Paris")
    assert line is None or isinstance(line.message, str)


@settings(max_examples=400, deadline=None)
@given(tail=_TAIL)
def test_any_sendmail_to_line_parses_or_is_skipped(tail: str) -> None:
    split = SyslogLine(None, "mx1", "sendmail", "1", "4ATB00a1003001: to=" + tail)
    for event in parse_sendmail_message(split, b"x"):
        assert event.source_format == "sendmail" and event.queue_id == "4ATB00a1003001"
        assert event.status in {
            DeliveryStatus.SENT,
            DeliveryStatus.DEFERRED,
            DeliveryStatus.BOUNCED,
        }
