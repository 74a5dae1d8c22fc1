"""RFC 3464 delivery status notifications: the ``message/delivery-status`` fields.

A delivery-status body is one block of per-message fields (``Reporting-MTA``,
``Arrival-Date``, ...) followed by one block per recipient (``Final-Recipient``,
``Original-Recipient``, ``Action``, ``Status``, ``Remote-MTA``,
``Diagnostic-Code``, ``Last-Attempt-Date``), blocks separated by blank lines
(RFC 3464 §2.1-§2.3). RFC 6533 ``message/global-delivery-status`` has the same
fields in UTF-8.

Real reports bend the rules: blank lines missing between recipients, fields in
the wrong block, extra vendor fields (``X-Postfix-Queue-ID``,
``X-Actual-Recipient``), fields copied into a text/plain part. The parser
therefore reads all ``Name: value`` lines in order and starts a new recipient
whenever a recipient field repeats, rather than trusting the blank lines alone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

__all__ = ["DsnRecipient", "DsnReport", "parse_delivery_status", "strip_address_type"]

MAX_RECIPIENTS = 1_000
"""Recipient blocks read from one report."""

_FIELD_NAME = re.compile(r"([A-Za-z][A-Za-z0-9\-]{0,60})[ \t]{0,20}:")
_MAX_VALUE = 4_000
_ADDRESS = re.compile(r"[^\s<>\"'(),;:|]{1,64}@[A-Za-z0-9.\-\[\]:]{1,255}")

_MESSAGE_FIELDS = {
    "reporting-mta": "reporting_mta",
    "arrival-date": "arrival_date",
    "received-from-mta": "received_from_mta",
    "x-postfix-queue-id": "queue_id",
    "x-postfix-sender": "sender",
    "original-envelope-id": "envelope_id",
}
_RECIPIENT_FIELDS = {
    "final-recipient": "final_recipient",
    "original-recipient": "original_recipient",
    "x-actual-recipient": "actual_recipient",
    "action": "action",
    "status": "status",
    "remote-mta": "remote_mta",
    "diagnostic-code": "diagnostic",
    "last-attempt-date": "last_attempt",
    "will-retry-until": "retry_until",
}


@dataclass(slots=True)
class DsnRecipient:
    """One per-recipient block, values verbatim (folding undone).

    :param final_recipient: ``Final-Recipient`` value without its address type.
    :param original_recipient: ``Original-Recipient`` without its address type.
    :param actual_recipient: vendor ``X-Actual-Recipient`` (some MTAs put the address only there).
    :param action: ``failed``, ``delayed``, ``delivered``, ``relayed`` or ``expanded`` (lowercased).
    :param status: the enhanced status code as given (RFC 3464 §2.3.4).
    :param remote_mta: ``Remote-MTA`` without its type (``dns; mx.example.com`` ->
        ``mx.example.com``).
    :param diagnostic: ``Diagnostic-Code`` as given, type included (``smtp; 550 5.1.1 ...``).
    :param last_attempt: ``Last-Attempt-Date`` text.
    """

    final_recipient: str | None = None
    original_recipient: str | None = None
    actual_recipient: str | None = None
    action: str | None = None
    status: str | None = None
    remote_mta: str | None = None
    diagnostic: str | None = None
    last_attempt: str | None = None
    retry_until: str | None = None

    @property
    def address(self) -> str | None:
        """The recipient address to report: final, else actual, else original."""
        return self.final_recipient or self.actual_recipient or self.original_recipient


@dataclass(slots=True)
class DsnReport:
    """All fields of one delivery-status body (per-message fields plus recipients)."""

    reporting_mta: str | None = None
    arrival_date: str | None = None
    received_from_mta: str | None = None
    queue_id: str | None = None
    sender: str | None = None
    envelope_id: str | None = None
    recipients: list[DsnRecipient] = field(default_factory=list)


def strip_address_type(value: str) -> str:
    """``"rfc822; user@example.com"`` -> ``"user@example.com"`` (RFC 3464 §2.3.2 address-type).

    Angle brackets and surrounding quotes are removed too.
    """
    _, semicolon, rest = value.partition(";")
    text = rest if semicolon else value
    return text.strip().strip("<>\"' ").strip()


def _field_lines(text: str) -> list[tuple[str, str] | None]:
    """``(name, value)`` per field with continuation lines joined; ``None`` marks a blank line."""
    items: list[tuple[str, str] | None] = []
    for line in text.splitlines():
        if not line.strip():
            items.append(None)
            continue
        previous = items[-1] if items else None
        if line[:1] in (" ", "\t") and previous is not None:
            name, value = previous
            if len(value) < _MAX_VALUE:
                items[-1] = (name, f"{value} {line.strip()}")
            continue
        match = _FIELD_NAME.match(line)
        if match is None:
            items.append(None)
            continue
        items.append((match.group(1).lower(), line[match.end() : match.end() + _MAX_VALUE].strip()))
    return items


def _clean_value(attribute: str, value: str) -> str:
    if attribute in ("final_recipient", "original_recipient", "actual_recipient", "remote_mta"):
        return strip_address_type(value)
    if attribute == "action":
        words = value.split()
        return words[0].lower() if words else value
    return value


def _plain_addresses(recipient: DsnRecipient) -> None:
    """Keep only the address of ``|/usr/bin/prog user@example.com`` (a pipe) or ``Name <addr>``."""
    for name in ("final_recipient", "original_recipient", "actual_recipient"):
        value = getattr(recipient, name)
        if value and (" " in value or "<" in value):
            found = _ADDRESS.search(value)
            setattr(recipient, name, found.group(0) if found else None)


def parse_delivery_status(text: str) -> DsnReport:
    """Parse delivery-status fields from ``text``.

    :param text: the decoded body of a ``message/delivery-status`` part, or any
        text that holds DSN-style fields.
    :returns: :class:`DsnReport`; ``recipients`` keeps only blocks that name an
        address; at most :data:`MAX_RECIPIENTS`.
    """
    report = DsnReport()
    current: DsnRecipient | None = None
    for item in _field_lines(text):
        if item is None:
            if current is not None and current.address:
                current = None  # a blank line ends a recipient block
            continue
        name, value = item
        if name in _MESSAGE_FIELDS and current is None:
            attribute = _MESSAGE_FIELDS[name]
            if getattr(report, attribute) is None and value:
                setattr(report, attribute, value)
            continue
        field = _RECIPIENT_FIELDS.get(name)
        if field is None or not value:
            continue
        attribute = field
        if current is None or getattr(current, attribute) is not None:
            if len(report.recipients) >= MAX_RECIPIENTS:
                break
            current = DsnRecipient()
            report.recipients.append(current)
        setattr(current, attribute, _clean_value(attribute, value))
    for recipient in report.recipients:
        _plain_addresses(recipient)
    report.recipients = [r for r in report.recipients if r.address and "@" in r.address]
    return report
