"""Where in the SMTP dialogue a refusal came, and what that says it is about.

RFC 5321 §3.3 orders a mail transaction: the greeting and EHLO/HELO, MAIL FROM, then
RCPT TO, then DATA. A refusal before any recipient was named cannot be about the
recipient; one after DATA comes after the server accepted the recipient.
"""

from __future__ import annotations

from processor.classifier.cause import Found
from processor.classifier.evidence import PERMANENT, TRANSIENT, Evidence
from processor.classifier.masking import classification_text
from processor.classifier.rules import hard_reasons
from processor.model import DeliveryEvent, Reason
from processor.smtp.extract import extract_smtp_command

__all__ = ["after_the_recipient", "before_any_recipient", "smtp_command_of"]


def after_the_recipient(event: DeliveryEvent, evidence: Evidence, found: Found) -> Found:
    """Re-read a permanent refusal without a recognisable reason given after DATA.

    A reply to DATA or to the end of the message data comes after the server accepted
    the recipient at RCPT TO (RFC 5321 §3.3: a recipient it refused would have been
    refused there). A bare "550 Rejected" at that stage refuses the message, not the
    address: ``policy_rejected`` (soft), rule ``command.data``. A reason the wording
    names (a mailbox that does not exist, after all) is left as it is.
    """
    if found.reason is not Reason.UNDETERMINED or evidence.failure_class != PERMANENT:
        return found
    if smtp_command_of(event) not in ("DATA", "BDAT"):
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


def smtp_command_of(event: DeliveryEvent) -> str | None:
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


def before_any_recipient(event: DeliveryEvent, evidence: Evidence, found: Found) -> Found:
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
    command = smtp_command_of(event)
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
