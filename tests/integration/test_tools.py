"""The `produce` tool against a real broker: one message per line, or the whole file."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from processor.stream.cli import produce_command
from tests.integration.helpers import Stream, read_all

pytestmark = pytest.mark.broker

EMAIL = Path(__file__).parents[1] / "fixtures" / "email" / "sendmail-local-mailer-output.eml"


def _produce(bootstrap: str, topic: str, path: Path, *flags: str) -> str:
    result = CliRunner().invoke(
        produce_command, [str(path), "--topic", topic, "-b", bootstrap, "--no-progress", *flags]
    )
    assert result.exit_code == 0, result.output
    return result.output


def test_produce_publishes_one_message_per_line(kafka_broker: str, tmp_path: Path) -> None:
    stream = Stream.create(kafka_broker, 1)
    log = tmp_path / "mail.log"
    log.write_bytes(b"first line\nsecond line\n\nthird line\n")
    assert "produced 3 messages" in _produce(kafka_broker, stream.input, log)
    values = [m.value() for m in read_all(kafka_broker, stream.input)]
    assert values == [b"first line", b"second line", b"third line"]


def test_produce_whole_file_publishes_a_bounce_email_as_one_message(
    kafka_broker: str,
) -> None:
    stream = Stream.create(kafka_broker, 1)
    assert "produced 1 messages" in _produce(kafka_broker, stream.input, EMAIL, "--whole-file")
    values = [m.value() for m in read_all(kafka_broker, stream.input)]
    assert values == [EMAIL.read_bytes().rstrip(b"\r\n")]
