"""The diagnostic text as the classifier reads it: the event's own addresses masked."""

from __future__ import annotations

import re
from functools import lru_cache

from processor.classifier.cause import RECIPIENT_MASK
from processor.model import DeliveryEvent

__all__ = ["classification_text", "mask_addresses"]


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
