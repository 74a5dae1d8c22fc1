"""One bounce email -> one :class:`RecipientOutcome` per recipient.

Evidence is taken in this order, the first that names recipients wins:

1. ``message/delivery-status`` / ``message/global-delivery-status`` parts
   (RFC 3464, RFC 6533);
2. DSN fields written into the notice text (Amazon WorkMail and others copy
   ``Final-Recipient``/``Status``/``Diagnostic-Code`` into text/plain), or into a
   later ``text/plain`` part with ``Action``/``Status`` (gateways);
3. the notice prose (:mod:`processor.parse.email.recipients`), for the
   non-standard formats; then the ``X-Failed-Recipients`` header (Exim, Gmail);
   then ``<addresses>`` anywhere in the notice, the returned message's ``To``,
   and last an address in the subject ("Undeliverable: mail to bob@... failed").

A DSN recipient without a ``Diagnostic-Code`` gets its error text from the
prose when the prose names it (Postfix and Sendmail put the remote reply in
both places, some MTAs only in the prose).
"""

from __future__ import annotations

import re
from email.message import Message

from processor.model import Reason
from processor.parse.email.diagnostic import (
    error_line,
    from_prose,
    introduced_error,
    platform_suppression,
)
from processor.parse.email.dsn import DsnReport, parse_delivery_status, strip_address_type
from processor.parse.email.events import RecipientOutcome
from processor.parse.email.message import (
    addresses_in,
    header_addresses,
    header_text,
    own_parts,
    part_text,
)
from processor.parse.email.notice import is_delay_notice, is_expiry_notice
from processor.parse.email.recipients import (
    TextRecipient,
    bracketed_addresses,
    find_recipients,
    generated_from,
)

__all__ = ["delivery_reports", "is_bounce_sender", "looks_like_bounce", "outcomes_from_email"]

_DSN_TYPES = ("message/delivery-status", "message/global-delivery-status", "text/delivery-status")
_BOUNCE_SENDER = re.compile(
    r"^(?:mailer-daemon|mailer_daemon|mail-daemon|mailerdaemon|postmaster|post_master|"
    r"mail\.delivery\.system|mdaemon|bounces?|"
    # Exchange's system mailbox, the sender of its non-delivery reports
    r"microsoftexchange[0-9a-f]{32})@",
    re.IGNORECASE,
)
_BOUNCE_WORDS = re.compile(
    r"(?:undeliver|undelivered|"
    r"delivery (?:status notification|failure|failed|problem|has failed|error)|"
    r"returned mail|failure notice|failed delivery|mail delivery (?:failed|system|subsystem)|"
    r"could not be delivered|couldn't be delivered|not (?:be )?delivered|unable to deliver|"
    r"did not reach|permanent(?:ly)? (?:error|failure|fatal)|failed permanently|"
    r"non[ \-]?delivery|delivery notification|mail system error|returning message to sender|"
    r"error sending your mail|delivery has failed|could not deliver|rejected by|"
    # Exchange's administrator section: "Remote Server returned '550 5.1.1 ...'"
    r"remote server returned '[45]|diagnostic information for administrators|"
    # a list manager or gateway refusing the post: "Your message to the Team mailing list
    # (team@lists.example.net) has been rejected" (Mailman), "Your message to Team rejected"
    r"your message(?: (?:to|for) [^\n]{1,120}?)?\s{1,3}(?:(?:has been|was|is)\s{1,3})?"
    r"(?:automatically\s{1,3})?rejected|not authori[sz]ed to send (?:mail|messages?) to|"
    r"not allowed to post to|"
    # localized subjects and notices: German, French, Spanish, Italian, Dutch, Portuguese,
    # Polish, Russian, Chinese, Japanese, Korean
    r"unzustellbar|nicht zugestellt|zustellung fehlgeschlagen|non remis|non distribu|"
    r"n'a pas pu être (?:remis|délivré|distribué)|no se puede entregar|no entregado|"
    r"non recapitat|onbestelbaar|niet bezorgd|não entregue|niedostarczon|nie została dostarczona|"
    r"не доставлен|недоставленн|退信|投递失败|无法送达|配信不能|配信に失敗|送信に失敗|"
    r"送信エラー|配信エラー|발송 실패|전송 실패)",
    re.IGNORECASE,
)
_MAX_DIAGNOSTIC = 2_000
# Exchange's own status when its queue lifetime ran out, written under a 550 summary
# ("#550 4.4.7 QUEUE.Expired; message expired ##", "#550 5.4.316 Message expired,
# connection refused"): the MTA gave up retrying (Exchange NDR documentation,
# https://learn.microsoft.com/exchange/mail-flow/non-delivery-reports-in-exchange-server).
_OWN_EXPIRY = re.compile(
    r"\bQUEUE\.Expired\b|\b[45]\.4\.316[ \t]{1,3}Message expired", re.IGNORECASE
)
# Codes written only in the subject: "Undeliverable: Monthly report (550 5.1.1)".
_SUBJECT_CODE = re.compile(
    r"[(\[]((?:[45][0-9][0-9][ \t]{1,3})?[45]\.[0-9]{1,3}\.[0-9]{1,3}|[45][0-9][0-9])[)\]]"
)
_HAS_CODE = re.compile(r"(?<![\w.])(?:[45][0-9][0-9][ \-]|[45]\.[0-9]{1,3}\.[0-9]{1,3}\b)")


def _fields_in_text(message: Message, notice: str) -> DsnReport | None:
    """DSN fields written as text: in the notice, or in a later ``text/plain`` part (a
    gateway's short notice first, the ``Final-Recipient``/``Status`` fields in a second
    part). ``None`` when no text names a recipient that way."""
    report = parse_delivery_status(notice)
    if report.recipients:
        return report
    for part in own_parts(message):
        if part.get_content_type() == "text/plain":
            report = parse_delivery_status(part_text(part))
            # RFC 3464 §2.3: each recipient block has an Action and a Status (an MDN's
            # Final-Recipient alone, RFC 8098, is no delivery report)
            if any(r.action or r.status for r in report.recipients):
                return report
    return None


def delivery_reports(message: Message) -> list[DsnReport]:
    """Every RFC 3464 report part of ``message``, parsed."""
    return [
        parse_delivery_status(part_text(part))
        for part in own_parts(message)
        if part.get_content_type() in _DSN_TYPES
    ]


def is_bounce_sender(address: str) -> bool:
    """True for a mailer daemon's address (``MAILER-DAEMON@``, ``postmaster@``, ``bounce@`` ...)."""
    return _BOUNCE_SENDER.match(address) is not None


def looks_like_bounce(message: Message, notice: str) -> bool:
    """True when the sender, subject, headers or wording say this is a non-delivery notice."""
    sender = (header_addresses(message, "From") or [""])[0]
    if is_bounce_sender(sender) or header_text(message, "X-Failed-Recipients"):
        return True
    subject = header_text(message, "Subject") or ""
    if _BOUNCE_WORDS.search(subject) or _BOUNCE_WORDS.search(notice[:5_000]):
        return True
    return error_line(notice) is not None


def _sender_side(message: Message, returned: Message | None, report_sender: str | None) -> set[str]:
    addresses = header_addresses(message, "To") + header_addresses(message, "From")
    if returned is not None:
        for name in ("From", "Return-Path", "Sender", "Reply-To"):
            addresses += header_addresses(returned, name)
    if report_sender:
        addresses.append(strip_address_type(report_sender))
    return {address.lower() for address in addresses}


def _prose_outcome(
    address: str, block: str, notice: str, delayed: bool, alone: bool, *, prose_only: bool = False
) -> RecipientOutcome:
    """The outcome for a recipient found in prose; ``alone``: the only recipient of the notice.

    :param prose_only: the notice is the only evidence (no DSN fields): a lone recipient
        without error text of its own reads the notice's words ("Unable to deliver message
        to the following recipients, due to being unable to connect ...").
    """
    original, block = generated_from(block)
    prose = from_prose(block)
    text = prose.text if prose.text != address else ""
    if alone and not prose.has_reply:  # the error may be written before the recipient list
        text = error_line(notice) or introduced_error(notice) or text
    if alone and prose_only and not text:
        text = from_prose(notice[:_MAX_DIAGNOSTIC]).text
    return RecipientOutcome(
        recipient=address, diagnostic=text[:_MAX_DIAGNOSTIC] or None, remote_mta=prose.remote_host,
        delayed_notice=delayed,
        original_recipient=original if original and original.lower() != address.lower() else None,
    )  # fmt: skip


def _from_reports(
    reports: list[DsnReport], prose: dict[str, TextRecipient], notice: str, delayed: bool
) -> list[RecipientOutcome]:
    outcomes: list[RecipientOutcome] = []
    seen: set[str] = set()
    alone = sum(len(report.recipients) for report in reports) == 1
    for report in reports:
        for block in report.recipients:
            address = block.address or ""
            if address.lower() in seen:
                continue
            seen.add(address.lower())
            diagnostic, remote = block.diagnostic, block.remote_mta
            found = prose.get(address.lower())
            block_text = found.diagnostic if found else ""
            generated = generated_from(block_text)[0]
            if not diagnostic:
                from_text = _prose_outcome(address, block_text, notice, delayed, alone)
                diagnostic, remote = from_text.diagnostic, remote or from_text.remote_mta
            original = block.original_recipient or generated
            outcomes.append(
                RecipientOutcome(
                    recipient=address,
                    action=block.action,
                    status=block.status,
                    diagnostic=diagnostic,
                    original_recipient=original if original and original != address else None,
                    remote_mta=remote,
                    last_attempt=block.last_attempt,
                    delayed_notice=delayed,
                )
            )
    return outcomes


def outcomes_from_email(
    message: Message, notice: str, returned: Message | None, reports: list[DsnReport]
) -> list[RecipientOutcome]:
    """The per-recipient outcomes a bounce email states (empty when it names none).

    :param message: the parsed email.
    :param notice: its human-readable notice, cut before the returned message.
    :param returned: the returned message (or its headers), if included.
    :param reports: its parsed delivery-status parts.
    """
    outcomes = _outcomes(message, notice, returned, reports)
    _subject_code(outcomes, header_text(message, "Subject"))
    for outcome in outcomes:  # Amazon SES: "... because it is on the suppression list ..."
        if platform_suppression(outcome.diagnostic):
            outcome.preset_reason = Reason.SUPPRESSED
        outcome.gave_up = _OWN_EXPIRY.search(outcome.diagnostic or "") is not None
    if outcomes and is_expiry_notice(notice):  # "aborted after 5 hours": the MTA gave up
        for outcome in outcomes:
            # wording inside the remote's reply is left to the text rules; a diagnostic
            # without a reply is the MTA's own words, which said it gave up
            diagnostic = outcome.diagnostic or ""
            quoted = _HAS_CODE.search(diagnostic) is not None
            outcome.expired_notice = not (quoted and is_expiry_notice(diagnostic))
    return outcomes


def _outcomes(
    message: Message, notice: str, returned: Message | None, reports: list[DsnReport]
) -> list[RecipientOutcome]:
    report_sender = next((r.sender for r in reports if r.sender), None)
    excluded = _sender_side(message, returned, report_sender)
    subject = header_text(message, "Subject")
    delayed = is_delay_notice(subject, notice)
    prose_list = find_recipients(notice, excluded)
    prose = {item.address.lower(): item for item in prose_list}
    outcomes = _from_reports(reports, prose, notice, delayed)
    if outcomes:
        return outcomes
    in_text = _fields_in_text(message, notice)
    if in_text is not None:
        return _from_reports([in_text], prose, notice, delayed)
    if not looks_like_bounce(message, notice):
        return []
    if prose_list:
        alone = len(prose_list) == 1
        return [
            _prose_outcome(i.address, i.diagnostic, notice, delayed, alone, prose_only=True)
            for i in prose_list
        ]
    failed = [
        a for a in header_addresses(message, "X-Failed-Recipients") if a.lower() not in excluded
    ]
    if not failed:  # sent to oneself: the failed recipient is also the bounce's addressee
        relaxed = find_recipients(notice, {a.lower() for a in header_addresses(message, "From")})
        if relaxed:
            alone = len(relaxed) == 1
            return [
                _prose_outcome(i.address, i.diagnostic, notice, delayed, alone) for i in relaxed
            ]
        failed = bracketed_addresses(notice, excluded)
    if not failed and returned is not None:
        failed = [a for a in header_addresses(returned, "To") if a.lower() not in excluded][:1]
    if not failed:  # "Undeliverable: mail to bob@example.com failed": named only in the subject
        failed = [a for a in addresses_in(subject) if a.lower() not in excluded][:1]
    return [_prose_outcome(a, notice, notice, delayed, len(failed) == 1) for a in failed]


def _subject_code(outcomes: list[RecipientOutcome], subject: str | None) -> None:
    """Give the lone recipient the codes the subject states ("Undeliverable: ... (550
    5.1.1)") when neither its error text nor a ``Status`` has one."""
    if len(outcomes) != 1 or not subject:
        return
    outcome = outcomes[0]
    if outcome.status or _HAS_CODE.search(outcome.diagnostic or ""):
        return
    found = _SUBJECT_CODE.search(subject[:500])
    if found is not None:
        outcome.diagnostic = f"{found.group(1)} {outcome.diagnostic or ''}".strip()
