"""Plain data types that flow through the processor.

Data flow::

    raw bytes (Kafka message value, file line)
      -> DeliveryEvent      (processor.parse: one per recipient per delivery attempt)
      -> Classification     (processor.classify: verdict, reason, rule that decided)
      -> EnrichedRecord     (processor.enrich: event + code meanings + classification)
      -> JSON bytes         (processor.record.serialize) + metric counts

All types are dataclasses, serialised natively by orjson. The two built once
per recipient on the hot path (:class:`DeliveryEvent`, :class:`EnrichedRecord`)
are not ``frozen`` because a frozen dataclass's ``__init__`` costs several
times more; treat them as immutable all the same. The types that orjson
serialises (:class:`EnrichedRecord`, :class:`EnhancedStatus`,
:class:`ReplyCode`) have no ``__slots__``: orjson serialises a dataclass with a
``__dict__`` about 4x faster (0.63 vs 3.2 us per record, measured here).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Verdict(StrEnum):
    """Soft/hard decision handed to downstream services.

    - ``hard``: permanent failure about the recipient address or domain; suppress it.
    - ``soft``: transient failure, or a permanent one about the message, sender,
      policy, reputation, content, size, quota, rate or remote system; retry later.
    - ``success``: delivered (2.x.x, Postfix ``status=sent``) or accepted on purpose.
    - ``unknown``: nothing to go on.
    """

    HARD = "hard"
    SOFT = "soft"
    SUCCESS = "success"
    UNKNOWN = "unknown"


class Action(StrEnum):
    """What a downstream service should do: ``suppress`` (hard), ``retry`` (soft), ``none``."""

    SUPPRESS = "suppress"
    RETRY = "retry"
    NONE = "none"


class Reason(StrEnum):
    """Why a delivery failed (or did not), a small snake_case taxonomy.

    The one-line meanings are in ``processor/classifier/data/reasons.toml``;
    README.md documents the whole table and its default verdicts.
    """

    USER_UNKNOWN = "user_unknown"
    HOST_UNKNOWN = "host_unknown"
    ADDRESS_INVALID = "address_invalid"
    MAILBOX_DISABLED = "mailbox_disabled"
    HAS_MOVED = "has_moved"
    MAILBOX_FULL = "mailbox_full"
    MESSAGE_TOO_LARGE = "message_too_large"
    CONTENT_REJECTED = "content_rejected"
    BLOCKED = "blocked"
    POLICY_REJECTED = "policy_rejected"
    SENDER_REJECTED = "sender_rejected"
    AUTH_FAILED = "auth_failed"
    RATE_LIMITED = "rate_limited"
    GREYLISTED = "greylisted"
    NETWORK_ERROR = "network_error"
    REMOTE_SYSTEM_ERROR = "remote_system_error"
    PROTOCOL_ERROR = "protocol_error"
    EXPIRED = "expired"
    DELIVERED = "delivered"
    DISCARDED = "discarded"
    SUPPRESSED = "suppressed"
    AUTO_REPLY = "auto_reply"
    COMPLAINT = "complaint"
    UNDETERMINED = "undetermined"


class DeliveryStatus(StrEnum):
    """The MTA's own outcome for one recipient (Postfix ``status=`` values, lowercased).

    ``softbounce`` is Postfix's ``status=SOFTBOUNCE`` (``soft_bounce = yes`` turned a
    bounce into a deferral); ``deliverable``/``undeliverable`` are address-verification
    probe results; ``discarded`` is a delivery a filter dropped on purpose; ``failed``
    is a permanent failure reported by a non-Postfix producer; ``unknown`` when the
    producer gave none.
    """

    SENT = "sent"
    BOUNCED = "bounced"
    DEFERRED = "deferred"
    EXPIRED = "expired"
    SOFTBOUNCE = "softbounce"
    DELIVERABLE = "deliverable"
    UNDELIVERABLE = "undeliverable"
    DISCARDED = "discarded"
    FAILED = "failed"
    UNKNOWN = "unknown"


class CodeSource(StrEnum):
    """Where an enhanced status code was taken from.

    - ``diagnostic``: the remote server's reply text (``550 5.1.1 ...``).
    - ``mta``: the MTA's own field (Postfix ``dsn=``), which Postfix may synthesise
      as X.0.0 or re-class to 4.x.x for deferrals.
    - ``event``: a structured producer's field (generic JSON ``enhanced_status``).
    """

    DIAGNOSTIC = "diagnostic"
    MTA = "mta"
    EVENT = "event"


@dataclass(frozen=True)
class EnhancedStatus:
    """Meaning of an RFC 3463 enhanced status code ``class.subject.detail``.

    :param code: e.g. ``"5.1.1"``; class is 2, 4 or 5, subject 0-999, detail 0-999.
    :param class_title: RFC 3463 §3.1 class title, e.g. ``"Permanent Failure"``.
    :param subject_title: RFC 3463 §3.2 subject title, e.g. ``"Addressing Status"``.
    :param detail_title: IANA registry title of ``X.subject.detail``, or ``None``
        when the code is not registered.
    :param registered: whether ``X.subject.detail`` is in the IANA registry.
    :param reference: the registry's reference (e.g. ``"RFC3463"``), or ``None``.
    """

    code: str
    class_title: str
    subject_title: str | None
    detail_title: str | None
    registered: bool
    reference: str | None


@dataclass(frozen=True)
class ReplyCode:
    """Meaning of an RFC 5321 basic reply code (three digits).

    :param code: e.g. ``550``.
    :param meaning: the RFC's text for the code, or ``None`` when unregistered.
    :param group: RFC 5321 §4.2.1 first-digit group, e.g. ``"Permanent Negative Completion"``.
    :param registered: whether the code is defined by RFC 5321, RFC 7504 or RFC 4954.
    :param reference: the defining document, e.g. ``"RFC5321"``, or ``None``.
    """

    code: int
    meaning: str | None
    group: str
    registered: bool
    reference: str | None


@dataclass(slots=True)
class DeliveryEvent:
    """One delivery outcome for one recipient, as the MTA or producer reported it.

    Built by the parsers in :mod:`processor.parse`; every field except ``status``
    and ``source_format`` may be missing (``None``).

    :param source_format: ``"postfix"``, ``"exim"`` (Exim main log or Exim via
        syslog), ``"sendmail"``, ``"json"`` (the generic event schema),
        ``"email"`` (a bounce email), or a sending platform's name (``"ses"``,
        ``"sendgrid"``, ``"mailgun"``, ``"postmark"``, ``"sparkpost"``).
    :param status: the MTA's own outcome.
    :param recipient: envelope recipient as logged (``to=``), not lowercased.
    :param original_recipient: Postfix ``orig_to=`` / DSN Original-Recipient.
    :param sender: envelope sender (``from=``), ``""`` for the null sender.
    :param queue_id: MTA queue ID (Postfix short or long format).
    :param event_time: RFC 3339 UTC timestamp string, or ``None`` when unknown.
    :param mta_host: host name of the MTA that logged the event.
    :param mta_daemon: program that logged it, e.g. ``"postfix/smtp"``.
    :param relay: next hop as logged, e.g. ``"mx.example.com[192.0.2.1]:25"`` or ``"none"``.
    :param delay_seconds: Postfix ``delay=`` total in seconds.
    :param delays: Postfix ``delays=a/b/c/d`` as given.
    :param mta_dsn: the MTA's enhanced status field (Postfix ``dsn=``), verbatim.
    :param reply_code: basic reply code given by a structured producer (not parsed from text).
    :param enhanced_code: enhanced status given by a structured producer.
    :param diagnostic: the remote reply or MTA explanation (Postfix's parenthesised text).
    :param smtp_command: SMTP command the reply answered (``"RCPT TO"``), when known.
    :param probe: True for address-verification probes (Postfix ``deliverable``/``undeliverable``).
    :param remote_mta: DSN Remote-MTA (bounce emails), when given.
    :param original_message: headers of the returned message (``message_id``, ``from``,
        ``to``, ``subject``) from a bounce email, for correlation downstream.
    :param platform: sending platform that produced the event (``"ses"``, ``"sendgrid"``, ...).
    :param platform_classification: the platform's own classification, verbatim
        (e.g. ``"Permanent/NoEmail"``), kept beside ours.
    :param preset_reason: a reason the input states by its structure rather than by
        codes or text, which the classifier takes as given: ``auto_reply`` (RFC 3834
        automatic reply), ``complaint`` (RFC 5965 feedback report, platform complaint
        event), ``suppressed`` (a platform did not attempt delivery because the
        address is on its suppression list), or a platform's drop reason.
    :param identity: bytes that identify the event for :func:`event_id` (the log line).
    """

    source_format: str
    status: DeliveryStatus
    recipient: str | None = None
    original_recipient: str | None = None
    sender: str | None = None
    queue_id: str | None = None
    event_time: str | None = None
    mta_host: str | None = None
    mta_daemon: str | None = None
    relay: str | None = None
    delay_seconds: float | None = None
    delays: str | None = None
    mta_dsn: str | None = None
    reply_code: int | None = None
    enhanced_code: str | None = None
    diagnostic: str | None = None
    smtp_command: str | None = None
    probe: bool = False
    remote_mta: str | None = None
    original_message: dict[str, str] | None = None
    platform: str | None = None
    platform_classification: str | None = None
    preset_reason: Reason | None = None
    identity: bytes = b""


@dataclass(frozen=True, slots=True)
class Classification:
    """The decision for one event.

    :param verdict: soft/hard/success/unknown.
    :param reason: taxonomy reason.
    :param action: what downstream should do (derived from ``verdict``).
    :param rule_id: id of the rule that decided, e.g. ``"text.rate_limited.sending_rate"``
        or ``"code.5.1.1"``; stable across releases so dashboards and tests can name it.
    :param explanation: one human sentence naming the evidence.
    """

    verdict: Verdict
    reason: Reason
    action: Action
    rule_id: str
    explanation: str


@dataclass
class EnrichedRecord:
    """The output record: one per recipient per delivery event.

    Serialised by :func:`processor.record.serialize`; the JSON contract is
    ``processor/schemas/enriched-record.v1.json``. The fast path
    (:mod:`processor.fast_path`) builds most records without ``__init__``, by setting
    ``__dict__`` (all fields, in this order): keep this class free of ``__slots__`` and
    ``__post_init__``.
    """

    schema_version: int
    event_id: str
    source_format: str
    event_time: str | None
    recipient: str | None
    recipient_domain: str | None
    original_recipient: str | None
    sender: str | None
    queue_id: str | None
    mta_host: str | None
    mta_daemon: str | None
    relay: str | None
    delay_seconds: float | None
    delivery_status: DeliveryStatus
    probe: bool
    enhanced_status: EnhancedStatus | None
    enhanced_status_source: CodeSource | None
    mta_dsn: str | None
    reply_code: ReplyCode | None
    smtp_command: str | None
    verdict: Verdict
    reason: Reason
    action: Action
    rule_id: str
    explanation: str
    diagnostic: str | None
    remote_mta: str | None
    original_message: dict[str, str] | None
    platform: str | None
    platform_classification: str | None
    classifier_version: str
