"""Command line: ``bounce-processor``.

Subcommands live next to the code they drive and are registered here:
``classify`` and ``explain`` (core, no Kafka), ``run``, ``demo``, ``produce``,
``tail`` and ``check-config`` (stream, need confluent-kafka).
"""

from __future__ import annotations

import click

from processor import __version__


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="bounce-processor")
def main() -> None:
    """Classify email delivery events (Postfix logs, JSON events) into soft/hard bounces."""


def _register() -> None:
    from processor.core_cli import classify_command, explain_command
    from processor.stream.cli import stream_commands

    main.add_command(classify_command)
    main.add_command(explain_command)
    for command in stream_commands:
        main.add_command(command)


_register()
