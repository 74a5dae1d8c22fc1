"""`bounce-processor run`: wire settings, logging, metrics, health server and the loop.

Exit codes: 0 after a clean stop with everything committed; 1 when the loop stopped on a
stream failure (delivery, fatal client error); 3 when a stop could not drain and commit
within the grace period (nothing is lost: the uncommitted input is re-read on restart).
"""

from __future__ import annotations

import signal
from types import FrameType

from confluent_kafka import KafkaException
from prometheus_client import REGISTRY, CollectorRegistry, disable_created_metrics

from processor import __version__
from processor.classifier.policy import Policy, default_policy, load_policy
from processor.errors import StreamError
from processor.stream.config import ConfigError, KafkaConfig, Settings
from processor.stream.health import HealthState, HttpServer, health_app
from processor.stream.kafka_io import DrainTimeoutError
from processor.stream.logs import get_logger
from processor.stream.metrics import Metrics
from processor.stream.pipeline import Pipeline

log = get_logger(__name__)

EXIT_OK = 0
EXIT_STREAM_FAILURE = 1
EXIT_NOT_DRAINED = 3


def classifier_version() -> str:
    """Version of the classifier rule set, for ``build_info``."""
    from processor.enrich import CLASSIFIER_VERSION

    return CLASSIFIER_VERSION


def load_site_policy(settings: Settings) -> Policy:
    """The site policy named by ``settings.policy_file``, or the built-in default policy.

    :raises processor.errors.PolicyError: when the file is invalid.
    """
    if settings.policy_file is None:
        return default_policy()
    return load_policy(settings.policy_file)


def run_service(
    settings: Settings, kafka: KafkaConfig, registry: CollectorRegistry = REGISTRY
) -> int:
    """Run the processor until SIGTERM/SIGINT or a stream failure; returns the exit code."""
    policy = load_site_policy(settings)
    disable_created_metrics()  # type: ignore[no-untyped-call]  # halves the exposition; rate() needs no _created series
    health = HealthState()
    metrics = Metrics(registry, version=__version__, classifier_version=classifier_version())
    metrics.ready.set_function(lambda: float(health.readiness()[0]))
    host, port = settings.http_host_port()
    try:
        server = HttpServer(host, port, health_app(health, registry)).start()
    except OSError as exc:
        raise ConfigError(f"cannot serve HTTP on {host}:{port}: {exc.strerror or exc}") from exc
    log.info(
        "starting",
        version=__version__,
        http=f"{host}:{server.port}",
        kafka=kafka.masked()["common"],
        output_topic=settings.output_topic,
        dead_letter_topic=settings.dead_letter_topic,
    )
    try:
        pipeline = Pipeline(settings, kafka, metrics, health, policy)
    except KafkaException as exc:  # librdkafka refused the configuration
        server.stop()
        raise ConfigError(f"Kafka configuration: {exc.args[0].str() if exc.args else exc}") from exc

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        log.info("stop requested", signal=signal.Signals(signum).name)
        pipeline.stop()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        drained = pipeline.run()
    except DrainTimeoutError as exc:
        log.warning("stopped without draining; uncommitted input will be re-read", error=str(exc))
        return EXIT_NOT_DRAINED
    except StreamError as exc:
        log.error("stream failure; exiting so the orchestrator restarts us", error=str(exc))
        return EXIT_STREAM_FAILURE
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        server.stop()
    log.info("stopped", drained=drained)
    return EXIT_OK if drained else EXIT_NOT_DRAINED
