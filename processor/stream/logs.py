"""Structured logging with structlog: JSON lines in a container, readable on a terminal.

One event per line on stderr (stdout stays free for command output such as ``tail``).
``auto`` picks the console renderer when stderr is a TTY and JSON otherwise
(structlog docs, "Standard Library Logging" / ``ProcessorFormatter``). librdkafka's own
logs reach the same handler through the ``logger=`` client argument.
"""

from __future__ import annotations

import logging
import sys
from typing import Any, TextIO

import orjson
import structlog

LIBRDKAFKA_LOGGER = "bounce_processor.librdkafka"


def _dumps(value: Any, **_: Any) -> str:
    return orjson.dumps(value, default=str).decode()


def configure_logging(level: str = "info", fmt: str = "auto", stream: TextIO | None = None) -> None:
    """Route structlog and stdlib logging to ``stream`` (stderr) as JSON or console lines.

    :param level: ``debug``, ``info``, ``warning`` or ``error``.
    :param fmt: ``json``, ``console`` or ``auto`` (console on a TTY).
    """
    stream = stream or sys.stderr
    use_json = fmt == "json" or (fmt == "auto" and not stream.isatty())
    renderer: Any = (
        structlog.processors.JSONRenderer(serializer=_dumps)
        if use_json
        else structlog.dev.ConsoleRenderer(colors=stream.isatty())
    )
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    handler = logging.StreamHandler(stream)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=shared,
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                structlog.processors.format_exc_info if use_json else _identity,
                renderer,
            ],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    structlog.configure(
        processors=[
            structlog.stdlib.filter_by_level,
            *shared,
            structlog.processors.StackInfoRenderer(),
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )


def _identity(_logger: Any, _name: str, event: Any) -> Any:
    return event


def librdkafka_logger() -> logging.Logger:
    """The stdlib logger handed to confluent-kafka clients as ``logger=``."""
    return logging.getLogger(LIBRDKAFKA_LOGGER)


def get_logger(name: str) -> Any:
    """A structlog logger named ``name``."""
    return structlog.stdlib.get_logger(name)
