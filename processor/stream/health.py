"""Liveness, readiness and metrics over one HTTP port (stdlib ``wsgiref`` + prometheus-client).

Routes: ``/healthz`` (process alive and loop not stuck), ``/readyz`` (subscribed and
assigned or waiting for an assignment, broker reachable, not stopping), ``/metrics``
(``prometheus_client.make_wsgi_app``); anything else is 404. The health routes come
first because ``make_wsgi_app`` answers every path with metrics (prometheus/client_python
``exposition.py``). Probe semantics: Kubernetes "Configure Liveness, Readiness and
Startup Probes" (kubernetes.io/docs/tasks/configure-pod-container/).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from prometheus_client import CollectorRegistry, make_wsgi_app

StartResponse = Callable[..., Any]
WSGIApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


class HealthState:
    """What the loop reports about itself; read by the HTTP thread.

    Plain attribute writes (atomic under the GIL); no lock on the hot path.

    :param stall_after_seconds: ``/healthz`` fails when the loop has not turned for this long.
    :param clock: monotonic clock in seconds (injectable for tests).
    """

    def __init__(
        self, stall_after_seconds: float = 60.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.stall_after_seconds = stall_after_seconds
        self._clock = clock
        self.last_beat = clock()
        self.subscribed = False
        self.stopping = False
        self.failed: str | None = None
        self.assigned: frozenset[tuple[str, int]] = frozenset()
        self.reachable: dict[str, bool] = {}

    def beat(self) -> None:
        """Record that the loop turned (every iteration, and while waiting on backpressure)."""
        self.last_beat = self._clock()

    def set_reachable(self, client: str, reachable: bool) -> None:
        """Record whether ``client`` (``"consumer"`` or ``"producer"``) reaches a broker."""
        self.reachable[client] = reachable

    def liveness(self) -> tuple[bool, str]:
        """``(alive, reason)``: alive unless the loop failed or stalled."""
        if self.failed is not None:
            return False, f"failed: {self.failed}"
        stalled = self._clock() - self.last_beat
        if stalled > self.stall_after_seconds:
            return False, f"loop stalled for {stalled:.0f}s"
        return True, "ok"

    def readiness(self) -> tuple[bool, str]:
        """``(ready, reason)``: subscribed, broker reachable, not stopping, not failed."""
        alive, reason = self.liveness()
        if not alive:
            return False, reason
        if self.stopping:
            return False, "stopping"
        if not self.subscribed:
            return False, "not subscribed"
        unreachable = sorted(name for name, ok in self.reachable.items() if not ok)
        if unreachable:
            return False, f"broker unreachable from {', '.join(unreachable)}"
        if not self.assigned:
            return True, "waiting for partition assignment"
        return True, f"{len(self.assigned)} partitions assigned"


def health_app(state: HealthState, registry: CollectorRegistry) -> WSGIApp:
    """WSGI app routing ``/healthz``, ``/readyz``, ``/metrics``; 404 elsewhere."""
    metrics_app = make_wsgi_app(registry)

    def probe(check: Callable[[], tuple[bool, str]], start_response: StartResponse) -> list[bytes]:
        ok, reason = check()
        status = "200 OK" if ok else "503 Service Unavailable"
        start_response(status, [("Content-Type", "text/plain; charset=utf-8")])
        return [f"{'ok' if ok else 'not ok'}: {reason}\n".encode()]

    def app(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path == "/healthz":
            return probe(state.liveness, start_response)
        if path == "/readyz":
            return probe(state.readiness, start_response)
        if path == "/metrics":
            return metrics_app(environ, start_response)  # type: ignore[no-any-return]
        start_response("404 Not Found", [("Content-Type", "text/plain; charset=utf-8")])
        return [b"not found: try /metrics, /healthz or /readyz\n"]

    return app


class _ThreadingServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True
    allow_reuse_address = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        """Probes every few seconds would flood the logs: stay silent."""


class HttpServer:
    """The health/metrics server in a daemon thread.

    :param host: address to bind (``0.0.0.0`` in a pod).
    :param port: TCP port; 0 picks a free one (see :attr:`port`).
    :raises OSError: when the address cannot be bound.
    """

    def __init__(self, host: str, port: int, app: WSGIApp) -> None:
        self._server = make_server(
            host, port, app, server_class=_ThreadingServer, handler_class=_QuietHandler
        )
        self.port: int = self._server.server_port
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            name="http",
            kwargs={"poll_interval": 0.5},
            daemon=True,
        )

    def start(self) -> HttpServer:
        """Start serving; returns ``self``."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the socket."""
        self._server.shutdown()
        self._server.server_close()
