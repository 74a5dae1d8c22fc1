"""The pure part of the loop: one message value in, output records and verdicts out.

No Kafka, no I/O, no metrics: :func:`transform` turns a payload into serialised
records (key, value), their metric labels, a skipped-line count and, when the payload
cannot be processed (or some of its lines could not), the dead-letter error.
Dead-letter policy (docs/architecture.md): a payload over the size limit is rejected
before parsing; ``PayloadError`` from the core is dead-lettered; any other exception
is wrapped as :class:`~processor.errors.InternalError`; a payload with some records
and some line errors yields the records *and* a dead-letter entry. A record larger
than ``max_record_bytes`` (a 600 KB recipient address in a JSON event, say) is not
produced: the producer would refuse it and stop the loop on every restart. Its
payload is dead-lettered (``record_too_large``) and the payload's other records go out.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from processor.assemble import SCHEMA_VERSION
from processor.classifier.policy import Policy, default_policy
from processor.enrich import enrich_payload
from processor.errors import InternalError, PayloadError, PayloadTooLargeError
from processor.fast_path import serialize_common_line
from processor.parse import single_line
from processor.parse.stamps import reference_or_now
from processor.record import RecordLabels, record_key, record_labels, serialize

MAX_LINE_ERRORS_SHOWN = 3
RECORD_TOO_LARGE = "record_too_large"
#: A record repeats an input text in at most three fields (recipient, its domain, the
#: key), JSON escaping grows a byte to at most six (``\u0001``), and the added meanings
#: and explanation are bounded: records of a payload below ``limit / 20 - 64 KiB`` bytes
#: cannot reach ``limit``, so the size check runs only on larger payloads.
_EXPANSION_FACTOR = 20
_ADDED_TEXT_BYTES = 65_536
#: orjson returns small ``bytes`` inside a larger buffer (measured with orjson 3.13:
#: about 6 KB of resident memory per 1.2 KB record): a payload fanning out to many
#: records (an event with 10,000 recipients) gets right-sized copies instead.
_COMPACT_AFTER_RECORDS = 64


class Transformed(NamedTuple):
    """Result of :func:`transform` for one message.

    A named tuple (built once per message in the stream loop: cheaper than a dataclass).

    :param outputs: ``(key, value)`` per enriched record; key is the lowercased recipient.
    :param labels: metric labels per record, same order as ``outputs``.
    :param skipped: input lines that are not delivery events.
    :param schema_version: ``schema_version`` of the records (0 when there are none).
    :param error: ``(error_class, message)`` when the message must be dead-lettered.
    """

    outputs: Sequence[tuple[bytes | None, bytes]] = ()
    labels: Sequence[RecordLabels] = ()
    skipped: int = 0
    schema_version: int = 0
    error: tuple[str, str] | None = None


def _dead_letter(error: PayloadError) -> Transformed:
    return Transformed(error=(error.error_class, str(error) or type(error).__name__))


def transform(
    value: bytes | None,
    *,
    policy: Policy | None = None,
    max_payload_bytes: int,
    reference_time: float | None = None,
    max_record_bytes: int | None = None,
    source_timezone: str | None = None,
) -> Transformed:
    """Enrich one Kafka message value.

    :param value: the message value; ``None`` (a tombstone) or a payload without any
        line counts as one skipped line.
    :param policy: site policy (``processor.classifier.policy``) or ``None`` for the default.
    :param max_payload_bytes: larger payloads are dead-lettered unparsed
        (:class:`~processor.errors.PayloadTooLargeError`).
    :param reference_time: Kafka timestamp in Unix seconds, for log lines without a year
        (``None`` or one that cannot be a date, e.g. microseconds: now).
    :param max_record_bytes: largest key + value of one output record; a payload with a
        larger record is dead-lettered (``record_too_large``), its other records kept.
    :param source_timezone: IANA zone name of timestamps without a zone (``None``: UTC);
        validated at start-up (``Settings.syslog_timezone``).
    :returns: never raises; every failure becomes ``Transformed.error``.
    """
    if value is None:
        return Transformed(skipped=1)
    if len(value) > max_payload_bytes:
        return _dead_letter(
            PayloadTooLargeError(
                f"payload of {len(value)} bytes exceeds the limit of {max_payload_bytes}"
            )
        )
    if policy is None:
        policy = default_policy()
    reference_time = reference_or_now(reference_time)
    line = single_line(value)
    if line is not None and (
        max_record_bytes is None
        or _EXPANSION_FACTOR * len(value) + _ADDED_TEXT_BYTES <= max_record_bytes
    ):
        single = _common_line(line, policy, reference_time, source_timezone)
        if single is not None:
            return single
    try:
        result = enrich_payload(
            value,
            policy=policy,
            reference_time=reference_time,
            source_timezone=source_timezone,
        )
        outputs: list[tuple[bytes | None, bytes]] = []
        labels: list[RecordLabels] = []
        compact = len(result.records) > _COMPACT_AFTER_RECORDS
        for record in result.records:
            value = serialize(record)
            if compact:
                value = bytes(memoryview(value))
            outputs.append((record_key(record), value))
            labels.append(record_labels(record))
    except PayloadError as exc:
        return _dead_letter(exc)
    except Exception as exc:  # a bug on one message must not stop the stream
        return _dead_letter(InternalError(f"{type(exc).__name__}: {exc}"))
    error = None
    if (
        max_record_bytes is not None
        and _EXPANSION_FACTOR * len(value) + _ADDED_TEXT_BYTES > max_record_bytes
    ):
        error = _drop_oversized(outputs, labels, max_record_bytes)
    if result.errors and error is None:
        shown = "; ".join(
            f"line {e.line_number}: {e.error_class}: {e.message}"
            for e in result.errors[:MAX_LINE_ERRORS_SHOWN]
        )
        more = len(result.errors) - MAX_LINE_ERRORS_SHOWN
        error = (
            result.errors[0].error_class,
            f"{len(result.errors)} line(s) failed: {shown}"
            + (f"; {more} more" if more > 0 else ""),
        )
    version = result.records[0].schema_version if outputs else 0
    # An empty payload (b"", blank lines, "[]") holds no line at all: one skipped
    # message, so every message is accounted for as output, dead letter or skipped.
    skipped = result.skipped or int(not outputs and error is None)
    return Transformed(outputs, labels, skipped, version, error)


def _common_line(
    line: bytes, policy: Policy, reference_time: float, zone: str | None
) -> Transformed | None:
    """One Postfix delivery line of the common shape (:mod:`processor.fast_path`), or ``None``.

    Its record cannot exceed the record size limit (the caller checked the input's
    size); any other line, and any error, is left to the general path.
    """
    try:
        single = serialize_common_line(line, policy, reference_time, zone)
    except Exception:  # the general path reports the error
        return None
    if single is None:
        return None
    key, output, labels = single
    return Transformed(((key, output),), (labels,), 0, SCHEMA_VERSION)


def _drop_oversized(
    outputs: list[tuple[bytes | None, bytes]], labels: list[RecordLabels], limit: int
) -> tuple[str, str] | None:
    """Remove records whose key + value exceed ``limit``; the error naming them, if any."""
    sizes = [len(key or b"") + len(value) for key, value in outputs]
    too_large = [i for i, size in enumerate(sizes) if size > limit]
    if not too_large:
        return None
    message = (
        f"{len(too_large)} of {len(outputs)} record(s) exceed {limit} bytes "
        f"(largest {max(sizes)} bytes, record #{too_large[0] + 1}); not produced"
    )
    for i in reversed(too_large):
        del outputs[i], labels[i]
    return RECORD_TOO_LARGE, message
