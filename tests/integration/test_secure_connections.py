"""Kafka over TLS with a CA made in the test; wrong CA or password: a fast, clear failure.

TLS: Tansu 0.6 cannot terminate TLS itself (its ``--cert`` and ``--key`` flags are
declared mutually exclusive, and ``--cert`` alone leaves the listener in plaintext), so a
small TLS terminator (stdlib ``ssl``, i.e. OpenSSL) listens in front of a dedicated Tansu
whose advertised listener is the terminator's port. Every client in these tests, the
processor included, speaks TLS to it: librdkafka's handshake and certificate checks are
the real ones. SASL: Tansu's ``--authentication`` rejects clients without valid SCRAM
credentials, and with memory storage no user can be created while it is on (``tansu user
create`` is itself refused), so only the refusal can be shown here.
"""

from __future__ import annotations

import asyncio
import datetime
import ipaddress
import os
import ssl
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import pytest
from confluent_kafka import Producer
from confluent_kafka.admin import AdminClient, NewTopic
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from processor.enrich import enrich_payload
from processor.stream.broker import free_port, tansu_binary, wait_for_port
from processor.stream.config import KafkaConfig
from processor.stream.tools import iter_topic
from tests.integration.helpers import (
    ROOT,
    WAIT_SECONDS,
    sample_lines,
    start_processor,
    unique,
    wait_until,
)

pytestmark = pytest.mark.broker


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _certificate(
    subject: str, key: ec.EllipticCurvePrivateKey, issuer: tuple[str, Any] | None = None
) -> x509.Certificate:
    now = datetime.datetime.now(datetime.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(subject))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
    )
    if issuer is None:  # a CA, self-signed
        builder = builder.issuer_name(_name(subject)).add_extension(
            x509.BasicConstraints(ca=True, path_length=None), critical=True
        )
        return builder.sign(key, hashes.SHA256())
    issuer_name, issuer_key = issuer
    builder = builder.issuer_name(_name(issuer_name)).add_extension(
        x509.SubjectAlternativeName(
            [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
        ),
        critical=False,
    )
    return builder.sign(issuer_key, hashes.SHA256())


@dataclass
class Pki:
    """A CA, a server certificate it signed, and an unrelated CA, as PEM files."""

    ca: Path
    other_ca: Path
    server_cert: Path
    server_key: Path


def make_pki(directory: Path) -> Pki:
    """Generate the CA, the broker's certificate (localhost, 127.0.0.1), another CA."""
    pem = serialization.Encoding.PEM
    ca_key, other_key, server_key = (ec.generate_private_key(ec.SECP256R1()) for _ in range(3))
    files = {
        "ca.pem": _certificate("bounce-processor test CA", ca_key).public_bytes(pem),
        "other-ca.pem": _certificate("some other CA", other_key).public_bytes(pem),
        "server.pem": _certificate(
            "localhost", server_key, ("bounce-processor test CA", ca_key)
        ).public_bytes(pem),
        "server.key": server_key.private_bytes(
            pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ),
    }
    for name, data in files.items():
        (directory / name).write_bytes(data)
    return Pki(
        directory / "ca.pem",
        directory / "other-ca.pem",
        directory / "server.pem",
        directory / "server.key",
    )


class TlsTerminator:
    """Accepts TLS on ``port`` and relays the plaintext bytes to ``upstream``."""

    def __init__(self, pki: Pki, upstream: int) -> None:
        self.port = free_port()
        self.upstream = upstream
        self.handshakes = 0
        self._context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self._context.load_cert_chain(pki.server_cert, pki.server_key)
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> TlsTerminator:
        self._thread.start()
        self._ready.wait(30)
        return self

    def stop(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(30)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._loop.run_until_complete(
            asyncio.start_server(self._relay, "127.0.0.1", self.port, ssl=self._context)
        )
        self._ready.set()
        self._loop.run_forever()

    async def _relay(self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        self.handshakes += 1
        broker_r, broker_w = await asyncio.open_connection("127.0.0.1", self.upstream)

        async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            try:
                while data := await reader.read(65536):
                    writer.write(data)
                    await writer.drain()
            except (ConnectionError, ssl.SSLError):
                pass
            finally:
                writer.close()

        await asyncio.gather(pipe(client_r, broker_w), pipe(broker_r, client_w))


def _tansu(port: int, advertised: int, log: Any, *flags: str) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(
        [
            str(tansu_binary()),
            "broker",
            "--listener-url",
            f"tcp://127.0.0.1:{port}",
            "--advertised-listener-url",
            f"tcp://127.0.0.1:{advertised}",
            "--storage-engine",
            "memory://tansu/",
            *flags,
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    assert wait_for_port("127.0.0.1", port, 20)
    return process


def run_until_exit(bootstrap: str, extra: list[str]) -> tuple[int, str]:
    """Run ``python -m processor run`` expecting it to stop by itself; (exit code, logs).

    A fast failure exits before its health endpoint is up, which the long-running
    helper (``start_processor``) treats as an error; a hang fails here after WAIT_SECONDS.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith("KAFKA_")}
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    args = [
        sys.executable,
        "-m",
        "processor",
        "run",
        "-b",
        bootstrap,
        "--input-topic",
        unique("in"),
        "--group-id",
        unique("g"),
        "--http-address",
        f"127.0.0.1:{free_port()}",
        "--log-format",
        "json",
        *extra,
    ]
    done = subprocess.run(
        args, capture_output=True, env=env, cwd=ROOT, timeout=WAIT_SECONDS, check=False
    )
    return done.returncode, (done.stdout + done.stderr).decode(errors="replace")


@dataclass
class TlsBroker:
    bootstrap: str
    client: dict[str, str]  # librdkafka TLS settings for the test's own clients
    pki: Pki
    terminator: TlsTerminator


@pytest.fixture(scope="module")
def tls_broker() -> Iterator[TlsBroker]:
    with tempfile.TemporaryDirectory() as directory, tempfile.TemporaryFile() as log:
        pki = make_pki(Path(directory))
        plain = free_port()
        terminator = TlsTerminator(pki, plain)
        broker = _tansu(plain, terminator.port, log)
        terminator.start()
        try:
            yield TlsBroker(
                f"127.0.0.1:{terminator.port}",
                {"security.protocol": "SSL", "ssl.ca.location": str(pki.ca)},
                pki,
                terminator,
            )
        finally:
            terminator.stop()
            broker.terminate()
            broker.wait(10)


def test_processor_runs_over_tls_configured_by_settings_only(tls_broker: TlsBroker) -> None:
    conf: dict[str, str | int | float | bool] = {
        "bootstrap.servers": tls_broker.bootstrap,
        **tls_broker.client,
    }
    topic, out, dlq = unique("in"), unique("out"), unique("dlq")
    admin = AdminClient(conf)
    for future in admin.create_topics([NewTopic(t, 1, 1) for t in (topic, out, dlq)]).values():
        future.result(30)
    lines = [line for line in sample_lines() if not line.startswith(b"{")]
    producer = Producer(conf)
    for line in lines:
        producer.produce(topic, line)
    assert producer.flush(30) == 0
    tls = [f"-X{key}={value}" for key, value in tls_broker.client.items()]
    with tempfile.TemporaryFile() as log:
        proc = start_processor(
            tls_broker.bootstrap,
            input_topic=topic,
            output_topic=out,
            dead_letter_topic=dlq,
            group=unique("g"),
            log=log,
            extra=tls,
        )
        try:
            wait_until(lambda: proc.consumed(topic) == len(lines), "consumed over TLS")
        finally:
            assert proc.terminate() == 0, proc.logs()
    kafka = KafkaConfig({"bootstrap.servers": tls_broker.bootstrap, **tls_broker.client})
    got = sorted(orjson.loads(m.value() or b"")["event_id"] for m in iter_topic(kafka, out))
    assert got == sorted(r.event_id for line in lines for r in enrich_payload(line).records)
    assert tls_broker.terminator.handshakes > 0


def test_wrong_ca_fails_fast_naming_the_setting(tls_broker: TlsBroker) -> None:
    code, logs = run_until_exit(
        tls_broker.bootstrap,
        ["-Xsecurity.protocol=SSL", f"-Xssl.ca.location={tls_broker.pki.other_ca}"],
    )
    assert code == 1, logs
    assert "ssl.ca.location (KAFKA_SSL_CA_LOCATION)" in logs, logs
    assert "certificate verify failed" in logs, logs


def test_wrong_password_fails_fast_naming_the_setting_and_not_the_secret() -> None:
    port = free_port()
    with tempfile.TemporaryFile() as broker_log:
        broker = _tansu(port, port, broker_log, "--authentication")
        try:
            code, logs = run_until_exit(
                f"127.0.0.1:{port}",
                [
                    "-Xsecurity.protocol=SASL_PLAINTEXT",
                    "-Xsasl.mechanism=SCRAM-SHA-512",
                    "-Xsasl.username=bounce-processor",
                    "-Xsasl.password=not-the-password-4711",
                ],
            )
        finally:
            broker.terminate()
            broker.wait(10)
    assert code == 1, logs
    assert "sasl.password" in logs and "KAFKA_SASL_PASSWORD" in logs, logs
    assert "not-the-password-4711" not in logs


def test_successful_sasl_login() -> None:
    pytest.skip(
        "broker capability missing: Tansu 0.6 with memory storage cannot create SCRAM "
        "users while --authentication is on (tansu user create is refused), so no login "
        "can succeed; docs/guarantees.md gives the settings for Apache Kafka, Confluent "
        "Cloud, Amazon MSK and Strimzi"
    )
