"""Which MTA's parser reads a split log line, told by its program name.

- Postfix: ``postfix/smtp``, any ``syslog_name/daemon`` with a Postfix daemon
  (:func:`processor.parse.postfix.daemon_of`), read by :mod:`processor.parse.postfix`;
- Sendmail: ``sendmail``, ``sm-mta``, ``sm-msp-queue`` (:mod:`processor.parse.sendmail`);
- Exim: ``exim``, ``exim4`` (syslog), and ``exim`` for a main log line, which names no
  program (:mod:`processor.parse.exim`).

A line of any other program is not a delivery outcome (skipped).
"""

from __future__ import annotations

from processor.model import DeliveryEvent
from processor.parse.exim import EXIM_PROGRAMS, parse_exim_message
from processor.parse.postfix import daemon_of
from processor.parse.sendmail import is_sendmail, parse_sendmail_message
from processor.parse.syslog import SyslogLine

__all__ = ["is_mta_program", "other_mta_events"]


def is_mta_program(program: str) -> bool:
    """Whether a parser reads the lines of ``program``: Postfix, Sendmail or Exim."""
    return daemon_of(program) is not None or is_sendmail(program) or program in EXIM_PROGRAMS


def other_mta_events(split: SyslogLine, identity: bytes) -> list[DeliveryEvent] | None:
    """The events of a Sendmail or Exim line (``[]``: not a delivery outcome, skipped);
    ``None`` for another program's line (Postfix's are read by :mod:`processor.parse`).

    :param split: the line's parts (:func:`processor.parse.syslog.split_syslog`).
    :param identity: the bytes the line's events are identified by (``event_id``).
    :returns: events, never raising on malformed text.
    """
    if is_sendmail(split.program):
        return parse_sendmail_message(split, identity)
    if split.program not in EXIM_PROGRAMS:
        return None
    event = parse_exim_message(
        split.message, split.timestamp, identity, host=split.host, program=split.program
    )
    return [] if event is None else [event]
