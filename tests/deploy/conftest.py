"""Fixtures of the deployment tests.

``rendered_chart``: the chart rendered by Helm's engine for the default values and the
``ci/*-values.yaml`` files. ``live``: the sample log sent twice through the real broker
into ``bounce-processor run``, scraped every second by a real Prometheus.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from deploy_support import CHART_CASES, chart_values, render_chart, require_module, require_tool
from live_kafka import create_topics
from live_run import BROKEN_PAYLOAD, SELECT, Live, one_pass_of_records, send_pass
from live_stack import start_processor, start_prometheus, wait_until


@pytest.fixture(scope="session")
def rendered_chart() -> dict[str, list[dict[str, Any]]]:
    """Every Kubernetes object of each chart case."""
    return {case: render_chart(chart_values(case)) for case in CHART_CASES}


def _bootstrap(request: pytest.FixtureRequest) -> str:
    """The session broker of tests/conftest.py (``kafka_broker``)."""
    try:
        bootstrap: str = request.getfixturevalue("kafka_broker")
    except pytest.FixtureLookupError:
        require_module("processor.stream.broker")  # skips (fails under CI) when absent
        raise
    return bootstrap


@pytest.fixture(scope="module")
def live(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Live]:
    """Processor and Prometheus after two passes of the sample log (plus a broken payload)."""
    prometheus_binary = require_tool("prometheus")
    demo = require_module("processor.demo")
    bootstrap = _bootstrap(request)
    directory = tmp_path_factory.mktemp("live-stack")
    suffix = uuid.uuid4().hex[:8]
    topics = {
        "BOUNCE_PROCESSOR_INPUT_TOPICS": f"live-in-{suffix}",
        "BOUNCE_PROCESSOR_OUTPUT_TOPIC": f"live-out-{suffix}",
        "BOUNCE_PROCESSOR_DEAD_LETTER_TOPIC": f"live-dlq-{suffix}",
    }
    create_topics(bootstrap, *topics.values())
    settings = {
        "KAFKA_BOOTSTRAP_SERVERS": bootstrap,
        **topics,
        "BOUNCE_PROCESSOR_GROUP_ID": f"live-{suffix}",
        "BOUNCE_PROCESSOR_LOG_FORMAT": "json",
        "BOUNCE_PROCESSOR_COMMIT_INTERVAL_SECONDS": "0.5",
        # librdkafka passthrough: quick group join, lag statistics every second.
        "KAFKA_CONSUMER_SESSION_TIMEOUT_MS": "6000",
        "KAFKA_STATISTICS_INTERVAL_MS": "1000",
    }
    processor = start_processor(settings, directory / "processor.log")
    prometheus = start_prometheus(prometheus_binary, directory, processor.port)
    try:
        wait_until(
            lambda: prometheus.value(f"bounce_processor_ready{{{SELECT}}}") == 1.0,
            "Prometheus scraped a ready processor",
        )
        lines = [line.rstrip(b"\n") for line in demo.sample_log_lines() if line.strip()]
        one_pass = [*lines, BROKEN_PAYLOAD]
        input_topic = topics["BOUNCE_PROCESSOR_INPUT_TOPICS"]
        send_pass(prometheus, bootstrap, input_topic, one_pass)
        # The window starts after a scrape that already saw the whole first pass, and holds
        # a flat scrape before the second pass begins.
        prometheus.wait_for_scrape_after(SELECT, prometheus.now() + 1.5, "a scrape after pass 1")
        window_start = prometheus.now()
        prometheus.wait_for_scrape_after(SELECT, window_start + 1.5, "a flat scrape in the window")
        send_pass(prometheus, bootstrap, input_topic, one_pass)
        prometheus.wait_for_scrape_after(SELECT, prometheus.now() + 1.5, "a scrape after pass 2")
        records = one_pass_of_records(
            prometheus, bootstrap, topics["BOUNCE_PROCESSOR_OUTPUT_TOPIC"]
        )
        yield Live(prometheus, processor, records, window_start, input_topic)
    finally:
        processor.terminate()
        prometheus.stop()
