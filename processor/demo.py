"""`bounce-processor demo`: embedded broker + sample Postfix log + processor + readable summary.

Steps: start Tansu (``processor.stream.broker``) on a free loopback port, create the
three topics, publish ``processor/data/sample-postfix.log``, run the stream loop in a
thread until every input message is consumed and committed, read the enriched and
dead-letter topics back, print a summary, stop everything (or keep it up with
``--keep-running``). Logs go to a file so the terminal shows only the summary.
"""

from __future__ import annotations

import contextlib
import importlib.resources
import signal
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from types import FrameType
from typing import Any

import orjson
from confluent_kafka.admin import AdminClient, NewTopic  # type: ignore[attr-defined]
from prometheus_client import CollectorRegistry, disable_created_metrics

from processor import __version__
from processor.stream.broker import BrokerError, EmbeddedBroker
from processor.stream.config import KafkaConfig, Settings
from processor.stream.health import HealthState, HttpServer, health_app
from processor.stream.kafka_io import message_headers
from processor.stream.logs import configure_logging, librdkafka_logger
from processor.stream.metrics import Metrics
from processor.stream.pipeline import Pipeline
from processor.stream.service import classifier_version
from processor.stream.tools import header_text, iter_topic, produce_lines

INPUT, OUTPUT, DEAD_LETTER = (
    "mail-delivery-events",
    "mail-bounces-classified",
    "mail-delivery-events-dlq",
)
CATCH_UP_TIMEOUT_SECONDS = 120.0
Echo = Callable[[str], Any]


class DemoError(RuntimeError):
    """The demo could not run (broker missing or did not start, processor failed)."""


def sample_log_lines() -> list[bytes]:
    """Lines of the shipped sample Postfix log (anonymised: example.* domains, doc IP ranges)."""
    resource = importlib.resources.files("processor").joinpath("data", "sample-postfix.log")
    return resource.read_bytes().splitlines(keepends=True)


def _create_topics(bootstrap: str) -> None:
    admin = AdminClient({"bootstrap.servers": bootstrap}, logger=librdkafka_logger())
    futures = admin.create_topics(
        [NewTopic(INPUT, 3, 1), NewTopic(OUTPUT, 3, 1), NewTopic(DEAD_LETTER, 1, 1)]
    )
    for future in futures.values():
        future.result(30)


def _http_server(address: str, health: HealthState, registry: CollectorRegistry) -> HttpServer:
    host, _, port = address.rpartition(":")
    app = health_app(health, registry)
    try:
        return HttpServer(host or "127.0.0.1", int(port), app).start()
    except OSError:  # port busy: any free one will do for a demo
        return HttpServer(host or "127.0.0.1", 0, app).start()


@contextlib.contextmanager
def _running(pipeline: Pipeline) -> Iterator[list[BaseException]]:
    errors: list[BaseException] = []

    def target() -> None:
        try:
            pipeline.run()
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)

    thread = threading.Thread(target=target, name="pipeline", daemon=True)
    thread.start()
    try:
        yield errors
    finally:
        pipeline.stop()
        thread.join(60)


def _wait_caught_up(
    registry: CollectorRegistry, expected: int, errors: list[BaseException]
) -> None:
    deadline = time.monotonic() + CATCH_UP_TIMEOUT_SECONDS
    while time.monotonic() < deadline and not errors:
        consumed = registry.get_sample_value(
            "bounce_processor_messages_consumed_total", {"topic": INPUT}
        )
        if consumed is not None and consumed >= expected:
            return
        time.sleep(0.2)
    raise DemoError(f"processor did not catch up: {errors[0] if errors else 'timed out'}")


def run_demo(
    *,
    keep_running: bool = False,
    http_address: str = "127.0.0.1:9850",
    log_file: Path | None = None,
    echo: Echo = print,
) -> None:
    """Run the whole demo; prints the summary through ``echo``.

    :raises DemoError: when the broker cannot start or the processor fails.
    """
    log_path = log_file or Path(tempfile.mkstemp(prefix="bounce-processor-demo-", suffix=".log")[1])
    with log_path.open("ab") as broker_log, log_path.open("a", encoding="utf-8") as log_stream:
        configure_logging("info", "json", stream=log_stream)
        try:
            broker = EmbeddedBroker(log=broker_log).start()
        except BrokerError as exc:
            raise DemoError(str(exc)) from exc
        with broker:
            echo(f"Embedded Kafka-protocol broker (Tansu) on {broker.bootstrap_servers}")
            _create_topics(broker.bootstrap_servers)
            lines = sample_log_lines()
            kafka = KafkaConfig(
                {
                    "bootstrap.servers": broker.bootstrap_servers,
                    "consumer.session.timeout.ms": "6000",
                    "statistics.interval.ms": "1000",
                }
            )
            sent = produce_lines(kafka, INPUT, lines, progress=False)
            echo(f"Published {sent} sample Postfix log lines to '{INPUT}'")
            disable_created_metrics()  # type: ignore[no-untyped-call]  # as `run` does
            registry = CollectorRegistry()
            health = HealthState()
            metrics = Metrics(
                registry, version=__version__, classifier_version=classifier_version()
            )
            metrics.ready.set_function(lambda: float(health.readiness()[0]))
            server = _http_server(http_address, health, registry)
            settings = Settings(
                input_topics=[INPUT],
                output_topic=OUTPUT,
                dead_letter_topic=DEAD_LETTER,
                group_id="bounce-processor-demo",
                commit_interval_seconds=0.5,
            )
            pipeline = Pipeline(settings, kafka, metrics, health)
            echo("Running the processor (joining the consumer group takes a few seconds) ...")
            try:
                with _running(pipeline) as errors:
                    _wait_caught_up(registry, sent, errors)
                    url = f"http://127.0.0.1:{server.port}"
                    print_summary(kafka, registry, url, echo)
                    echo(f"Logs: {log_path}")
                    if keep_running:
                        _keep_running(broker.bootstrap_servers, url, echo)
                    else:
                        echo(
                            "(the demo stops now; `bounce-processor demo --keep-running` keeps "
                            "the broker, processor and metrics up)"
                        )
            finally:
                server.stop()


def _keep_running(bootstrap: str, url: str, echo: Echo) -> None:
    echo(
        f"\nStill running. Try:\n  curl {url}/metrics\n"
        f"  bounce-processor produce FILE --topic {INPUT} -b {bootstrap}\n"
        f"  bounce-processor tail --topic {OUTPUT} -b {bootstrap}\nCtrl-C stops everything."
    )
    # SIGTERM (timeout, systemd, docker stop) ends it like Ctrl-C, so the broker is stopped too
    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        with contextlib.suppress(KeyboardInterrupt):
            while True:
                time.sleep(3600)
    finally:
        signal.signal(signal.SIGTERM, previous)


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def _table(rows: list[tuple[str, ...]], echo: Echo) -> None:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for row in rows:
        echo("  " + "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())


def print_summary(kafka: KafkaConfig, registry: CollectorRegistry, url: str, echo: Echo) -> None:
    """Read the output and dead-letter topics back and print verdicts, codes, reasons, examples."""
    records = [orjson.loads(m.value() or b"{}") for m in iter_topic(kafka, OUTPUT, idle_timeout=5)]
    dead = list(iter_topic(kafka, DEAD_LETTER, idle_timeout=5))
    skipped = registry.get_sample_value("bounce_processor_lines_skipped_total") or 0
    echo(
        f"\n{len(records)} enriched records, {int(skipped)} non-delivery lines skipped, "
        f"{len(dead)} dead-lettered\n"
    )
    echo("Verdicts:")
    _table([(v, str(n)) for v, n in Counter(r["verdict"] for r in records).most_common()], echo)
    echo("\nTop enhanced status codes:")
    meanings: dict[str, str] = {}
    for r in records:
        if r.get("enhanced_status"):
            status = r["enhanced_status"]
            meanings[status["code"]] = status.get("detail_title") or status.get("class_title") or ""
    codes = Counter(r["enhanced_status"]["code"] for r in records if r.get("enhanced_status"))
    _table([(c, str(n), meanings[c]) for c, n in codes.most_common(8)], echo)
    echo("\nReasons:")
    _table([(v, str(n)) for v, n in Counter(r["reason"] for r in records).most_common()], echo)
    echo("\nA few enriched records:")
    shown = {r["verdict"]: r for r in records}
    for r in shown.values():
        code = (r.get("enhanced_status") or {}).get("code", "-")
        echo(
            f"  {r['recipient']}  status={r['delivery_status']}  code={code}  "
            f"verdict={r['verdict']}  reason={r['reason']}\n    {r['explanation']}"
        )
    for msg in dead[:3]:
        headers = {k: header_text(v) for k, v in message_headers(msg)}
        echo(
            f"\nDead-lettered ({headers.get('bounce-processor.error.class')}): "
            f"{(msg.value() or b'')[:80]!r}"
        )
    echo(
        f"\nMetrics and health (up while the demo runs): {url}/metrics  {url}/healthz  {url}/readyz"
    )
