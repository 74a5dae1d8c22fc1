"""Where a reason comes from: the text rules, the code tables, and what an expiry hides.

Order (README "Classification policy", "Order of evidence" 3): the first
matching text rule on the diagnostic text decides (specific wording beats a
generic or contradicting code); else the enhanced status code's table entry;
else the reply code's; else the unregistered code's subject; else
``undetermined``.

When the MTA gave up after transient failures (``status=expired``, a DSN
``Action: failed`` with a 4.x.x status, or expiry wording such as "message
expired" / "retry timeout exceeded") the reason is the last error's cause when
the text or a specific code recognises one; only without one is it
``expired``. The verdict stays soft (:attr:`Found.transient`).
"""

from __future__ import annotations

import re
from typing import NamedTuple

from processor.classifier.evidence import PERMANENT, Evidence
from processor.classifier.policy import Policy
from processor.classifier.rules import TextRule, code_tables, hard_reasons
from processor.model import DeliveryEvent, DeliveryStatus, Reason
from processor.smtp.extract import reply_text

__all__ = ["RECIPIENT_MASK", "Found", "code_reason", "rule_text", "text_or_code_reason"]

RECIPIENT_MASK = "x@x.example"
"""What the event's own recipient address reads as in the diagnostic text (RFC 2606 name)."""

_NAMES_RECIPIENT = re.compile(r"recipient|destinat|" + re.escape(RECIPIENT_MASK), re.IGNORECASE)
"""Wording that says the refused address is the recipient's (or quotes the recipient). Not
"RCPT": Postfix notes the command a reply answered, "(in reply to RCPT TO command)"."""


class Found(NamedTuple):
    """A reason, the rule that gave it, the evidence in words, and whether the
    failure is to be treated as transient whatever its class: the wording says
    the condition is temporary (:attr:`TextRule.transient`) or the MTA gave up
    after transient failures (:func:`_gave_up`)."""

    reason: Reason
    rule_id: str
    words: str
    transient: bool = False


def code_reason(evidence: Evidence) -> tuple[Reason, str] | None:
    """Reason from the enhanced code, then the reply code; ``None`` if neither gives one."""
    tables = code_tables()
    reason: Reason | None = None
    rule_id = ""
    code = evidence.enhanced_code
    if code is not None:
        key = code[2:]
        if evidence.failure_class != PERMANENT and key in tables.enhanced_transient:
            reason = tables.enhanced_transient[key]
        else:
            reason = tables.enhanced.get(key)
        rule_id = f"enhanced.X.{key}"
        if reason is None:
            subject = key.partition(".")[0]
            reason = tables.subject_fallback.get(subject, Reason.UNDETERMINED)
            rule_id = f"enhanced.X.{subject}.unregistered"
    reply = evidence.reply_code
    if reply is not None and (reason is None or reason is Reason.UNDETERMINED):
        reply_reason = tables.reply.get(reply)
        if reply_reason is not None and (reason is None or reply_reason is not Reason.UNDETERMINED):
            return reply_reason, f"reply.{reply}"
    if reason is None:
        return None
    return reason, rule_id


# Amazon SES writes its own status and description before the remote server's
# reply, which it quotes: "5.1.0 - Unknown address error 550-'5.2.2 <a@example.com>...
# Mailbox Full' (delivery attempts: 0)". The quoted reply is the evidence; the
# description is SES's reading of its own status code. Bounded quantifiers only.
_QUOTED_REMOTE_REPLY = re.compile(
    r"^(?:smtp; ?)?[245]\.[0-9]{1,3}\.[0-9]{1,3} - [A-Za-z ]{1,60} ([245][0-9]{2}[ \-]')"
)


# Exim's recipient callout: the receiving MX asked the next hop about the recipient and
# quotes its reply after "Callout verification failed:" (Exim verify.c writes this prefix
# for recipient callouts; a sender callout reads "Called: ... Sent: ... Response: ...",
# then "Sender verify failed").
_CALLOUT_PREFIX = re.compile(r"callout verification failed:?[ \n]?", re.IGNORECASE)

# Postfix names the remote host before its reply: "host spam-gw.example.net[192.0.2.1]
# said: 550 5.1.1 ... User unknown" (smtp(8)/lmtp(8)), "host ... refused to talk to me:
# 554 ..." (a greeting refusal). The host name is the receiving site's choice, not its
# words about this delivery: a relay called "spam-gw" or "antivirus" must not make an
# unknown user read as a spam refusal. Replaced by a space, so that the reply's own line
# prefix ("550 5.1.1 ") is removed as before (extract.reply_text). Bounded quantifiers.
_POSTFIX_HOST_SAID = re.compile(
    r"^(?:smtp; ?)?host [^\s\[\]]{1,255}\[[^\]\s]{1,255}\](?::[0-9]{1,5})? "
    r"(?:said|refused to talk to me): ?"
)


def rule_text(diagnostic: str) -> str:
    """The text the text rules read: the reply's wording without reply-line prefixes.

    Postfix's "host NAME[ADDRESS] said:" is dropped: the remote host's name is not
    its reply (a relay named "spam-gw" says nothing about spam).

    When a relay quotes the remote server's reply after its own status and
    description (Amazon SES: ``5.1.0 - Unknown address error 550-'...'``), only
    the quoted reply is read: the remote server's words are the evidence.

    When a callout's quoted reply names the recipient ("Callout verification failed:
    550 5.1.1 <recipient>: Recipient address rejected: User unknown"), the prefix is
    dropped so that the quoted reply decides like any other reply (``user_unknown``).
    A callout quote that does not name the recipient keeps the prefix, and the
    ``sender_rejected.sender_address`` rule reads it as a refusal that is not shown to
    be about the recipient (soft).
    """
    diagnostic = _POSTFIX_HOST_SAID.sub(" ", diagnostic, count=1)
    quoted = _QUOTED_REMOTE_REPLY.match(diagnostic)
    if quoted is not None:
        diagnostic = diagnostic[quoted.start(1) :]
    callout = _CALLOUT_PREFIX.search(diagnostic)
    if callout is not None and _NAMES_RECIPIENT.search(diagnostic, callout.end()):
        diagnostic = diagnostic[: callout.start()] + diagnostic[callout.end() :]
    return reply_text(diagnostic)


def text_or_code_reason(
    event: DeliveryEvent, text: str | None, evidence: Evidence, policy: Policy
) -> Found:
    """The reason from the text rules, else the codes; an expiry names the last error's cause.

    The MTA gave up when its own outcome says so (``status=expired``, a DSN
    ``Action: failed`` with a transient code) or when a text rule that
    matches is an expiry rule ("message expired", "retry timeout exceeded"), wherever
    it comes in file order.
    Then the reason is the cause the rest of the evidence recognises (the next
    matching text rule, else a specific code), see :func:`_gave_up`. When the
    MTA's outcome says it is still retrying (deferred, SOFTBOUNCE, a delay
    notice) expiry wording does not decide: the reason is the cause.

    :param text: the diagnostic as the classifier reads it (recipient masked,
        ``processor.classifier.classification_text``), or ``None``.
    """
    # Postfix writes SOFTBOUNCE (soft_bounce = yes) only for what would have bounced: the
    # wording is read as a permanent failure's; the verdict stays soft (the class decides it)
    wording_class = (
        PERMANENT if event.status is DeliveryStatus.SOFTBOUNCE else evidence.failure_class
    )
    rules = policy.text_rules.all_matches(rule_text(text), wording_class) if text else []
    expiry = "status.expired" if event.status is DeliveryStatus.EXPIRED else None
    retrying = event.status in _RETRYING
    # expiry wording anywhere says the MTA gave up, even when a cause's rule comes first in
    # file order ("Message expired ... <450 4.1.1 User unknown>": the last error was transient)
    given_up = next((rule for rule in rules if rule.reason is Reason.EXPIRED), None)
    if given_up is not None and not retrying:
        expiry = expiry or f"text.{given_up.rule_id}"
    if expiry is not None or retrying:
        rules = [rule for rule in rules if rule.reason is not Reason.EXPIRED]
    found = _cause(rules, evidence, text)
    return found if expiry is None else _gave_up(expiry, found)


_RETRYING = frozenset({DeliveryStatus.DEFERRED, DeliveryStatus.SOFTBOUNCE})
"""MTA outcomes that say delivery will be retried (RFC 3464 §2.3.3 ``delayed``)."""


def _cause(rules: list[TextRule], evidence: Evidence, text: str | None) -> Found:
    """The first text rule's reason, else the code tables', else ``undetermined``."""
    if rules:
        rule = rules[0]
        words = f"text rule {rule.rule_id} matched"
        if rule.transient:
            words += " (its wording says the condition is temporary)"
        found = Found(rule.reason, f"text.{rule.rule_id}", words, rule.transient)
        return _sender_address_code(found, evidence, text)
    from_codes = code_reason(evidence)
    if from_codes is not None:
        reason, rule_id = from_codes
        return Found(reason, rule_id, f"code rule {rule_id}")
    return Found(Reason.UNDETERMINED, "none", "no recognisable reason")


_SENDER_ADDRESS_CODES = frozenset({"1.7", "1.8"})
"""Enhanced code details that name the sender's address (RFC 3463 §3.2): X.1.7 "Bad
sender's mailbox address syntax", X.1.8 "Bad sender's system address"."""


def _sender_address_code(found: Found, evidence: Evidence, text: str | None) -> Found:
    """Re-read a recipient reason from generic wording when the code names the sender.

    "550 5.1.7 Invalid address" or "553 5.1.8 Domain not found" does not say whose
    address is invalid; the enhanced code does: X.1.7 and X.1.8 are about the
    sender's address (RFC 3463 §3.2), so the failure is ``sender_rejected`` (soft),
    not a bad recipient. When the wording itself names the recipient ("Recipient
    address rejected", the recipient's own address quoted) the text keeps its
    reason: specific text beats the code (README "Classification policy" 2).

    :param text: the classification text (recipient masked) or ``None``.
    :returns: ``found`` unchanged, or ``sender_rejected`` from the code.
    """
    code = evidence.enhanced_code
    if code is None or code[2:] not in _SENDER_ADDRESS_CODES:
        return found
    if found.reason not in hard_reasons() or (text and _NAMES_RECIPIENT.search(text)):
        return found
    return Found(
        Reason.SENDER_REJECTED,
        f"enhanced.X.{code[2:]}",
        f"{found.words} ({found.reason.value}) without naming the recipient, but enhanced code "
        f"{code} is about the sender's address (RFC 3463 §3.2)",
        found.transient,
    )


def _gave_up(expiry: str, cause: Found) -> Found:
    """The reason of a delivery the MTA gave up on after transient failures.

    Policy (README "Classification policy", issue 5): the verdict stays soft
    (the failures were transient; ``delivery_status`` keeps ``expired``) and the
    reason names the last error's cause when the diagnostic text or a specific
    code recognises one (e.g. ``network_error`` for "Connection timed out"), as
    Amazon SES reports a Transient bounce with a sub-type naming the cause
    (https://docs.aws.amazon.com/ses/latest/dg/notification-contents.html).
    Only without a recognisable cause (no text, a generic X.0.0, or X.4.7
    "Delivery time expired" itself) is the reason ``expired``.

    :param expiry: the rule that says the MTA gave up (``status.expired`` or an expiry text rule).
    :param cause: what the text and codes say once the expiry wording is set aside.
    :returns: the reason, with a rule id naming both
        (``status.expired+text.network_error.connection``).
    """
    if cause.reason in (Reason.EXPIRED, Reason.UNDETERMINED):
        return Found(
            Reason.EXPIRED, expiry, "the MTA gave up retrying; no recognisable last error", True
        )
    return Found(
        cause.reason,
        f"{expiry}+{cause.rule_id}",
        f"the MTA gave up retrying; last error: {cause.words} ({cause.reason.value})",
        True,
    )
