"""Log-line prefixes of containers, journalctl modes and syslog templates.

Each prefixed line must give the record its plain RFC 3164 line gives (recipient, codes,
verdict, reason, rule, every other field); only ``event_time`` (from the prefix's own
stamp when it is the better one), ``mta_host`` (absent from a bare line) and ``event_id``
(a hash of the raw line) may differ. Formats, from their documentation:

- Kubernetes CRI log lines: ``<RFC 3339 nano> <stdout|stderr> <F|P>[:tags] <content>``
  (Kubernetes "CRI logging" design; ``k8s.io/cri-api`` ``LogTagPartial`` ``P``,
  ``LogTagFull`` ``F``, ``LogTagDelimiter`` ``:``);
- ``docker logs --timestamps`` (RFC3339NanoFixed) / ``kubectl logs --timestamps``
  (RFC3339Nano, trailing zeros dropped): ``<stamp> <line>``;
- ``journalctl(1)`` OUTPUT FORMATS: ``short-iso`` (``+0000``), ``short-iso-precise``,
  ``short-precise``, ``short-full`` (``%a %Y-%m-%d %H:%M:%S %Z``), ``short-unix``;
- RFC 5424 §6.2.1 facility and severity names (syslog.conf(5) spellings) after the host.

Europe/Paris: CET (UTC+1) in winter, CEST (UTC+2) from 2026-03-29 to 2026-10-25; 02:30 on
2026-10-25 happens twice, first in CEST (00:30Z) then in CET (01:30Z).
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from processor.enrich import enrich_payload
from processor.model import EnrichedRecord
from processor.parse import parse_payload
from processor.parse.container import (
    CONTENT_MESSAGE,
    NOT_A_LINE_MESSAGE,
    PARTIAL_LINE_MESSAGE,
    join_partial_lines,
)
from processor.parse.stamps import epoch_timestamp, zoned_wall_time
from processor.parse.syslog import split_syslog

REFERENCE = datetime(2026, 11, 30, tzinfo=UTC).timestamp()
MESSAGE = (
    "7C2D9E4F1A: to=<vera@example.com>, relay=mx.example.com[192.0.2.10]:25, delay=0.6, "
    "delays=0.02/0/0.3/0.28, dsn=5.1.1, status=bounced (host mx.example.com[192.0.2.10] "
    "said: 550 5.1.1 <vera@example.com>: Recipient address rejected: User unknown in local "
    "recipient table (in reply to RCPT TO command))"
)
TAG = "postfix/smtp[3141]:"
BARE = f"{TAG} {MESSAGE}"
PLAIN = f"Nov 29 10:00:01 mx1 {BARE}"
PLAIN_TIME = "2026-11-29T10:00:01Z"
#: Fields a prefix may change; every other record field must equal the plain line's.
PREFIX_FIELDS = {"event_time", "mta_host", "event_id"}


def _record(line: str, zone: str | None = None) -> EnrichedRecord:
    result = enrich_payload(line.encode(), reference_time=REFERENCE, source_timezone=zone)
    assert result.errors == [], line
    (record,) = result.records
    return record


def _without_prefix_fields(record: EnrichedRecord) -> dict[str, Any]:
    return {k: v for k, v in asdict(record).items() if k not in PREFIX_FIELDS}


# (line, event_time, mta_host): the prefix shapes of the brief, each around the same message.
SHAPES = [
    # CRI, full line, RFC 3164 content (postlog to /dev/stdout), nanoseconds truncated
    (f"2026-11-29T10:00:00.123456789Z stdout F {PLAIN}", "2026-11-29T10:00:00.123456Z", "mx1"),
    (f"2026-11-29T10:00:00.999999999Z stderr F {PLAIN}", "2026-11-29T10:00:00.999999Z", "mx1"),
    # CRI, extra tags after F are ignored (only the first tag has a meaning)
    (f"2026-11-29T10:00:00.5Z stdout F:x {PLAIN}", "2026-11-29T10:00:00.5Z", "mx1"),
    # CRI with a bare Postfix line: no host
    (f"2026-11-29T10:00:00Z stdout F {BARE}", "2026-11-29T10:00:00Z", None),
    # CRI with the node's offset; RFC 5424 content (the runtime's time still wins)
    (
        f"2026-11-29T11:00:00.25+01:00 stdout F <22>1 2026-11-29T10:00:01Z mx2 postfix/smtp "
        f"3141 - - {MESSAGE}",
        "2026-11-29T10:00:00.25Z",
        "mx2",
    ),
    # docker --timestamps (9 fixed digits) and kubectl --timestamps (trimmed)
    (f"2026-11-29T10:00:00.120000000Z {PLAIN}", "2026-11-29T10:00:00.12Z", "mx1"),
    (f"2026-11-29T10:00:00.12Z {BARE}", "2026-11-29T10:00:00.12Z", None),
    (f"2026-11-29T10:00:00.12Z <22>{PLAIN}", "2026-11-29T10:00:00.12Z", "mx1"),
    (f"2026-11-29T10:00:00.12Z 2026 Nov 29 10:00:01 mx1 {BARE}", "2026-11-29T10:00:00.12Z", "mx1"),
    # facility.severity after the host
    (f"Nov 29 10:00:01 mx1 mail.info {BARE}", PLAIN_TIME, "mx1"),
    (f"Nov 29 10:00:01 mx1 mail.warning {BARE}", PLAIN_TIME, "mx1"),
    (f"Nov 29 10:00:01 mx1 mail.err {BARE}", PLAIN_TIME, "mx1"),
    (f"Nov 29 10:00:01 mx1 mail.notice {BARE}", PLAIN_TIME, "mx1"),
    (f"Nov 29 10:00:01 mx1 <mail.info> {BARE}", PLAIN_TIME, "mx1"),
    (f"<22>Nov 29 10:00:01 mx1 local7.debug {BARE}", PLAIN_TIME, "mx1"),
    (f"2026-11-29T10:00:01Z mx1 mail.crit {BARE}", PLAIN_TIME, "mx1"),
    # journalctl modes
    (f"2026-11-29T10:00:01+0000 mx1 {BARE}", PLAIN_TIME, "mx1"),
    (f"2026-11-29T10:00:01.123456+00:00 mx1 {BARE}", "2026-11-29T10:00:01.123456Z", "mx1"),
    (f"Nov 29 10:00:01.123456 mx1 {BARE}", "2026-11-29T10:00:01.123456Z", "mx1"),
    (f"Sun 2026-11-29 10:00:01 UTC mx1 {BARE}", PLAIN_TIME, "mx1"),
    (f"1795946401.123456 mx1 {BARE}", "2026-11-29T10:00:01.123456Z", "mx1"),
    # year-first BSD stamp
    (f"2026 Nov 29 10:00:01 mx1 {BARE}", PLAIN_TIME, "mx1"),
]


@pytest.mark.parametrize(("line", "event_time", "host"), SHAPES)
def test_prefixed_line_gives_the_plain_line_record(
    line: str, event_time: str, host: str | None
) -> None:
    plain = _record(PLAIN)
    record = _record(line)
    assert _without_prefix_fields(record) == _without_prefix_fields(plain)
    assert (record.event_time, record.mta_host) == (event_time, host)
    assert (record.recipient, record.verdict.value, record.reason.value) == (
        "vera@example.com",
        "hard",
        "user_unknown",
    )


def test_container_time_wins_over_the_line_time_unless_it_does_not_parse() -> None:
    # The inner RFC 3164 stamp says 10:00:01; the runtime's, 10:00:00.5 (zone, year, ns).
    assert _record(f"2026-11-29T10:00:00.5Z stdout F {PLAIN}").event_time == (
        "2026-11-29T10:00:00.5Z"
    )
    # An impossible runtime time (Nov 31) leaves the line's own stamp.
    assert _record(f"2026-11-31T10:00:00.5Z stdout F {PLAIN}").event_time == PLAIN_TIME


def test_container_content_in_a_shipper_record() -> None:
    # A shipper tailing /var/log/containers/*.log without a CRI parser.
    document = {"message": f"2026-11-29T10:00:00.5Z stdout F {PLAIN}", "host": {"name": "n1"}}
    (record,) = enrich_payload(orjson.dumps(document), reference_time=REFERENCE).records
    assert (record.event_time, record.mta_host, record.reason.value) == (
        "2026-11-29T10:00:00.5Z",
        "mx1",
        "user_unknown",
    )
    document["message"] = f"2026-11-29T10:00:00.5Z stdout P {PLAIN}"
    result = enrich_payload(orjson.dumps(document), reference_time=REFERENCE)
    assert result.records == []
    assert [e.message for e in result.errors] == [
        f"shipper record's message: {PARTIAL_LINE_MESSAGE}"
    ]


@pytest.mark.parametrize("cut", [10, 60, len(PLAIN) - 1])
def test_partial_fragments_are_joined_and_a_lone_one_refused(cut: int) -> None:
    first = f"2026-11-29T10:00:00.1Z stdout P {PLAIN[:cut]}"
    last = f"2026-11-29T10:00:00.2Z stdout F {PLAIN[cut:]}"
    (event,) = parse_payload(f"{first}\n{last}\n".encode(), REFERENCE).events
    assert (event.recipient, event.event_time) == ("vera@example.com", "2026-11-29T10:00:00.1Z")
    assert event.diagnostic == _record(PLAIN).diagnostic
    lone = parse_payload(first.encode(), REFERENCE)
    assert (lone.events, [(e.line_number, e.message) for e in lone.errors]) == (
        [],
        [(1, PARTIAL_LINE_MESSAGE)],
    )
    tail = parse_payload(last.encode(), REFERENCE)
    assert [e.message for e in tail.errors] == [CONTENT_MESSAGE]


def test_join_partial_lines_keeps_streams_apart_and_numbers_in_order() -> None:
    lines = [
        b"2026-11-29T10:00:00.1Z stdout P ab",
        b"2026-11-29T10:00:00.2Z stderr P x",
        b"not a container line",
        b"2026-11-29T10:00:00.3Z stdout P cd",
        b"2026-11-29T10:00:00.4Z stdout F ef\r",
        b"2026-11-29T10:00:00.5Z stderr F full",
        b"2026-11-29T10:00:00.6Z stdout P left open",
    ]
    assert join_partial_lines(lines) == [
        (1, b"2026-11-29T10:00:00.1Z stdout F abcdef"),
        (2, b"2026-11-29T10:00:00.2Z stderr F xfull"),
        (3, b"not a container line"),
        (7, b"2026-11-29T10:00:00.6Z stdout P left open"),
    ]


@pytest.mark.parametrize(
    "token",
    [
        *(f"{f}.info" for f in ("kern", "user", "mail", "daemon", "auth", "syslog", "lpr")),
        *(f"{f}.info" for f in ("news", "uucp", "cron", "authpriv", "ftp")),
        *(f"local{n}.notice" for n in range(8)),
        *(f"mail.{s}" for s in ("emerg", "panic", "alert", "crit", "err", "error")),
        *(f"mail.{s}" for s in ("warning", "warn", "notice", "info", "debug")),
    ],
)
def test_every_facility_and_severity_name(token: str) -> None:
    split = split_syslog(f"Nov 29 10:00:01 mx1 {token} {BARE}", REFERENCE)
    assert split is not None
    assert (split.host, split.program, split.pid, split.message) == (
        "mx1",
        "postfix/smtp",
        "3141",
        MESSAGE,
    )


@pytest.mark.parametrize(
    "token", ["mail.verbose", "mail8.info", "mail", "mail.", ".info", "mail.info.x", "<mail.info"]
)
def test_other_tokens_after_the_host_are_not_priorities(token: str) -> None:
    assert split_syslog(f"Nov 29 10:00:01 mx1 {token} {BARE}", REFERENCE) is None


@pytest.mark.parametrize(
    "line",
    [
        f"2026-11-29T10:00:00Z stdout X {PLAIN}",  # not a CRI tag
        f"2026-11-29T10:00:00Z stdin F {PLAIN}",  # not a CRI stream
        f"2026-11-29T10:00:00Z 2026-11-29T10:00:00Z {PLAIN}",  # one wrapper level only
        "2026-11-29T10:00:00Z stdout F starting the container",  # content: no tag
        f"Sun 2026-11-29 UTC mx1 {BARE}",  # no clock
        f"Sun 29 Nov 2026 10:00:01 mx1 {BARE}",
    ],
)
def test_unreadable_prefixes_are_refused(line: str) -> None:
    assert split_syslog(line, REFERENCE) is None
    result = parse_payload(line.encode(), REFERENCE)
    assert result.events == [] and len(result.errors) == 1


@pytest.mark.parametrize(
    ("stamp", "zone", "expected"),
    [
        ("Sun 2026-11-29 11:00:01 CET", "Europe/Paris", "2026-11-29T10:00:01Z"),
        ("Tue 2026-07-14 12:00:01 CEST", "Europe/Paris", "2026-07-14T10:00:01Z"),
        # the repeated hour: the abbreviation tells which 02:30 it is
        ("Sun 2026-10-25 02:30:00 CEST", "Europe/Paris", "2026-10-25T00:30:00Z"),
        ("Sun 2026-10-25 02:30:00 CET", "Europe/Paris", "2026-10-25T01:30:00Z"),
        ("Sun 2026-11-29 05:00:01 EST", "America/New_York", "2026-11-29T10:00:01Z"),
        ("Sun 2026-11-29 10:00:01 GMT", "Europe/Paris", "2026-11-29T10:00:01Z"),
        ("Sun 2026-11-29 06:30:01 -0330", None, "2026-11-29T10:00:01Z"),
        ("Sun 2026-11-29 15:30:01 +05:30", None, "2026-11-29T10:00:01Z"),
        # an abbreviation that is not the source zone's: kept without a time
        ("Sun 2026-11-29 11:00:01 CET", None, None),
        ("Sun 2026-11-29 11:00:01 CEST", "Europe/Paris", None),
        ("Sun 2026-11-29 11:00:01 +25", None, None),
        ("Sun 2026-11-31 11:00:01 UTC", None, None),
    ],
)
def test_journalctl_short_full_zone(stamp: str, zone: str | None, expected: str | None) -> None:
    record = _record(f"{stamp} mx1 {BARE}", zone)
    assert (record.event_time, record.reason.value) == (expected, "user_unknown")


@pytest.mark.parametrize(
    ("token", "expected"),
    [
        ("1795946401", "2026-11-29T10:00:01Z"),
        ("1795946401.5", "2026-11-29T10:00:01.5Z"),
        ("1795946401.123456789", "2026-11-29T10:00:01.123456Z"),
        ("0.000001", "1970-01-01T00:00:00.000001Z"),
        ("123456789012", None),  # 12 digits: not epoch seconds
        ("1795946401.", None),
        ("1795946401.1234567890", None),
        ("1795946401.12a", None),
        ("١٧٩٥٩٤٦٤٠١", None),  # non-ASCII digits
    ],
)
def test_epoch_timestamp(token: str, expected: str | None) -> None:
    assert epoch_timestamp(token) == expected


def test_a_host_named_like_a_weekday_or_a_number_is_still_a_host() -> None:
    for host in ("Sun", "1234x"):
        split = split_syslog(f"{host} {BARE}", REFERENCE)
        assert split is not None
        assert (split.timestamp, split.host, split.program) == (None, host, "postfix/smtp")


def test_zoned_wall_time_refuses_a_clock_with_its_own_offset() -> None:
    assert zoned_wall_time("2026-11-29", "10:00:01+01:00", "UTC", None) is None
    assert zoned_wall_time("2026-11-29", "10:00:01", "UTC", None) == PLAIN_TIME


PIECES = [
    "2026-11-29T10:00:00.1Z", "stdout", "stderr", "F", "P", "F:x", "Nov", "29", "10:00:01",
    "mx1", "mail.info", "<mail.info>", "<22>", "<22>1", "Sun", "2026-11-29", "UTC", "+0100",
    "1795946401.5", "2026", TAG, "-", "", " ", "\u00e9", MESSAGE[:40],
]  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(PIECES), max_size=12), st.sampled_from([None, "Europe/Paris"]))
def test_any_mix_of_prefix_pieces_never_raises(pieces: list[str], zone: str | None) -> None:
    line = " ".join(pieces)
    split_syslog(line, REFERENCE, zone)
    result = parse_payload(f"{line}\n{line}".encode(), REFERENCE, source_timezone=zone)
    assert all(e.error_class == "invalid_event" for e in result.errors), result.errors


def test_messages_name_the_refusal() -> None:
    assert NOT_A_LINE_MESSAGE == "not a syslog line, JSON event or log record"
    result = parse_payload(b"garbage", REFERENCE)
    assert [e.message for e in result.errors] == [NOT_A_LINE_MESSAGE]


def test_fragments_are_joined_only_in_a_payload_of_container_lines() -> None:
    # The join is looked for when the payload starts with a CRI line's time (a payload of
    # container log lines), so a plain log pays nothing; elsewhere a fragment stays alone.
    first = f"2026-11-29T10:00:00.1Z stdout P {PLAIN[:60]}"
    last = f"2026-11-29T10:00:00.2Z stdout F {PLAIN[60:]}"
    qmgr = "Nov 29 10:00:00 mx1 postfix/qmgr[7]: 7C2D9E4F1A: removed"
    result = parse_payload(f"{qmgr}\n{first}\n{last}".encode(), REFERENCE)
    assert (result.events, result.skipped) == ([], 1)
    assert [(e.line_number, e.message) for e in result.errors] == [
        (2, PARTIAL_LINE_MESSAGE),
        (3, CONTENT_MESSAGE),
    ]
    (event,) = parse_payload(f"{first}\n{qmgr}\n{last}".encode(), REFERENCE).events
    assert event.recipient == "vera@example.com"
