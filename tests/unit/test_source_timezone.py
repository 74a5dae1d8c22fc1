"""Zone-less log timestamps read in a configured source time zone (``syslog_timezone``).

Expected instants are computed by hand from the IANA rules for the zone: Europe/Paris is
UTC+01:00 in winter (CET) and UTC+02:00 in summer (CEST, from the last Sunday of March
01:00 UTC to the last Sunday of October 01:00 UTC; 2026-03-29 and 2026-10-25).
America/New_York is UTC-05:00 in winter. Skipped and repeated local times resolve with
``fold=0`` (PEP 495): the offset in force before the transition.
"""

from __future__ import annotations

from datetime import UTC, datetime

import orjson
import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from processor.cli import main
from processor.enrich import classify, enrich_payload
from processor.errors import TimeZoneError
from processor.parse import parse_payload
from processor.parse.stamps import bsd_timestamp
from processor.parse.syslog import split_syslog, zone_info
from processor.stream.config import Settings
from processor.stream.transform import transform

REFERENCE = datetime(2026, 12, 1, tzinfo=UTC).timestamp()
LINE = (
    "{stamp} mx1 postfix/smtp[4242]: 4F3C2A1B9D: to=<ana@example.com>, "
    "relay=mx.example.com[192.0.2.10]:25, delay=0.52, delays=0.1/0/0.2/0.22, dsn=2.0.0, "
    "status=sent (250 2.0.0 Ok: queued as 7A1B2C3D4E)"
)


def _time(payload: str, zone: str | None, reference: float = REFERENCE) -> str | None:
    (record,) = classify(payload, reference_time=reference, source_timezone=zone)
    return record.event_time


@pytest.mark.parametrize(
    ("stamp", "zone", "expected"),
    [
        # summer: CEST, UTC+2
        ("Jul 14 12:00:00", "Europe/Paris", "2026-07-14T10:00:00Z"),
        # winter: CET, UTC+1 (the brief's example line)
        ("Nov 30 02:25:06", "Europe/Paris", "2026-11-30T01:25:06Z"),
        ("Nov 30 02:25:06.123456", "Europe/Paris", "2026-11-30T01:25:06.123456Z"),
        # DST gap: 02:30 does not exist on 2026-03-29 in Paris; fold=0 reads it at +01:00
        ("Mar 29 02:30:00", "Europe/Paris", "2026-03-29T01:30:00Z"),
        # repeated hour: 02:30 happens twice on 2026-10-25; fold=0 is the first (+02:00)
        ("Oct 25 02:30:00", "Europe/Paris", "2026-10-25T00:30:00Z"),
        # no zone given, and UTC named explicitly: read as UTC
        ("Nov 30 02:25:06", None, "2026-11-30T02:25:06Z"),
        ("Nov 30 02:25:06", "UTC", "2026-11-30T02:25:06Z"),
        ("Nov 30 02:25:06", "America/New_York", "2026-11-30T07:25:06Z"),
        # with a year in the line
        ("2026 Jul 14 12:00:00", "Europe/Paris", "2026-07-14T10:00:00Z"),
        ("Jul 14 2026 12:00:00", "Europe/Paris", "2026-07-14T10:00:00Z"),
    ],
)
def test_rfc3164_line_read_in_the_source_zone(stamp: str, zone: str | None, expected: str) -> None:
    assert _time(LINE.format(stamp=stamp), zone) == expected


@pytest.mark.parametrize(
    ("stamp", "expected"),
    [
        ("2026-07-14T12:00:00", "2026-07-14T10:00:00Z"),  # no offset: Paris summer
        ("2026-07-14 12:00:00", "2026-07-14T10:00:00Z"),  # date and time apart, no offset
        ("2026-11-30T02:25:06.123456", "2026-11-30T01:25:06.123456Z"),  # Paris winter
        ("2026-11-30T02:25:06.123456+01:00", "2026-11-30T01:25:06.123456Z"),  # own offset
        ("2026-11-30T02:25:06Z", "2026-11-30T02:25:06Z"),  # own zone wins
    ],
)
def test_iso_timestamp_without_offset_read_in_the_source_zone(stamp: str, expected: str) -> None:
    assert _time(LINE.format(stamp=stamp), "Europe/Paris") == expected


def test_rfc5424_line_without_offset() -> None:
    line = LINE.format(stamp="<22>1 2026-07-14T12:00:00.5 mx1 postfix/smtp 4242 - -")
    line = line.replace(" mx1 postfix/smtp[4242]:", "", 1)
    assert _time(line, "Europe/Paris") == "2026-07-14T10:00:00.5Z"


def test_shipper_time_without_offset_and_journald_epoch() -> None:
    message = LINE.format(stamp="x").split(": ", 1)[1]
    vector = {"message": message, "appname": "postfix/smtp", "timestamp": "2026-07-14T12:00:00"}
    journald = {
        "MESSAGE": message,
        "SYSLOG_IDENTIFIER": "postfix/smtp",
        "__REALTIME_TIMESTAMP": "1784023200000000",  # 2026-07-14T10:00:00Z: a zone-free epoch
    }
    assert _time(orjson.dumps(vector).decode(), "Europe/Paris") == "2026-07-14T10:00:00Z"
    assert _time(orjson.dumps(journald).decode(), "Europe/Paris") == "2026-07-14T10:00:00Z"


def test_year_resolution_against_the_reference_time() -> None:
    # New York's Dec 31 22:00 is already Jan 1 03:00 UTC: the line belongs to 2026.
    line = LINE.format(stamp="Dec 31 22:00:00")
    reference = datetime(2027, 1, 1, 3, 0, 30, tzinfo=UTC).timestamp()
    assert _time(line, "America/New_York", reference) == "2027-01-01T03:00:00Z"
    # A Paris "Jan  1 00:30" read at 23:45 UTC on Dec 31 (00:45 in Paris) is in 2027.
    line = LINE.format(stamp="Jan  1 00:30:00")
    reference = datetime(2026, 12, 31, 23, 45, tzinfo=UTC).timestamp()
    assert _time(line, "Europe/Paris", reference) == "2026-12-31T23:30:00Z"
    # A Paris "Dec 31 23:50" read on Jan 1 belongs to the year before.
    line = LINE.format(stamp="Dec 31 23:50:00")
    reference = datetime(2027, 1, 1, 9, 0, tzinfo=UTC).timestamp()
    assert _time(line, "Europe/Paris", reference) == "2026-12-31T22:50:00Z"


def test_general_and_fast_path_agree_and_cache_per_zone() -> None:
    raw = LINE.format(stamp="Jul 14 12:00:00").encode()
    for zone, expected in [
        ("Europe/Paris", "2026-07-14T10:00:00Z"),
        (None, "2026-07-14T12:00:00Z"),
        ("Asia/Kolkata", "2026-07-14T06:30:00Z"),
        ("Europe/Paris", "2026-07-14T10:00:00Z"),
    ]:
        (event,) = parse_payload(raw, REFERENCE, source_timezone=zone).events
        (record,) = enrich_payload(raw, reference_time=REFERENCE, source_timezone=zone).records
        streamed = transform(
            raw, max_payload_bytes=1 << 20, reference_time=REFERENCE, source_timezone=zone
        )
        assert event.event_time == record.event_time == expected
        assert orjson.loads(streamed.outputs[0][1])["event_time"] == expected


def test_bad_zone_name_is_refused() -> None:
    with pytest.raises(TimeZoneError, match="unknown time zone 'Europe/Pariss'"):
        zone_info("Europe/Pariss")
    with pytest.raises(TimeZoneError):
        zone_info("../../etc/passwd")
    with pytest.raises(TimeZoneError):
        enrich_payload(LINE.format(stamp="Jul 14 12:00:00").encode(), source_timezone="Mars/Base")
    with pytest.raises(TimeZoneError):
        split_syslog(LINE.format(stamp="Jul 14 12:00:00"), REFERENCE, "Mars/Base")


def test_setting_from_env_and_flag(monkeypatch: pytest.MonkeyPatch) -> None:
    assert Settings().syslog_timezone == "UTC"
    monkeypatch.setenv("BOUNCE_PROCESSOR_SYSLOG_TIMEZONE", "Europe/Paris")
    assert Settings().syslog_timezone == "Europe/Paris"
    assert Settings(syslog_timezone="America/New_York").syslog_timezone == "America/New_York"
    monkeypatch.setenv("BOUNCE_PROCESSOR_SYSLOG_TIMEZONE", "Europe/Pariss")
    with pytest.raises(ValidationError, match="unknown time zone 'Europe/Pariss'"):
        Settings()


def test_cli_flags() -> None:
    runner = CliRunner()
    shown = runner.invoke(main, ["check-config", "--syslog-timezone", "Europe/Paris"])
    assert shown.exit_code == 0, shown.output
    assert orjson.loads(shown.output)["settings"]["syslog_timezone"] == "Europe/Paris"
    refused = runner.invoke(main, ["run", "--syslog-timezone", "Europe/Pariss"])
    assert refused.exit_code == 2
    assert "unknown time zone 'Europe/Pariss'" in refused.output
    line = LINE.format(stamp="Jul 14 12:00:00") + "\n"
    args = ["classify", "--reference-time", "2026-12-01", "--syslog-timezone", "Europe/Paris"]
    classified = runner.invoke(main, args, input=line)
    assert classified.exit_code == 0, classified.output
    assert orjson.loads(classified.stdout)["event_time"] == "2026-07-14T10:00:00Z"
    refused = runner.invoke(main, ["classify", "--syslog-timezone", "Nowhere/City"], input=line)
    assert refused.exit_code == 2
    assert "unknown time zone 'Nowhere/City'" in refused.output


@given(
    month=st.sampled_from(["Jan", "Feb", "Mar", "Nov", "Dec", "Foo"]),
    day=st.sampled_from(["1", "9", "28", "29", "30", "31", "0", "32"]),
    clock=st.one_of(
        st.tuples(st.integers(0, 25), st.integers(0, 61), st.integers(0, 61)).map(
            lambda t: f"{t[0]:02d}:{t[1]:02d}:{t[2]:02d}"
        ),
        st.text(alphabet="0123456789: x", min_size=8, max_size=8),
    ),
    reference=st.sampled_from([1_796_000_000, 1_709_164_800, 1_704_067_199, 1_735_689_600]),
)
def test_utc_second_path_equals_the_zone_path(
    month: str, day: str, clock: str, reference: int
) -> None:
    # A year-less hh:mm:ss read in UTC takes stamps._utc_second; a zone that is UTC+0
    # without being named UTC (Africa/Abidjan) takes the general path: same result.
    assert bsd_timestamp(month, day, clock, None, reference, None) == bsd_timestamp(
        month, day, clock, None, reference, "Africa/Abidjan"
    )
