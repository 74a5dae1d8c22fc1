"""Click commands of the stream processor: ``run``, ``demo``, ``produce``, ``tail``,
``check-config``.

Registered on the ``bounce-processor`` group by :mod:`processor.cli` through
:data:`stream_commands`. Every ``run`` flag mirrors a ``BOUNCE_PROCESSOR_*`` variable and
wins over it; librdkafka properties come from ``KAFKA_*``, ``--kafka-config FILE`` and
``-X key=value`` (see :mod:`processor.stream.config`).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click
import orjson
from pydantic import ValidationError

from processor.errors import PolicyError, StreamError
from processor.stream.config import ConfigError, KafkaConfig, Settings
from processor.stream.logs import configure_logging

F = TypeVar("F", bound=Callable[..., Any])


def kafka_options(func: F) -> F:
    """``--bootstrap-servers``, ``--kafka-config FILE`` and repeatable ``-X key=value``."""
    func = click.option(
        "-X",
        "x_options",
        multiple=True,
        metavar="KEY=VALUE",
        help="librdkafka property (repeatable); wins over KAFKA_* and --kafka-config.",
    )(func)
    func = click.option(
        "--kafka-config",
        "kafka_config_file",
        type=click.Path(exists=True, dir_okay=False, path_type=Path),
        help="Java properties file of librdkafka settings (like kcat -F).",
    )(func)
    return click.option(
        "-b", "--bootstrap-servers", help="Kafka bootstrap servers [env: KAFKA_BOOTSTRAP_SERVERS]."
    )(func)


def _kafka(bootstrap: str | None, x_options: tuple[str, ...], file: Path | None) -> KafkaConfig:
    try:
        return KafkaConfig.from_sources(
            environ=os.environ, file=file, x_options=x_options, bootstrap_servers=bootstrap
        )
    except ConfigError as exc:
        raise click.UsageError(str(exc)) from exc


def _settings(**flags: Any) -> Settings:
    given = {k: v for k, v in flags.items() if v is not None and v != ()}
    try:
        return Settings(**given)
    except ValidationError as exc:
        raise click.UsageError(str(exc)) from exc


def run_options(func: F) -> F:
    """Flags of ``run`` and ``check-config``; defaults come from the environment."""
    options = [
        click.option(
            "--input-topic",
            "input_topics",
            multiple=True,
            help="Input topic (repeatable or comma-separated) "
            "[env: BOUNCE_PROCESSOR_INPUT_TOPICS].",
        ),
        click.option(
            "--output-topic", help="Enriched records [env: BOUNCE_PROCESSOR_OUTPUT_TOPIC]."
        ),
        click.option(
            "--dead-letter-topic",
            help="Unprocessable input [env: BOUNCE_PROCESSOR_DEAD_LETTER_TOPIC].",
        ),
        click.option("--group-id", help="Consumer group [env: BOUNCE_PROCESSOR_GROUP_ID]."),
        click.option(
            "--http-address",
            help="HOST:PORT of /metrics, /healthz, /readyz [env: BOUNCE_PROCESSOR_HTTP_ADDRESS].",
        ),
        click.option(
            "--log-level",
            type=click.Choice(["debug", "info", "warning", "error"]),
            help="[env: BOUNCE_PROCESSOR_LOG_LEVEL]",
        ),
        click.option(
            "--log-format",
            type=click.Choice(["auto", "json", "console"]),
            help="[env: BOUNCE_PROCESSOR_LOG_FORMAT]",
        ),
        click.option(
            "--policy-file",
            type=click.Path(exists=True, dir_okay=False, path_type=Path),
            help="Site policy file [env: BOUNCE_PROCESSOR_POLICY_FILE].",
        ),
        click.option(
            "--shutdown-grace-seconds",
            type=float,
            help="Drain budget after SIGTERM [env: BOUNCE_PROCESSOR_SHUTDOWN_GRACE_SECONDS].",
        ),
        click.option(
            "--max-payload-bytes",
            type=int,
            help="Larger payloads are dead-lettered [env: BOUNCE_PROCESSOR_MAX_PAYLOAD_BYTES].",
        ),
        click.option(
            "--commit-interval-seconds",
            type=float,
            help="Checkpoint period [env: BOUNCE_PROCESSOR_COMMIT_INTERVAL_SECONDS].",
        ),
        click.option(
            "--batch-size",
            type=int,
            help="Messages per consumed batch [env: BOUNCE_PROCESSOR_BATCH_SIZE].",
        ),
        click.option(
            "--guarantee",
            type=click.Choice(["at-least-once", "exactly-once"]),
            help="Delivery guarantee; exactly-once uses Kafka transactions "
            "[env: BOUNCE_PROCESSOR_GUARANTEE].",
        ),
        click.option(
            "--instance-id",
            help="Stable name of this instance (default: $HOSTNAME); exactly-once mode's "
            "transactional.id is GROUP_ID-INSTANCE_ID [env: BOUNCE_PROCESSOR_INSTANCE_ID].",
        ),
        click.option(
            "--syslog-timezone",
            metavar="ZONE",
            help="IANA time zone of log timestamps without a zone (RFC 3164 'Nov 30 "
            "02:25:06', ISO 8601 without an offset), e.g. Europe/Paris; default UTC "
            "[env: BOUNCE_PROCESSOR_SYSLOG_TIMEZONE].",
        ),
        click.option(
            "--max-record-bytes",
            type=int,
            help="Largest record produced; larger outputs are dead-lettered, larger dead "
            "letters truncated [env: BOUNCE_PROCESSOR_MAX_RECORD_BYTES].",
        ),
    ]
    for option in reversed(options):
        func = option(func)
    return kafka_options(func)


def _split_topics(topics: tuple[str, ...]) -> list[str] | None:
    return [t for item in topics for t in item.split(",") if t.strip()] or None


@click.command("run")
@run_options
def run_command(
    bootstrap_servers: str | None,
    kafka_config_file: Path | None,
    x_options: tuple[str, ...],
    input_topics: tuple[str, ...],
    **flags: Any,
) -> None:
    """Consume delivery events, classify them, produce enriched records.

    At-least-once by default; --guarantee exactly-once commits records, dead letters and
    offsets in one Kafka transaction per checkpoint.
    """
    settings = _settings(
        input_topics=_split_topics(input_topics), kafka_config_file=kafka_config_file, **flags
    )
    kafka = _kafka(bootstrap_servers, x_options, settings.kafka_config_file)
    configure_logging(settings.log_level, settings.log_format)
    from processor.stream.service import run_service

    try:
        code = run_service(settings, kafka)
    except PolicyError as exc:
        raise click.UsageError(f"policy file: {exc}") from exc
    except ConfigError as exc:
        raise click.UsageError(str(exc)) from exc
    sys.exit(code)


@click.command("check-config")
@run_options
def check_config_command(
    bootstrap_servers: str | None,
    kafka_config_file: Path | None,
    x_options: tuple[str, ...],
    input_topics: tuple[str, ...],
    **flags: Any,
) -> None:
    """Print the effective settings and librdkafka configuration (secrets masked) as JSON."""
    settings = _settings(
        input_topics=_split_topics(input_topics), kafka_config_file=kafka_config_file, **flags
    )
    kafka = _kafka(bootstrap_servers, x_options, settings.kafka_config_file)
    from processor.stream.config import mask

    exactly_once = settings.guarantee == "exactly-once"
    consumer = (
        kafka.exactly_once_consumer(settings.group_id)
        if exactly_once
        else kafka.consumer(settings.group_id)
    )
    producer = kafka.producer(settings.transactional_id() if exactly_once else None)
    report = {
        "settings": settings.model_dump(mode="json"),
        "kafka": kafka.masked(),
        "consumer": mask(consumer),
        "producer": mask(producer),
    }
    click.echo(orjson.dumps(report, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS).decode())


@click.command("produce")
@click.argument("file", type=click.File("rb"))
@click.option("--topic", "-t", required=True, help="Topic to publish to.")
@click.option("--progress/--no-progress", default=None, help="Progress bar (default: on a TTY).")
@click.option(
    "--whole-file",
    is_flag=True,
    help="Publish FILE as one message (a bounce email) instead of one message per line.",
)
@kafka_options
def produce_command(
    *,
    file: Any,
    topic: str,
    progress: bool | None,
    whole_file: bool,
    bootstrap_servers: str | None,
    kafka_config_file: Path | None,
    x_options: tuple[str, ...],
) -> None:
    """Publish FILE (one event per line; '-' for stdin) to a topic, for backfills and trials.

    With --whole-file the file is one message: a bounce email (RFC 5322 bytes) is one event.
    """
    from processor.stream.tools import iter_lines, produce_lines

    kafka = _kafka(bootstrap_servers, x_options, kafka_config_file)
    configure_logging("warning", "auto")
    try:
        size = os.fstat(file.fileno()).st_size or None
    except (OSError, ValueError):
        size = None
    show = sys.stderr.isatty() if progress is None else progress
    try:
        lines = [file.read()] if whole_file else iter_lines(file)
        sent = produce_lines(kafka, topic, lines, total_bytes=size, progress=show)
    except StreamError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"produced {sent} messages to {topic}", err=True)


@click.command("tail")
@click.option("--topic", "-t", required=True, help="Topic to read.")
@click.option("--from-beginning/--from-end", default=True, help="Start offset for the read.")
@click.option("--follow/--no-follow", "-f", default=False, help="Keep waiting for new records.")
@click.option("--max-messages", "-n", type=int, help="Stop after N records.")
@kafka_options
def tail_command(
    *,
    topic: str,
    from_beginning: bool,
    follow: bool,
    max_messages: int | None,
    bootstrap_servers: str | None,
    kafka_config_file: Path | None,
    x_options: tuple[str, ...],
) -> None:
    """Read records back from a topic, pretty-printed (never commits offsets)."""
    from processor.stream.tools import tail_topic

    kafka = _kafka(bootstrap_servers, x_options, kafka_config_file)
    configure_logging("warning", "auto")
    try:
        tail_topic(
            kafka,
            topic,
            click.echo,
            from_beginning=from_beginning,
            follow=follow,
            max_messages=max_messages,
        )
    except StreamError as exc:
        raise click.ClickException(str(exc)) from exc


@click.command("demo")
@click.option(
    "--keep-running", is_flag=True, help="Leave the broker, processor and metrics up until Ctrl-C."
)
@click.option(
    "--http-address", default="127.0.0.1:9850", show_default=True, help="Metrics/health address."
)
@click.option(
    "--log-file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Broker and processor logs go here (default: a temporary file).",
)
def demo_command(keep_running: bool, http_address: str, log_file: Path | None) -> None:
    """Start an embedded broker, publish a sample Postfix log, classify it and summarise."""
    from processor.demo import DemoError, run_demo

    try:
        run_demo(
            keep_running=keep_running, http_address=http_address, log_file=log_file, echo=click.echo
        )
    except DemoError as exc:
        raise click.ClickException(str(exc)) from exc


stream_commands: list[click.Command] = [
    run_command,
    demo_command,
    produce_command,
    tail_command,
    check_config_command,
]
