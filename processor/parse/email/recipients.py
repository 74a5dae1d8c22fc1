"""Find failed recipients and their error text in a bounce notice written as prose.

Non-standard bounce formats differ in wording but share a layout: each failed
recipient is named on a line of its own (or at the start of a line), and the
error for it follows on the next lines, until the next recipient. The anchor
patterns below cover the layouts of the common MTAs and mailbox providers:

- the address alone on a line, bare, in ``<>`` or quotes, maybe with a colon
  (Exim, qmail, Gmail, Yahoo, GMX, Mail.Ru, Lotus Domino, m-FILTER);
- ``<address>: error text`` (Postfix's own notice, MXLogic, au/EZweb);
- ``address on <date>`` (Microsoft Exchange 2003), ``* address`` (bullets);
- ``address [error]`` / ``address error text`` (Zoho, Sendmail-like lists);
- ``550 <address>... error`` (Sendmail and V5 Sendmail transcripts);
- ``Recipient: <address>``, ``delivering your mail to <address>``,
  ``Could not be delivered to: <address>``, ``rejected recipient <address>``.

Addresses of the sender side (the bounce's own ``To``/``From``, the returned
message's ``From``, ``MAIL FROM:<...>``) are never taken as recipients.
All patterns use bounded quantifiers only (linear-time search).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["TextRecipient", "bracketed_addresses", "find_recipients", "sender_addresses"]

MAX_BLOCK_LINES = 25
MAX_BLOCK_CHARS = 4_000
MAX_TEXT_RECIPIENTS = 500

_ADDR = (
    r"(?<![\w.+\-=/#$%&'*!?^`{|}~@])([\w.+\-=/#$%&'*!?^`{|}~]{1,64}@(?:[A-Za-z0-9](?:[A-Za-z0-9\-]{0,62}\.){1,10}"
    r"[A-Za-z]{2,24}|\[[0-9.:A-Fa-f]{2,45}\]))"
)
_LABEL = (
    r"\b(?:recipient(?: address)?|could not be delivered to|unable to deliver (?:message )?to|"
    r"delivering your mail to|was not delivered to|rejected recipient|failed recipient|"
    r"returned permanent errors|delivery to|addressed to|undeliverable to|failed to deliver to|"
    r"the following address(?:es)?|user|mailbox)"
)
_ANCHORS = tuple(
    re.compile(pattern, re.IGNORECASE)
    for pattern in (
        # bare address on its own line, maybe bracketed or quoted, maybe "addr:" or "addr,"
        r"^[ \t]{0,40}(?:[*>\-][ \t]{1,5})?[<\"'(]?" + _ADDR + r"[>\"')]?[ \t]{0,5}[:,;.]?[ \t]{0,20}$",
        # <addr>: error text  /  "addr": text  /  addr: error text (OpenSMTPD)
        r"^[ \t]{0,40}[<\"]" + _ADDR + r"[>\"][ \t]{0,5}:?[ \t]{1,5}\S",
        r"^[ \t]{0,10}" + _ADDR + r":[ \t]{1,5}\S",
        # addr on <date> (Exchange 2003)
        r"^[ \t]{0,40}" + _ADDR + r"[ \t]{1,10}on[ \t]{1,5}\S",
        # addr [error] / addr error, ERROR_CODE (address first on the line)
        r"^[ \t]{0,10}" + _ADDR + r"[ \t]{1,10}(?:\[|\(|invalid|error|<|unknown|user|mailbox)",
        # Sendmail transcript: 550 <addr>... text / 550 5.1.1 <addr>... text
        r"^[ \t]{0,10}[2-5][0-9][0-9][ \-](?:[245]\.[0-9]{1,3}\.[0-9]{1,3}[ \t]{1,5})?<"
        + _ADDR
        + r">\.\.\.",
        # labelled: Recipient: <addr>, delivering your mail to <addr>, ...
        _LABEL + r"[ \t]{0,5}(?:[:,.]|is|was)?[ \t]{0,5}<?" + _ADDR + r">?",
        # >>> addr <addr> (Sendmail-like list under "addresses had permanent fatal errors")
        r"^[ \t]{0,10}>>>[ \t]{1,5}" + _ADDR + r"[ \t]{1,5}<",
    )
)
_RCPT_COMMAND = re.compile(r"RCPT[ \t]{1,3}TO:[ \t]{0,3}<?" + _ADDR, re.IGNORECASE)
_DSN_FIELD = re.compile(
    r"^(?:Reporting-MTA|Final-Recipient|Original-Recipient|Arrival-Date|Received-From-MTA|Action|"
    r"Status|Remote-MTA|Diagnostic-Code|Last-Attempt-Date)[ \t]{0,5}:",
    re.IGNORECASE,
)
_BRACKETED = re.compile(r"<" + _ADDR + ">")
_SENDER_MENTIONS = re.compile(
    r"(?:MAIL[ \t]{1,3}FROM:[ \t]{0,3}<?|envelope-from[ \t]{0,3}<?|sender[ \t]{0,20}[:=]?[ \t]{0,20}<?|"
    r"from:?[ \t]{1,10}<?)" + _ADDR,
    re.IGNORECASE,
)
@dataclass(slots=True)
class TextRecipient:
    """A recipient found in prose, with its block: its line and the lines up to the next recipient."""

    address: str
    diagnostic: str


def sender_addresses(text: str) -> set[str]:
    """Lowercased addresses the text names as the sender (``MAIL FROM:<...>``, ``From:``)."""
    return {m.group(1).lower() for m in _SENDER_MENTIONS.finditer(text)}


def _anchor(line: str, excluded: set[str]) -> str | None:
    """The recipient address ``line`` names, if it is a recipient line."""
    for pattern in _ANCHORS:
        match = pattern.search(line)
        if match is not None:
            address = match.group(1).strip(".")
            if address.lower() not in excluded:
                return address
    match = _RCPT_COMMAND.search(line)
    if match is not None and match.group(1).lower() not in excluded:
        return match.group(1)
    return None


def find_recipients(text: str, excluded: set[str]) -> list[TextRecipient]:
    """Recipients named in ``text`` (in order, without duplicates) with their blocks.

    :param text: the notice, already cut before the returned message.
    :param excluded: lowercased sender-side addresses that are never recipients.
    """
    excluded = excluded | sender_addresses(text)
    lines = text.splitlines()
    found: list[tuple[str, int]] = []  # address, line index
    seen: set[str] = set()
    for index, line in enumerate(lines):
        if "@" not in line:
            continue
        address = _anchor(line, excluded)
        if address is None or address.lower() in seen:
            continue
        seen.add(address.lower())
        found.append((address, index))
        if len(found) >= MAX_TEXT_RECIPIENTS:
            break
    recipients = []
    for position, (address, index) in enumerate(found):
        stop = found[position + 1][1] if position + 1 < len(found) else len(lines)
        block = [lines[index]]
        for line in lines[index + 1 : min(stop, index + 1 + MAX_BLOCK_LINES)]:
            if _DSN_FIELD.match(line):  # DSN fields copied into the text end the prose
                break
            block.append(line)
        recipients.append(TextRecipient(address, "\n".join(block)[:MAX_BLOCK_CHARS]))
    return recipients


def bracketed_addresses(text: str, excluded: set[str]) -> list[str]:
    """Addresses written ``<like@this>`` anywhere in ``text``, not sender-side, in order."""
    excluded = excluded | sender_addresses(text)
    found: list[str] = []
    for match in _BRACKETED.finditer(text):
        address = match.group(1)
        if address.lower() not in excluded and address.lower() not in (a.lower() for a in found):
            found.append(address)
        if len(found) >= MAX_TEXT_RECIPIENTS:
            break
    return found
