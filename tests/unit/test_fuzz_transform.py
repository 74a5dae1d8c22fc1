"""Fuzzing the whole per-message path: any message in, no exception out, every message
accounted for as exactly one of output, dead letter or skipped (tests/fuzzing.py).

A longer run: ``PYTHONPATH=. python bench/fuzz.py --examples 100000``.
"""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings

from tests.fuzzing import HEADERS, KEYS, LIMITS, PAYLOADS, check, handle


@settings(max_examples=600, deadline=None, suppress_health_check=list(HealthCheck))
@given(PAYLOADS, KEYS, HEADERS, LIMITS)
def test_any_message_is_output_dead_letter_or_skipped(
    value: bytes | None, key: bytes | None, headers: Any, limits: tuple[int, int]
) -> None:
    max_payload, max_record = limits
    outcome = handle(
        value, key, headers, max_payload_bytes=max_payload, max_record_bytes=max_record
    )
    check(outcome, max_record)


@settings(max_examples=200, deadline=None, suppress_health_check=list(HealthCheck))
@given(PAYLOADS)
def test_default_limits(value: bytes | None) -> None:
    check(handle(value))


def test_the_three_outcomes_are_reachable() -> None:
    line = (
        b"Nov 29 10:00:01 mx1 postfix/smtp[1]: 4F3C2A1B9D: to=<a@example.com>, "
        b"relay=x[192.0.2.1]:25, delay=1, delays=0/0/1/0, dsn=5.1.1, status=bounced (550 5.1.1 nope)"
    )
    assert handle(line).kind == "output"
    assert handle(b"{broken").kind == "dead_letter"
    assert handle(b"Nov 29 10:00:01 mx1 postfix/smtpd[1]: connect from x[192.0.2.1]").kind == (
        "skipped"
    )
    for empty in (b"", b"  \n ", b"[]", None):
        outcome = handle(empty)
        assert (outcome.kind, outcome.skipped) == ("skipped", 1), empty
