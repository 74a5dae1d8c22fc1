"""Decide verdict, reason and action for one delivery event.

Order of evidence (README "Classification policy"):

1. The MTA's own outcome: delivered/discarded -> ``success``; deferred,
   SOFTBOUNCE, expired -> transient (``soft``); bounced -> permanent.
   Without an MTA outcome the reply code's first digit, then the enhanced
   code's class decide (RFC 5321 §4.2.1, RFC 3463 §3.1, RFC 2034 §3).
2. The reason: a text rule on the diagnostic text (specific wording beats a
   generic or contradicting code), else the enhanced status code table, else
   the reply code table, else the unregistered code's subject, else
   ``undetermined``. When the MTA gave up after transient failures
   (``status=expired``, or expiry wording in the text) the reason names the
   last error's cause if the text or a specific code recognises one, else it
   is ``expired``; the verdict stays ``soft`` (:mod:`processor.classifier.cause`).
   A recipient reason (or ``undetermined``) given in reply to MAIL FROM or
   EHLO/HELO, before any recipient was named, is re-read as
   ``sender_rejected`` / ``blocked`` (RFC 5321 §3.3).
   A recipient reason from wording that does not name the recipient, with an
   enhanced code X.1.7/X.1.8 (the sender's address, RFC 3463 §3.2), is
   ``sender_rejected`` (:mod:`processor.classifier.cause`).
3. The verdict: transient -> ``soft``; permanent -> ``soft`` when the text
   rule's wording says the condition is temporary (``transient = true``),
   else the policy's verdict for the reason (hard for user_unknown, host_unknown, address_invalid,
   mailbox_disabled, has_moved, suppressed, undetermined); nothing to go on ->
   ``unknown``. The ``class`` profile uses the failure class alone.
"""

from __future__ import annotations

import re
from functools import lru_cache

from processor.classifier.cause import RECIPIENT_MASK, Found, text_or_code_reason
from processor.classifier.evidence import (
    NO_CLASS,
    PERMANENT,
    SUCCESS,
    TRANSIENT,
    Evidence,
    gather_evidence,
)
from processor.classifier.policy import Policy, default_policy
from processor.classifier.rules import hard_reasons
from processor.model import Action, Classification, DeliveryEvent, DeliveryStatus, Reason, Verdict
from processor.smtp.extract import extract_smtp_command

__all__ = ["RECIPIENT_MASK", "classification_text", "classify_event", "mask_addresses"]

_ACTIONS = {
    Verdict.HARD: Action.SUPPRESS,
    Verdict.SOFT: Action.RETRY,
    Verdict.SUCCESS: Action.NONE,
    Verdict.UNKNOWN: Action.NONE,
}
#: Decisions kept per policy (dropped all at once when full); keys hold texts of up to
#: ``_CACHE_TEXT_LIMIT`` characters, so the cache stays under about 40 MB.
_CACHE_LIMIT = 16_384
_CACHE_TEXT_LIMIT = 2_048


def classification_text(event: DeliveryEvent) -> str | None:
    """The diagnostic text as the classifier reads it: the recipient's own address masked.

    The remote server's reply often quotes the recipient (``550 5.1.1 <jo@example.com>:
    User unknown``). The address is the sender's data, not the server's words: an
    address such as ``spam-reports@example.com`` or ``5.7.1.@example.com`` must not
    look like evidence of spam or like a status code. Codes, the SMTP command and the
    text rules all read the masked text (:func:`mask_addresses`), and the same reply to
    different recipients shares one cached decision.

    :returns: the masked text, the text unchanged, or ``None`` when the event has none.
    """
    text = event.diagnostic
    if text:
        return mask_addresses(text, event.recipient, event.original_recipient)
    return text


def mask_addresses(text: str, *addresses: str | None) -> str:
    """Replace every occurrence of each address (one with an ``@``) by :data:`RECIPIENT_MASK`.

    Matched exactly first, else ignoring case: servers often echo an address in lower
    case (RFC 5321 §2.4: the domain part is case-insensitive, and most systems treat
    the local part so too). The search is a literal one, linear in the text.
    """
    for address in addresses:
        if not address or "@" not in address:
            continue
        if address in text:
            text = text.replace(address, RECIPIENT_MASK)
        elif address.lower() in text.lower():
            text = _literal_ignoring_case(address).sub(RECIPIENT_MASK, text)
    return text


@lru_cache(maxsize=1024)
def _literal_ignoring_case(address: str) -> re.Pattern[str]:
    return re.compile(re.escape(address), re.IGNORECASE)


_NOT_BOUNCES = frozenset({Reason.AUTO_REPLY, Reason.COMPLAINT})
"""Preset reasons that are not delivery failures: verdict ``unknown``, action ``none``."""


def _reason(event: DeliveryEvent, evidence: Evidence, policy: Policy, text: str | None) -> Found:
    """Return the reason and where it came from; ``text`` is :func:`classification_text`."""
    preset = event.preset_reason
    if preset is not None:  # stated by the input's structure (RFC 3834, RFC 5965, platform)
        origin = "platform" if event.platform else "report"
        return Found(preset, f"{origin}.{preset.value}", f"the {origin} states {preset.value}")
    if evidence.failure_class == SUCCESS:
        if event.status is DeliveryStatus.DISCARDED:
            return Found(
                Reason.DISCARDED, "status.discarded", "the MTA discarded the message on purpose"
            )
        return Found(Reason.DELIVERED, "status.delivered", "delivered")
    found = _before_any_recipient(
        event, evidence, text_or_code_reason(event, text, evidence, policy)
    )
    return _after_the_recipient(event, evidence, found)


def _after_the_recipient(event: DeliveryEvent, evidence: Evidence, found: Found) -> Found:
    """Re-read a permanent refusal without a recognisable reason given after DATA.

    A reply to DATA or to the end of the message data comes after the server accepted
    the recipient at RCPT TO (RFC 5321 §3.3: a recipient it refused would have been
    refused there). A bare "550 Rejected" at that stage refuses the message, not the
    address: ``policy_rejected`` (soft), rule ``command.data``. A reason the wording
    names (a mailbox that does not exist, after all) is left as it is.
    """
    if found.reason is not Reason.UNDETERMINED or evidence.failure_class != PERMANENT:
        return found
    if _command(event) not in ("DATA", "BDAT"):
        return found
    explained = (
        f"{found.words} (undetermined), but the reply answered DATA, after the server "
        "accepted the recipient (RFC 5321 §3.3): it refuses the message"
    )
    return Found(Reason.POLICY_REJECTED, "command.data", explained)


_STAGE_REASONS: dict[str, tuple[Reason, str]] = {
    "MAIL FROM": (Reason.SENDER_REJECTED, "command.mail_from"),
    "EHLO": (Reason.BLOCKED, "command.ehlo"),
    "HELO": (Reason.BLOCKED, "command.helo"),
    "CONNECT": (Reason.BLOCKED, "command.connect"),
}
"""SMTP commands answered before any recipient is named -> what a refusal there is about."""

_GREETING_WORDS = ("refused to talk to me", "while receiving the initial server greeting")
"""Postfix's words for a refusal in the server's greeting, before any command."""


def _command(event: DeliveryEvent) -> str | None:
    """The SMTP command a reply answered; ``"CONNECT"`` for a refusal in the greeting.

    Read from the masked text (:func:`classification_text`), like everything else the
    classifier reads: a recipient address that quotes a command (``"(in reply to MAIL
    FROM command)"@example.com``) must not decide, and the decision is cached per masked
    text, shared by every recipient of the same reply.
    """
    text = classification_text(event)
    command = event.smtp_command or extract_smtp_command(text)
    if command is None and text and any(word in text for word in _GREETING_WORDS):
        return "CONNECT"
    return command


def _before_any_recipient(event: DeliveryEvent, evidence: Evidence, found: Found) -> Found:
    """Re-read a recipient reason (or ``undetermined``) given in reply to MAIL FROM, EHLO or HELO.

    RFC 5321 §3.3 orders a mail transaction MAIL, then RCPT, then DATA, after
    the EHLO/HELO greeting (§4.1.1.1). A reply to MAIL FROM can only be about
    the envelope sender (the reverse-path is all the server has been given);
    a reply to EHLO/HELO is about the connecting client host. Neither can say
    that the *recipient* does not exist, is disabled or is malformed: the
    recipient has not been named yet. So when the evidence gave a reason that
    is hard for being about the recipient (or no
    reason at all, ``undetermined``), the reason becomes ``sender_rejected``
    (MAIL FROM) or ``blocked`` (EHLO/HELO), both soft: suppressing a recipient
    address for a refusal of the sender or of the sending host would suppress a
    good address. Reasons that are already about the sender, the host, policy
    or the message are left as they are.

    The command comes from the event (``smtp_command``) or from the
    diagnostic's ``(in reply to ... command)`` note. SMTP pipelining (RFC 2920)
    does not change this: replies still come back in command order.

    Before DATA no message content has been sent either, so ``content_rejected``
    at the greeting or EHLO/HELO becomes ``blocked`` (a refusal of the host); so
    does a ``protocol_error`` in reply to EHLO/HELO (a 501 to EHLO refuses the
    name the client gave for itself) (:func:`_rereadable`).

    :returns: ``found`` re-read, or unchanged when the rule does not apply.
    """
    if evidence.failure_class not in (TRANSIENT, PERMANENT):
        return found
    if not _rereadable(found):
        return found
    command = _command(event)
    stage = _STAGE_REASONS.get(command or "")
    if stage is None or not _rereadable(found, command):
        return found
    new_reason, new_rule = stage
    about = "sender" if command == "MAIL FROM" else "sending host"
    explained = (
        f"{found.words} ({found.reason.value}), but the reply answered {command}, before any "
        f"recipient was named (RFC 5321 §3.3): it is about the {about}"
    )
    return Found(new_reason, new_rule, explained)


def _rereadable(found: Found, command: str | None = None) -> bool:
    """Whether a reason found at ``command`` (any command when ``None``) is re-read by stage.

    - every command: a recipient (hard) reason or ``undetermined``;
    - greeting, EHLO/HELO: also ``content_rejected`` (no content was sent) and,
      for EHLO/HELO, ``protocol_error`` (the argument refused is the client's own
      name, RFC 5321 §4.1.1.1).
    """
    if found.reason in hard_reasons():
        return True
    content = found.reason is Reason.CONTENT_REJECTED
    protocol = found.reason is Reason.PROTOCOL_ERROR
    if command is None:
        return content or protocol
    if command == "MAIL FROM":
        return False
    return content or (protocol and command in ("EHLO", "HELO"))


def _verdict(evidence: Evidence, found: Found, policy: Policy, event: DeliveryEvent) -> Verdict:
    failure_class = evidence.failure_class
    status = event.status
    reason = found.reason
    if reason in _NOT_BOUNCES:
        return Verdict.UNKNOWN
    if failure_class == SUCCESS:
        return Verdict.SUCCESS
    if failure_class == NO_CLASS:
        # No status and no code: only a reason that is soft even when permanent
        # (e.g. text saying "mailbox full") is safe to call; retrying is harmless.
        if reason is not Reason.UNDETERMINED and policy.permanent_verdicts[reason] is Verdict.SOFT:
            return Verdict.SOFT
        return Verdict.UNKNOWN
    if failure_class != PERMANENT or status is DeliveryStatus.EXPIRED:
        return Verdict.SOFT
    if reason is Reason.UNDETERMINED and _only_the_notice(event, evidence):
        return Verdict.UNKNOWN
    if policy.profile == "class":
        return Verdict.HARD
    if found.transient:  # e.g. "550 ... temporarily locked": RFC 3463 X.2.1 transient
        return Verdict.SOFT
    return policy.permanent_verdicts[reason]


def _only_the_notice(event: DeliveryEvent, evidence: Evidence) -> bool:
    """Whether a failure's only evidence is that an email reads as a bounce notice.

    An email notice that names an address but gives no status code, no reply code and no
    wording a rule recognises has nothing to go on but its layout, and a person's reply
    quoting a bounce can have the same layout: ``unknown`` (no action), not ``hard``.
    A code (a DSN ``Status``, a reply) keeps the policy's ``undetermined`` -> hard.
    """
    return (
        event.source_format == "email"
        and evidence.enhanced_code is None
        and evidence.reply_code is None
    )


def _explain(evidence: Evidence, words: str, reason: Reason, verdict: Verdict) -> str:
    parts = [f"{evidence.class_basis}: {_CLASS_WORDS[evidence.failure_class]}", words]
    if evidence.conflict:
        parts.append(
            f"enhanced status {evidence.enhanced_code} contradicts reply {evidence.reply_code}; "
            "the reply decides the class (RFC 2034 §3)"
        )
    if evidence.mta_dsn is not None and evidence.mta_dsn != evidence.enhanced_code:
        parts.append(
            f"MTA dsn={evidence.mta_dsn} differs from the remote's {evidence.enhanced_code}; "
            "the remote's code is kept"
        )
    parts.append(f"{reason.value} -> {verdict.value}")
    return "; ".join(parts)


_CLASS_WORDS = {
    SUCCESS: "success",
    4: "transient failure",
    PERMANENT: "permanent failure",
    NO_CLASS: "nothing to go on",
}


def classify_event(
    event: DeliveryEvent, policy: Policy | None = None
) -> tuple[Evidence, Classification]:
    """Classify one delivery event.

    :param event: the parsed event.
    :param policy: classification policy; ``None`` uses the built-in default.
    :returns: the evidence (codes, their sources, failure class) and the
        :class:`~processor.model.Classification`.

    Decisions are cached per policy on (evidence, status, diagnostic text, SMTP command,
    source format);
    deliveries do not depend on the text, so they always hit. The text is read with the
    event's own recipient address masked (:func:`classification_text`).
    """
    if policy is None:
        policy = default_policy()
    text = classification_text(event)
    evidence = gather_evidence(event, text)
    if event.preset_reason is not None:  # rare (reports, platform events): not cached
        return evidence, _decide(event, evidence, policy, text)
    status = event.status
    key_text = text
    if evidence.failure_class == SUCCESS:
        key_text = None  # the decision does not depend on the text
    elif text is not None and len(text) > _CACHE_TEXT_LIMIT:
        return evidence, _decide(event, evidence, policy, text)
    key = (evidence, status, key_text, event.smtp_command, event.source_format)
    cache = policy.cache
    decision = cache.get(key)
    if decision is None:
        decision = _decide(event, evidence, policy, text)
        if len(cache) >= _CACHE_LIMIT:
            cache.clear()
        cache[key] = decision
    return evidence, decision


def _decide(
    event: DeliveryEvent, evidence: Evidence, policy: Policy, text: str | None
) -> Classification:
    found = _reason(event, evidence, policy, text)
    verdict = _verdict(evidence, found, policy, event)
    reason = found.reason
    return Classification(
        verdict,
        reason,
        _ACTIONS[verdict],
        found.rule_id,
        _explain(evidence, found.words, reason, verdict),
    )
