"""The common Postfix delivery line, parsed, classified and recorded in one step.

A busy relay's log is mostly one shape of line (``postfix/smtp[pid]: QUEUEID:
to=<...>, relay=..., delay=..., delays=..., dsn=..., status=... (text)``), and
most of a record does not depend on the line at all but on its *outcome*: the
status, the ``dsn=``, and the reply text. This module matches the common shape
with one regex (:data:`processor.parse.postfix.FAST_DELIVERY`), looks the outcome
up in a per-policy cache, and builds the record from the cached parts plus the
line's own fields (recipient, queue ID, time, relay, delay, text).

The cache key is everything the classification reads (``processor.classifier``):

- delivered lines (``status=sent``/``deliverable``, and ``discard`` deliveries): the
  status word, the daemon, the ``dsn=``, the codes found in the text and the SMTP
  command. The decision does not read the text beyond those, and the text itself
  holds the remote queue ID, different on every line;
- every other line: the status word, the daemon, the ``dsn=`` and the text with the
  recipient masked (:func:`processor.classifier.classification_text`), so one
  reply to many recipients shares one entry.

On a miss the line goes through the general path (:func:`processor.assemble.enrich_event`)
and the line-independent parts of its record are stored. ``tests/unit/test_fast_path.py``
checks that both paths give the same record for every line of the fixture tables and
for generated lines.
"""

from __future__ import annotations

from typing import NamedTuple

from processor.assemble import (
    CLASSIFIER_VERSION,
    EVENT_ID_HASH,
    MAX_DIAGNOSTIC_CHARS,
    SCHEMA_VERSION,
    bounded_diagnostic,
    enrich_event,
)
from processor.classifier import RECIPIENT_MASK
from processor.classifier.policy import Policy
from processor.model import (
    Action,
    CodeSource,
    DeliveryStatus,
    EnhancedStatus,
    EnrichedRecord,
    Reason,
    ReplyCode,
    Verdict,
)
from processor.parse.postfix import FAST_DELIVERY, event_from_fast_match, stamp_time
from processor.smtp.extract import extract_codes, extract_smtp_command

__all__ = ["enrich_common_line"]

_CACHE_LIMIT = 65_536
_CACHE_TEXT_LIMIT = 2_048
_DELIVERED = frozenset({"sent", "deliverable"})


class _Outcome(NamedTuple):
    """The parts of a record that depend on the line's outcome only."""

    status: DeliveryStatus
    probe: bool
    enhanced: EnhancedStatus | None
    enhanced_source: CodeSource | None
    reply: ReplyCode | None
    smtp_command: str | None
    verdict: Verdict
    reason: Reason
    action: Action
    rule_id: str
    explanation: str


def _outcome_key(
    status_word: str, daemon: str, dsn: str, text: str | None, to: str, orig_to: str | None
) -> tuple[object, ...] | None:
    """The cache key of a line's outcome; ``None`` when the line must not be cached."""
    if text is None:
        return (status_word, daemon, dsn, None)
    masked = _masked(text, to, orig_to)
    if status_word in _DELIVERED:
        return (status_word, daemon, dsn, extract_codes(masked), extract_smtp_command(masked))
    if len(masked) > _CACHE_TEXT_LIMIT:
        return None
    return (status_word, daemon, dsn, masked)


def _masked(text: str, recipient: str, original: str | None) -> str:
    """The text with the recipients masked, as :func:`classification_text` reads it."""
    for address in (recipient, original):
        if address and "@" in address and " " not in address and address in text:
            text = text.replace(address, RECIPIENT_MASK)
    return text


def enrich_common_line(line: bytes, policy: Policy, reference_time: float) -> EnrichedRecord | None:
    """Enrich one log line of the common Postfix delivery shape.

    :param line: one log line, without its line ending (any bytes; invalid UTF-8 is replaced).
    :param policy: the classification policy; its ``cache`` holds the outcomes.
    :param reference_time: epoch seconds for resolving the year-less syslog timestamp.
    :returns: the same record :func:`processor.enrich.enrich_payload` builds for the
        line, or ``None`` when the line is not of the common shape (the caller takes
        the general path, which also reports errors).
    """
    found = FAST_DELIVERY.match(line.decode("utf-8", "replace"))
    if found is None:
        return None
    groups = found.groups()
    (stamp, host, program, daemon, queue_id, to, orig_to,
     relay, delay, _delays, dsn, status_word, text, reply, enhanced) = groups  # fmt: skip
    if reply is not None and status_word in _DELIVERED:
        # The text starts with "250 2.0.0 ": extract_codes() returns exactly these codes
        # for it, and masking the recipient cannot touch them (an address has no space).
        command = extract_smtp_command(text) if "in reply to " in text else None
        key: tuple[object, ...] | None = (status_word, daemon, dsn, reply, enhanced, command)
    else:
        key = _outcome_key(status_word, daemon, dsn, text, to, orig_to)
    outcome = policy.cache.get(key) if key is not None else None
    if outcome is None:
        return _first_of_its_kind(groups, line, policy, reference_time, key)
    (status, probe, enhanced_status, enhanced_source, reply_code, smtp_command,
     verdict, reason, action, rule_id, explanation) = outcome  # fmt: skip
    domain = to.rpartition("@")[2] if "@" in to else None
    digest = EVENT_ID_HASH.copy()
    digest.update(line)
    return EnrichedRecord(
        SCHEMA_VERSION,
        digest.hexdigest(),
        "postfix",
        stamp_time(stamp, int(reference_time)),
        to,
        domain.lower() if domain else None,
        orig_to,
        None,
        queue_id,
        host,
        program,
        relay,
        float(delay),
        status,
        probe,
        enhanced_status,
        enhanced_source,
        dsn,
        reply_code,
        smtp_command,
        verdict,
        reason,
        action,
        rule_id,
        explanation,
        text if text is None or len(text) <= MAX_DIAGNOSTIC_CHARS else bounded_diagnostic(text),
        None,
        None,
        None,
        None,
        CLASSIFIER_VERSION,
    )


def _first_of_its_kind(
    groups: tuple[str, ...],
    line: bytes,
    policy: Policy,
    reference_time: float,
    key: tuple[object, ...] | None,
) -> EnrichedRecord | None:
    """Take the general path for a line whose outcome is not cached yet; cache it."""
    event = event_from_fast_match(groups, line, reference_time)
    if event is None:
        return None
    record = enrich_event(event, policy)
    if key is not None:
        cache = policy.cache
        if len(cache) >= _CACHE_LIMIT:
            cache.clear()
        cache[key] = _Outcome(
            record.delivery_status,
            record.probe,
            record.enhanced_status,
            record.enhanced_status_source,
            record.reply_code,
            record.smtp_command,
            record.verdict,
            record.reason,
            record.action,
            record.rule_id,
            record.explanation,
        )
    return record
