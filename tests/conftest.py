"""Shared fixtures: a real Kafka-protocol broker for the whole test session.

``kafka_broker`` yields a bootstrap string. With ``KAFKA_TEST_BOOTSTRAP`` set, the suite
uses that existing cluster (e.g. Apache Kafka) instead of starting one; otherwise it starts
the embedded Tansu broker (memory storage, free loopback port) and stops it at the end.
Tests that pause the broker need the embedded one: ``embedded_broker`` skips otherwise.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator

import pytest

from processor.stream.broker import BrokerError, EmbeddedBroker

BOOTSTRAP_ENV = "KAFKA_TEST_BOOTSTRAP"


@pytest.fixture(scope="session")
def _broker_process() -> Iterator[EmbeddedBroker | None]:
    if os.environ.get(BOOTSTRAP_ENV):
        yield None
        return
    with tempfile.TemporaryFile() as log:
        broker = EmbeddedBroker(log=log)
        try:
            broker.start()
        except BrokerError as exc:
            pytest.skip(f"embedded broker unavailable: {exc}")
        try:
            yield broker
        finally:
            broker.stop()


@pytest.fixture(scope="session")
def kafka_broker(_broker_process: EmbeddedBroker | None) -> str:
    """Bootstrap servers of the session's broker (``KAFKA_TEST_BOOTSTRAP`` or embedded Tansu)."""
    if _broker_process is None:
        return os.environ[BOOTSTRAP_ENV]
    return _broker_process.bootstrap_servers


@pytest.fixture(scope="session")
def embedded_broker(_broker_process: EmbeddedBroker | None) -> EmbeddedBroker:
    """The embedded broker process itself (for pause/resume); skips against an external cluster."""
    if _broker_process is None:
        pytest.skip(f"needs the embedded broker ({BOOTSTRAP_ENV} is set)")
    return _broker_process
