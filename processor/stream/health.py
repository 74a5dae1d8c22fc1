"""Liveness, readiness and metrics over one HTTP port (stdlib ``wsgiref`` + prometheus-client).

Routes: ``/healthz`` (process alive and loop not stuck), ``/readyz`` (subscribed and
assigned or waiting for an assignment, broker reachable, not stopping), ``/metrics``
(``prometheus_client.make_wsgi_app``); anything else is 404. The health routes come
first because ``make_wsgi_app`` answers every path with metrics (prometheus/client_python
``exposition.py``). Probe semantics: Kubernetes "Configure Liveness, Readiness and
Startup Probes" (kubernetes.io/docs/tasks/configure-pod-container/).
"""

from __future__ import annotations

import contextlib
import socket
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
    """WSGI app routing ``/healthz``, ``/readyz``, ``/metrics`` (GET and HEAD only, 405
    otherwise); 404 elsewhere, without echoing the path."""
    metrics_app = make_wsgi_app(registry)

    def probe(check: Callable[[], tuple[bool, str]], start_response: StartResponse) -> list[bytes]:
        ok, reason = check()
        status = "200 OK" if ok else "503 Service Unavailable"
        start_response(status, [("Content-Type", "text/plain; charset=utf-8")])
        return [f"{'ok' if ok else 'not ok'}: {reason}\n".encode()]

    def app(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("REQUEST_METHOD") not in ("GET", "HEAD"):
            start_response(
                "405 Method Not Allowed",
                [("Content-Type", "text/plain; charset=utf-8"), ("Allow", "GET, HEAD")],
            )
            return [b"method not allowed\n"]
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
    """One thread per connection, at most ``max_connections`` at once; the rest are
    closed on arrival (shed) rather than queued behind slow clients."""

    daemon_threads = True
    allow_reuse_address = True
    max_connections = 64

    def server_activate(self) -> None:
        self._slots = threading.BoundedSemaphore(self.max_connections)
        super().server_activate()

    def process_request(self, request: Any, client_address: Any) -> None:
        if not self._slots.acquire(blocking=False):
            self.shutdown_request(request)
            return
        try:
            super().process_request(request, client_address)
        except BaseException:
            self._slots.release()
            raise

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._slots.release()

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that timed out or sent garbage: no traceback on stderr."""


class _QuietHandler(WSGIRequestHandler):
    """Per-connection limits: ``timeout`` seconds per socket read or write, and
    ``deadline`` seconds for the whole request (a client trickling a byte at a time is
    cut off). Requests larger than 64 KiB per line or 100 headers get 414 / 431
    (``http.server``)."""

    timeout = 5.0
    deadline = 15.0

    def setup(self) -> None:
        super().setup()
        self._cutoff = threading.Timer(self.deadline, self._cut)
        self._cutoff.daemon = True
        self._cutoff.start()

    def finish(self) -> None:
        self._cutoff.cancel()
        super().finish()

    def _cut(self) -> None:
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)

    def log_message(self, format: str, *args: Any) -> None:
        """Probes every few seconds would flood the logs: stay silent."""

    def version_string(self) -> str:
        """``Server`` header of error responses (400, 414, 431): no versions."""
        return "bounce-processor"


def _no_server_version(app: WSGIApp) -> WSGIApp:
    """Answer ``Server: bounce-processor`` instead of the Python and wsgiref versions."""

    def wrapped(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        def respond(status: str, headers: list[tuple[str, str]], *exc: Any) -> Any:
            return start_response(status, [*headers, ("Server", "bounce-processor")], *exc)

        return app(environ, respond)

    return wrapped


class HttpServer:
    """The health/metrics server in a daemon thread.

    It serves only what ``app`` routes, answers ``Server: bounce-processor`` (no
    versions), and bounds what a client can hold: ``request_timeout`` seconds per read
    or write, ``request_deadline`` seconds per request, ``max_connections`` at once
    (further connections are closed on arrival). Bind it to the pod address and keep
    it behind a NetworkPolicy: the limits bound the damage, they do not authenticate.

    :param host: address to bind (``0.0.0.0`` in a pod, ``127.0.0.1`` for local only).
    :param port: TCP port; 0 picks a free one (see :attr:`port`).
    :raises OSError: when the address cannot be bound.
    """

    def __init__(
        self,
        host: str,
        port: int,
        app: WSGIApp,
        *,
        request_timeout: float = 5.0,
        request_deadline: float = 15.0,
        max_connections: int = 64,
    ) -> None:
        handler = type(
            "_Handler", (_QuietHandler,), {"timeout": request_timeout, "deadline": request_deadline}
        )
        server = type("_Server", (_ThreadingServer,), {"max_connections": max_connections})
        self._server: WSGIServer = make_server(
            host, port, _no_server_version(app), server_class=server, handler_class=handler
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
