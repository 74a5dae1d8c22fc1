"""Exception hierarchy: one root, small classes per stage.

Poison input (the message is bad) is dead-lettered and processing goes on:
:class:`PayloadError` and its subclasses. Infrastructure failures (broker,
produce, commit) stop the loop so the orchestrator restarts the process:
:class:`StreamError` and its subclasses.
"""

from __future__ import annotations


class ProcessorError(Exception):
    """Root of every error this package raises on purpose."""


class PayloadError(ProcessorError):
    """A message cannot be processed; it goes to the dead-letter topic.

    :attr error_class: short stable name used in the dead-letter header
        ``bounce-processor.error.class`` and in the ``error_class`` metric label.
    """

    error_class = "payload_error"


class PayloadTooLargeError(PayloadError):
    """The payload exceeds the configured size limit (bytes)."""

    error_class = "payload_too_large"


class InvalidJSONError(PayloadError):
    """The payload looked like JSON (starts with ``{`` or ``[``) but does not parse."""

    error_class = "invalid_json"


class InvalidEventError(PayloadError):
    """The payload parsed but is not a valid delivery event (wrong field types, no status)."""

    error_class = "invalid_event"


class UnrecognisedPayloadError(PayloadError):
    """No parser recognises the payload's format (Postfix log, shipper JSON, event JSON)."""

    error_class = "unrecognised_format"


class InternalError(PayloadError):
    """An unexpected exception while processing one message (a bug); it is dead-lettered."""

    error_class = "internal_error"


class PolicyError(ProcessorError):
    """A site policy file is invalid; raised at start-up with the file, key and problem."""


class StreamError(ProcessorError):
    """A broker, produce or commit failure that stops the stream loop."""


class TimeZoneError(ProcessorError, ValueError):
    """A source time zone setting is not a zone of the IANA time zone database."""
