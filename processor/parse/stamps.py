"""Syslog timestamps -> RFC 3339 UTC strings.

The time parts of :mod:`processor.parse.syslog`: RFC 3164 (``Nov 29 10:00:01``, no year,
no zone), ISO 8601 / RFC 3339 tokens, and the year and zone rules of zone-less times.

Timestamps are returned as RFC 3339 UTC strings (``2026-11-29T10:00:01Z``).
A timestamp without a zone (RFC 3164, an ISO 8601 time without an offset) is
read in the *source time zone*: an IANA zone name (``Europe/Paris``; setting
``syslog_timezone``), UTC when none is given. Local times that do not exist (the
hour skipped when DST starts) or exist twice (the hour repeated when it ends) are
resolved with ``fold=0`` (PEP 495): the offset in force *before* the transition,
so ``02:30`` on the day Paris springs forward is read as ``+01:00`` and ``02:30`` on
the day it falls back as the first (summer, ``+02:00``) occurrence. A year-less
RFC 3164 timestamp gets the latest year that puts it no more than one day after
the reference time, both read as wall-clock time in the source zone (a ``Dec 31``
line read on ``Jan 1`` belongs to the previous year). Fractional seconds are kept
without trailing zeros, to the microsecond (``datetime``'s resolution: a longer
fraction, such as the nanoseconds of Go's RFC 3339, is truncated).
"""

from __future__ import annotations

import calendar
import math
import time
from datetime import UTC, date, datetime, timedelta, timezone, tzinfo
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from processor.errors import TimeZoneError

__all__ = [
    "MONTHS",
    "bsd_timestamp",
    "epoch_timestamp",
    "iso_timestamp",
    "resolve_year",
    "to_rfc3339_utc",
    "zone_info",
    "zoned_wall_time",
]

#: RFC 3164 month abbreviations (§4.1.2) -> month number.
MONTHS = {
    "Jan": 1, "Feb": 2, "Mar": 3, "Apr": 4, "May": 5, "Jun": 6,
    "Jul": 7, "Aug": 8, "Sep": 9, "Oct": 10, "Nov": 11, "Dec": 12,
}  # fmt: skip
_SECONDS_PER_DAY = 86_400
_EPOCH_DATE = date(1970, 1, 1)
#: Zone names that are UTC itself: timestamps read in them take the UTC fast paths.
_UTC_NAMES = frozenset({"UTC", "Etc/UTC", "Etc/UCT", "UCT", "Etc/Universal", "Universal",
                        "Etc/Zulu", "Zulu", "Etc/GMT", "GMT"})  # fmt: skip


def _is_utc(zone: str | None) -> bool:
    return zone is None or zone in _UTC_NAMES


@lru_cache(maxsize=64)
def zone_info(name: str | None) -> tzinfo:
    """The time zone of zone-less timestamps: an IANA zone name -> ``tzinfo``.

    :param name: an IANA time zone database name (``"Europe/Paris"``,
        ``"America/New_York"``, ``"UTC"``), or ``None`` for UTC.
    :returns: :data:`datetime.UTC` for ``None`` and UTC names, else a
        :class:`zoneinfo.ZoneInfo` (system tz database, or the ``tzdata`` package).
    :raises TimeZoneError: ``name`` is not a zone of the IANA database.
    """
    if _is_utc(name):
        return UTC
    assert name is not None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise TimeZoneError(
            f"unknown time zone {name!r}: expected an IANA zone name such as "
            "'Europe/Paris' or 'UTC'"
        ) from error


#: 9999-12-31T23:59:59Z: the last second Python's calendar (and RFC 3339) can write.
_LAST_EPOCH_SECOND = 253_402_300_799


def reference_or_now(reference_time: float | None) -> float:
    """The reference time year-less timestamps are resolved against, or now.

    ``None``, a value that is not finite, or one outside 1970-9999 (a producer's Kafka
    timestamp in microseconds read as milliseconds, say) is replaced by the current
    time: such a reference cannot place a date, and a wrong one must not turn every
    line into an error.

    :param reference_time: epoch seconds, or ``None``.
    :returns: epoch seconds within 1970-9999.
    """
    if reference_time is None or not math.isfinite(reference_time):
        return time.time()
    if not 0 <= reference_time <= _LAST_EPOCH_SECOND:
        return time.time()
    return reference_time


@lru_cache(maxsize=1024)
def _candidate_years(month: int, day: int, reference_day: int) -> tuple[tuple[int, int], ...]:
    """Years that may hold ``month``/``day``, latest first, with their distance in days.

    Each entry is (year, days from the reference day to that date); the list
    ends at the first date on or before the reference day. Invalid dates
    (Feb 29 outside leap years) are left out.
    """
    reference = _EPOCH_DATE + timedelta(days=reference_day)
    candidates: list[tuple[int, int]] = []
    for year in range(reference.year + 1, reference.year - 9, -1):
        try:
            distance = (date(year, month, day) - reference).days
        except ValueError:
            continue
        if distance >= 2:
            continue
        candidates.append((year, distance))
        if distance <= 0:
            break
    return tuple(candidates)


def resolve_year(month: int, day: int, seconds_of_day: int, reference_time: float) -> int | None:
    """Pick the year of a year-less syslog timestamp (RFC 3164 has none).

    :param seconds_of_day: the timestamp's time of day in seconds (UTC).
    :param reference_time: epoch seconds the line is read against (the Kafka
        message timestamp, or now).
    :returns: the latest year that puts the timestamp no more than one day
        after ``reference_time`` (so a ``Dec 31`` line read on ``Jan 1`` gets
        the previous year, a ``Jan 1`` line read late on ``Dec 31`` the next
        one), or ``None`` when no year in the last eight fits (``Feb 29``).
    """
    reference_day, reference_seconds = divmod(int(reference_time), _SECONDS_PER_DAY)
    for year, distance in _candidate_years(month, day, reference_day):
        if distance <= 0 or seconds_of_day <= reference_seconds:
            return year
    return None


def _local_reference(reference_second: int, zone: str | None) -> int:
    """``reference_second`` shifted to wall-clock seconds in ``zone`` (for :func:`resolve_year`)."""
    if _is_utc(zone):
        return reference_second
    source = zone_info(zone)
    try:
        offset = datetime.fromtimestamp(reference_second, source).utcoffset()
    except (OverflowError, OSError, ValueError):
        return reference_second
    return reference_second + int(offset.total_seconds()) if offset else reference_second


def to_rfc3339_utc(moment: datetime) -> str:
    """Format an aware ``datetime`` as RFC 3339 UTC with a ``Z`` suffix.

    Fractional seconds are kept when non-zero, without trailing zeros
    (``.123``, ``.5``, ``.123456``).
    """
    moment = moment.astimezone(UTC)
    text = moment.strftime("%Y-%m-%dT%H:%M:%S")
    if moment.microsecond:
        text += f".{moment.microsecond:06d}".rstrip("0")
    return text + "Z"


@lru_cache(maxsize=4096)
def iso_timestamp(token: str, zone: str | None = None) -> str | None:
    """Parse an ISO 8601 / RFC 3339 timestamp token into RFC 3339 UTC; ``None`` if invalid.

    :param zone: IANA zone name of a time without an offset (``None``: UTC); see
        :func:`zone_info` (ambiguous and skipped local times: ``fold=0``).
    """
    try:
        moment = datetime.fromisoformat(token)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone_info(zone))
    try:
        return to_rfc3339_utc(moment)
    except OverflowError:  # year 1 or 9999 moved out of range by the offset
        return None


@lru_cache(maxsize=8192)
def bsd_timestamp(
    month: str,
    day: str,
    clock: str,
    year: int | None,
    reference_second: int,
    zone: str | None = None,
) -> str | None:
    """Build an RFC 3339 UTC string from BSD syslog parts; ``None`` if invalid.

    :param month: ``"Jan"`` .. ``"Dec"``; :param day: ``"1"`` .. ``"31"``;
    :param clock: ``"hh:mm:ss"`` with optional ``.ffffff``; :param year: or
    ``None`` to resolve it from ``reference_second`` (epoch seconds, whole; see
    :func:`resolve_year`); :param zone: IANA zone name the wall-clock time is read
    in (``None``: UTC; see :func:`zone_info`). Cached: a busy log repeats its
    timestamps.
    """
    month_number = MONTHS.get(month)
    if month_number is None or not day.isdigit() or len(day) > 2 or len(clock) < 8:
        return None
    day_number = int(day)
    if year is None and len(clock) == 8 and _is_utc(zone):
        return _utc_second(month_number, day_number, clock, reference_second)
    if year is None:
        if not 1 <= day_number <= 31 or not clock[0:2].isdigit() or not clock[3:5].isdigit():
            return None
        seconds = int(clock[0:2]) * 3600 + int(clock[3:5]) * 60
        if clock[6:8].isdigit():
            seconds += int(clock[6:8])
        local_reference = _local_reference(reference_second, zone)
        resolved = resolve_year(month_number, day_number, seconds, local_reference)
        if resolved is None:
            return None
        year = resolved
    return _bsd_moment(year, month_number, day_number, clock[:15], None if _is_utc(zone) else zone)


def _utc_second(month: int, day: int, clock: str, reference_second: int) -> str | None:
    """:func:`bsd_timestamp` of a year-less ``hh:mm:ss`` read in UTC (the common case).

    The same checks and result as the general path (:func:`resolve_year`, then
    :func:`_bsd_moment`), in one frame: a log's every new second takes it, and it costs
    about a third of the general path.
    """
    hours, minutes, seconds = clock[0:2], clock[3:5], clock[6:8]
    if clock[2] != ":" or clock[5] != ":" or not 1 <= day <= 31:
        return None
    if not (hours.isdigit() and minutes.isdigit() and seconds.isdigit()):
        return None
    hour, minute, second = int(hours), int(minutes), int(seconds)
    if hour > 23 or minute > 59 or second > 59:
        return None
    year = resolve_year(month, day, hour * 3600 + minute * 60 + second, reference_second)
    if year is None or day > _days_in(year, month):
        return None
    return f"{year:04d}-{month:02d}-{day:02d}T{clock}Z"


@lru_cache(maxsize=256)
def _days_in(year: int, month: int) -> int:
    return calendar.monthrange(year, month)[1]


@lru_cache(maxsize=8192)
def _bsd_moment(year: int, month: int, day: int, clock: str, zone: str | None) -> str | None:
    """Cached: consecutive log lines share their second, so most calls are hits."""
    if clock[2:3] != ":" or clock[5:6] != ":":
        return None
    if len(clock) == 8 and zone is None:  # "hh:mm:ss" UTC: validate, format without datetime
        digits = (clock[0:2], clock[3:5], clock[6:8])
        if not all(part.isdigit() for part in digits):
            return None
        hour, minute, second = (int(part) for part in digits)
        if hour > 23 or minute > 59 or second > 59 or day > _days_in(year, month):
            return None
        return f"{year:04d}-{month:02d}-{day:02d}T{clock}Z"
    if not (clock[0:2].isdigit() and clock[3:5].isdigit() and clock[6:8].isdigit()):
        return None
    source = zone_info(zone)
    try:
        hour, minute, second = int(clock[0:2]), int(clock[3:5]), int(clock[6:8])
        fraction = clock[9:15] if len(clock) > 9 and clock[8] == "." else ""
        micro = int(fraction.ljust(6, "0")) if fraction.isdigit() else 0
        moment = datetime(year, month, day, hour, minute, second, micro, tzinfo=source)
        return to_rfc3339_utc(moment)  # fold=0: see the module docstring
    except (ValueError, OverflowError):
        return None


#: Epoch seconds up to 11 digits (the year 5138), as in the shipper's epoch numbers.
_MAX_EPOCH_DIGITS = 11


def _ascii_digits(text: str) -> bool:
    return text.isascii() and text.isdigit()


@lru_cache(maxsize=4096)
def epoch_timestamp(token: str) -> str | None:
    """``"1795946400.123456"`` (seconds since the epoch) -> RFC 3339 UTC; ``None`` if not one.

    The stamp of ``journalctl -o short-unix`` (systemd ``journalctl(1)``, OUTPUT FORMATS:
    "seconds passed since the UNIX epoch", printed with six fractional digits). Up to 11
    integer digits and an optional ``.`` with 1 to 9 fractional digits (kept to the
    microsecond, truncated).
    """
    seconds, dot, fraction = token.partition(".")
    if not _ascii_digits(seconds) or len(seconds) > _MAX_EPOCH_DIGITS:
        return None
    if dot and (not _ascii_digits(fraction) or len(fraction) > 9):
        return None
    try:
        moment = datetime.fromtimestamp(int(seconds), UTC)
    except (OverflowError, OSError, ValueError):
        return None
    return to_rfc3339_utc(moment.replace(microsecond=int(fraction[:6].ljust(6, "0"))))


#: Zone abbreviations that are UTC itself (``journalctl --utc`` writes ``UTC``).
_UTC_ABBREVIATIONS = frozenset({"UTC", "GMT", "UT", "Z"})


def _numeric_offset(text: str) -> timezone | None:
    """``+03``, ``-0330``, ``+05:30`` (what ``%Z`` prints for a zone without an
    abbreviation, e.g. ``Asia/Dubai``'s ``+04``) -> a fixed offset; ``None`` otherwise."""
    sign, digits = text[:1], text[1:].replace(":", "", 1)
    if sign not in ("+", "-") or len(digits) not in (2, 4) or not _ascii_digits(digits):
        return None
    hours, minutes = int(digits[:2]), int(digits[2:] or "0")
    if hours > 23 or minutes > 59:
        return None
    offset = timedelta(hours=hours, minutes=minutes)
    return timezone(-offset if sign == "-" else offset)


@lru_cache(maxsize=4096)
def zoned_wall_time(date_text: str, clock: str, abbreviation: str, zone: str | None) -> str | None:
    """A wall-clock time with a zone *abbreviation* -> RFC 3339 UTC; ``None`` if unresolvable.

    The stamp of ``journalctl -o short-full`` (``Sun 2026-11-29 10:00:01 CET``: strftime
    ``%a %Y-%m-%d %H:%M:%S %Z``, systemd ``journalctl(1)``, OUTPUT FORMATS).

    :param date_text: ``"2026-11-29"``; :param clock: ``"hh:mm:ss"`` with an optional
        fraction.
    :param abbreviation: ``UTC``/``GMT``/``UT``/``Z``; a numeric offset (``+03``,
        ``-0330``); or the abbreviation of the journal host's zone (``CET``, ``EST``).
        Abbreviations are not unique (``IST``, ``CST``), so a named one is only trusted
        when it is the source zone's at that wall-clock time: then it also picks which
        of a repeated DST hour is meant (``CEST`` the first, ``CET`` the second).
    :param zone: IANA name of the source time zone (``None``: UTC).
    :returns: the UTC time, or ``None`` when the date or clock is invalid or the
        abbreviation is not the source zone's (the line is kept without a time rather
        than read at a guessed offset).
    """
    if not (
        _ascii_digits(date_text.replace("-", "")) and _ascii_digits(clock[:8].replace(":", ""))
    ):
        return None
    try:
        naive = datetime.fromisoformat(f"{date_text}T{clock}")
    except ValueError:
        return None
    if naive.tzinfo is not None:
        return None
    fixed = UTC if abbreviation in _UTC_ABBREVIATIONS else _numeric_offset(abbreviation)
    try:
        if fixed is not None:
            return to_rfc3339_utc(naive.replace(tzinfo=fixed))
        source = zone_info(zone)
        for fold in (0, 1):
            moment = naive.replace(tzinfo=source, fold=fold)
            if moment.tzname() == abbreviation:
                return to_rfc3339_utc(moment)
    except OverflowError:
        return None
    return None
