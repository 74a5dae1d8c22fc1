"""Differential tests: the fast path against the general path on hostile and odd payloads.

The contract (:mod:`processor.fast_path`): for any one-line payload, when the fast path
returns a record it is exactly the record the general path builds (``parse_payload`` +
``enrich_event``, with no line error and nothing skipped), and the stream's key, bytes
and labels are those of that record; else it returns ``None``. Checked as
:func:`processor.enrich.enrich_payload` calls it (on :func:`processor.parse.single_line`
of the payload), on a cache miss, on a hit, and on a hit after *another* line with the
same outcome key (the same reply to another recipient) filled the cache.

The cases below are the differences a differential fuzzing run found (kept as
regressions), and a grammar of Postfix delivery lines in every prefix for hypothesis.
"""

from __future__ import annotations

import dataclasses

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from processor.assemble import enrich_event
from processor.classifier.policy import Policy, default_policy
from processor.enrich import enrich_payload
from processor.fast_path import enrich_common_line, serialize_common_line
from processor.model import EnrichedRecord
from processor.parse import parse_payload, single_line
from processor.record import record_key, record_labels, serialize
from tests.unit.record_checks import assert_same_record

REFERENCE_TIME = 1_796_000_000.0  # 2026-11-29


def _fresh_policy() -> Policy:
    return dataclasses.replace(default_policy(), cache={}, outcomes={})


def _general(payload: bytes, zone: str | None) -> EnrichedRecord | None:
    """The general path's one record for ``payload``; ``None`` when it gives anything else
    (no record, several, a skipped line or a line error)."""
    policy = _fresh_policy()
    parsed = parse_payload(payload, REFERENCE_TIME, source_timezone=zone)
    if parsed.errors or parsed.skipped or len(parsed.events) != 1:
        return None
    return enrich_event(parsed.events[0], policy)


def _same(payload: bytes, policy: Policy, zone: str | None) -> bool:
    """Both paths agree on ``payload`` (fast path on ``single_line(payload)``, as
    ``enrich_payload`` calls it); True when the fast path took it."""
    line = single_line(payload)
    if line is None:  # enrich_payload never offers it to the fast path
        return False
    fast = enrich_common_line(line, policy, REFERENCE_TIME, zone)
    streamed = serialize_common_line(line, policy, REFERENCE_TIME, zone)
    if fast is None:
        assert streamed is None
        return False
    expected = _general(payload, zone)
    assert expected is not None, (
        "the fast path took a payload the general path does not read as one record"
    )
    assert fast == expected
    assert_same_record(fast, expected)
    assert streamed == (record_key(expected), serialize(expected), record_labels(expected))
    return True


def _check(payload: bytes, zone: str | None = None, primer: bytes | None = None) -> bool:
    """:func:`_same` on a miss, on a hit, and after ``primer`` (same outcome key) was cached."""
    policy = _fresh_policy()
    taken = _same(payload, policy, zone)
    assert _same(payload, policy, zone) == taken
    if primer is not None:
        policy = _fresh_policy()
        primer_line = single_line(primer)
        if primer_line is not None:  # an outcome is cached the second time its key is seen
            enrich_common_line(primer_line, policy, REFERENCE_TIME, zone)
            enrich_common_line(primer_line, policy, REFERENCE_TIME, zone)
        assert _same(payload, policy, zone) == taken
    return taken


_MESSAGE = (
    "4F3C2A1B9D: to=<a@example.com>, relay=mx.example.com[192.0.2.1]:25, delay=1, "
    "delays=0/0/0/1, dsn=5.1.1, status=bounced (host mx.example.com[192.0.2.1] said: "
    "550 5.1.1 <a@example.com>: User unknown (in reply to RCPT TO command))"
)


# --- differences found by fuzzing, kept as regressions --------------------------------


def test_an_exim_main_log_line_is_left_to_the_general_path() -> None:
    # Found: an ISO-stamped line whose first token after the stamp is an Exim message ID
    # is Exim's main log for the general path (processor.parse._exim_line runs before
    # split_syslog); single_split split it as syslog and the fast path built a Postfix
    # record the general path never builds (it skips the line).
    payload = f"2026-11-29 10:00:01 1abcde-000123-AB postfix/smtp[1]: {_MESSAGE}".encode()
    parsed = parse_payload(payload, REFERENCE_TIME)
    assert (parsed.skipped, parsed.events, parsed.errors) == (1, [], [])
    assert not _check(payload)
    assert not _check(payload, "Europe/Paris")
    # the same line with a host name that is no message ID is syslog, and fast
    assert _check(payload.replace(b"1abcde-000123-AB", b"mx1"))


_RELAY_IN_BRACKETS = _MESSAGE.replace("relay=mx", "relay=<mx").replace(
    "(host mx.example.com[192.0.2.1] said: ", "(host <mx.example.com> said: "
)


@pytest.mark.parametrize(
    "payload",
    [
        f"<22>1 2026-11-29T10:00:01Z mx1 postfix/smtp 1 - - {_RELAY_IN_BRACKETS}",
        f"2026-11-29T10:00:01Z mx1 postfix/smtp[1]: {_RELAY_IN_BRACKETS}",
        f"postfix/smtp[1]: {_RELAY_IN_BRACKETS}",
        f"Nov 29 10:00:01 mx1 postfix/smtp[1]: {_RELAY_IN_BRACKETS}",
    ],
    ids=["rfc5424", "iso", "bare", "rfc3164"],
)
def test_a_relay_in_angle_brackets_is_left_to_the_general_path(payload: str) -> None:
    # Found: the general parser (postfix._split_fields) reads a value starting with "<"
    # up to its ">" (addresses may hold ", "), so "relay=<mx..." swallowed the fields up
    # to the ">" in the text: a line error, where FAST_DELIVERY_MESSAGE read relay "<mx...".
    # Now no prefix matches it in the regex, and every prefix gives the same outcome.
    assert not _check(payload.encode())
    parsed = parse_payload(payload.encode(), REFERENCE_TIME)
    assert [error.error_class for error in parsed.errors] == ["invalid_event"]


def test_a_recipient_that_quotes_a_command_does_not_change_the_shared_decision() -> None:
    # Found: the outcome key (like the classifier's cache key) is the text with the
    # recipient masked, but classifier.stage.smtp_command_of() read the SMTP command from the
    # *unmasked* diagnostic. A recipient "u(in reply to MAIL FROM command)@example.com"
    # quoted in "550 5.1.1 <...>: User unknown" made the general path re-read the reply
    # as about the sender (soft); the same reply to another recipient is user_unknown
    # (hard). Whichever line came first decided for both. _command now reads the masked
    # text: the recipient's address is the sender's data, not the server's words.
    def line(address: str) -> bytes:
        return (
            f"Nov 29 10:00:01 mx1 postfix/smtp[1]: 4F3C2A1B9D: to=<{address}>, "
            "relay=mx.example.com[192.0.2.1]:25, delay=1, delays=0/0/0/1, dsn=5.1.1, "
            "status=bounced (host mx.example.com[192.0.2.1] said: 550 5.1.1 "
            f"<{address}>: User unknown)"
        ).encode()

    quoting = line("u(in reply to MAIL FROM command)@example.com")
    plain = line("jo@example.com")
    _check(quoting, primer=plain)
    _check(plain, primer=quoting)
    for payload in (quoting, plain):
        (record,) = enrich_payload(payload, reference_time=REFERENCE_TIME).records
        assert (record.verdict, record.reason, record.smtp_command) == (
            "hard",
            "user_unknown",
            None,
        )


# --- a grammar of delivery lines in every prefix ---------------------------------------

_ADDRESSES = st.one_of(
    st.sampled_from(
        [
            "jo@example.com",
            "Jo.Doe@Example.COM",
            '"john, doe"@example.com',
            "a, status=sent@example.org",
            "x=y@example.net",
            "postmaster",
            "",
            "ünïcode@exämple.org",
            "250 2.0.0 x@example.com",
            "x#5.7.1.@example.org",
            "a" * 500 + "@example.com",
        ]
    ),
    st.text(st.characters(blacklist_characters="<>\n\r", max_codepoint=0x2FF), max_size=12).map(
        lambda local: local + "@example.com"
    ),
)
_TEXTS = st.sampled_from(
    [
        None,
        "",
        "250 2.0.0 Ok: queued as 7A1B2C3D4E",
        "250 2.0.0 OK  1700000000 a1b2si1.2 - gsmtp (in reply to end of DATA command)",
        "250 OK id=1abcde-000123-AB",
        "delivered to mailbox",
        "host mx.example.com[192.0.2.30] said: 550 5.1.1 <{r}>: User unknown (in reply to RCPT TO command)",
        "host mx.example.com[192.0.2.30] said: 550 5.1.1 <{R}>... No such user",
        "host mx.example.com[192.0.2.30] said: 452 4.2.2 <{r}>: Quota exceeded (in reply to RCPT TO command)",
        "host mx.example.com[192.0.2.30] said: 554 5.7.1 blocked (in reply to MAIL FROM command)",
        "host mx.example.com[192.0.2.30] refused to talk to me: 554 5.7.1 go away",
        "connect to mx.example.com[192.0.2.20]:25: Connection timed out",
        "message expired after 5 days: connect to mx.example.com[192.0.2.20]:25: Connection refused",
        "Host or domain name not found. Name service error for name=example.com type=MX",
        "550 5.1.7 Invalid address (in reply to MAIL FROM command)",
        "(nested (parens)) and a ) at the end )",
        "250 2.0.0 {r} 550 5.1.1 (in reply to DATA command)",
        "host said: 451 " + "a long reply " * 200,
    ]
)


def _mostly(common: list[str], odd: list[str]) -> st.SearchStrategy[str]:
    """One of ``common`` four times in five, else one of ``odd`` (the fast path's shape
    must be common enough that most examples test a record, not a ``None``)."""
    return st.sampled_from(common * (4 * len(odd) // len(common) + 1) + odd)


_STATUSES = _mostly(
    ["sent", "bounced", "deferred", "expired", "SOFTBOUNCE", "deliverable", "undeliverable"],
    ["softbounce", "SENT", "weird", "force"],
)
_PROGRAMS = _mostly(
    ["postfix/smtp", "postfix/lmtp", "postfix/local", "postfix/discard", "postfix/error",
     "postfix-out/smtp", "postfix/submission/smtp", "mta-out/smtp", "postfix/pipe"],
    ["postfix/qmgr", "postfix/smtpd", "postfix/Smtp", "sm-mta", "exim"],
)  # fmt: skip


@st.composite
def _messages(draw: st.DrawFn) -> tuple[str, str]:
    """(message, the same message to another recipient): the text after ``program[pid]: ``."""
    to = draw(_ADDRESSES)
    orig = draw(st.sampled_from(["", "orig_to=<alias@example.org>, ", "orig_to=<>, "]))
    queue_id = draw(_mostly(["4F3C2A1B9D", "A" * 5, "A" * 32], ["ABCD", "A" * 33, "NOQUEUE"]))
    relay = draw(_mostly(["mx.example.com[192.0.2.1]:25", "none", "local"], ["x=y", "<x"]))
    conn = draw(st.sampled_from(["", "conn_use=2, "]))
    delay = draw(_mostly(["1", "0.52", "1234567890.123456789"], ["1e3", "01", "-1"]))
    dsn = draw(_mostly(["5.1.1", "2.0.0", "4.4.1"], ["5.01.001", "9.9.9", "5.1"]))
    status = draw(_STATUSES)
    text = draw(_TEXTS)
    tail = draw(_mostly([""], [")", ", returned to sender", " x"]))

    def message(recipient: str) -> str:
        note = "" if text is None else f" ({text.format(r=recipient, R=recipient.upper())})"
        return (
            f"{queue_id}: to=<{recipient}>, {orig}relay={relay}, {conn}delay={delay}, "
            f"delays=0/0/0/1, dsn={dsn}, status={status}{note}{tail}"
        )

    return message(to), message("other." + to)


def _wrap(how: str, program: str, message: str, host: str) -> bytes:
    """``message`` from ``program`` on ``host`` as one prefix or log agent delivers it."""
    line = f"Nov 29 10:00:01 {host} {program}[123]: {message}"
    wrappers = {
        "rfc3164": lambda: line.encode(),
        "pri": lambda: f"<22>{line}".encode(),
        "rfc5424": lambda: (
            f"<22>1 2026-11-29T10:00:01.5+01:00 {host} {program} 123 - - {message}".encode()
        ),
        "rfc5424-sd": lambda: (
            f'<22>1 2026-11-29T10:00:01Z {host} {program} 123 ID [a@1 b="]"] {message}'.encode()
        ),
        "iso": lambda: f"2026-11-29T10:00:01 {host} {program}[123]: {message}".encode(),
        "iso-space": lambda: f"2026-11-29 10:00:01 {host} {program}[123]: {message}".encode(),
        "epoch": lambda: f"1796032801.5 {host} {program}[123]: {message}".encode(),
        "bare": lambda: f"{program}[123]: {message}".encode(),
        "facility": lambda: f"Nov 29 10:00:01 {host} mail.info {program}[123]: {message}".encode(),
        "cri": lambda: f"2026-11-29T10:00:01.123456789Z stdout F {line}".encode(),
        "docker": lambda: f"2026-11-29T10:00:01.123456789Z {line}".encode(),
        "fluent-bit": lambda: orjson.dumps({"date": 1796032801.25, "log": line + "\n"}),
        "filebeat": lambda: orjson.dumps(
            {"@timestamp": "2026-11-29T09:00:01Z", "message": line, "host": {"name": "h9"}}
        ),
        "journald": lambda: orjson.dumps(
            {
                "MESSAGE": message,
                "SYSLOG_IDENTIFIER": program,
                "_PID": "123",
                "_HOSTNAME": host,
                "__REALTIME_TIMESTAMP": "1796032801123456",
            }
        ),
        "vector": lambda: orjson.dumps(
            {
                "appname": program,
                "procid": 123,
                "message": message,
                "timestamp": "2026-11-29T09:00:01",
            }
        ),
        "generic-lookalike": lambda: orjson.dumps({"message": line, "recipient": "b@example.com"}),
    }
    return wrappers[how]()


_WRAPPINGS = [
    "rfc3164", "pri", "rfc5424", "rfc5424-sd", "iso", "iso-space", "epoch", "bare", "facility",
    "cri", "docker", "fluent-bit", "filebeat", "journald", "vector", "generic-lookalike",
]  # fmt: skip


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    messages=_messages(),
    program=_PROGRAMS,
    how=st.sampled_from(_WRAPPINGS),
    primer_how=st.sampled_from(_WRAPPINGS),
    host=st.sampled_from(["mx1", "1abcde-000123-AB", "mx1.example.com"]),
    zone=st.sampled_from([None, "Europe/Paris", "America/New_York"]),
    ending=st.sampled_from([b"", b" ", b"\r", b"\r\n", b" \r"]),
)
def test_generated_payloads_same_on_both_paths(
    messages: tuple[str, str],
    program: str,
    how: str,
    primer_how: str,
    host: str,
    zone: str | None,
    ending: bytes,
) -> None:
    # the primer is the same reply to another recipient, in any form: one outcome serves all
    message, to_another = messages
    payload = _wrap(how, program, message, host) + ending
    primer = _wrap(primer_how, program, to_another, host)
    _check(payload, zone, primer)


@pytest.mark.parametrize("how", _WRAPPINGS)
def test_every_wrapping_of_a_common_line_takes_the_fast_path(how: str) -> None:
    # the generated test is not vacuous: the common line takes the fast path in every form
    # but the one the general path reads as a generic JSON event
    payload = _wrap(how, "postfix/smtp", _MESSAGE, "mx1")
    primer = _wrap(how, "postfix/smtp", _MESSAGE.replace("a@example.com", "b@example.com"), "mx1")
    assert _check(payload, "Europe/Paris", primer) is (how != "generic-lookalike")


@pytest.mark.parametrize("reference_time", [3e11, 1.7e12, -1e12, float("nan"), float("inf")])
@pytest.mark.parametrize(
    "payload",
    [
        f"Nov 29 10:00:01 mx1 postfix/smtp[1]: {_MESSAGE}",
        f"Nov 29 10:00:01 mx1 mta-out/smtp[1]: {_MESSAGE}",
        f"<22>1 - mx1 postfix/smtp 1 - - {_MESSAGE}",
    ],
    ids=["rfc3164", "rfc3164-split", "rfc5424-no-time"],
)
def test_a_reference_time_that_cannot_be_a_date(payload: str, reference_time: float) -> None:
    # Found: a Kafka timestamp in microseconds read as milliseconds (or NaN, inf) put the
    # year-less RFC 3164 time out of the calendar's range: the general path reported an
    # internal_error line (the payload was dead-lettered), while enrich_common_line raised
    # OverflowError/ValueError out of enrich_payload. Now the entry points read such a
    # reference as now (processor.parse.stamps.reference_or_now), and the fast path, when
    # called with one directly, declines or gives the general path's record.
    raw = payload.encode()
    parsed = parse_payload(raw, reference_time)
    assert parsed.errors == [] and len(parsed.events) == 1
    (record,) = enrich_payload(raw, reference_time=reference_time).records
    assert record == enrich_event(parsed.events[0], _fresh_policy())
    assert (record.event_time is None) == payload.startswith("<22>1 -")
    policy = _fresh_policy()
    for _ in range(2):  # an outcome is cached the second time its key is seen
        enrich_common_line(raw.replace(b"a@example.com", b"b@example.com"), policy, 1.796e9)
    for cache in ({}, policy.outcomes):  # miss, then hit (the outcome cached at a sane time)
        policy = dataclasses.replace(policy, outcomes=cache)
        fast = enrich_common_line(raw, policy, reference_time)
        streamed = serialize_common_line(raw, policy, reference_time)
        if payload.startswith("<22>1 -"):  # no year to resolve: the fast path takes it
            assert fast == record
            assert streamed == (record_key(record), serialize(record), record_labels(record))
        else:
            assert (fast, streamed) == (None, None)
