"""The live run of the deployment tests: what was sent, and the window that covers it."""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass
from typing import Any

import orjson
from live_kafka import produce, read_topic
from live_stack import JOB, NAMESPACE, ProcessorProcess, Prometheus, wait_until

#: Label matchers of the processor's series in the live Prometheus.
SELECT = f'namespace="{NAMESPACE}", job="{JOB}"'

#: A payload the processor cannot parse: it must be dead-lettered.
BROKEN_PAYLOAD = b'{"event": "bounce", "recipient": "broken@example.com", "enhanced_status": '


@dataclass
class Live:
    """The running stack and what was sent through it.

    :param records: the enriched records of one pass over the input (from the output topic).
    :param window_start: Unix time between the two passes.
    """

    prometheus: Prometheus
    processor: ProcessorProcess
    records: list[dict[str, Any]]
    window_start: float
    input_topic: str

    def variables(self) -> dict[str, str]:
        """Grafana's expansion, with a window that covers exactly the second pass."""
        window = f"{math.ceil(self.prometheus.now() - self.window_start)}s"
        return {"namespace": NAMESPACE, "job": JOB, "__rate_interval": window, "__range": window}


def send_pass(prometheus: Prometheus, bootstrap: str, topic: str, values: list[bytes]) -> None:
    """Produce one pass and wait until Prometheus has scraped it all consumed."""
    before = prometheus.value(f"sum(bounce_processor_messages_consumed_total{{{SELECT}}})") or 0
    produce(bootstrap, topic, values)
    expected = before + len(values)
    wait_until(
        lambda: (
            prometheus.value(f"sum(bounce_processor_messages_consumed_total{{{SELECT}}})")
            == expected
        ),
        f"{expected} messages consumed",
    )


def one_pass_of_records(prometheus: Prometheus, bootstrap: str, topic: str) -> list[dict[str, Any]]:
    """The distinct records on the output topic; every one must have been produced twice."""
    produced = prometheus.value(f"sum(bounce_processor_records_produced_total{{{SELECT}}})")
    assert produced
    outputs = [orjson.loads(value) for value in read_topic(bootstrap, topic, int(produced))]
    per_event = Counter(record["event_id"] for record in outputs)
    assert set(per_event.values()) == {2}, "both passes produce the same records"
    return list({record["event_id"]: record for record in outputs}.values())
