"""Health state and the WSGI routing of /healthz, /readyz, /metrics."""

from __future__ import annotations

import urllib.error
import urllib.request

from prometheus_client import CollectorRegistry, Counter

from processor.stream.health import HealthState, HttpServer, health_app


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_liveness_fails_when_the_loop_stalls_or_fails() -> None:
    clock = FakeClock()
    state = HealthState(stall_after_seconds=30, clock=clock)
    assert state.liveness() == (True, "ok")
    clock.now += 31
    assert state.liveness() == (False, "loop stalled for 31s")
    state.beat()
    assert state.liveness()[0] is True
    state.failed = "DeliveryFailedError"
    assert state.liveness() == (False, "failed: DeliveryFailedError")


def test_readiness_needs_subscription_and_reachable_brokers() -> None:
    state = HealthState()
    assert state.readiness() == (False, "not subscribed")
    state.subscribed = True
    assert state.readiness() == (True, "waiting for partition assignment")
    state.assigned = frozenset({("t", 0), ("t", 1)})
    assert state.readiness() == (True, "2 partitions assigned")
    state.set_reachable("producer", False)
    assert state.readiness() == (False, "broker unreachable from producer")
    state.set_reachable("producer", True)
    state.stopping = True
    assert state.readiness() == (False, "stopping")


def _get(port: int, path: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def test_http_routes() -> None:
    registry = CollectorRegistry()
    Counter("demo_things", "Things.", registry=registry).inc(3)
    state = HealthState()
    server = HttpServer("127.0.0.1", 0, health_app(state, registry)).start()
    try:
        assert _get(server.port, "/healthz") == (200, "ok: ok\n")
        assert _get(server.port, "/readyz") == (503, "not ok: not subscribed\n")
        state.subscribed = True
        assert _get(server.port, "/readyz") == (200, "ok: waiting for partition assignment\n")
        status, body = _get(server.port, "/metrics")
        assert status == 200 and "demo_things_total 3.0" in body
        assert _get(server.port, "/other")[0] == 404
    finally:
        server.stop()
