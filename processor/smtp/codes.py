"""Meanings of SMTP enhanced status codes and basic reply codes, from data tables.

Both tables are read once, at import, from ``processor/smtp/data/`` (their header
comments give provenance and snapshot date):

- ``enhanced_status_codes.csv``: every class, subject and detail entry of the IANA
  "SMTP Enhanced Status Codes" registry
  (https://www.iana.org/assignments/smtp-enhanced-status-codes), created by RFC 5248;
  code syntax RFC 3463 §2, class titles §3.1, subject titles §3.2.
- ``reply_codes.csv``: the basic reply codes of RFC 5321 §4.2.2/§4.2.3, RFC 7504
  (521, 556), RFC 4954 (AUTH) and the other RFC-defined extension replies; first-digit
  groups and second-digit categories of RFC 5321 §4.2.1.

Lookups are dictionary reads (every registered enhanced code and every syntactically
valid reply code is built at import) plus a bounded LRU cache for well-formed but
unregistered enhanced codes, so they are cheap enough for the per-record hot path.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from processor.model import EnhancedStatus, ReplyCode

ENHANCED_CLASSES = (2, 4, 5)
"""Enhanced status classes of RFC 3463 §3.1: success, persistent transient, permanent."""

# RFC 3463 §2: class "." subject "." detail; class 2/4/5; subject and detail 1*3digit,
# "expressed without leading zero digits". Bounded quantifiers only (linear time).
_ENHANCED_SYNTAX = re.compile(r"([245])\.(0|[1-9][0-9]{0,2})\.(0|[1-9][0-9]{0,2})")
_PATTERN_SYNTAX = re.compile(r"X\.(0|[1-9][0-9]{0,2})\.(0|[1-9][0-9]{0,2})")
_MAX_ENHANCED_LEN = 9  # "5.123.456"


@dataclass(frozen=True, slots=True)
class EnhancedEntry:
    """One row of ``enhanced_status_codes.csv`` (a registry entry).

    :param kind: ``"class"``, ``"subject"`` or ``"detail"``.
    :param code: ``"5.X.X"``, ``"X.1.X"`` or ``"X.1.1"``.
    :param title: registry title; ``None`` only for X.6.10, which the registry leaves blank.
    :param reference: registry reference(s), e.g. ``"RFC7372; RFC7208"``.
    :param reply_codes: associated basic reply codes (``"550"``, ``"5XX"``, ``"any"``).
    :param duplicate_of: the entry this deprecated one duplicates (X.6.10 -> ``"X.6.8"``).
    :param note: what the registry says that matters for classification, or ``None``.
    """

    kind: str
    code: str
    title: str | None
    reference: str
    reply_codes: tuple[str, ...]
    duplicate_of: str | None
    note: str | None


@dataclass(frozen=True, slots=True)
class ReplyEntry:
    """One row of ``reply_codes.csv``.

    :param kind: ``"group"`` (``"5yz"``), ``"category"`` (``"x5z"``) or ``"code"`` (``"550"``).
    :param code: as written in the table.
    :param meaning: group/category name or the defining RFC's text.
    :param reference: defining document(s), e.g. ``"RFC5321"``.
    :param context: command or extension the meaning applies to (``"AUTH"``), ``None`` for any.
    :param enhanced: enhanced status code the RFC sends with it, e.g. ``"5.7.8"``, or ``None``.
    :param note: classification remark, or ``None``.
    """

    kind: str
    code: str
    meaning: str
    reference: str
    context: str | None
    enhanced: str | None
    note: str | None


def _read_table(name: str) -> list[dict[str, str]]:
    text = resources.files("processor.smtp").joinpath("data", name).read_text(encoding="utf-8")
    lines = [line for line in text.splitlines() if line and not line.startswith("#")]
    return list(csv.DictReader(lines, strict=True))


def _load_enhanced() -> list[EnhancedEntry]:
    return [
        EnhancedEntry(
            kind=row["kind"],
            code=row["code"],
            title=row["title"] or None,
            reference=row["reference"],
            reply_codes=tuple(row["reply_codes"].split()),
            duplicate_of=row["duplicate_of"] or None,
            note=row["note"] or None,
        )
        for row in _read_table("enhanced_status_codes.csv")
    ]


def _load_reply() -> list[ReplyEntry]:
    return [
        ReplyEntry(
            kind=row["kind"],
            code=row["code"],
            meaning=row["meaning"],
            reference=row["reference"],
            context=row["context"] or None,
            enhanced=row["enhanced"] or None,
            note=row["note"] or None,
        )
        for row in _read_table("reply_codes.csv")
    ]


_ENTRIES = _load_enhanced()
_CLASS_TITLES = {int(e.code[0]): str(e.title) for e in _ENTRIES if e.kind == "class"}
_SUBJECT_TITLES = {int(e.code.split(".")[1]): str(e.title) for e in _ENTRIES if e.kind == "subject"}
_DETAILS = {e.code: e for e in _ENTRIES if e.kind == "detail"}
_REPLY_ROWS = _load_reply()
_GROUPS = {int(r.code[0]): r.meaning for r in _REPLY_ROWS if r.kind == "group"}
_CATEGORIES = {int(r.code[1]): r.meaning for r in _REPLY_ROWS if r.kind == "category"}
_REPLY_ENTRIES: dict[int, tuple[ReplyEntry, ...]] = {}
for _row in _REPLY_ROWS:
    if _row.kind == "code":
        _REPLY_ENTRIES[int(_row.code)] = (*_REPLY_ENTRIES.get(int(_row.code), ()), _row)


def _detail_title(entry: EnhancedEntry) -> str:
    """Registry title, or for a titleless deprecated duplicate the title of its original."""
    if entry.title is not None:
        return entry.title
    original = _DETAILS.get(entry.duplicate_of or "")
    if original is None or original.title is None:
        raise ValueError(f"enhanced_status_codes.csv: {entry.code} has neither title nor original")
    return original.title


def _build_enhanced() -> dict[str, EnhancedStatus]:
    table: dict[str, EnhancedStatus] = {}
    for pattern, entry in _DETAILS.items():
        title = _detail_title(entry)
        subject = int(pattern.split(".")[1])
        for code in expand_enhanced_pattern(pattern):
            table[code] = EnhancedStatus(
                code=code,
                class_title=_CLASS_TITLES[int(code[0])],
                subject_title=_SUBJECT_TITLES[subject],
                detail_title=title,
                registered=True,
                reference=entry.reference,
            )
    return table


def _reply_meaning(rows: tuple[ReplyEntry, ...]) -> tuple[str, str]:
    """(meaning, reference): the context-free row, else the union of the context rows."""
    for row in rows:
        if row.context is None:
            return row.meaning, row.reference
    meaning = "; ".join(f"{row.meaning} ({row.context})" for row in rows)
    references = dict.fromkeys(row.reference for row in rows)
    return meaning, "; ".join(references)


def _build_reply() -> dict[int, ReplyCode]:
    table: dict[int, ReplyCode] = {}
    for first in range(2, 6):
        for second in range(6):
            for third in range(10):
                code = first * 100 + second * 10 + third
                rows = _REPLY_ENTRIES.get(code)
                meaning, reference = _reply_meaning(rows) if rows else (None, None)
                table[code] = ReplyCode(code, meaning, _GROUPS[first], rows is not None, reference)
    return table


def expand_enhanced_pattern(pattern: str) -> list[str]:
    """Concrete codes of a registry detail pattern: ``"X.1.1"`` -> ``["2.1.1", "4.1.1", "5.1.1"]``.

    :raises ValueError: if ``pattern`` is not ``X.subject.detail`` (RFC 3463 §2 digits).
    """
    if _PATTERN_SYNTAX.fullmatch(pattern) is None:
        raise ValueError(f"not an enhanced status code pattern: {pattern!r}")
    return [f"{cls}{pattern[1:]}" for cls in ENHANCED_CLASSES]


_ENHANCED = _build_enhanced()
_REPLY = _build_reply()


@lru_cache(maxsize=4096)
def _unregistered_status(code: str) -> EnhancedStatus | None:
    match = _ENHANCED_SYNTAX.fullmatch(code)
    if match is None:
        return None
    return EnhancedStatus(
        code=code,
        class_title=_CLASS_TITLES[int(match[1])],
        subject_title=_SUBJECT_TITLES.get(int(match[2])),
        detail_title=None,
        registered=False,
        reference=None,
    )


def enhanced_status(code: str) -> EnhancedStatus | None:
    """Meaning of an enhanced status code ``class.subject.detail`` (e.g. ``"5.1.1"``).

    Syntax per RFC 3463 §2: class 2, 4 or 5; subject and detail 1-3 digits without
    leading zeros. Titles: class RFC 3463 §3.1, subject §3.2, detail from the IANA
    registry (RFC 5248). The code must be exact: no spaces, no prefix such as ``#``.

    :returns: the registered meaning (``registered=True``, registry title and reference);
        for a well-formed code the registry does not list (``"5.7.606"``, ``"5.9.1"``),
        ``registered=False`` with the class title, the subject title when the subject is
        0-7 (else ``None``) and no detail title; ``None`` when ``code`` is malformed or
        not a string. Never raises.
    """
    try:
        found = _ENHANCED.get(code)
    except TypeError:  # unhashable input
        return None
    if found is not None:
        return found
    if not isinstance(code, str) or len(code) > _MAX_ENHANCED_LEN:
        return None
    return _unregistered_status(code)


def reply_code(code: int) -> ReplyCode | None:
    """Meaning of a basic reply code (RFC 5321 §4.2).

    :param code: three-digit integer, e.g. ``550``.
    :returns: a :class:`ReplyCode` for 200-599 with second digit 0-5 (RFC 5321 §4.2.1):
        ``registered=True`` with the defining RFC's text when RFC 5321, RFC 7504, RFC 4954
        or another RFC defines it (a code defined only for some commands, such as 454 for
        AUTH and STARTTLS, lists each ``meaning (COMMAND)``), else ``registered=False``
        with only the first-digit group. ``None`` for anything else, 1yz included (RFC 821
        only). Never raises.
    """
    try:
        return _REPLY.get(code)
    except TypeError:  # unhashable input
        return None


def enhanced_metric_label(status: EnhancedStatus | None) -> str:
    """Bounded metric label: the code when registered, ``"unregistered"``, or ``"none"``."""
    if status is None:
        return "none"
    return status.code if status.registered else "unregistered"


def reply_metric_label(reply: ReplyCode | None) -> str:
    """Bounded metric label: the code (``"550"``) when registered, ``"other"``, or ``"none"``."""
    if reply is None:
        return "none"
    return str(reply.code) if reply.registered else "other"


def registered_enhanced_codes() -> list[str]:
    """Registry detail patterns in registry order: ``["X.0.0", "X.1.0", ..., "X.7.30"]``.

    Expand with :func:`expand_enhanced_pattern` to pre-initialise metric labels.
    """
    return list(_DETAILS)


def registered_reply_codes() -> list[int]:
    """Sorted reply codes an RFC defines (the ``registered=True`` ones of :func:`reply_code`)."""
    return sorted(_REPLY_ENTRIES)


def class_title(cls: int) -> str | None:
    """RFC 3463 §3.1 class title (2, 4, 5), e.g. ``"Permanent Failure"``; ``None`` otherwise."""
    return _CLASS_TITLES.get(cls)


def subject_title(subject: int) -> str | None:
    """RFC 3463 §3.2 subject title (0-7), e.g. ``"Addressing Status"``; ``None`` otherwise."""
    return _SUBJECT_TITLES.get(subject)


def reply_group_title(first_digit: int) -> str | None:
    """RFC 5321 §4.2.1 group of a first digit (1 only in RFC 821), e.g. 4 ->
    ``"Transient Negative Completion"``; ``None`` for other digits."""
    return _GROUPS.get(first_digit)


def reply_category_title(second_digit: int) -> str | None:
    """RFC 5321 §4.2.1 category of a second digit 0-5, e.g. 5 -> ``"Mail system"``."""
    return _CATEGORIES.get(second_digit)


def enhanced_registry_entry(code: str) -> EnhancedEntry | None:
    """Registry row of a concrete code (``"5.7.26"``) or pattern (``"X.7.26"``), else ``None``."""
    if not isinstance(code, str):
        return None
    if code.startswith("X"):
        return _DETAILS.get(code)
    if len(code) > _MAX_ENHANCED_LEN or _ENHANCED_SYNTAX.fullmatch(code) is None:
        return None
    return _DETAILS.get("X" + code[1:])


def reply_code_entries(code: int) -> tuple[ReplyEntry, ...]:
    """Every table row for a reply code (context-free first, then per command); ``()`` if none."""
    try:
        return _REPLY_ENTRIES.get(code, ())
    except TypeError:
        return ()


def reply_enhanced_associations(code: int) -> list[str]:
    """Registry detail patterns that list ``code`` among their associated reply codes
    (RFC 5248 registry column), e.g. 422 -> ``["X.7.12"]``."""
    text = str(code)
    return [p for p, entry in _DETAILS.items() if text in entry.reply_codes]
