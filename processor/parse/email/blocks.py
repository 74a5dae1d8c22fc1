"""The block of prose that belongs to each recipient a bounce notice names.

A prose bounce names each failed recipient on a line of its own (or at the start of a
line) and writes the error for it on the next lines, up to the next recipient
(:mod:`processor.parse.email.recipients` finds those lines). Two layouts name a
recipient more than once:

- Microsoft Exchange 2007-2019 and Microsoft 365 list the recipients with a sentence
  for a person ("The email address you entered couldn't be found"), then again under
  "Diagnostic information for administrators" with the remote's reply
  ("Remote Server returned '550 5.1.1 ...'");
- Sendmail lists the failed addresses ("The following addresses had permanent fatal
  errors"), then the transcript names each again with its reply
  ("550 5.1.2 <bob@example.net>... Host unknown").

So a recipient's block ends where a line names *another* recipient (a line naming
the same one is part of its block: Postfix repeats the address in the folded reply),
and a block without any reply or enhanced code is completed by the first later
block of the same recipient that has one.

All patterns use bounded quantifiers only (linear-time search).
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass

__all__ = ["MAX_BLOCK_CHARS", "MAX_BLOCK_LINES", "Mention", "recipient_block"]

MAX_BLOCK_LINES = 25
MAX_BLOCK_CHARS = 4_000
_MAX_LATER = 3  # later mentions of a recipient read for its reply
_SHORT = 12  # characters beside the address on an anchor line that are not yet an error

_DSN_FIELD = re.compile(
    r"^(?:Reporting-MTA|Final-Recipient|Original-Recipient|Arrival-Date|Received-From-MTA|Action|"
    r"Status|Remote-MTA|Diagnostic-Code|Last-Attempt-Date)[ \t]{0,5}:",
    re.IGNORECASE,
)
# What follows a recipient named in a list on one line: more addresses ("; b@example.net").
_LISTED = re.compile(r"[>\"']?[ \t]{0,3}[,;][ \t]{0,3}[<\"']?[^ \t@<>]{1,64}@")
# An SMTP reply code (RFC 5321 §4.2) or an enhanced status code (RFC 3463) in the text.
_HAS_CODE = re.compile(r"(?<![\w.])(?:[45][0-5][0-9][ \-]|#?[45]\.[0-9]{1,3}\.[0-9]{1,3}\b)")


@dataclass(frozen=True, slots=True)
class Mention:
    """A line of the notice that names a recipient.

    :param key: the address, lowercased.
    :param index: the line's index in the notice.
    """

    key: str
    index: int


def _after(mentions: list[Mention], index: int) -> int:
    """Position in ``mentions`` (sorted by line) of the first mention after line ``index``."""
    return bisect_right(mentions, index, key=lambda mention: mention.index)


def _next_other(mentions: list[Mention], key: str, index: int, limit: int) -> int:
    """Index of the first line after ``index`` naming another recipient (or ``limit``)."""
    for mention in mentions[_after(mentions, index) :]:
        if mention.index >= limit:
            break
        if mention.key != key:
            return mention.index
    return limit


def _block_at(
    lines: list[str], address: str, index: int, mentions: list[Mention], later: bool
) -> tuple[str, int]:
    """The block starting at the line ``index`` that names ``address``, and where it ends.

    :param later: a later mention (it ends at the next blank line, like an anchor line
        that already carries the error).
    """
    line = lines[index]
    after = line.split(address, 1)[-1]
    if _LISTED.match(after):  # a list of recipients sharing the error on the next lines
        after = ""
    # the words naming the recipient are not its error, unless a reply code leads the line
    block = [line if line.lstrip()[:1].isdigit() else after.lstrip(" \t>\"':,;.")]
    ends_at_blank = later or len(after.strip(" \t<>\"':,;.*-")) > _SHORT
    stop = _next_other(mentions, address.lower(), index, index + 1 + MAX_BLOCK_LINES)
    end = index + 1
    for end in range(index + 1, min(stop, len(lines))):
        if _DSN_FIELD.match(lines[end]) or (ends_at_blank and not lines[end].strip()):
            break  # DSN fields copied into the text end the prose too
        block.append(lines[end])
    else:
        end = min(stop, len(lines))
    return "\n".join(block), end


def recipient_block(lines: list[str], address: str, index: int, mentions: list[Mention]) -> str:
    """The error text for ``address``, first named on line ``index`` (see the module docstring).

    :param lines: the notice's lines.
    :param mentions: every line naming a recipient, in order.
    :returns: at most :data:`MAX_BLOCK_CHARS` characters.
    """
    block, end = _block_at(lines, address, index, mentions, later=False)
    if not block.strip():  # "Unknown user: bob@example.com" (IMail): the words are before it
        block = lines[index].strip()
    if _HAS_CODE.search(block):
        return block[:MAX_BLOCK_CHARS]
    key = address.lower()
    later = [m for m in mentions[_after(mentions, end - 1) :] if m.key == key]
    for mention in later[:_MAX_LATER]:
        more, _ = _block_at(lines, address, mention.index, mentions, later=True)
        if _HAS_CODE.search(more):
            return f"{block}\n{more}"[:MAX_BLOCK_CHARS]
    return block[:MAX_BLOCK_CHARS]
