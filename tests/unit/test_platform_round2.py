"""Round 2 of sending-platform events: payloads as the platforms document them.

Each case in ``tests/fixtures/platforms/round2/<platform>.json`` is one payload (a webhook
body, an SNS envelope, an EventBridge event, an Events API page ...) written from the
documented fields, with the records our policy expects, written before running it:
``[recipient, delivery_status, verdict, reason, platform_classification, reply_code,
enhanced_code]`` per record, and how many events are skipped (opens, clicks, sends,
subscription confirmations: not delivery outcomes, never dead letters).

Sources of the shapes: the module docstrings of ``processor/parse/platforms/``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest

from processor.enrich import enrich_payload

ROUND2 = Path(__file__).resolve().parents[1] / "fixtures" / "platforms" / "round2"
PLATFORMS = ("ses", "sendgrid", "mailgun", "postmark", "sparkpost")


def _cases() -> list[Any]:
    found = []
    for platform in PLATFORMS:
        for case in orjson.loads((ROUND2 / f"{platform}.json").read_bytes()):
            found.append(pytest.param(platform, case, id=f"{platform}:{case['name']}"))
    return found


def _row(record: Any) -> list[Any]:
    return [
        record.recipient,
        record.delivery_status.value,
        record.verdict.value,
        record.reason.value,
        record.platform_classification,
        record.reply_code.code if record.reply_code else None,
        record.enhanced_status.code if record.enhanced_status else None,
    ]


@pytest.mark.parametrize(("platform", "case"), _cases())
def test_case(platform: str, case: dict[str, Any]) -> None:
    result = enrich_payload(orjson.dumps(case["payload"]), reference_time=1_800_000_000.0)
    assert result.errors == []
    assert result.skipped == case["skipped"]
    assert [_row(record) for record in result.records] == case["expect"]
    assert all(record.platform == platform for record in result.records)


def test_enough_cases() -> None:
    """At least 120 payloads, every platform represented."""
    counts = {p: len(orjson.loads((ROUND2 / f"{p}.json").read_bytes())) for p in PLATFORMS}
    assert sum(counts.values()) >= 120 and min(counts.values()) >= 15
