"""Amazon SES notifications delivered by email (an SNS topic with an email subscription).

The body of such an email is the SES notification JSON (or the SNS envelope),
followed by SNS's unsubscribe footer after a ``--`` line; relays may fold its
long line by inserting a line break and a space
(https://docs.aws.amazon.com/sns/latest/dg/sns-email-notifications.html).
The JSON is handed to :mod:`processor.parse.platforms.ses`.
"""

from __future__ import annotations

import orjson

from processor.model import DeliveryEvent
from processor.parse.platforms.ses import is_ses, is_sns_envelope, parse_ses

__all__ = ["ses_events_in"]

_MAX_JSON = 1 << 20


def ses_events_in(text: str) -> list[DeliveryEvent]:
    """Events of an SES notification that forms the email's text, else ``[]``.

    :raises InvalidEventError: the notification names no recipient.
    """
    body = text.lstrip()
    if not body.startswith("{"):
        return []
    end = body.rfind("}", 0, _MAX_JSON)
    if end < 0:
        return []
    candidate = body[: end + 1]
    try:
        document = orjson.loads(candidate)
    except orjson.JSONDecodeError:
        try:  # long lines folded by a relay ("\n " inserted every ~1000 characters)
            document = orjson.loads(candidate.replace("\r\n ", "").replace("\n ", ""))
        except orjson.JSONDecodeError:
            return []
    if not isinstance(document, dict) or not (is_ses(document) or is_sns_envelope(document)):
        return []
    return parse_ses(document).events
