"""Hostile and broken emails: only PayloadError subclasses, bounded work, linear-time patterns."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from processor.enrich import enrich_payload
from processor.errors import PayloadError
from processor.parse.email import (
    bounce,
    diagnostic,
    dsn,
    forwarded,
    message,
    notice,
    original,
    parse_email,
    recipients,
    reports,
)
from processor.parse.email.diagnostic import from_prose
from processor.parse.email.dsn import parse_delivery_status
from processor.parse.email.message import MAX_PARTS, addresses_in, load_message, walk_parts
from processor.parse.email.notice import cut_returned_message
from processor.parse.email.recipients import find_recipients
from tests.regex_structure import unbounded_repeats

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "email"
# every fixture email: the formats table, the long tail, the emails that are not bounces
SAMPLES = [p.read_bytes() for p in sorted(FIXTURES.rglob("*.eml"))]
HEADERS = b"From: MAILER-DAEMON@mx.example.net\nTo: a@example.org\nSubject: Undelivered Mail\n"


def _parse_or_payload_error(raw: bytes) -> None:
    try:
        events = parse_email(raw)
    except PayloadError:
        return
    for event in events:
        assert event.recipient is None or isinstance(event.recipient, str)


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(body=st.binary(max_size=4_000))
def test_random_bodies_raise_only_payload_errors(body: bytes) -> None:
    _parse_or_payload_error(HEADERS + b"\n" + body)


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(
    sample=st.sampled_from(SAMPLES),
    cut=st.integers(min_value=0, max_value=6_000),
    flips=st.lists(
        st.tuples(st.integers(min_value=0, max_value=6_000), st.integers(0, 255)), max_size=20
    ),
)
def test_truncated_and_corrupted_fixtures_raise_only_payload_errors(
    sample: bytes, cut: int, flips: list[tuple[int, int]]
) -> None:
    data = bytearray(sample[: max(cut, 40)])
    for position, value in flips:
        if position < len(data):
            data[position] = value
    _parse_or_payload_error(bytes(data))
    enrich_payload(bytes(data))  # never raises anything but PayloadError subclasses either


def test_broken_multipart_without_boundary_lines() -> None:
    raw = (
        b"From: MAILER-DAEMON@mx.example.net\nTo: a@example.org\nSubject: Returned mail\n"
        b'Content-Type: multipart/report; report-type=delivery-status; boundary="never-used"\n\n'
        b"   ----- The following addresses had permanent fatal errors -----\n<b@example.com>\n\n"
        b"Reporting-MTA: dns; mx.example.net\n\nFinal-Recipient: RFC822; <b@example.com>\n"
        b"Action: failed\nStatus: 5.1.1\nDiagnostic-Code: smtp; 550 5.1.1 user unknown\n"
    )
    (event,) = parse_email(raw)
    assert (event.recipient, event.enhanced_code) == ("b@example.com", "5.1.1")


def test_unknown_charset_and_bad_base64_do_not_break_parsing() -> None:
    raw = (
        b"From: MAILER-DAEMON@mx.example.net\nTo: a@example.org\nSubject: failure notice\n"
        b"MIME-Version: 1.0\nContent-Type: text/plain; charset=x-no-such-charset\n"
        b"Content-Transfer-Encoding: base64\n\n"
        + b"PGJAZXhhbXBsZS5jb20+OgpSZW1vdGUgaG9zdCBzYWlkOiA1NTAgNS4xLjEgdXNlciB1bmtub3du!!==\n"
    )
    (event,) = parse_email(raw)
    assert event.recipient == "b@example.com"
    assert event.diagnostic == "550 5.1.1 user unknown"


def test_huge_email_is_read_up_to_the_cap() -> None:
    raw = (FIXTURES / "exim-two-recipients.eml").read_bytes()
    padding = b"x" * 76 + b"\n"
    huge = raw + padding * (3 * 1024 * 1024 // len(padding))
    assert len(huge) > message.MAX_EMAIL_BYTES
    assert [e.recipient for e in parse_email(huge)] == ["erin@example.com", "frank@example.com"]


def test_part_count_is_bounded() -> None:
    parts = b"".join(
        b"--p\nContent-Type: text/plain\n\npart %d\n" % n for n in range(MAX_PARTS * 3)
    )
    raw = HEADERS + b'Content-Type: multipart/mixed; boundary="p"\n\n' + parts + b"--p--\n"
    assert len(list(walk_parts(load_message(raw)))) == MAX_PARTS


def test_deeply_nested_messages_are_bounded() -> None:
    inner = b"From: x@example.com\nTo: y@example.com\nSubject: deep\n\nbody\n"
    for _ in range(300):
        inner = b"Content-Type: message/rfc822\n\n" + inner
    _parse_or_payload_error(HEADERS + inner)


# ---------------------------------------------------------------- linearity


def _patterns() -> dict[str, re.Pattern[str] | re.Pattern[bytes]]:
    import processor.parse.email as package

    found: dict[str, re.Pattern[str] | re.Pattern[bytes]] = {}
    for module in (
        package,
        bounce,
        diagnostic,
        dsn,
        forwarded,
        message,
        notice,
        original,
        recipients,
        reports,
    ):
        for name, value in vars(module).items():
            values = value if isinstance(value, tuple) else (value,)
            for index, item in enumerate(values):
                for candidate in item if isinstance(item, tuple) else (item,):
                    if isinstance(candidate, re.Pattern):
                        found[f"{module.__name__}.{name}[{index}]"] = candidate
    return found


def test_every_pattern_has_only_bounded_quantifiers() -> None:
    patterns = _patterns()
    assert len(patterns) >= 30
    for name, compiled in patterns.items():
        source = (
            compiled.pattern if isinstance(compiled.pattern, str) else compiled.pattern.decode()
        )
        assert unbounded_repeats(source) == 0, f"{name} has an unbounded quantifier"


@pytest.mark.parametrize(
    "crafted",
    [
        "a" * 300_000,
        "a." * 150_000,
        "a@" * 150_000,
        "<a@example.com>" * 20_000,
        "550 " * 75_000,
        "5.5.5." * 50_000,
        "host " + "a." * 100_000 + " [192.0.2.1",
        "-" * 300_000,
        "\n" * 300_000,
        ("x" * 60 + "\n") * 5_000,
    ],
)
def test_crafted_worst_cases_complete(crafted: str) -> None:
    # No timing assertion: a super-linear pattern would hang here and the
    # suite's timeout would fail the test.
    find_recipients(crafted, set())
    from_prose(crafted[:50_000])
    cut_returned_message(crafted)
    parse_delivery_status(crafted)
    addresses_in(crafted)
    _parse_or_payload_error(HEADERS + b"\n" + crafted.encode())


def test_double_bounce_reports_only_its_own_recipients() -> None:
    inner = (FIXTURES / "postfix-dsn-two-recipients.eml").read_bytes()
    outer = (
        b"From: MAILER-DAEMON@relay.example.net\nTo: postmaster@example.org\n"
        b"Subject: Undelivered Mail Returned to Sender\nMessage-ID: <double-1@relay.example.net>\n"
        b'MIME-Version: 1.0\nContent-Type: multipart/report; report-type=delivery-status; boundary="o"\n\n'
        b"--o\nContent-Type: text/plain\n\nThe bounce could not be delivered.\n\n"
        b"--o\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; relay.example.net\n\n"
        b"Final-Recipient: rfc822; news@example.org\nAction: failed\nStatus: 5.1.1\n"
        b"Diagnostic-Code: smtp; 550 5.1.1 <news@example.org>: user unknown\n\n"
        b"--o\nContent-Type: message/rfc822\n\n" + inner + b"\n--o--\n"
    )
    assert [e.recipient for e in parse_email(outer)] == ["news@example.org"]
