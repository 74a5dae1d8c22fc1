"""Sending-platform webhook events -> delivery events with the platform's own classification.

Supported: Amazon SES (notifications, event publishing, SNS envelopes, EventBridge
events), SendGrid Event Webhook items, Mailgun webhooks and Events API items and pages, Postmark
webhooks, SparkPost webhook items. Each event becomes a
:class:`~processor.model.DeliveryEvent` whose ``source_format`` and
``platform`` are the platform's name (``"ses"``, ``"sendgrid"``, ``"mailgun"``,
``"postmark"``, ``"sparkpost"``), with ``platform_classification`` (the platform's category,
verbatim) set; our own verdict and reason are computed from the event's
status, codes and text like any other event.

Detection (:func:`detect_platform`) looks at keys only and is checked before
the generic JSON event schema, whose ``recipient`` key Mailgun items share.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from processor.parse.platforms.common import PlatformResult
from processor.parse.platforms.mailgun import is_mailgun, parse_mailgun
from processor.parse.platforms.postmark import is_postmark, parse_postmark
from processor.parse.platforms.sendgrid import is_sendgrid, parse_sendgrid
from processor.parse.platforms.ses import is_eventbridge, is_ses, is_sns_envelope, parse_ses
from processor.parse.platforms.sparkpost import is_sparkpost, parse_sparkpost

__all__ = ["PlatformResult", "detect_platform", "parse_platform"]

Parser = Callable[[dict[str, Any]], PlatformResult]

_DETECTORS: tuple[tuple[str, Callable[[dict[str, Any]], bool], Parser], ...] = (
    ("ses", lambda d: is_sns_envelope(d) or is_ses(d) or is_eventbridge(d), parse_ses),
    ("sparkpost", is_sparkpost, parse_sparkpost),
    ("postmark", is_postmark, parse_postmark),
    ("sendgrid", is_sendgrid, parse_sendgrid),
    ("mailgun", is_mailgun, parse_mailgun),
)


def detect_platform(document: dict[str, Any]) -> str | None:
    """The platform whose event shape ``document`` has, or ``None``."""
    for name, detector, _ in _DETECTORS:
        if detector(document):
            return name
    return None


def parse_platform(document: dict[str, Any]) -> PlatformResult | None:
    """Events of one platform JSON object, or ``None`` when it is no platform's shape.

    :returns: :class:`PlatformResult` (events, and 1 skipped for an event that is
        not a delivery outcome: opens, clicks, sends, subscription confirmations).
    :raises InvalidEventError: a delivery outcome names no recipient.
    :raises InvalidJSONError: an SNS envelope's ``Message`` is not JSON.
    """
    for _, detector, parser in _DETECTORS:
        if detector(document):
            return parser(document)
    return None
