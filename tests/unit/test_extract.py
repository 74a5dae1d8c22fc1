"""Code extraction from diagnostic text, and the linear-time guarantee of every pattern."""

from __future__ import annotations

import re

import pytest

from processor.parse import postfix, postfix_fast
from processor.smtp import extract
from processor.smtp.extract import (
    extract_codes,
    extract_smtp_command,
    normalise_enhanced,
    reply_text,
)
from tests.regex_structure import unbounded_repeats

CASES = [
    ("host mx.example.com[192.0.2.10] said: 550 5.1.1 <a@example.com>: User unknown", 550, "5.1.1"),
    (
        "host mx.example.com[192.0.2.10] said: 550-5.7.1 [192.0.2.1 7] Our system 550-5.7.1 has "
        "detected 550 5.7.1 spam",
        550,
        "5.7.1",
    ),
    ("smtp; 550 #5.1.1 user unknown", 550, "5.1.1"),
    ("#5.1.1 smtp;550 Recipient address rejected", 550, "5.1.1"),
    ("smtp;554 5.7.606 Access denied, banned sending IP [192.0.2.1]", 554, "5.7.606"),
    ("451 4.7.500 Server busy. Please try again later from [192.0.2.1]. (S77719)", 451, "4.7.500"),
    (
        "host mx.example.net[192.0.2.20] refused to talk to me: 554 mx.example.net ESMTP not accepting",
        554,
        None,
    ),
    ("550 Requested action not taken: mailbox unavailable", 550, None),
    ("5.2.2 mailbox full", None, "5.2.2"),
    ("connect to mx.example.com[192.0.2.10]:25: Connection timed out", None, None),
    # Not codes: IP addresses, versions, dates, queue IDs, internal ids.
    ("host 192.0.2.1 said: try later; Postfix v2.1.10 on 2026.11.29", None, None),
    ("lost connection with mx.example.com[198.51.100.254] while sending RCPT TO", None, None),
    ("250 2.6.0 <id@example.org> [InternalId=1234.5.6, Hostname=x.example] Queued", 250, "2.6.0"),
    (
        "temporary failure. Command output: Dovecot 2.3.21 quota plugin (4.5.6 here=1.2.3)",
        None,
        None,
    ),
    ("Exim 4.97.1 routing failure", None, None),
    ("host mx.example.com[192.0.2.1] said: 5.7.1 Relaying denied", None, "5.7.1"),
    ("host mx[2001:db8::1] said: 421-4.7.28 [2001:db8::25 15] unusual rate", 421, "4.7.28"),
    ("250 2.0.0 OK  1732870000 a1b2c3d4e5f6.12 - gsmtp", 250, "2.0.0"),
    ("550 5.01.001 leading zeros", 550, "5.1.1"),
    ("", None, None),
]


@pytest.mark.parametrize(("text", "reply", "enhanced"), CASES)
def test_extract_codes(text: str, reply: int | None, enhanced: str | None) -> None:
    assert extract_codes(text) == (reply, enhanced)


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("5.1.1", "5.1.1"),
        ("#4.2.2", "4.2.2"),
        ("5.7.606", "5.7.606"),
        ("5.01.1", "5.1.1"),
        ("6.1.1", None),
        ("5.1", None),
        ("5.1.1000", None),
        ("5.a.1", None),
        ("5.\u0661.1", None),
    ],
)
def test_normalise_enhanced(code: str, expected: str | None) -> None:
    assert normalise_enhanced(code) == expected


@pytest.mark.parametrize(
    ("text", "command"),
    [
        ("... (in reply to RCPT TO command)", "RCPT TO"),
        ("(in reply to end of DATA command)", "DATA"),
        ("(in reply to MAIL FROM command)", "MAIL FROM"),
        ("(in reply to XCLIENT command)", "XCLIENT"),
        ("no command here", None),
        (None, None),
    ],
)
def test_smtp_command(text: str | None, command: str | None) -> None:
    assert extract_smtp_command(text) == command


# ---------------------------------------------------------------- linearity

_ALLOWED_UNBOUNDED = {  # one anchored trailing (.*)\) : see their comment
    "postfix_fast.FAST_DELIVERY",
    "postfix_fast.FAST_DELIVERY_MESSAGE",
}


def _stdlib_patterns() -> dict[str, re.Pattern[str]]:
    found = {}
    for module in (extract, postfix, postfix_fast):
        for name, value in vars(module).items():
            if isinstance(value, re.Pattern):
                found[f"{module.__name__.rsplit('.', 1)[-1]}.{name}"] = value
    return found


def test_stdlib_patterns_have_only_bounded_quantifiers() -> None:
    """Bounded quantifiers only => constant work per start position => linear search."""
    patterns = _stdlib_patterns()
    assert len(patterns) >= 5
    for name, compiled in patterns.items():
        unbounded = unbounded_repeats(compiled.pattern)
        if name in _ALLOWED_UNBOUNDED:
            assert unbounded == 1, name
            # the one unbounded repeat is the text's trailing .* (the codes are bounded)
            assert compiled.pattern.endswith(
                r"(?: \(((?:([2-5][0-5][0-9]) ([245]\.[0-9]{1,3}+\.[0-9]{1,3}+) |).*)\)|)\Z"
            )
        else:
            assert unbounded == 0, f"{name} has an unbounded quantifier"


@pytest.mark.parametrize(
    ("crafted", "reply"),
    [
        ("5" * 200_000, None),  # digits everywhere: every start position is a candidate
        ("550 " * 100_000, 550),  # reply codes without enhanced codes
        ("5.5.5." * 50_000, None),  # dotted digits that never close
        ("said: 5" + "5" * 200_000, None),
        ("in reply to " + "A" * 300_000, None),  # command name that never ends in " command"
        ("#5." + "1" * 300_000, None),
    ],
)
def test_crafted_worst_cases_complete(crafted: str, reply: int | None) -> None:
    # No timing assertion: a super-linear pattern would hang here and the suite's timeout
    # would fail the test; the values show each input was read to its end, not cut short.
    codes = extract_codes(crafted)
    assert (codes.reply_code, codes.enhanced_code) == (reply, None)
    assert extract_smtp_command(crafted) is None


@pytest.mark.parametrize(
    ("joined", "expected"),
    [
        # Gmail: every line repeats the reply and enhanced codes
        (
            "550-5.1.1 The email account that you tried to reach does not exist. Please try "
            "550-5.1.1 double-checking the recipient's email address 550 5.1.1 https://x.example",
            "550-5.1.1 The email account that you tried to reach does not exist. Please try "
            "double-checking the recipient's email address https://x.example",
        ),
        # a continuation line starting right after its hyphen (RFC 5321 §4.2.1)
        (
            "550-The mail server could not deliver mail to bob@example.net.  The account "
            "550-or domain may not exist, they may be blacklisted",
            "550-The mail server could not deliver mail to bob@example.net.  The account "
            "or domain may not exist, they may be blacklisted",
        ),
        # a number in the wording is not a line prefix
        ("450 4.7.1 you sent 550 messages today", "450 4.7.1 you sent 550 messages today"),
    ],
)
def test_reply_text_joins_multi_line_replies(joined: str, expected: str) -> None:
    assert reply_text(joined) == expected
