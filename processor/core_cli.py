"""Core commands that need no broker: ``classify`` and ``explain``.

``bounce-processor classify [FILE ...]`` reads raw delivery events (stdin when
no file is given), one payload per line (a file that is one whole email, such
as a bounce ``.eml``, or one JSON document over several lines, is one payload),
and writes one enriched JSON record per line to stdout. Lines that cannot be
processed are reported on stderr (control characters escaped) and make the exit
status 1. ``--summary`` adds a table of verdicts, reasons and codes on stderr.
"""

from __future__ import annotations

import sys
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from io import BytesIO
from itertools import chain
from typing import BinaryIO

import click
import orjson

from processor.classifier.policy import Policy, load_policy
from processor.enrich import enrich_payload
from processor.errors import PayloadError, PolicyError, TimeZoneError
from processor.model import EnrichedRecord
from processor.parse.email import MAX_EMAIL_BYTES, looks_like_email
from processor.parse.syslog import zone_info
from processor.record import serialize
from processor.sanitize import printable
from processor.smtp.codes import enhanced_metric_label, reply_metric_label
from processor.smtp.explain import explain_command

__all__ = ["classify_command", "explain_command"]

_SNIFF_BYTES = 16_384
_TOP = 10


class Summary:
    """Counts of verdicts, reasons and codes over the records of one run."""

    def __init__(self) -> None:
        """Start with empty counters."""
        self.verdicts: Counter[str] = Counter()
        self.reasons: Counter[str] = Counter()
        self.enhanced: Counter[str] = Counter()
        self.replies: Counter[str] = Counter()
        self.skipped = 0
        self.errors = 0

    def add(self, record: EnrichedRecord) -> None:
        """Count one record."""
        self.verdicts[record.verdict.value] += 1
        self.reasons[record.reason.value] += 1
        status = record.enhanced_status
        self.enhanced[status.code if status else enhanced_metric_label(None)] += 1
        self.replies[reply_metric_label(record.reply_code)] += 1

    def render(self) -> str:
        """The summary as aligned plain text."""
        total = sum(self.verdicts.values())
        lines = [
            f"records: {total}  skipped lines: {self.skipped}  lines with errors: {self.errors}"
        ]
        for title, counter in (
            ("verdict", self.verdicts),
            ("reason", self.reasons),
            ("enhanced status", self.enhanced),
            ("reply code", self.replies),
        ):
            lines.append(f"\n{title:<20} {'count':>8} {'share':>7}")
            for value, count in counter.most_common(_TOP):
                lines.append(f"{value:<20} {count:>8} {count / total:>7.1%}")
        return "\n".join(lines)


def _payloads(stream: BinaryIO) -> Iterator[tuple[int, bytes]]:
    """One payload per line; a whole email (a bounce ``.eml``) or a JSON document written
    over several lines (a platform's pretty-printed notification) is one payload."""
    head = stream.read(_SNIFF_BYTES)
    if looks_like_email(head) or _spread_json(head):
        yield 1, head + stream.read(MAX_EMAIL_BYTES)
        return
    lines = chain(BytesIO(head + (stream.readline() if head[-1:] != b"\n" else b"")), stream)
    for number, line in enumerate(lines, 1):
        if line.strip():
            yield number, line


def _spread_json(head: bytes) -> bool:
    """Whether ``head`` starts a JSON document whose first line is not a whole one (JSON
    Lines have a whole document on every line)."""
    if head.lstrip()[:1] not in (b"{", b"["):
        return False
    try:
        orjson.loads(head.lstrip().split(b"\n", 1)[0])
    except orjson.JSONDecodeError:
        return True
    return False


def _classify_stream(
    name: str, stream: BinaryIO, policy: Policy, reference_time: float | None, summary: Summary,
    write_records: bool, pretty: bool, zone: str | None,
) -> None:  # fmt: skip
    out = sys.stdout.buffer
    option = orjson.OPT_INDENT_2 if pretty else 0
    for number, payload in _payloads(stream):
        try:
            result = enrich_payload(
                payload, policy=policy, reference_time=reference_time, source_timezone=zone
            )
        except PayloadError as error:
            summary.errors += 1
            click.echo(f"{name}:{number}: {error.error_class}: {printable(str(error))}", err=True)
            continue
        summary.skipped += result.skipped
        for line_error in result.errors:
            summary.errors += 1
            click.echo(
                f"{name}:{number}: {line_error.error_class}: {printable(line_error.message)}",
                err=True,
            )
        for record in result.records:
            summary.add(record)
            if write_records:
                out.write(
                    (orjson.dumps(record, option=option) if pretty else serialize(record)) + b"\n"
                )
    out.flush()


def _check_zone(_ctx: click.Context, _param: click.Parameter, value: str | None) -> str | None:
    """Validate ``--syslog-timezone`` (an IANA zone name) before any input is read."""
    if value is not None:
        try:
            zone_info(value)
        except TimeZoneError as error:
            raise click.BadParameter(str(error)) from None
    return value


@click.command("classify")
@click.argument("files", nargs=-1, type=click.File("rb"))
@click.option(
    "--policy",
    "policy_path",
    type=click.Path(dir_okay=False),
    envvar="BOUNCE_PROCESSOR_POLICY_FILE",
    help="Site policy file (TOML or YAML), or a built-in profile: default, class.",
)
@click.option(
    "--summary", is_flag=True, help="Print a table of verdicts, reasons and codes on stderr."
)
@click.option("--no-records", is_flag=True, help="Do not print records (use with --summary).")
@click.option("--pretty", is_flag=True, help="Indent the JSON records.")
@click.option(
    "--reference-time",
    type=click.DateTime(["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S"]),
    help="Date used to resolve year-less syslog timestamps (default: now, UTC).",
)
@click.option(
    "--syslog-timezone",
    metavar="ZONE",
    envvar="BOUNCE_PROCESSOR_SYSLOG_TIMEZONE",
    callback=_check_zone,
    help="IANA time zone of log timestamps without a zone (RFC 3164, ISO 8601 without an "
    "offset), e.g. Europe/Paris; default UTC.",
)
def classify_command(
    files: tuple[BinaryIO, ...], policy_path: str | None, summary: bool, no_records: bool,
    pretty: bool, reference_time: datetime | None, syslog_timezone: str | None,
) -> None:  # fmt: skip
    """Classify raw delivery events from FILEs (or stdin) into JSON Lines on stdout.

    Each input line is one payload: a Postfix, Exim (main log) or Sendmail log
    line, a log shipper's JSON record, a sending platform's webhook event, or a
    generic JSON delivery event. A FILE that is one email (a bounce, feedback report or automatic
    reply, e.g. an .eml file), or one JSON document written over several lines (a platform's
    notification as saved), is classified as a whole. Exit status 1 when a
    line could not be processed (reported on stderr).
    """
    try:
        policy = load_policy(policy_path)
    except PolicyError as error:
        raise click.UsageError(str(error)) from None
    epoch = reference_time.replace(tzinfo=UTC).timestamp() if reference_time else None
    counts = Summary()
    streams = [(f.name, f) for f in files] or [("<stdin>", sys.stdin.buffer)]
    for name, stream in streams:
        _classify_stream(
            name, stream, policy, epoch, counts, not no_records, pretty, syslog_timezone
        )
    if summary:
        click.echo(counts.render(), err=True)
    if counts.errors:
        raise click.exceptions.Exit(1)
