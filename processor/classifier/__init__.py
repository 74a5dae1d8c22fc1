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

from processor.classifier.cause import RECIPIENT_MASK, Found, text_or_code_reason
from processor.classifier.evidence import (
    NO_CLASS,
    PERMANENT,
    SUCCESS,
    Evidence,
    gather_evidence,
)
from processor.classifier.masking import classification_text, mask_addresses
from processor.classifier.policy import Policy, default_policy
from processor.classifier.stage import after_the_recipient, before_any_recipient
from processor.model import Action, Classification, DeliveryEvent, DeliveryStatus, Reason, Verdict

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
    found = before_any_recipient(
        event, evidence, text_or_code_reason(event, text, evidence, policy)
    )
    return after_the_recipient(event, evidence, found)


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
