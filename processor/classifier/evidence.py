"""Gather the evidence of one delivery event: codes, where they came from, failure class.

Rules (RFC 3463, RFC 2034 §3, Postfix ``dsn=`` semantics):

- The remote server's own enhanced code (found in the diagnostic text) is
  preferred; a producer's ``enhanced_status`` field comes next; the MTA's
  ``dsn=`` last. Postfix synthesises ``X.0.0`` when the remote gave no
  enhanced code and re-classes the code to ``4.x.x`` when it defers
  (``soft_bounce``), so a ``dsn=`` that differs from the text is recorded,
  explained, and never preferred.
- The failure class (2 success, 4 transient, 5 permanent, 0 unknown) comes
  from the MTA's own outcome first; without one, from the reply code's first
  digit, then from the enhanced code's class. An enhanced code whose class
  contradicts the reply's first digit is flagged and not used for the class.
"""

from __future__ import annotations

from typing import NamedTuple

from processor.model import CodeSource, DeliveryEvent, DeliveryStatus
from processor.smtp.extract import extract_codes, normalise_enhanced

__all__ = ["Evidence", "gather_evidence"]

SUCCESS, TRANSIENT, PERMANENT, NO_CLASS = 2, 4, 5, 0

STATUS_CLASS: dict[DeliveryStatus, int] = {
    DeliveryStatus.SENT: SUCCESS,
    DeliveryStatus.DELIVERABLE: SUCCESS,
    DeliveryStatus.DISCARDED: SUCCESS,
    DeliveryStatus.BOUNCED: PERMANENT,
    DeliveryStatus.UNDELIVERABLE: PERMANENT,
    DeliveryStatus.FAILED: PERMANENT,
    DeliveryStatus.DEFERRED: TRANSIENT,
    DeliveryStatus.SOFTBOUNCE: TRANSIENT,
    DeliveryStatus.EXPIRED: TRANSIENT,
}
"""The MTA's outcome -> failure class; ``unknown`` is absent (codes decide)."""


class Evidence(NamedTuple):
    """Codes and failure class of one event.

    :param reply_code: RFC 5321 reply code or ``None``.
    :param enhanced_code: chosen RFC 3463 code or ``None``.
    :param enhanced_source: where ``enhanced_code`` came from.
    :param mta_dsn: the MTA's ``dsn=`` normalised, or ``None``.
    :param failure_class: 2, 4, 5, or 0 when there is nothing to go on.
    :param class_basis: human words for what decided the class.
    :param conflict: the enhanced class contradicts the reply's first digit.
    """

    reply_code: int | None
    enhanced_code: str | None
    enhanced_source: CodeSource | None
    mta_dsn: str | None
    failure_class: int
    class_basis: str
    conflict: bool


def _choose_enhanced(
    text_code: str | None, event: DeliveryEvent, mta_dsn: str | None
) -> tuple[str | None, CodeSource | None]:
    if text_code is not None:
        return text_code, CodeSource.DIAGNOSTIC
    if event.enhanced_code is not None:
        return event.enhanced_code, CodeSource.EVENT
    if mta_dsn is not None:
        return mta_dsn, CodeSource.MTA
    return None, None


def _class_from_codes(reply: int | None, enhanced: str | None, conflict: bool) -> tuple[int, str]:
    if reply is not None and reply // 100 in (SUCCESS, TRANSIENT, PERMANENT):
        return reply // 100, f"reply code {reply}"
    if enhanced is not None and not conflict:
        return int(enhanced[0]), f"enhanced status {enhanced}"
    return NO_CLASS, "no status and no code"


_BASIS: dict[tuple[str, DeliveryStatus], str] = {}


def _status_basis(source_format: str, status: DeliveryStatus) -> str:
    key = (source_format, status)
    basis = _BASIS.get(key)
    if basis is None:
        basis = _BASIS[key] = f"{source_format} status={status.value}"
    return basis


_CACHE: dict[tuple[object, ...], Evidence] = {}
_CACHE_LIMIT = 16_384


def gather_evidence(event: DeliveryEvent, text: str | None) -> Evidence:
    """Collect the codes of ``event`` and decide its failure class (see module docstring).

    :param text: the diagnostic text to read codes from (the classifier passes the
        event's diagnostic with the recipient masked, ``classification_text``).

    Memoised on the codes found and the event's own fields: the texts differ
    from line to line, the combinations of codes and statuses hardly at all.
    """
    found = extract_codes(text)
    key = (
        found,
        event.reply_code,
        event.enhanced_code,
        event.mta_dsn,
        event.status,
        event.source_format,
    )
    evidence = _CACHE.get(key)
    if evidence is None:
        if len(_CACHE) >= _CACHE_LIMIT:
            _CACHE.clear()
        evidence = _CACHE[key] = _gather(event, *found)
    return evidence


def _gather(event: DeliveryEvent, text_reply: int | None, text_enhanced: str | None) -> Evidence:
    reply = text_reply if text_reply is not None else event.reply_code
    mta_dsn = normalise_enhanced(event.mta_dsn) if event.mta_dsn else None
    enhanced, source = _choose_enhanced(text_enhanced, event, mta_dsn)
    conflict = (
        reply is not None
        and enhanced is not None
        and enhanced[0] != str(reply)[0]
        and 200 <= reply < 600
        and reply // 100 != 3
    )
    failure_class = STATUS_CLASS.get(event.status)
    if failure_class is not None:
        basis = _status_basis(event.source_format, event.status)
    else:
        failure_class, basis = _class_from_codes(reply, enhanced, conflict)
    return Evidence(reply, enhanced, source, mta_dsn, failure_class, basis, conflict)
