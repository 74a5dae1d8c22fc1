"""Every bare line, inside every wrapper, gives the bare line's events and classification.

The bare lines are every line of every case in ``tests/fixtures/events/*.yaml`` that the
bare-line parser reads (:func:`processor.parse.parse_payload`, one line): Postfix, Exim
(main log and via syslog), Sendmail, other programs' syslog lines (skipped), generic and
platform JSON events, JSON log records. A line that already is a container line (CRI
``stdout``/``stderr``, or a runtime's time before a stamped line) is left out: one
container prefix is read, and ``tests/unit/test_prefixes.py`` covers those.

The wrappers, from their documentation:

- Kubernetes CRI log lines ``<RFC 3339 nano> stdout|stderr F[:tags] <line>``, also split
  into ``P`` fragments (``k8s.io/cri-api`` ``LogTagPartial``/``LogTagFull``);
- ``docker logs --timestamps`` (9 fixed digits) and ``kubectl logs --timestamps`` (trailing
  zeros dropped): ``<RFC 3339 nano> <line>``;
- Docker's ``json-file`` logging driver: ``{"log": "<line>\\n", "stream": "stdout",
  "time": "..."}``;
- Fluent Bit (``tail`` input with the ``kubernetes`` filter: ``log``, ``kubernetes``, a
  numeric ``date``), Vector ``kubernetes_logs`` (``message``, ``kubernetes``,
  ``timestamp``), Filebeat ``container`` input (``message``, ``@timestamp``, ``host.name``,
  ``kubernetes``), Logstash (``message``, ``@timestamp``, ``@version``, ``host``);
- a shipper record whose message is a CRI line (an agent without a CRI parser);
- ``journalctl -o json``: ``MESSAGE`` after ``SYSLOG_IDENTIFIER[_PID]: `` with
  ``_HOSTNAME`` and ``__REALTIME_TIMESTAMP`` (lines that name a program), and Docker's
  ``journald`` logging driver (``SYSLOG_IDENTIFIER`` = the container's ID, ``MESSAGE`` =
  the whole line the container wrote; MTA lines).

What may differ from the bare line, and how (the existing convention for wrapped lines):
``event_time`` (a container runtime's time wins; a shipper's or the journal's fills a line
without one; an identified journald line takes the journal's), ``mta_host`` (a shipper's
host fills a line without one) and the identity hashed into ``event_id`` (a container line
is identified by the whole line, a shipper record's line by
:func:`~processor.parse.shipper.shipper_identity`, a JSON event by its own content).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson
import pytest
import yaml
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from processor.assemble import event_id
from processor.enrich import enrich_payload
from processor.errors import InvalidJSONError
from processor.model import DeliveryEvent
from processor.parse import LineError, ParsedPayload, parse_payload
from processor.parse.container import CONTENT_MESSAGE, NOT_A_LINE_MESSAGE, PARTIAL_LINE_MESSAGE
from processor.parse.shipper import shipper_identity
from processor.parse.syslog import SyslogLine, split_syslog

FIXTURE_DIR = Path(__file__).resolve().parent.parent / "fixtures" / "events"
REFERENCE_TEXT = "2026-11-30T00:00:00Z"
RUNTIME_TIME = "2026-11-29T10:00:00.123456Z"  # what the container runtime's stamps read as
SHIPPER_TIME = "2026-11-29T10:00:09.5Z"  # what the shippers' time fields read as
NODE = "node-1"  # the shippers' host
#: Fields a wrapper may change (checked one by one); every other field must be equal.
WRAPPED_EVENT_FIELDS = {"event_time", "mta_host", "identity"}
WRAPPED_RECORD_FIELDS = {"event_time", "mta_host", "event_id"}
KUBERNETES = {
    "pod_name": "mta-0",
    "namespace_name": "mail",
    "container_name": "mta",
    "host": NODE,
    "labels": {"app": "mta"},
}


def _epoch(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


@dataclass(frozen=True)
class BareLine:
    """One fixture line: where it comes from, its text, the reference time it is read at."""

    case: str
    line: str
    reference_time: float


def _is_container_line(line: str) -> bool:
    """A CRI line, or a runtime's RFC 3339 time before a line with its own stamp or JSON."""
    stamp, _, rest = line.partition(" ")
    if stamp[10:11] != "T" or not stamp[:4].isdigit():
        return False
    if rest.partition(" ")[0] in ("stdout", "stderr") or rest[:1] in ("{", "["):
        return True
    inner = split_syslog(rest, 0.0)
    return inner is not None and inner.timestamp is not None


def _bare_lines() -> list[BareLine]:
    lines = []
    for path in sorted(FIXTURE_DIR.glob("*.yaml")):
        for case in yaml.safe_load(path.read_text(encoding="utf-8")):
            reference = _epoch(str(case.get("reference_time", REFERENCE_TEXT)))
            for number, line in enumerate(case["input"].splitlines(), 1):
                if line.strip() and not _is_container_line(line):
                    name = f"{path.stem}:{case['name']}:{number}"
                    lines.append(BareLine(name, line, reference))
    return lines


BARE_LINES = _bare_lines()


def _family(line: str) -> str:
    if line[:1] in ("{", "["):
        return "json"
    split = split_syslog(line, 0.0)
    if split is not None and split.program in ("exim", "exim4"):
        return "exim"
    if split is not None and split.program in ("sendmail", "sm-mta", "sm-msp-queue"):
        return "sendmail"
    return "syslog"  # Postfix and other programs' lines


FAMILIES = ("syslog", "exim", "sendmail", "json")


def _syslog_split(line: str, reference_time: float) -> SyslogLine | None:
    """The bare line's parts when it names a program (None for JSON). A byte order mark
    (a file's first line) is dropped, bare and in every wrapper."""
    line = line.removeprefix("\ufeff")
    return None if line[:1] in ("{", "[") else split_syslog(line, reference_time)


# --- the wrappers --------------------------------------------------------------------------


@dataclass(frozen=True)
class Wrapper:
    """How a wrapper carries a line, and what it changes.

    :param wrap: (bare line, its split or None) -> the payload; ``None`` when this
        wrapper cannot carry that line (journald ``MESSAGE`` after an identifier needs a
        program).
    :param time: the wrapper's own time of the line (RFC 3339 UTC), or None.
    :param time_wins: a container runtime's time wins over the line's own; else the
        wrapper's time fills a line without one.
    :param host: the wrapper's host, which fills a line without one.
    :param record: the line is a shipper record's (identified by ``shipper_identity``),
        else by the whole payload line.
    :param identified: journald's program fields split the line: the journal's time wins.
    """

    name: str
    wrap: Callable[[str, SyslogLine | None], str | None]
    time: str | None
    time_wins: bool = False
    host: str | None = None
    record: bool = False
    identified: bool = False


def _json(document: dict[str, Any]) -> str:
    return orjson.dumps(document).decode()


def _journald_identified(line: str, split: SyslogLine | None) -> str | None:
    if split is None:
        return None
    document = {
        "MESSAGE": split.message,
        "SYSLOG_IDENTIFIER": split.program,
        "_HOSTNAME": split.host or NODE,
        "__REALTIME_TIMESTAMP": "1795946409500000",  # SHIPPER_TIME in microseconds
        "PRIORITY": "6",
        "_TRANSPORT": "syslog",
    }
    if split.pid is not None:
        document["_PID"] = split.pid
    return _json(document)


def _journald_docker(line: str, split: SyslogLine | None) -> str | None:
    if split is None:  # Docker's journald driver with JSON output lines: not read (skipped)
        return None
    return _json(
        {
            "MESSAGE": line,
            "SYSLOG_IDENTIFIER": "3f4e5d6c7b8a",
            "CONTAINER_ID": "3f4e5d6c7b8a",
            "CONTAINER_NAME": "mta",
            "_HOSTNAME": NODE,
            "__REALTIME_TIMESTAMP": "1795946409500000",
        }
    )


WRAPPERS = [
    Wrapper(
        "cri",
        lambda line, _: f"2026-11-29T10:00:00.123456789Z stdout F {line}",
        RUNTIME_TIME,
        time_wins=True,
    ),
    Wrapper(
        "cri-stderr-tags",
        lambda line, _: f"2026-11-29T11:00:00.123456+01:00 stderr F:x {line}",
        RUNTIME_TIME,
        time_wins=True,
    ),
    Wrapper(
        "docker-timestamps",
        lambda line, _: f"2026-11-29T10:00:00.123456000Z {line}",
        RUNTIME_TIME,
        time_wins=True,
    ),
    Wrapper(
        "kubectl-timestamps",
        lambda line, _: f"2026-11-29T10:00:00.123456Z {line}",
        RUNTIME_TIME,
        time_wins=True,
    ),
    Wrapper(
        "docker-json-file",
        lambda line, _: _json(
            {"log": f"{line}\n", "stream": "stdout", "time": "2026-11-29T10:00:09.500000000Z"}
        ),
        SHIPPER_TIME,
        record=True,
    ),
    Wrapper(
        "fluent-bit-kubernetes",
        lambda line, _: _json(
            {
                "date": 1795946409.5,
                "log": f"{line}\n",
                "stream": "stdout",
                "kubernetes": KUBERNETES,
                "hostname": NODE,
            }
        ),
        SHIPPER_TIME,
        host=NODE,
        record=True,
    ),
    Wrapper(
        "vector-kubernetes-logs",
        lambda line, _: _json(
            {
                "message": line,
                "timestamp": SHIPPER_TIME,
                "stream": "stdout",
                "source_type": "kubernetes_logs",
                "file": "/var/log/pods/mail_mta-0_1/mta/0.log",
                "kubernetes": {"pod_name": "mta-0", "pod_node_name": NODE},
                "host": NODE,
            }
        ),
        SHIPPER_TIME,
        host=NODE,
        record=True,
    ),
    Wrapper(
        "filebeat-container",
        lambda line, _: _json(
            {
                "@timestamp": "2026-11-29T10:00:09.500Z",
                "message": line,
                "stream": "stdout",
                "host": {"name": NODE},
                "container": {"id": "3f4e5d6c7b8a", "runtime": "containerd"},
                "kubernetes": {"pod": {"name": "mta-0"}, "node": {"name": NODE}},
                "input": {"type": "container"},
            }
        ),
        SHIPPER_TIME,
        host=NODE,
        record=True,
    ),
    Wrapper(
        "logstash",
        lambda line, _: _json(
            {
                "@timestamp": "2026-11-29T10:00:09.500Z",
                "@version": "1",
                "message": line,
                "host": NODE,
            }
        ),
        SHIPPER_TIME,
        host=NODE,
        record=True,
    ),
    Wrapper(
        "shipper-with-cri-line",
        lambda line, _: _json(
            {
                "message": f"2026-11-29T10:00:00.123456789Z stdout F {line}",
                "@timestamp": "2026-11-29T10:00:09.500Z",
                "host": {"name": NODE},
            }
        ),
        RUNTIME_TIME,
        time_wins=True,
        host=NODE,
        record=True,
    ),
    Wrapper(
        "journald", _journald_identified, SHIPPER_TIME, host=NODE, record=True, identified=True
    ),
    Wrapper("journald-docker-driver", _journald_docker, SHIPPER_TIME, host=NODE, record=True),
]


def _fragments(line: str, _: SyslogLine | None) -> str:
    """The line as CRI fragments: ``P`` pieces then the ``F`` end, in one payload."""
    cut = max(1, len(line) // 3)
    return "\n".join(
        (
            f"2026-11-29T10:00:00.123456789Z stdout P {line[:cut]}",
            f"2026-11-29T10:00:00.2Z stdout P {line[cut : 2 * cut]}",
            f"2026-11-29T10:00:00.3Z stdout F {line[2 * cut :]}",
        )
    )


WRAPPERS.append(Wrapper("cri-partial-fragments", _fragments, RUNTIME_TIME, time_wins=True))
WRAPPER_NAMES = [wrapper.name for wrapper in WRAPPERS]


# --- what a wrapped line must give ---------------------------------------------------------


def _expected_time(wrapper: Wrapper, bare: DeliveryEvent, json_line: bool) -> str | None:
    if json_line:
        return bare.event_time  # a JSON line's events are read as bare: their own time
    if wrapper.identified or wrapper.time_wins:
        return wrapper.time
    return bare.event_time or wrapper.time


def _expected_host(wrapper: Wrapper, bare: DeliveryEvent, json_line: bool) -> str | None:
    return bare.mta_host if json_line else bare.mta_host or wrapper.host


def _expected_identity(
    wrapper: Wrapper, bare_line: BareLine, payload: str, bare: DeliveryEvent, split: SyslogLine
) -> bytes:
    line = bare_line.line.removeprefix("\ufeff")
    suffix = bare.identity.removeprefix(line.encode())  # Sendmail: "\0" + recipient
    if not wrapper.record:
        if wrapper.name == "cri-partial-fragments":
            return f"2026-11-29T10:00:00.123456789Z stdout F {bare_line.line}".encode() + suffix
        return payload.encode() + suffix
    line_split = split._replace(
        timestamp=_expected_time(wrapper, bare, False), host=_expected_host(wrapper, bare, False)
    )
    return shipper_identity(line_split) + suffix


def _without(event: Any, fields: set[str]) -> dict[str, Any]:
    return {key: value for key, value in asdict(event).items() if key not in fields}


def _parse(payload: str, reference_time: float) -> ParsedPayload:
    """:func:`parse_payload`; a one-line payload that is invalid JSON as a whole raises,
    which is that line's ``invalid_json`` error (as behind a wrapper)."""
    try:
        return parse_payload(payload.encode(), reference_time)
    except InvalidJSONError as error:
        return ParsedPayload(errors=[LineError(1, error.error_class, str(error))])


def _mismatches(bare_line: BareLine, wrapper: Wrapper) -> Iterator[str]:
    """What the wrapped line gives that the bare line does not (nothing, when all is well)."""
    split = _syslog_split(bare_line.line, bare_line.reference_time)
    payload = wrapper.wrap(bare_line.line, split)
    if payload is None:
        return
    reference = bare_line.reference_time
    bare = _parse(bare_line.line, reference)
    wrapped = _parse(payload, reference)
    classes = [error.error_class for error in wrapped.errors]
    if (wrapped.skipped, classes) != (bare.skipped, [e.error_class for e in bare.errors]):
        yield f"skipped/errors {wrapped.skipped}/{wrapped.errors} != {bare.skipped}/{bare.errors}"
    if len(wrapped.events) != len(bare.events):
        yield f"{len(wrapped.events)} events != {len(bare.events)}"
        return
    for bare_event, event in zip(bare.events, wrapped.events, strict=True):
        if _without(event, WRAPPED_EVENT_FIELDS) != _without(bare_event, WRAPPED_EVENT_FIELDS):
            yield f"event fields {_without(event, WRAPPED_EVENT_FIELDS)}"
        if event.event_time != _expected_time(wrapper, bare_event, split is None):
            yield f"event_time {event.event_time} (bare {bare_event.event_time})"
        if event.mta_host != _expected_host(wrapper, bare_event, split is None):
            yield f"mta_host {event.mta_host} (bare {bare_event.mta_host})"
        if split is None:  # a JSON event: identified by its own content
            expected = bare_event.identity
        else:
            expected = _expected_identity(wrapper, bare_line, payload, bare_event, split)
        if event.identity != expected:
            yield f"identity {event.identity!r} != {expected!r}"
    if not bare.events:
        return
    bare_records = enrich_payload(bare_line.line.encode(), reference_time=reference).records
    records = enrich_payload(payload.encode(), reference_time=reference).records
    if [_without(r, WRAPPED_RECORD_FIELDS) for r in records] != [
        _without(r, WRAPPED_RECORD_FIELDS) for r in bare_records
    ]:
        yield "records (verdict, reason, codes, rule, ...) differ"


def test_the_table_holds_every_format() -> None:
    counts = {family: 0 for family in FAMILIES}
    for bare_line in BARE_LINES:
        counts[_family(bare_line.line)] += 1
    assert all(count >= 15 for count in counts.values()), counts
    assert len(BARE_LINES) > 1000


@pytest.mark.parametrize("family", FAMILIES)
@pytest.mark.parametrize("wrapper", WRAPPERS, ids=WRAPPER_NAMES)
def test_a_wrapped_line_gives_the_bare_line_events(wrapper: Wrapper, family: str) -> None:
    lines = [bare for bare in BARE_LINES if _family(bare.line) == family]
    failures = {bare.case: found for bare in lines if (found := list(_mismatches(bare, wrapper)))}
    assert failures == {}


# --- non-delivery lines are skipped, garbage is refused, in every wrapper ------------------

EXIM_ID = "1tGa4a-000DeF-12"
NOT_DELIVERIES = [
    f"2026-11-29 10:03:00 {EXIM_ID} <= news@example.org H=mail.example.org [198.51.100.7] "
    "P=esmtps S=2310 id=20261129.abc@example.org",  # Exim arrival
    f"2026-11-29 10:03:04 {EXIM_ID} Completed",
    "2026-11-29 10:03:06 Start queue run: pid=9876",  # no message ID
    f"2026-11-29 10:03:07.123 +0100 [4321] {EXIM_ID} == bob@example.com R=dnslookup "
    "T=remote_smtp defer (-53): retry time not reached for any host",
    "Nov 29 10:03:08 mx1 exim[2345]: 2026-11-29 10:03:08 1tGa4a-000DeF-12 Completed",
    "Nov 29 10:03:09 mx1 postfix/smtpd[8001]: connect from unknown[192.0.2.77]",
    "Nov 29 10:03:10 mx1 postfix/qmgr[8002]: 4F3C2A1B9D: removed",
    "Nov 29 10:03:11 mx1 sendmail[3001]: 4ATB00a1003001: from=<news@example.org>, size=1200, "
    "class=0, nrcpts=1, msgid=<1@example.org>, proto=ESMTP, relay=mail.example.org [198.51.100.7]",
    "Nov 29 10:03:12 mx1 sshd[6]: Accepted publickey for root",
]


@pytest.mark.parametrize("line", NOT_DELIVERIES)
@pytest.mark.parametrize("wrapper", WRAPPERS, ids=WRAPPER_NAMES)
def test_a_non_delivery_line_is_skipped_in_every_wrapper(wrapper: Wrapper, line: str) -> None:
    bare = parse_payload(line.encode(), _epoch(REFERENCE_TEXT))
    assert (bare.events, bare.skipped, bare.errors) == ([], 1, [])
    payload = wrapper.wrap(line, _syslog_split(line, _epoch(REFERENCE_TEXT)))
    assert payload is not None
    wrapped = parse_payload(payload.encode(), _epoch(REFERENCE_TEXT))
    assert (wrapped.events, wrapped.skipped, wrapped.errors) == ([], 1, [])


def _nested(text: str) -> str:
    return _json({"log": _json({"message": text}) + "\n"})


CRI = "2026-11-29T10:00:00.123456789Z stdout F"
NOT_A_LINE = "shipper record's message is not a syslog line, Exim main log line or JSON document"
REFUSED = [
    # (payload, error class, message)
    (f"{CRI} starting the mail server", "invalid_event", CONTENT_MESSAGE),
    (f"{CRI} 1tGa4a-000DeF-12 ** bob@example.com: no stamp", "invalid_event", CONTENT_MESSAGE),
    ("2026-11-29T10:00:00.12Z starting the mail server", "invalid_event", NOT_A_LINE_MESSAGE),
    (
        "2026-11-29T10:00:00.1Z stdout P 2026-11-29 10:03:00 1tGa4a-000DeF-12 ** bob@exa",
        "invalid_event",
        PARTIAL_LINE_MESSAGE,
    ),
    (_json({"log": "starting the mail server\n", "stream": "stdout"}), "invalid_event", NOT_A_LINE),
    (_json({"message": "Completed", "kubernetes": KUBERNETES}), "invalid_event", NOT_A_LINE),
    (
        _json({"message": f"{CRI} starting the mail server"}),
        "invalid_event",
        f"shipper record's message: {CONTENT_MESSAGE}",
    ),
    (f'{CRI} {{"recipient": "bob@example.com",', "invalid_json", "container log line's content"),
    (_json({"log": '{"recipient": \n'}), "invalid_json", "log record's message is invalid JSON"),
    (
        _nested(_json({"recipient": "bob@example.com", "status": "bounced"})),
        "invalid_event",
        "shipper record's message is JSON inside a wrapper's JSON (one level is read)",
    ),
    (
        f"{CRI} " + _json({"log": _json({"recipient": "bob@example.com"})}),
        "invalid_event",
        "shipper record's message is JSON inside a wrapper's JSON (one level is read)",
    ),
    (
        f"{CRI} " + _json({"level": "info", "msg": "started"}),
        "invalid_event",
        "JSON object is neither a delivery event",
    ),
]


@pytest.mark.parametrize(("payload", "error_class", "message"), REFUSED)
def test_a_wrapper_of_garbage_is_refused_with_its_reason(
    payload: str, error_class: str, message: str
) -> None:
    result = parse_payload(payload.encode(), _epoch(REFERENCE_TEXT))
    assert (result.events, result.skipped) == ([], 0)
    assert [(e.line_number, e.error_class) for e in result.errors] == [(1, error_class)]
    assert result.errors[0].message.startswith(message), result.errors[0].message


def test_journald_lines_of_other_programs_stay_skipped() -> None:
    # Docker's journald driver names the container: a line that is no MTA's is skipped
    # as any other program's journal line, never refused.
    for message in ("starting the mail server", '{"level": "info"}', "Completed"):
        document = {"MESSAGE": message, "SYSLOG_IDENTIFIER": "3f4e5d6c7b8a", "_PID": "7"}
        result = parse_payload(_json(document).encode(), _epoch(REFERENCE_TEXT))
        assert (result.events, result.skipped, result.errors) == ([], 1, [])


def test_the_brief_exim_bounce_in_a_docker_json_file_record() -> None:
    line = (
        "2026-11-29 10:00:01 1tGxyz-000ABC-12 ** user@example.com R=dnslookup "
        "T=remote_smtp H=mx.example.com [192.0.2.10]: SMTP error from remote mail server "
        "after RCPT TO:<user@example.com>: 550 5.1.1 User unknown"
    )
    document = {"log": f"{line}\n", "stream": "stdout", "time": "2026-11-29T10:00:01.5Z"}
    (record,) = enrich_payload(_json(document).encode(), reference_time=0.0).records
    assert (record.source_format, record.recipient, record.queue_id, record.mta_daemon) == (
        "exim",
        "user@example.com",
        "1tGxyz-000ABC-12",
        "exim",
    )
    assert (record.verdict.value, record.reason.value, record.smtp_command) == (
        "hard",
        "user_unknown",
        "RCPT TO",
    )
    assert record.enhanced_status is not None and record.enhanced_status.code == "5.1.1"
    assert record.event_time == "2026-11-29T10:00:01Z"  # the line's own time (UTC here)
    assert record.event_id == event_id(b"2026-11-29T10:00:01Z None exim: " + line[20:].encode())


# --- property: any line, any wrapper -------------------------------------------------------

PIECES = [
    "2026-11-29 10:00:01", "2026-11-29 10:00:01.250", "+0100", "[77]", "Nov 29 10:00:01",
    "2026-11-29T10:00:01Z", "<22>", "<22>1", "mx1", "mail.info", "-", "postfix/smtp[1]:",
    "exim[2]:", "exim4:", "sendmail[3]:", "sm-mta[4]:", EXIM_ID, "**", "=>", "==", "<=",
    "Completed", "bob@example.com", "<alias@example.org>", "R=dnslookup", "T=remote_smtp",
    "H=mx.example.com", "[192.0.2.10]:", 'C="250 OK"', "SMTP error from remote mail server",
    "after RCPT TO:<bob@example.com>:", "550 5.1.1 User unknown", "4F3C2A1B9D:",
    "to=<bob@example.com>,", "relay=none,", "dsn=5.1.1,", "status=bounced", "(unknown user)",
    "4ATB00a1003001:", "stat=User unknown", "stat=Sent", "{", "}", '"recipient":', "stdout",
    "F", "\u00e9",
]  # fmt: skip


def _text_lines() -> st.SearchStrategy[str]:
    built = st.lists(st.sampled_from(PIECES), min_size=1, max_size=12).map(" ".join)
    fixtures = st.sampled_from([bare.line for bare in BARE_LINES])
    return st.one_of(built, fixtures)


@settings(max_examples=300, deadline=None)
@given(line=_text_lines(), wrapper=st.sampled_from(WRAPPERS))
def test_any_wrapped_line_gives_the_bare_line_events(line: str, wrapper: Wrapper) -> None:
    assume(not _is_container_line(line))
    bare_line = BareLine("generated", line, _epoch(REFERENCE_TEXT))
    assert list(_mismatches(bare_line, wrapper)) == []


def test_journald_exim_identifier_with_the_whole_main_log_line() -> None:
    # Docker's journald driver with --log-opt tag=exim: MESSAGE is the line Exim wrote to
    # stdout, its own stamp included (read as bare; the journal's time is the event time).
    line = next(bare.line for bare in BARE_LINES if bare.case.startswith("exim:exim-"))
    document = {
        "MESSAGE": line,
        "SYSLOG_IDENTIFIER": "exim",
        "CONTAINER_NAME": "mta",
        "_HOSTNAME": NODE,
        "__REALTIME_TIMESTAMP": "1795946409500000",
    }
    reference = _epoch(REFERENCE_TEXT)
    (bare,) = enrich_payload(line.encode(), reference_time=reference).records
    (record,) = enrich_payload(_json(document).encode(), reference_time=reference).records
    assert _without(record, WRAPPED_RECORD_FIELDS) == _without(bare, WRAPPED_RECORD_FIELDS)
    assert (record.event_time, record.mta_host, record.mta_daemon) == (SHIPPER_TIME, NODE, "exim")
