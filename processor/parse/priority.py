"""The ``facility.severity`` token some syslog templates write after the host.

``mx1 mail.info postfix/smtp[1]: ...`` (syslog-ng ``$FACILITY.$LEVEL``, rsyslog
``%syslogfacility-text%.%syslogseverity-text%``, appliance syslogs), also in angle
brackets (``<mail.info>``). Names from RFC 5424 §6.2.1 (Table 1, Table 2).
"""

from __future__ import annotations

__all__ = ["is_priority"]

#: Facility and severity names of RFC 5424 §6.2.1 (Table 1, Table 2) as syslog.h and
#: syslog.conf(5) spell them, with their aliases (``panic``, ``error``, ``warn``).
_FACILITIES = frozenset(
    {"kern", "user", "mail", "daemon", "auth", "syslog", "lpr", "news", "uucp", "cron",
     "authpriv", "ftp", *(f"local{number}" for number in range(8))}
)  # fmt: skip
_SEVERITIES = frozenset(
    {"emerg", "panic", "alert", "crit", "err", "error", "warning", "warn", "notice", "info",
     "debug"}
)  # fmt: skip


def is_priority(token: str) -> bool:
    """``mail.info`` or ``<mail.info>``: the ``facility.severity`` some syslog-ng/rsyslog
    templates and appliance syslogs write after the host (syslog-ng ``$FACILITY.$LEVEL``,
    rsyslog ``%syslogfacility-text%.%syslogseverity-text%``)."""
    if token[:1] == "<" and token[-1:] == ">":
        token = token[1:-1]
    facility, dot, severity = token.partition(".")
    return bool(dot) and facility in _FACILITIES and severity in _SEVERITIES
