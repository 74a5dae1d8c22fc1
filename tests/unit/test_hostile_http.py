"""The metrics/health server against malformed requests, slow clients and floods (raw sockets).

Server limits are set small here (1 s per read, 2 s per request, 4 connections) so the
test does not wait long; every wait is "until the server closed", never a timing check.
"""

from __future__ import annotations

import re
import socket
import time
from collections.abc import Iterator

import pytest
from prometheus_client import CollectorRegistry, Counter

from processor.stream.health import HealthState, HttpServer, health_app

MAX_CONNECTIONS = 4


@pytest.fixture
def server() -> Iterator[HttpServer]:
    registry = CollectorRegistry()
    Counter("demo_things", "Things.", registry=registry).inc()
    state = HealthState()
    http = HttpServer(
        "127.0.0.1",
        0,
        health_app(state, registry),
        request_timeout=1.0,
        request_deadline=2.0,
        max_connections=MAX_CONNECTIONS,
    ).start()
    try:
        yield http
    finally:
        http.stop()


def _connect(port: int) -> socket.socket:
    return socket.create_connection(("127.0.0.1", port), timeout=30)


def _exchange(port: int, data: bytes) -> bytes:
    """Send ``data``, read until the server closes (it closes after one response)."""
    with _connect(port) as sock:
        sock.sendall(data)
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
        return received


def _closed_by_server(sock: socket.socket) -> bool:
    """Block until the server closes ``sock`` (True) or 30 s pass (False)."""
    try:
        while sock.recv(65536):
            pass
    except TimeoutError:
        return False
    except OSError:
        return True
    return True


def _status(response: bytes) -> bytes:
    """Status code of a response; requests too broken to name an HTTP version get an
    HTTP/0.9-style answer (body only) from ``http.server``, with the code in the page."""
    if response.startswith(b"HTTP/"):
        return response.split(b" ", 2)[1]
    found = re.search(rb"Error code: (\d{3})", response)
    return found.group(1) if found else b"none"


def _healthy(port: int) -> bool:
    return _exchange(port, b"GET /healthz HTTP/1.0\r\n\r\n").startswith(b"HTTP/1.0 200")


@pytest.mark.parametrize(
    ("request_bytes", "status"),
    [
        (b"GET /" + b"a" * 70_000 + b" HTTP/1.0\r\n\r\n", b"414"),
        (b"GET /healthz HTTP/1.0\r\n" + b"X-A: b\r\n" * 200 + b"\r\n", b"431"),
        (b"GET /healthz HTTP/9.9\r\n\r\n", b"505"),
        (b"BREW /pot\x1b[31m HTTP/1.0\r\n\r\n", b"405"),
        (b"POST /healthz HTTP/1.0\r\nContent-Length: 3\r\n\r\nabc", b"405"),
        (b"DELETE /metrics HTTP/1.0\r\n\r\n", b"405"),
        (b"GET /\x00\x1b]0;x\x07 HTTP/1.0\r\n\r\n", b"404"),
        (b"GET /../../etc/passwd HTTP/1.0\r\n\r\n", b"404"),
        (b"\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03\r\n\r\n", b"400"),
        (b"GARBAGE\r\n\r\n", b"400"),
    ],
)
def test_malformed_requests_get_an_error_and_the_server_stays_up(
    server: HttpServer, request_bytes: bytes, status: bytes
) -> None:
    response = _exchange(server.port, request_bytes)
    assert _status(response) == status, response[:200]
    assert b"\x1b" not in response and b"\x00" not in response  # nothing echoed raw
    assert b"Python" not in response and b"WSGIServer" not in response  # no versions
    assert _healthy(server.port)


def test_silent_and_trickling_clients_are_cut_off(server: HttpServer) -> None:
    with _connect(server.port) as silent, _connect(server.port) as trickle:
        silent.sendall(b"\x16\x03\x01")  # a TLS hello that never ends, no newline
        assert _healthy(server.port)  # others are served meanwhile
        cut = False
        for _ in range(300):  # a byte every 0.1 s keeps each read under the timeout
            try:
                trickle.sendall(b"G")
            except OSError:
                cut = True
                break
            time.sleep(0.1)
        assert cut or _closed_by_server(trickle), "trickling client never cut off"
        assert _closed_by_server(silent)
    assert _healthy(server.port)


def test_connections_beyond_the_limit_are_shed_and_service_resumes(server: HttpServer) -> None:
    held = [_connect(server.port) for _ in range(MAX_CONNECTIONS)]
    try:
        for sock in held:
            sock.sendall(b"GET /hea")  # each holds a slot until the server times it out
        time.sleep(0.2)  # let the server accept them all (not an assertion)
        with _connect(server.port) as extra:
            assert _closed_by_server(extra)  # shed, not queued
    finally:
        for sock in held:
            sock.close()
    deadline = time.monotonic() + 30
    while not _healthy(server.port):
        assert time.monotonic() < deadline, "service did not resume"
        time.sleep(0.2)


def test_bound_to_loopback_only() -> None:
    http = HttpServer("127.0.0.1", 0, health_app(HealthState(), CollectorRegistry())).start()
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.connect(("192.0.2.1", 9))  # no packet is sent; learns the outward address
            outward = probe.getsockname()[0]
        if outward.startswith("127."):
            pytest.skip("no address other than loopback on this machine")
        with pytest.raises(OSError):
            socket.create_connection((outward, http.port), timeout=5).close()
        assert _healthy(http.port)
    finally:
        http.stop()
