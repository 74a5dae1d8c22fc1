"""The fast path (processor.fast_path) gives exactly what the general path gives.

For every single-line input of the fixture tables (every format: RFC 3164, RFC 5424, ISO
8601 and container prefixes, shipper JSON records), for generated Postfix lines and for
the relay corpus wrapped in every prefix and shipper record:
the record :func:`enrich_common_line` builds equals the record of the general path
(``parse_payload`` + ``enrich_event``), on the first sight of an outcome (cache miss)
and on the next (cache hit); the stream's bytes, key and labels from
:func:`serialize_common_line` equal ``serialize``/``record_key``/``record_labels`` of
that record, byte for byte.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import orjson
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from processor import fast_path
from processor.assemble import enrich_event
from processor.classifier.policy import Policy, default_policy
from processor.enrich import enrich_payload
from processor.fast_path import enrich_common_line, serialize_common_line
from processor.model import EnrichedRecord
from processor.parse import parse_payload
from processor.record import record_key, record_labels, serialize
from tests.unit.record_checks import assert_same_record

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "events"
REFERENCE_TIME = 1_796_000_000.0  # 2026-11-29


def _fresh_policy() -> Policy:
    return dataclasses.replace(default_policy(), cache={}, outcomes={})


def _general(line: bytes, zone: str | None = None) -> list[EnrichedRecord]:
    """The general path: parse the payload into events, enrich each (no fast path)."""
    policy = _fresh_policy()
    parsed = parse_payload(line, REFERENCE_TIME, source_timezone=zone)
    assert not parsed.errors
    return [enrich_event(event, policy) for event in parsed.events]


def _fixture_lines() -> list[bytes]:
    lines = []
    for path in sorted(FIXTURES.glob("*.yaml")):
        for case in yaml.safe_load(path.read_text()):
            text = case["input"].rstrip("\n")
            if "\n" not in text and "\r" not in text:  # one line, any format
                lines.append(text.encode())
    return lines


FIXTURE_LINES = _fixture_lines()


def _assert_same(line: bytes, policy: Policy, zone: str | None = None) -> bool:
    """Compare both paths for ``line``; True when the fast path took the line."""
    fast = enrich_common_line(line, policy, REFERENCE_TIME, zone)
    streamed = serialize_common_line(line, policy, REFERENCE_TIME, zone)
    if fast is None:
        assert streamed is None
        return False
    (expected,) = _general(line, zone)
    assert fast == expected
    assert_same_record(fast, expected)
    assert streamed == (record_key(expected), serialize(expected), record_labels(expected))
    return True


def test_the_record_type_can_be_built_from_its_dict() -> None:
    """The fast path sets a record's ``__dict__`` and skips ``__init__``: that is only the
    same record while the type has no slots and nothing runs after ``__init__``."""
    assert "__slots__" not in vars(EnrichedRecord)
    assert not hasattr(EnrichedRecord, "__post_init__")


def test_fixture_lines_exist_and_most_take_the_fast_path() -> None:
    policy = _fresh_policy()
    taken = [line for line in FIXTURE_LINES if enrich_common_line(line, policy, REFERENCE_TIME)]
    assert len(FIXTURE_LINES) > 150
    assert len(taken) > 100  # RFC 3164 delivery lines of every daemon and status


@pytest.mark.parametrize(
    "line", FIXTURE_LINES, ids=lambda line: line[-40:].decode("ascii", "replace")
)
def test_fixture_line_same_on_miss_and_on_hit(line: bytes) -> None:
    policy = _fresh_policy()
    # first sight (enrich_common_line, then serialize_common_line): the general path
    # decides, the outcome is cached
    if _assert_same(line, policy):
        assert len(policy.outcomes) == 1
        assert _assert_same(line, policy)  # second sight: built from the cached outcome
        assert len(policy.outcomes) == 1


def test_an_outcome_is_cached_the_second_time_its_key_is_seen() -> None:
    policy = _fresh_policy()
    records = []
    for n in range(3):
        line = (
            f"Nov 29 10:00:0{n} mx1 postfix/smtp[7]: 4F3C2A1B9{n}: to=<u{n}@example.com>, "
            "relay=mx.example.com[192.0.2.1]:25, delay=1, delays=0/0/0/1, dsn=5.7.26, "
            "status=bounced (host mx.example.com[192.0.2.1] said: 550 5.7.26 Unauthenticated "
            "email is not accepted (in reply to end of DATA command))"
        ).encode()
        records.append((enrich_common_line(line, policy, REFERENCE_TIME), _general(line)))
        # seen once: the key alone; twice: its outcome, which the third line is built from
        assert [outcome is None for outcome in policy.outcomes.values()] == [n == 0]
    for fast, (expected,) in records:
        assert fast == expected
        assert fast is not None
        assert_same_record(fast, expected)


def test_a_full_cache_drops_the_keys_seen_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fast_path, "_CACHE_LIMIT", 8)
    policy = _fresh_policy()

    def line(n: int, reply: str) -> bytes:
        return (
            f"Nov 29 10:00:{n % 60:02d} mx1 postfix/smtp[7]: 4F3C2A{n:04d}: to=<u{n}@example.com>, "
            "relay=mx.example.com[192.0.2.1]:25, delay=1, delays=0/0/0/1, dsn=5.1.1, "
            f"status=bounced (host mx.example.com[192.0.2.1] said: {reply})"
        ).encode()

    for n in range(2):  # a common outcome, cached on its second sight
        enrich_common_line(line(n, "550 5.1.1 User unknown"), policy, REFERENCE_TIME)
    for n in range(2, 40):  # replies with a unique session ID, each seen once
        unique = line(n, f"550 5.1.1 User unknown [session {n:08x}]")
        fast = enrich_common_line(unique, policy, REFERENCE_TIME)
        assert fast is not None
        assert fast == _general(unique)[0]
        assert len(policy.outcomes) <= 8
        outcomes = [outcome for outcome in policy.outcomes.values() if outcome is not None]
        assert len(outcomes) == 1  # the common outcome outlives the tail of unique replies
    for n in range(40, 44):  # and still serves its lines from the cache
        assert _assert_same(line(n, "550 5.1.1 User unknown"), policy)


def test_the_same_stamp_read_against_another_reference_or_zone() -> None:
    """Consecutive lines with one stamp, each read as the general path reads it, whatever
    the reference time or zone (the fast path memoises the last stamp it read)."""
    line = (
        b"Dec 31 23:30:00 mx1 postfix/smtp[7]: 4F3C2A1B9D: to=<a@example.com>, relay=none, "
        b"delay=1, delays=0/0/0/1, dsn=2.0.0, status=sent (250 2.0.0 Ok)"
    )
    policy = _fresh_policy()
    times = set()
    # 2026-12-31 12:00 and 2027-01-01 12:00 UTC: the year-less stamp is read in 2026 both
    # times; 2027-12-31 23:00: in 2027
    zones = (None, "Europe/Paris", None, "America/New_York")
    references = (1_798_718_400.0, 1_798_804_800.0, 1_830_294_000.0)
    # zone by zone, then reference by reference: each change alone, from one line to the next
    pairs = [(zone, time) for zone in zones for time in references]
    pairs += [(zone, time) for time in references for zone in zones]
    for zone, reference_time in pairs:
        (event,) = parse_payload(line, reference_time, source_timezone=zone).events
        expected = enrich_event(event, _fresh_policy())
        for _ in range(3):  # the outcome cached, and the same stamp again
            assert enrich_common_line(line, policy, reference_time, zone) == expected
        times.add(expected.event_time)
    assert len(times) == 6  # two years by three zones


def test_one_reply_to_many_recipients_is_one_outcome() -> None:
    policy = _fresh_policy()
    for n in range(20):
        line = (
            f"Nov 29 10:00:{n:02d} mx1 postfix/smtp[7]: 4F3C2A1B{n:02d}: to=<u{n}@example.com>, "
            "relay=mx.example.com[192.0.2.1]:25, delay=1, delays=0/0/0/1, dsn=5.1.1, "
            f"status=bounced (host mx.example.com[192.0.2.1] said: 550 5.1.1 <u{n}@example.com>: "
            "Recipient address rejected: User unknown (in reply to RCPT TO command))"
        ).encode()
        assert _assert_same(line, policy)
    assert len(policy.outcomes) == 1


_STATUS_TEXTS = [
    ("sent", "2.0.0", "250 2.0.0 Ok: queued as 7A1B2C3D4E"),
    ("sent", "2.0.0", "250 2.0.0 OK  1700000000 a1b2c3si123.45 - gsmtp"),
    ("sent", "2.0.0", "250 OK id=1abcde-000123-AB"),
    ("sent", "2.6.0", "250 2.6.0 <{r}> [InternalId=123.4.5] Queued mail for delivery"),
    ("sent", "2.0.0", "delivered to mailbox"),
    ("sent", "2.0.0", "delivered via dovecot service"),
    ("deliverable", "2.1.5", "250 2.1.5 Ok"),
    (
        "bounced",
        "5.1.1",
        "host mx.{d}[192.0.2.30] said: 550 5.1.1 <{r}>: User unknown (in reply to RCPT TO command)",
    ),
    (
        "bounced",
        "5.0.0",
        "host mx.{d}[192.0.2.30] said: 550 <{r}>: spam-trap address, spam rejected (in reply to end of DATA command)",
    ),
    (
        "bounced",
        "5.7.1",
        "host mx.{d}[192.0.2.30] said: 554 5.7.1 Service unavailable; Client host [192.0.2.1] blocked using zen.spamhaus.example (in reply to MAIL FROM command)",
    ),
    (
        "bounced",
        "5.4.4",
        "Host or domain name not found. Name service error for name={d} type=MX: Host not found",
    ),
    ("deferred", "4.4.1", "connect to mx.{d}[192.0.2.20]:25: Connection timed out"),
    (
        "deferred",
        "4.2.2",
        "host mx.{d}[192.0.2.30] said: 452 4.2.2 <{r}>: Quota exceeded (in reply to RCPT TO command)",
    ),
    (
        "SOFTBOUNCE",
        "4.1.1",
        "host mx.{d}[192.0.2.30] said: 550 5.1.1 <{r}>: User unknown (in reply to RCPT TO command)",
    ),
    (
        "expired",
        "4.4.7",
        "message expired after 5 days: connect to mx.{d}[192.0.2.20]:25: Connection refused",
    ),
    (
        "undeliverable",
        "5.1.1",
        "host mx.{d}[192.0.2.30] said: 550 5.1.1 <{r}>... No such user (in reply to RCPT TO command)",
    ),
    ("sent", "2.0.0", None),
    ("bounced", "5.0.0", "250 2.0.0 Ok"),  # a class that contradicts the status
    ("sent", "2.0.0", "550 5.1.1 odd (in reply to RCPT TO command)"),
    ("deferred", "4.0.0", "host mx.{d}[192.0.2.30] said: 451 " + "a long reply " * 200),  # cut
    ("sent", "2.0.0", "250 2.0.0 " + "a long reply " * 200),
]
_ADDRESSES = [
    "jo@example.com",
    "Spam.Reports@Example.COM",
    "blacklist@example.net",
    "x#5.7.1.@example.org",
    "postmaster",
    '"john doe"@example.com',
    "",
    "ünïcode@exämple.org",
]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    outcome=st.sampled_from(_STATUS_TEXTS),
    address=st.sampled_from(_ADDRESSES),
    original=st.sampled_from([None, "alias@example.org", "Spam.Reports@Example.COM"]),
    daemon=st.sampled_from(
        ["smtp", "lmtp", "local", "virtual", "pipe", "error", "discard", "relay"]
    ),
    syslog_name=st.sampled_from(["postfix", "postfix-out", "postfix/submission"]),
    # Mar 29 / Oct 25 2026: Europe's DST days (02:30 skipped / repeated in Paris)
    day=st.sampled_from(["Nov  2", "Nov 29", "Feb 29", "Dec 31", "Jan  1", "Mar 29", "Oct 25"]),
    clock=st.sampled_from(
        ["10:00:01", "23:59:59", "10:00:01.123456", "25:00:00", "02:30:00", "00:30:00.5"]
    ),
    zone=st.sampled_from([None, "UTC", "Europe/Paris", "America/New_York", "Asia/Kolkata"]),
    delay=st.sampled_from(["0.52", "1", "1234567890.123456789"]),
    junk=st.text(st.characters(blacklist_characters="\n\r"), max_size=20),  # one line
)
def test_generated_lines_same_on_both_paths(
    outcome: tuple[str, str, str | None],
    address: str,
    original: str | None,
    daemon: str,
    syslog_name: str,
    day: str,
    clock: str,
    delay: str,
    zone: str | None,
    junk: str,
) -> None:
    status, dsn, text = outcome
    domain = address.rpartition("@")[2] or "example.com"
    orig = f"orig_to=<{original}>, " if original else ""
    diagnostic = "" if text is None else f" ({text.format(r=address, d=domain)}{junk})"
    line = (
        f"{day} {clock} mx1 {syslog_name}/{daemon}[123]: 4F3C2A1B9D: to=<{address}>, {orig}"
        f"relay=mx.{domain}[192.0.2.10]:25, delay={delay}, delays=0.1/0/0.5/0.6, "
        f"dsn={dsn}, status={status}{diagnostic}"
    ).encode("utf-8", "surrogatepass")
    policy = _fresh_policy()
    _assert_same(line, policy, zone)
    _assert_same(line, policy, zone)


@pytest.mark.parametrize("zone", ["Europe/Paris", "America/New_York"])
def test_fixture_lines_same_with_a_source_zone(zone: str) -> None:
    policy = _fresh_policy()
    taken = sum(_assert_same(line, policy, zone) for line in FIXTURE_LINES)
    assert taken > 100


def test_enrich_payload_and_the_stream_use_the_fast_path() -> None:
    policy = _fresh_policy()
    line = FIXTURE_LINES[0]
    for candidate in FIXTURE_LINES:
        if enrich_common_line(candidate, _fresh_policy(), REFERENCE_TIME) is not None:
            line = candidate
            break
    result = enrich_payload(line + b"\r", policy=policy, reference_time=REFERENCE_TIME)
    assert result.records == _general(line)
    assert len(policy.outcomes) == 1  # the line went through the fast path


@pytest.mark.parametrize(
    "address",
    ["250 2.0.0 x@example.com", "Jo.Doe@Example.COM", '"in reply to DATA command"@example.com'],
)
def test_addresses_that_overlap_the_leading_codes_or_the_command(address: str) -> None:
    line = (
        f"Nov 29 10:00:01 mx1 postfix/smtp[9]: 4F3C2A1B9D: to=<{address}>, "
        "relay=mx.example.com[192.0.2.10]:25, delay=1, delays=0/0/0/1, dsn=2.0.0, "
        f"status=sent ({address.lower()} 250 2.0.0 ok (in reply to end of DATA command))"
    ).encode()
    policy = _fresh_policy()
    _assert_same(line, policy)
    line = line.replace(b"status=sent (", b"status=sent (250 2.0.0 " + address.encode() + b" ")
    _assert_same(line, policy)
    _assert_same(line, policy)


CORPUS_LINES = (
    (FIXTURES.parent / "logs" / "relay-corpus.log").read_bytes().splitlines()
)  # tests/fixtures/logs: a realistic relay log of every daemon, status and format


@pytest.mark.parametrize("zone", [None, "Europe/Paris"])
def test_relay_corpus_lines_same_on_both_paths(zone: str | None) -> None:
    policy = _fresh_policy()
    taken = 0
    for line in CORPUS_LINES:
        if _assert_same(line, policy, zone):
            assert _assert_same(line, policy, zone)  # and again from the cached outcome
            taken += 1
    assert taken > 150


def _rfc3164(line: bytes) -> tuple[bytes, bytes, bytes, bytes] | None:
    """(stamp, host, program[pid], message) of an RFC 3164 line of the corpus."""
    if not line[:1].isalpha():
        return None
    stamp, host, rest = line[:15], line[16:].partition(b" ")[0], line[16:].partition(b" ")[2]
    tag, sep, message = rest.partition(b": ")
    return (stamp, host, tag, message) if sep and b"[" in tag else None


def _wrapped(line: bytes, how: str) -> bytes | None:
    """``line`` (RFC 3164) as another prefix or shipper record would carry it."""
    parts = _rfc3164(line)
    if parts is None:
        return None
    stamp, host, tag, message = parts
    program, _, pid = tag.rstrip(b"]").partition(b"[")
    iso = b"2026-11-29T10:00:01.123456+01:00"
    text = line.decode("utf-8", "replace")
    wrappers = {
        "rfc5424": b"<22>1 " + iso + b" " + host + b" " + program + b" " + pid + b" - - " + message,
        "iso": iso + b" " + host + b" " + tag + b": " + message,
        "cri": b"2026-11-29T10:00:01.123456789Z stdout F " + line,
        "docker-timestamps": b"2026-11-29T10:00:01.123456789Z " + line,
        "facility": stamp + b" " + host + b" mail.info " + tag + b": " + message,
        "fluent-bit": orjson.dumps({"date": 1796032801.25, "log": text + "\n"}),
        "filebeat": orjson.dumps(
            {"@timestamp": "2026-11-29T09:00:01.000Z", "message": text, "host": {"name": "mx9"}}
        ),
        "journald": orjson.dumps(
            {
                "MESSAGE": message.decode("utf-8", "replace"),
                "SYSLOG_IDENTIFIER": program.decode(),
                "_PID": pid.decode(),
                "_HOSTNAME": host.decode(),
                "__REALTIME_TIMESTAMP": "1796032801123456",
            }
        ),
    }
    return wrappers[how]


WRAPPINGS = [
    "rfc5424", "iso", "cri", "docker-timestamps", "facility", "fluent-bit", "filebeat", "journald"
]  # fmt: skip


@pytest.mark.parametrize("how", WRAPPINGS)
def test_wrapped_corpus_lines_same_on_both_paths(how: str) -> None:
    policy = _fresh_policy()
    taken = 0
    for line in CORPUS_LINES:
        wrapped = _wrapped(line, how)
        if wrapped is not None and _assert_same(wrapped, policy, "Europe/Paris"):
            assert _assert_same(wrapped, policy, "Europe/Paris")  # from the cached outcome
            taken += 1
    assert taken > 150  # the relay corpus's delivery lines take the fast path in every form


@pytest.mark.parametrize(
    "payload",
    [
        # not one split the general path reads the same way: the general path decides
        b" Nov 29 10:00:01 mx1 postfix/smtp[1]: 4F3C2A1B9D: to=<a@example.com>, relay=none, "
        b"delay=1, delays=0/0/0/1, dsn=5.4.4, status=bounced (Host not found)",
        b"\xef\xbb\xbf<22>1 2026-11-29T10:00:01Z mx1 postfix/smtp 1 - - 4F3C2A1B9D: "
        b"to=<a@example.com>, relay=none, delay=1, delays=0/0/0/1, dsn=5.4.4, status=bounced (x)",
        b'{"message": "4F3C2A1B9D: to=<a@example.com>, relay=none, delay=1, delays=0/0/0/1, '
        b'dsn=5.4.4, status=bounced (x)", "recipient": "b@example.com"}',
        b'{"log": "Nov 29 10:00:01 mx1 postfix/smtp[1]: 4F3C2A1B9D: to=<a@example.com>, '
        b"relay=none, delay=1, delays=0/0/0/1, dsn=5.4.4, status=bounced (x)\\nNov 29 10:00:02 "
        b"mx1 postfix/smtp[1]: 4F3C2A1B9E: to=<b@example.com>, relay=none, delay=1, "
        b'delays=0/0/0/1, dsn=5.4.4, status=bounced (x)"}',
        b"2026-11-29T10:00:01.1Z stdout P Nov 29 10:00:01 mx1 postfix/smtp[1]: 4F3C2A1B9D: "
        b"to=<a@example.com>, relay=none, delay=1, delays=0/0/0/1, dsn=5.4.4, status=bounced (x)",
        b"2026-11-29T10:00:01Z mx1 postfix/smtp[1]: NOQUEUE: to=<a@example.com>, relay=none, "
        b"delay=1, delays=0/0/0/1, dsn=5.4.4, status=bounced (x)",
        # fields the fast regexes read but postfix.fast_fields_refused refuses, in each
        # prefix (the RFC 3164 regex, and the message regex behind a split prefix)
        *(
            prefix + b"4F3C2A1B9D: " + fields + b", delay=1, delays=0/0/0/1, dsn=5.4.4, "
            b"status=bounced (x)"
            for prefix in (
                b"Nov 29 10:00:01 mx1 postfix/smtp[1]: ",
                b"<22>1 2026-11-29T10:00:01Z mx1 postfix/smtp 1 - - ",
            )
            for fields in (
                b"to=<a<b@example.com>, relay=none",
                b"to=<a@example.com>, orig_to=<b<c@example.com>, relay=none",
                b"to=<a@example.com>, relay=mx.example.com[192.0.2.1]:25 x",
            )
        ),
    ],
    ids=[
        "leading-space",
        "bom",
        "generic-event",
        "two-lines-in-a-record",
        "cri-partial",
        "noqueue",
        *(
            f"{prefix}-{field}"
            for prefix in ("rfc3164", "rfc5424")
            for field in ("to-with-lt", "orig-to-with-lt", "relay-with-space")
        ),
    ],
)
def test_payloads_the_fast_path_leaves_to_the_general_path(payload: bytes) -> None:
    policy = _fresh_policy()
    common = (
        b"Nov 29 10:00:01 mx1 postfix/smtp[1]: 4F3C2A1B9D: to=<a@example.com>, relay=none, "
        b"delay=1, delays=0/0/0/1, dsn=5.4.4, status=bounced (x)"
    )
    assert enrich_common_line(payload, policy, REFERENCE_TIME) is None
    assert serialize_common_line(payload, policy, REFERENCE_TIME) is None
    assert policy.outcomes == {}
    for _ in range(2):  # the outcome these payloads would share is cached: left all the same
        assert enrich_common_line(common, policy, REFERENCE_TIME) is not None
    cached = dict(policy.outcomes)
    assert enrich_common_line(payload, policy, REFERENCE_TIME) is None
    assert serialize_common_line(payload, policy, REFERENCE_TIME) is None
    assert policy.outcomes == cached
