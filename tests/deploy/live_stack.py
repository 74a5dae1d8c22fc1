"""A live monitoring stack for the deployment tests: Prometheus scraping `bounce-processor run`.

Everything is real and local: the session's Kafka-protocol broker, the processor started
as ``python -m processor run`` with environment settings only (as the chart and the
compose file configure it), and Debian's ``prometheus`` server listening on a loopback
port with ``dashboards/alerts.yaml`` loaded.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, TypeVar

import yaml
from deploy_support import DASHBOARDS, ROOT

JOB = "bounce-processor"
NAMESPACE = "bounce-live"
WAIT_SECONDS = 120.0
T = TypeVar("T")


def free_port() -> int:
    """A loopback TCP port that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until(condition: Callable[[], T], what: str, timeout: float = WAIT_SECONDS) -> T:
    """Poll ``condition`` until it returns something truthy; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"gave up waiting for {what}")


def http_get(url: str) -> tuple[int, bytes]:
    """(status, body) of a GET; (0, b"") when nothing answers."""
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()
    except OSError:
        return 0, b""


@dataclass
class Prometheus:
    """A Prometheus server process and its HTTP API."""

    process: subprocess.Popen[bytes]
    url: str
    log: IO[bytes]

    def api(self, path: str, **params: str) -> Any:
        """``data`` of a successful API answer.

        :raises AssertionError: with Prometheus's error text when the call fails
            (for a query: it does not parse or cannot be evaluated).
        """
        query = urllib.parse.urlencode(params)
        status, body = http_get(f"{self.url}/api/v1/{path}?{query}")
        answer = json.loads(body) if body else {}
        if status != 200 or answer.get("status") != "success":
            raise AssertionError(f"{path} {params}: HTTP {status}: {answer.get('error', body)}")
        return answer["data"]

    def query(self, expr: str, at: float | None = None) -> list[dict[str, Any]]:
        """Instant vector of ``expr`` evaluated now (or at Unix time ``at``)."""
        params = {"query": expr} if at is None else {"query": expr, "time": f"{at:.3f}"}
        data = self.api("query", **params)
        assert data["resultType"] == "vector", data["resultType"]
        result: list[dict[str, Any]] = data["result"]
        return result

    def value(self, expr: str) -> float | None:
        """The single sample value of ``expr`` now, or ``None`` when the result is empty."""
        result = self.query(expr)
        return float(result[0]["value"][1]) if result else None

    def now(self) -> float:
        """The server's current time (Unix seconds)."""
        return float(self.api("query", query="time()")["result"][0])

    def newest_scrape(self, selector: str) -> float:
        """Unix time of the newest scrape of the targets matching ``selector`` (0 if none)."""
        return self.value(f"max(timestamp(up{{{selector}}}))") or 0.0

    def wait_for_scrape_after(self, selector: str, moment: float, what: str) -> None:
        """Wait until a scrape of ``selector`` newer than Unix time ``moment`` is stored."""
        wait_until(lambda: self.newest_scrape(selector) > moment, what)

    def logs(self) -> str:
        """What the server logged so far."""
        self.log.flush()
        self.log.seek(0)
        return self.log.read().decode(errors="replace")

    def stop(self) -> None:
        """SIGTERM and wait."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            self.process.wait(60)


def start_prometheus(binary: str, directory: Path, target_port: int) -> Prometheus:
    """Start Prometheus on a free loopback port, scraping the processor every second.

    The scrape job is ``bounce-processor`` with a static ``namespace`` label, the way
    a Kubernetes ServiceMonitor labels the series; the rules are dashboards/alerts.yaml.
    """
    (directory / "alerts.yaml").write_bytes((DASHBOARDS / "alerts.yaml").read_bytes())
    config = {
        "global": {"scrape_interval": "1s", "evaluation_interval": "1s", "scrape_timeout": "1s"},
        "rule_files": ["alerts.yaml"],
        "scrape_configs": [
            {
                "job_name": JOB,
                "static_configs": [
                    {"targets": [f"127.0.0.1:{target_port}"], "labels": {"namespace": NAMESPACE}}
                ],
            }
        ],
    }
    (directory / "prometheus.yml").write_text(yaml.safe_dump(config), encoding="utf-8")
    port = free_port()
    log = (directory / "prometheus.log").open("w+b")
    process = subprocess.Popen(
        [
            binary,
            f"--config.file={directory / 'prometheus.yml'}",
            f"--storage.tsdb.path={directory / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--log.level=warn",
        ],
        stdout=log,
        stderr=log,
    )
    server = Prometheus(process, f"http://127.0.0.1:{port}", log)
    wait_until(
        lambda: http_get(f"{server.url}/-/ready")[0] == 200 or process.poll() is not None,
        "Prometheus ready",
    )
    assert process.poll() is None, server.logs()
    return server


@dataclass
class ProcessorProcess:
    """A ``python -m processor run`` subprocess."""

    process: subprocess.Popen[bytes]
    port: int
    log: IO[bytes]

    def get(self, path: str) -> int:
        """HTTP status of ``path`` on the processor's port (0 when down)."""
        return http_get(f"http://127.0.0.1:{self.port}{path}")[0]

    def logs(self) -> str:
        """What the processor logged so far."""
        self.log.flush()
        self.log.seek(0)
        return self.log.read().decode(errors="replace")

    def terminate(self) -> int:
        """SIGTERM and wait; returns the exit code."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        return self.process.wait(60)


def start_processor(settings: dict[str, str], log_path: Path) -> ProcessorProcess:
    """Start the processor configured by environment variables only; wait until ready.

    :param settings: ``KAFKA_*`` and ``BOUNCE_PROCESSOR_*`` variables (docs/architecture.md).
    """
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KAFKA_", "BOUNCE_"))}
    env.update(settings)
    env["BOUNCE_PROCESSOR_HTTP_ADDRESS"] = f"127.0.0.1:{port}"
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    log = log_path.open("w+b")
    process = subprocess.Popen(
        [sys.executable, "-m", "processor", "run"], stdout=log, stderr=log, env=env, cwd=ROOT
    )
    processor = ProcessorProcess(process, port, log)
    wait_until(
        lambda: processor.get("/readyz") == 200 or process.poll() is not None, "processor ready"
    )
    assert process.poll() is None, processor.logs()
    return processor
