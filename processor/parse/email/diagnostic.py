"""Turn the prose a bounce writes about one recipient into a diagnostic text.

Prose bounces wrap the remote server's reply in the MTA's own words
(``SMTP error from remote mail server after RCPT TO:<...>: host mx.example.com
[192.0.2.1]: 550 5.1.1 ...``, ``Remote host said: ...``, ``did not like our
final DATA: ...``). The diagnostic keeps the reply itself, starting at its
reply code as in a ``Diagnostic-Code: smtp; ...`` field, and adds the SMTP
command it answered in Postfix's words (``(in reply to RCPT TO command)``) so
every input format reads alike. The remote host named in the prose becomes
the event's remote MTA.

All patterns use bounded quantifiers only (linear-time search).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = [
    "ProseDiagnostic",
    "error_line",
    "from_prose",
    "introduced_error",
    "lead_in_diagnostic",
    "platform_suppression",
]

MAX_DIAGNOSTIC_CHARS = 1_500

_LEAD_INS = re.compile(
    r"(?:the error that the other server returned was:|remote (?:host|server) said:|"
    r"remote server (?:at [^\n']{1,200} )?returned|"
    r"the response (?:from the remote server )?was:|"
    r"\bsaid:|it responded as follows:|\breason:|\bbecause:|failed with:|-{3,10}server message|"
    r"technical details of (?:permanent|temporary) failure:|diagnostic[ \-]code:|"
    r"delivery failed for the following reason:|error message:|could not be delivered because of|"
    r"the following (?:message|error)[^:\n]{0,40}:|with the following error message:)",
    re.IGNORECASE,
)
# A reply code where a reply starts: line start or after ": ", "<<< ", "[", "#", "reason: ",
# a diagnostic type's ";" ("smtp;550 ...", Sun/Oracle Messaging Server) or a full-width
# colon (U+FF1A: "原因\uff1a550 ...", Chinese and Japanese notices).
_REPLY_START = re.compile(
    r"(?:^|(?<=[:;\uff1a\[>#('\"]) ?|(?<=\s))(?:<<< ?)?([45][0-5][0-9])"
    r"(?=[ \-]\S|[ \-:][ \t]{1,3}\S|$)",
    re.MULTILINE,
)
_ENHANCED_START = re.compile(
    r"(?:^|(?<=[:;\uff1a\s]))#?([45]\.[0-9]{1,3}\.[0-9]{1,3})(?=[ \t]{1,5}\S)", re.MULTILINE
)
# A line that starts with a reply or enhanced code, maybe after a label ("Error: 5.1.1 ...",
# "Reason: 550 ...": gateways that write the error above the recipient's line).
_ERROR_LINE = re.compile(
    r"^[ \t]{0,10}(?:(?:reported |remote )?(?:error|reason|diagnostic|status)"
    r"[ \t]{0,3}:[ \t]{0,3})?"
    r"((?:<<<[ \t]{0,3})?(?:[45][0-5][0-9][ \-:]|#?[45]\.[0-9]{1,3}\.[0-9]{1,3}[ \t]))",
    re.MULTILINE | re.IGNORECASE,
)
_COMMANDS = (
    (re.compile(r"(?:after|our|to)[ \t]{1,3}(?:RCPT[ \t]{0,3}TO|RCPT\b)|RCPT[ \t]{1,3}TO:|"
                r"SMTP:RCPT|following RCPT command|does not like recipient|\[RCPT_TO\]|"
                r"RCPT command", re.IGNORECASE),
     "RCPT TO"),
    (re.compile(r"(?:after|our)[ \t]{1,3}MAIL[ \t]{0,3}FROM|>>>[ \t]{0,3}MAIL[ \t]{1,3}From|"
                r"sender was rejected|\[MAIL_FROM\]", re.IGNORECASE),
     "MAIL FROM"),
    (re.compile(r"after end of data|our final DATA|failed after I sent the message|\(DATA\)|"
                r"after (?:the )?DATA|-{3,10}SMTP command\s{1,4}DATA|TEXT command", re.IGNORECASE),
     "end of DATA"),
    (re.compile(r"my name was rejected|after (?:HELO|EHLO)", re.IGNORECASE), "EHLO"),
)  # fmt: skip
_CLOSING = {"[": "]", "'": "'", '"': '"', "(": ")"}
_DASH_LINE = re.compile(r"\n[ \t]{0,5}-{3,80}")
_REMOTE_HOST = re.compile(
    r"\b(?:host:?[ \t]{1,3})?([A-Za-z0-9][A-Za-z0-9.\-]{0,252}\.[A-Za-z]{2,24})\.?[ \t]{0,3}"
    r"\[([0-9]{1,3}(?:\.[0-9]{1,3}){3}|[0-9A-Fa-f:]{2,45})\]"
)


@dataclass(slots=True)
class ProseDiagnostic:
    """A normalised diagnostic and the remote host the prose names (``mx.example.com [192.0.2.1]``).

    :param has_reply: the text holds a 4yz/5yz reply or a 4.x.x/5.x.x code.
    """

    text: str
    remote_host: str | None
    has_reply: bool = False


def lead_in_diagnostic(text: str) -> str:
    """Text after the last phrase that introduces the remote server's error, if any."""
    last = None
    for match in _LEAD_INS.finditer(text):
        last = match
    if last is None:
        return text
    rest = text[last.end() :].strip()
    return rest or text


def introduced_error(text: str) -> str | None:
    """The paragraph after the last phrase introducing the remote error ("The response was:").

    For a notice about one recipient whose error carries no reply code (Gmail's
    "The response was: TLS Negotiation failed, ..."). ``None`` without such a phrase.
    """
    rest = lead_in_diagnostic(text)
    if rest is text:
        return None
    return _squeeze(_notations(rest.split("\n\n", 1)[0]))[:MAX_DIAGNOSTIC_CHARS] or None


def error_line(text: str) -> str | None:
    """The first line of ``text`` that starts with an SMTP reply or enhanced code, from the
    code on ("Reported error: 550 5.1.10 ..." -> "550 5.1.10 ...", Microsoft 365)."""
    match = _ERROR_LINE.search(text)
    if match is None:
        return None
    end = text.find("\n", match.start(1))
    return text[match.start(1) : end if end >= 0 else len(text)].strip()


def _command(text: str) -> str | None:
    for pattern, name in _COMMANDS:
        if pattern.search(text):
            return name
    return None


def _reply_part(text: str) -> str | None:
    """``text`` from its first reply code (or enhanced code) on; ``None`` when it has none.

    A reply quoted in brackets or quotes (``[550 5.1.1 User unknown]``,
    ``'550 5.1.1 ...'``) ends at the closing bracket or quote.
    """
    reply = _REPLY_START.search(text)
    enhanced = _ENHANCED_START.search(text)
    starts = [m.start(1) for m in (reply, enhanced) if m is not None]
    if not starts:
        return None
    start = min(starts)
    before = text[max(start - 2, 0) : start].strip()[-1:]
    closing = _CLOSING.get(before)
    end = text.find(closing, start) if closing else -1
    return text[start : end if end > start else len(text)]


_VENDOR_NOTATIONS = (
    (re.compile(r"(?:^|(?<=\s))([45][0-5][0-9]):[ \t]{1,3}"), r"\1 "),  # Yahoo: "550: 5.2.2 ..."
    # a vendor's code in parentheses, written as qmail writes it: "(Scalix error 5.1.1)"
    (re.compile(r"\((?:[A-Za-z][\w\-]{0,30} )?error:? ?([45]\.[0-9]{1,3}\.[0-9]{1,3})\)",
                re.IGNORECASE),
     r"(#\1)"),
    (re.compile(r"ERROR_CODE ?:([45][0-5][0-9]), ERROR_CODE ?:([45]\.[0-9]{1,3}\.[0-9]{1,3})? ?"),
     r"\1 \2 "),  # Zoho: "ERROR_CODE :550, ERROR_CODE :5.1.1 ..."
    # Cisco Secure Email (IronPort) names its own class, then quotes the remote's reply:
    # "5.1.0 - Unknown address error 550-'5.1.1 <bob@example.com>... User unknown'" or
    # "... ('550', ['5.1.1 <bob@example.com>... User unknown'])": the reply is the evidence
    (re.compile(r"[45]\.[0-9]{1,3}\.[0-9]{1,3} - [^'(\n]{1,80} ([45][0-5][0-9])-'([^'\n]{1,900})'"),
     r"\1 \2"),
    (re.compile(r"[45]\.[0-9]{1,3}\.[0-9]{1,3} - [^'(\n]{1,80} \('([45][0-5][0-9])', "
                r"\['([^'\]\n]{1,900})'\]\)"),
     r"\1 \2"),
)  # fmt: skip


def _notations(text: str) -> str:
    """``text`` with vendors' code notations rewritten in the usual form."""
    for pattern, replacement in _VENDOR_NOTATIONS:
        text = pattern.sub(replacement, text)
    return text


def _squeeze(text: str) -> str:
    return " ".join(text.split()).lstrip(":>.-").strip()


# Sendmail's transcript summary of one recipient ("554 <bob@example.net>... Service
# unavailable") and, on the line above it, a local mailer's own output naming the cause
# ("mail.local: unknown user: bob", "procmail: Quota exceeded while writing ...").
_TRANSCRIPT_SUMMARY = re.compile(
    r"[245][0-9][0-9][ \-](?:[245]\.[0-9]{1,3}\.[0-9]{1,3} {1,5})?<[^<>\s]{1,320}>\.\.\."
)
#: One line of a local mailer's output: its program name, a colon, its words.
MAILER_OUTPUT_LINE = r"[ \t]{0,10}[A-Za-z0-9_./\-]{1,64}: {1,3}\S"
_MAILER_OUTPUT = re.compile(r"(?:^|\n)(" + MAILER_OUTPUT_LINE + r"[^\n]{0,500})\n[ \t]{0,10}\Z")


def _mailer_output(block: str, reply: str | None) -> str | None:
    """The local mailer's output just above a Sendmail transcript summary, or ``None``.

    Sendmail reports a local delivery agent's failure (``mail.local``, ``procmail``, a
    ``prog`` mailer) with a generic summary and status (``554 5.5.0 ... Service
    unavailable``, ``550 5.0.0``); the agent's words on the line above say why. Source:
    sendmail's transcript of session ("----- Transcript of session follows -----").
    """
    if reply is None or not _TRANSCRIPT_SUMMARY.match(reply):
        return None
    start = block.find(reply)
    found = _MAILER_OUTPUT.search(block[max(start - 600, 0) : start])
    return found.group(1).strip() if found else None


def from_prose(block: str) -> ProseDiagnostic:
    """The diagnostic for one recipient's block of prose (see the module docstring)."""
    block = _notations(block)
    command = _command(block)
    host = _REMOTE_HOST.search(block)
    introduced = lead_in_diagnostic(block)
    reply = _reply_part(introduced)
    # after a reply, a dashed line starts a vendor footer that is not part of it
    body = introduced if reply is None else _DASH_LINE.split(reply, 1)[0]
    text = _squeeze(body)[:MAX_DIAGNOSTIC_CHARS]
    mailer = _mailer_output(introduced, reply)
    if mailer:
        text = f"{text}; {mailer}"[:MAX_DIAGNOSTIC_CHARS]
    if command and text and "in reply to" not in text:
        text = f"{text} (in reply to {command} command)"
    remote = f"{host.group(1)} [{host.group(2)}]" if host is not None else None
    return ProseDiagnostic(text, remote, reply is not None)


# A sending platform saying it did not attempt delivery because the address is on its
# suppression list. Amazon SES writes these sentences in the Diagnostic-Code of the DSN
# it emails for a bounce of sub-type OnAccountSuppressionList (the account's list) or
# Suppressed (its global list); its JSON notification names the sub-type
# (https://docs.aws.amazon.com/ses/latest/dg/notification-contents.html,
# https://docs.aws.amazon.com/ses/latest/dg/sending-email-suppression-list.html).
_SUPPRESSION = re.compile(
    r"(?:did not send the message to this address because it is on the"
    r"(?: account-level)? suppression list|"
    r"has suppressed sending to this address because)",
    re.IGNORECASE,
)


def platform_suppression(diagnostic: str | None) -> bool:
    """True when ``diagnostic`` is a sending platform's refusal to send to a suppressed address.

    Such an address was never tried: the platform skipped it because an earlier
    message to it bounced hard or drew a complaint. Its reason is ``suppressed``
    (hard), as for the same bounce received as an SES JSON notification.
    """
    if not diagnostic:
        return False
    return _SUPPRESSION.search(" ".join(diagnostic.split())) is not None
