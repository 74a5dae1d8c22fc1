"""Rows of expected records for the bounce-email tables (test_email_formats, _long_tail).

A row is what a table states for one recipient of a fixture email: the recipient, the
MTA's status, the enhanced and reply codes, the verdict and the reason.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from processor.enrich import enrich_payload
from processor.model import DeliveryStatus, EnrichedRecord, Reason, Verdict

EMAIL_FIXTURES = Path(__file__).resolve().parent / "fixtures" / "email"
REFERENCE_TIME = 1_800_000_000.0


def records(path: Path) -> list[EnrichedRecord]:
    """The records of the email at ``path``; the email must give no error."""
    result = enrich_payload(path.read_bytes(), reference_time=REFERENCE_TIME)
    assert result.errors == [], result.errors
    return result.records


def summary(record: EnrichedRecord) -> dict[str, Any]:
    """A record reduced to a row's fields."""
    return {
        "recipient": record.recipient,
        "status": record.delivery_status,
        "enhanced": record.enhanced_status.code if record.enhanced_status else None,
        "reply": record.reply_code.code if record.reply_code else None,
        "verdict": record.verdict,
        "reason": record.reason,
    }


def row(
    recipient: str, status: DeliveryStatus, enhanced: str | None, reply: int | None,
    verdict: Verdict, reason: Reason,
) -> dict[str, Any]:  # fmt: skip
    """One expected row (the same keys as :func:`summary`)."""
    return {
        "recipient": recipient, "status": status, "enhanced": enhanced, "reply": reply,
        "verdict": verdict, "reason": reason,
    }  # fmt: skip
