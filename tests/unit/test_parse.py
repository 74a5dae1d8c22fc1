"""Payload parsing: syslog prefixes, Postfix lines (fast and general path), shipper JSON, generic events."""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, datetime

import jsonschema
import orjson
import pytest

from processor.errors import InvalidJSONError
from processor.model import DeliveryStatus
from processor.parse import parse_payload
from processor.parse.postfix import parse_postfix_message
from processor.parse.postfix_fast import parse_delivery_line_fast
from processor.parse.syslog import resolve_year, split_syslog
from processor.record import load_schema

DAY = datetime(2026, 11, 30, tzinfo=UTC).timestamp()
NEW_YEAR = datetime(2027, 1, 1, 0, 5, tzinfo=UTC).timestamp()

BODY = (
    "4F3C2A1B9D: to=<alice@example.com>, orig_to=<info@example.com>, "
    "relay=mx.example.com[192.0.2.10]:25, delay=0.52, delays=0.1/0/0.2/0.22, dsn=5.1.1, "
    "status=bounced (host mx.example.com[192.0.2.10] said: 550 5.1.1 <alice@example.com>: "
    "User unknown (in reply to RCPT TO command))"
)


@pytest.mark.parametrize(
    ("line", "timestamp", "host", "program", "pid"),
    [
        (
            f"Nov 29 10:00:01 mx1 postfix/smtp[1234]: {BODY}",
            "2026-11-29T10:00:01Z",
            "mx1",
            "postfix/smtp",
            "1234",
        ),
        (
            f"Nov  9 10:00:01 mx1 postfix/smtp[1234]: {BODY}",
            "2026-11-09T10:00:01Z",
            "mx1",
            "postfix/smtp",
            "1234",
        ),
        (
            f"<22>Nov 29 10:00:01 mx1 postfix/smtp[1]: {BODY}",
            "2026-11-29T10:00:01Z",
            "mx1",
            "postfix/smtp",
            "1",
        ),
        (
            f"Nov 29 2025 10:00:01 mx1 postfix/smtp[1]: {BODY}",
            "2025-11-29T10:00:01Z",
            "mx1",
            "postfix/smtp",
            "1",
        ),
        (
            f"2025 Nov 29 10:00:01 mx1 postfix/smtp[1]: {BODY}",
            "2025-11-29T10:00:01Z",
            "mx1",
            "postfix/smtp",
            "1",
        ),
        (
            f"2026-11-29T10:00:01.123456+01:00 mx1 postfix-out/smtp[7]: {BODY}",
            "2026-11-29T09:00:01.123456Z",
            "mx1",
            "postfix-out/smtp",
            "7",
        ),
        (
            f"2026-11-29T10:00:01 mx1 postfix/submission/smtp[7]: {BODY}",
            "2026-11-29T10:00:01Z",
            "mx1",
            "postfix/submission/smtp",
            "7",
        ),
        (
            f"<22>1 2026-11-29T10:00:01.5Z mx1.example.net postfix/smtp 1234 - - {BODY}",
            "2026-11-29T10:00:01.5Z",
            "mx1.example.net",
            "postfix/smtp",
            "1234",
        ),
        (
            f'<22>1 2026-11-29T10:00:01Z mx1 postfix/smtp 1234 ID47 [meta x="1 2"] {BODY}',
            "2026-11-29T10:00:01Z",
            "mx1",
            "postfix/smtp",
            "1234",
        ),
        (f"postfix/smtp[1234]: {BODY}", None, None, "postfix/smtp", "1234"),
    ],
)
def test_syslog_prefixes(
    line: str, timestamp: str | None, host: str | None, program: str, pid: str
) -> None:
    split = split_syslog(line, DAY)
    assert split is not None
    assert (split.timestamp, split.host, split.program, split.pid) == (
        timestamp,
        host,
        program,
        pid,
    )
    assert split.message == BODY


def test_year_resolution_around_new_year() -> None:
    # A Dec 31 line read on Jan 1 belongs to the previous year; a line one day
    # "ahead" of the reference (clock skew) stays in the reference year.
    assert resolve_year(12, 31, 86_399, NEW_YEAR) == 2026
    assert resolve_year(1, 1, 0, NEW_YEAR) == 2027
    assert resolve_year(1, 2, 300, NEW_YEAR) == 2027  # exactly one day after the reference
    assert resolve_year(1, 2, 301, NEW_YEAR) == 2026  # a second more: last year's
    assert resolve_year(1, 3, 0, NEW_YEAR) == 2026
    late_dec_31 = datetime(2026, 12, 31, 23, 59, tzinfo=UTC).timestamp()
    assert resolve_year(1, 1, 5, late_dec_31) == 2027  # read just before midnight: next year's
    assert resolve_year(2, 29, 0, NEW_YEAR) == 2024  # the last leap year
    split = split_syslog(f"Dec 31 23:59:59 mx1 postfix/smtp[1]: {BODY}", NEW_YEAR)
    assert split is not None and split.timestamp == "2026-12-31T23:59:59Z"


@pytest.mark.parametrize(
    "line", ["Foo 29 10:00:01 mx1 x[1]: y", "Nov 29 10-00-01 mx1 x[1]: y", "garbage"]
)
def test_unrecognised_prefix(line: str) -> None:
    assert split_syslog(line, DAY) is None


@pytest.mark.parametrize("stamp", ["Nov 29 25:00:01", "Nov 31 10:00:01", "Feb 30 10:00:01"])
def test_impossible_dates_keep_the_line_without_a_time(stamp: str) -> None:
    # Same outcome on the general path and on the fast path: the event, no event_time.
    split = split_syslog(f"{stamp} mx1 postfix/smtp[1]: {BODY}", DAY)
    assert split is not None and (split.timestamp, split.program) == (None, "postfix/smtp")
    (event,) = parse_payload(f"{stamp} mx1 postfix/smtp[1]: {BODY}".encode(), DAY).events
    assert (event.event_time, event.recipient) == (None, "alice@example.com")


def test_custom_syslog_name_is_postfix() -> None:
    line = f"Nov 29 10:00:01 mx1 mta-out/smtp[1]: {BODY}"
    (event,) = parse_payload(line.encode(), DAY).events
    assert (event.mta_daemon, event.recipient) == ("mta-out/smtp", "alice@example.com")


DELIVERY_LINES = [
    f"Nov 29 10:00:01 mx1 postfix/smtp[1234]: {BODY}",
    "Nov 29 10:00:02 mx1 postfix/smtp[1]: 5A3C2A1B9D: to=<bob@example.net>, relay=mx.example.net[192.0.2.20]:25, "
    "conn_use=2, delay=1.1, delays=0.1/0/0.5/0.5, dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as 8B7C6D5E4F)",
    "Nov 29 10:00:03 mx1 postfix/lmtp[9]: 6B3C2A1B9D: to=<carol@example.org>, relay=mail.example.org[private/dovecot-lmtp], "
    "delay=0.1, delays=0/0/0/0.1, dsn=4.2.2, status=deferred (host mail.example.org[private/dovecot-lmtp] said: "
    "452 4.2.2 <carol@example.org> Quota exceeded (mailbox for user is full) (in reply to RCPT TO command))",
    "Nov 29 10:00:04 mx1 postfix/discard[9]: 7C3C2A1B9D: to=<dave@example.com>, relay=none, delay=0.1, "
    "delays=0/0/0/0.1, dsn=2.0.0, status=sent (example.com)",
    "Nov 29 10:00:05 mx1 postfix/smtp[9]: 8D3C2A1B9D: to=<erin@example.com>, relay=mx.example.com[192.0.2.10]:25, "
    "delay=0.3, delays=0/0/0.1/0.2, dsn=2.1.5, status=deliverable (250 2.1.5 Ok)",
    "Nov 29 10:00:06 mx1 postfix/smtp[9]: 9E3C2A1B9D: to=<frank@example.com>, relay=mx.example.com[192.0.2.10]:25, "
    "delay=0.3, delays=0/0/0.1/0.2, dsn=4.1.1, status=SOFTBOUNCE (host mx.example.com[192.0.2.10] said: 550 5.1.1 "
    "<frank@example.com>: User unknown (in reply to RCPT TO command))",
    "Nov 29 10:00:07 mx1 postfix/error[9]: AF3C2A1B9D: to=<gina@example.com>, relay=none, delay=9, "
    "delays=9/0/0/0, dsn=4.4.1, status=deferred (delivery temporarily suspended: connect to "
    "mx.example.com[192.0.2.10]:25: Connection refused)",
    "Nov 29 10:00:08 mx1 postfix/local[9]: BF3C2A1B9D: to=<hank@mx1.example.com>, orig_to=<root>, relay=local, "
    'delay=0.01, delays=0/0/0/0, dsn=5.1.1, status=bounced (unknown user: "hank")',
]


@pytest.mark.parametrize("line", DELIVERY_LINES)
def test_fast_path_equals_general_path(line: str) -> None:
    raw = line.encode()
    fast = parse_delivery_line_fast(line, raw, DAY)
    split = split_syslog(line, DAY)
    assert fast is not None and split is not None
    general = parse_postfix_message(split, raw)
    assert general is not None
    assert asdict(fast) == asdict(general)


def test_delivery_fields() -> None:
    event = parse_payload(DELIVERY_LINES[0].encode(), DAY).events[0]
    assert event.recipient == "alice@example.com"
    assert event.original_recipient == "info@example.com"
    assert event.queue_id == "4F3C2A1B9D"
    assert event.relay == "mx.example.com[192.0.2.10]:25"
    assert event.delay_seconds == 0.52
    assert event.delays == "0.1/0/0.2/0.22"
    assert event.mta_dsn == "5.1.1"
    assert event.status is DeliveryStatus.BOUNCED
    assert event.diagnostic is not None and event.diagnostic.endswith(
        "(in reply to RCPT TO command)"
    )


def test_statuses_of_special_daemons() -> None:
    statuses = [parse_payload(line.encode(), DAY).events[0].status for line in DELIVERY_LINES[3:6]]
    assert statuses == [
        DeliveryStatus.DISCARDED,
        DeliveryStatus.DELIVERABLE,
        DeliveryStatus.SOFTBOUNCE,
    ]
    assert parse_payload(DELIVERY_LINES[4].encode(), DAY).events[0].probe is True


def test_address_with_comma_space_takes_general_path() -> None:
    line = (
        'Nov 29 10:00:01 mx1 postfix/smtp[1]: 4F3C2A1B9D: to=<"doe, john"@example.com>, '
        "relay=none, delay=1, delays=0/0/1/0, dsn=5.1.1, status=bounced (unknown user)"
    )
    event = parse_payload(line.encode(), DAY).events[0]
    assert event.recipient == '"doe, john"@example.com'
    assert event.relay == "none"


def test_qmgr_expired_and_cleanup_discard() -> None:
    payload = (
        b"Nov 29 10:00:01 mx1 postfix/qmgr[2]: 4F3C2A1B9D: from=<news@example.org>, status=expired, returned to sender\n"
        b"Nov 29 10:00:01 mx1 postfix/qmgr[2]: 4F3C2A1B9D: from=<news@example.org>, size=1234, nrcpt=1 (queue active)\n"
        b"Nov 29 10:00:02 mx1 postfix/cleanup[3]: 5A3C2A1B9D: discard: header Subject: win big from "
        b"client.example.net[198.51.100.7]; from=<a@example.net> to=<b@example.com> proto=ESMTP "
        b"helo=<client.example.net>: lottery spam\n"
    )
    parsed = parse_payload(payload, DAY)
    assert parsed.skipped == 1 and not parsed.errors
    expired, discarded = parsed.events
    assert (expired.status, expired.recipient, expired.sender) == (
        DeliveryStatus.EXPIRED,
        None,
        "news@example.org",
    )
    assert (discarded.status, discarded.recipient, discarded.sender) == (
        DeliveryStatus.DISCARDED,
        "b@example.com",
        "a@example.net",
    )
    assert discarded.diagnostic == "lottery spam"


NOISE = [
    b"Nov 29 10:00:01 mx1 postfix/smtpd[1]: connect from client.example.net[198.51.100.7]",
    b"Nov 29 10:00:01 mx1 postfix/smtpd[1]: NOQUEUE: reject: RCPT from x[198.51.100.7]: 554 5.7.1 <a@example.com>: Relay access denied; from=<b@example.net> to=<a@example.com> proto=ESMTP helo=<x>",
    b"Nov 29 10:00:01 mx1 postfix/cleanup[2]: 4F3C2A1B9D: message-id=<1@example.org>",
    b"Nov 29 10:00:01 mx1 postfix/qmgr[3]: 4F3C2A1B9D: removed",
    b"Nov 29 10:00:01 mx1 postfix/bounce[4]: 4F3C2A1B9D: sender non-delivery notification: 5A3C2A1B9D",
    b"Nov 29 10:00:01 mx1 postfix/smtp[5]: warning: TLS library problem: error",
    b"Nov 29 10:00:01 mx1 postfix/smtp[5]: connect to mx.example.com[192.0.2.10]:25: Connection refused",
    b"Nov 29 10:00:01 mx1 sshd[6]: Accepted publickey for root",
    b"Nov 29 10:00:01 mx1 dovecot: lmtp(alice)<1><x>: saved mail to INBOX",
]


@pytest.mark.parametrize("line", NOISE)
def test_non_delivery_lines_are_skipped(line: bytes) -> None:
    parsed = parse_payload(line, DAY)
    assert (len(parsed.events), parsed.skipped, parsed.errors) == (0, 1, [])


def test_several_lines_in_one_payload() -> None:
    payload = (
        b"\n".join(
            [DELIVERY_LINES[0].encode(), NOISE[0], DELIVERY_LINES[1].encode(), b"", NOISE[2]]
        )
        + b"\n"
    )
    parsed = parse_payload(payload, DAY)
    assert [e.recipient for e in parsed.events] == ["alice@example.com", "bob@example.net"]
    assert parsed.skipped == 2


@pytest.mark.parametrize(
    "document",
    [
        {
            "message": DELIVERY_LINES[0],
            "@timestamp": "2026-11-29T10:00:09.000Z",
            "host": {"name": "mx1"},
        },
        {"log": DELIVERY_LINES[0] + "\n", "stream": "stdout", "time": "2026-11-29T10:00:09Z"},
        {
            "MESSAGE": BODY,
            "SYSLOG_IDENTIFIER": "postfix/smtp",
            "_PID": "1234",
            "_HOSTNAME": "mx1",
            "__REALTIME_TIMESTAMP": "1795946401000000",
        },
    ],
)
def test_shipper_records(document: dict[str, object]) -> None:
    parsed = parse_payload(orjson.dumps(document), DAY)
    assert not parsed.errors
    (event,) = parsed.events
    assert event.recipient == "alice@example.com"
    assert event.mta_host == "mx1"
    assert event.status is DeliveryStatus.BOUNCED
    assert event.event_time in ("2026-11-29T10:00:01Z", "2026-11-29T10:00:01Z")


def test_journald_time_comes_from_the_record() -> None:
    document = {
        "MESSAGE": BODY,
        "SYSLOG_IDENTIFIER": "postfix/smtp",
        "_PID": "1",
        "__REALTIME_TIMESTAMP": "1795946401000000",
    }
    (event,) = parse_payload(orjson.dumps(document), DAY).events
    assert event.event_time == "2026-11-29T10:00:01Z"


def test_generic_events() -> None:
    payload = orjson.dumps(
        [
            {
                "recipient": "a@example.com",
                "status": "Bounced",
                "enhanced_status": "5.1.1",
                "reply_code": "550",
                "diagnostic": "smtp; 550 5.1.1 user unknown",
                "timestamp": "2026-11-29T10:00:01+01:00",
            },
            {
                "recipients": ["b@example.com", "c@example.com"],
                "status": "deferred",
                "timestamp": 1795946401000,
            },
        ]
    )
    parsed = parse_payload(payload, DAY)
    assert not parsed.errors
    first, second, third = parsed.events
    assert (first.status, first.reply_code, first.enhanced_code, first.event_time) == (
        DeliveryStatus.BOUNCED,
        550,
        "5.1.1",
        "2026-11-29T09:00:01Z",
    )
    assert [second.recipient, third.recipient] == ["b@example.com", "c@example.com"]
    assert second.event_time == "2026-11-29T10:00:01Z"
    assert second.identity != third.identity


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ({"recipient": 5}, "field 'recipient' must be a string"),
        ({"recipient": "a@example.com", "status": "exploded"}, "field 'status' is 'exploded'"),
        ({"recipient": "a@example.com", "reply_code": 700}, "field 'reply_code'"),
        ({"recipient": "a@example.com", "reply_code": True}, "field 'reply_code'"),
        ({"recipient": "a@example.com", "enhanced_status": "9.9.9"}, "field 'enhanced_status'"),
        ({"recipient": "a@example.com", "timestamp": "yesterday"}, "field 'timestamp'"),
        ({"recipients": []}, "field 'recipients'"),
        ({"recipients": ["a@example.com", 3]}, "field 'recipients'"),
        ({"hello": "world"}, "neither a delivery event"),
    ],
)
def test_generic_event_errors_agree_with_schema(document: dict[str, object], message: str) -> None:
    parsed = parse_payload(orjson.dumps(document), DAY)
    assert parsed.events == []
    (error,) = parsed.errors
    assert error.error_class == "invalid_event"
    assert message in error.message
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(document, load_schema("delivery-event.v1.json"))


def test_valid_generic_events_pass_the_schema() -> None:
    schema = load_schema("delivery-event.v1.json")
    for document in (
        {"recipient": "a@example.com"},
        {"recipient": "a@example.com", "status": "SENT", "reply_code": 250, "timestamp": 1.5},
        {"recipients": ["a@example.com"], "enhanced_status": "#5.1.1", "diagnostic": None},
    ):
        jsonschema.validate(document, schema)
        assert not parse_payload(orjson.dumps(document), DAY).errors


def test_invalid_json_payload_raises() -> None:
    with pytest.raises(InvalidJSONError):
        parse_payload(b'{"recipient": ', DAY)


def test_invalid_json_line_among_lines_is_a_line_error() -> None:
    parsed = parse_payload(DELIVERY_LINES[0].encode() + b'\n{"bad\n', DAY)
    assert len(parsed.events) == 1
    assert [(e.line_number, e.error_class) for e in parsed.errors] == [(2, "invalid_json")]


def test_pretty_printed_json_document() -> None:
    payload = orjson.dumps(
        {"recipient": "a@example.com", "status": "sent"}, option=orjson.OPT_INDENT_2
    )
    assert [e.recipient for e in parse_payload(payload, DAY).events] == ["a@example.com"]


def test_invalid_utf8_and_nul_bytes() -> None:
    line = (
        DELIVERY_LINES[0]
        .replace("User unknown", "User \udcff unknown")
        .encode("utf-8", "surrogateescape")
    )
    (event,) = parse_payload(line.replace(b"User", b"Us\x00er", 1), DAY).events
    assert (
        event.diagnostic is not None and "\ufffd" in event.diagnostic and "\x00" in event.diagnostic
    )


@pytest.mark.parametrize("delay", ["1.2.3", ".", "", "1e999", "-1"])
def test_malformed_delay_spoils_nothing(delay: str) -> None:
    bad = DELIVERY_LINES[0].replace("delay=0.52", f"delay={delay}")
    parsed = parse_payload((bad + "\n" + DELIVERY_LINES[1]).encode(), DAY)
    assert not parsed.errors
    assert [e.recipient for e in parsed.events] == ["alice@example.com", "bob@example.net"]
    assert parsed.events[0].delay_seconds is None


def test_an_unexpected_error_on_one_line_keeps_the_others(monkeypatch: pytest.MonkeyPatch) -> None:
    import processor.parse as parse_module

    real = parse_module.parse_postfix_message

    def explode_on_bob(split, identity):  # type: ignore[no-untyped-def]
        if b"bob@" in identity:
            raise RuntimeError("boom")
        return real(split, identity)

    monkeypatch.setattr(parse_module, "parse_postfix_message", explode_on_bob)
    monkeypatch.setattr(parse_module, "parse_delivery_line_fast", lambda *args: None)
    parsed = parse_payload((DELIVERY_LINES[0] + "\n" + DELIVERY_LINES[1]).encode(), DAY)
    assert [e.recipient for e in parsed.events] == ["alice@example.com"]
    assert [(e.line_number, e.error_class, e.message) for e in parsed.errors] == [
        (2, "internal_error", "RuntimeError: boom")
    ]


@pytest.mark.parametrize(
    "document",
    [
        # Vector parse_syslog output
        {
            "appname": "postfix/smtp",
            "hostname": "mx1",
            "procid": 1234,
            "message": BODY,
            "timestamp": "2026-11-29T10:00:01Z",
            "facility": "mail",
            "severity": "info",
        },
        # Fluent Bit syslog parser output
        {
            "ident": "postfix/smtp",
            "host": "mx1",
            "pid": "1234",
            "message": BODY,
            "time": "2026-11-29T10:00:01Z",
        },
    ],
)
def test_shipper_records_already_split(document: dict[str, object]) -> None:
    parsed = parse_payload(orjson.dumps(document), DAY)
    assert not parsed.errors
    (event,) = parsed.events
    assert (event.recipient, event.mta_host, event.mta_daemon, event.event_time) == (
        "alice@example.com",
        "mx1",
        "postfix/smtp",
        "2026-11-29T10:00:01Z",
    )
