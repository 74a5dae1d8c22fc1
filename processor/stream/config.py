"""Settings of the stream processor: environment, CLI flags, librdkafka passthrough.

Two layers, ending in plain librdkafka dicts (as every confluent-kafka example does):

- :class:`Settings`: the processor's own options, read from ``BOUNCE_PROCESSOR_*``
  environment variables; CLI flags are passed as init arguments and win.
- :class:`KafkaConfig`: librdkafka properties, merged in this order (later wins):
  built-in tuned defaults < ``--kafka-config`` file (Java properties, like kcat ``-F``)
  < ``KAFKA_*`` environment variables < ``-X key=value`` flags. Keys the processor
  owns (:data:`OWNED_KEYS`) refuse overrides, and secrets are masked whenever the
  configuration is shown (:meth:`KafkaConfig.masked`).

Environment mapping (the Confluent image convention): strip ``KAFKA_``, lowercase,
``_`` -> ``.``, and ``__`` -> ``_`` for the rare key containing an underscore;
``KAFKA_SASL_MECHANISM`` -> ``sasl.mechanism``. A ``CONSUMER_`` or ``PRODUCER_``
prefix (``KAFKA_CONSUMER_FETCH_MIN_BYTES``, ``-X consumer.fetch.min.bytes=1``) sets a
key on one client only. Kubernetes service links (``KAFKA_PORT``, ``KAFKA_SERVICE_HOST``,
injected for a Service named ``kafka``) are ignored.

Property reference: librdkafka ``CONFIGURATION.md``
(https://github.com/confluentinc/librdkafka/blob/master/CONFIGURATION.md).
"""

from __future__ import annotations

import os
import re
import socket
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

import javaproperties
from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from processor.errors import TimeZoneError
from processor.parse.syslog import zone_info

ENV_PREFIX = "BOUNCE_PROCESSOR_"
KAFKA_ENV_PREFIX = "KAFKA_"
DEFAULT_BOOTSTRAP_SERVERS = "localhost:9092"

#: librdkafka keys the processor sets itself: overriding them would break the
#: delivery guarantee (offsets are committed explicitly after the output is
#: acknowledged) or the group identity (set it with ``--group-id``).
OWNED_KEYS = frozenset(
    {
        "enable.auto.commit",
        "enable.auto.offset.store",
        "enable.idempotence",
        "enable.partition.eof",
        "group.id",
        "transactional.id",
    }
)

#: Keys whose values are secrets: masked in logs and ``check-config``.
SECRET_KEYS = frozenset(
    {
        "sasl.password",
        "sasl.oauthbearer.client.secret",
        "sasl.oauthbearer.config",
        "ssl.key.password",
        "ssl.keystore.password",
        "ssl.key.pem",
        "ssl_key",
        "sasl.jaas.config",  # Java clients' JAAS line embeds the password
    }
)
MASK = "********"

_K8S_SERVICE_LINK = re.compile(r"KAFKA_(PORT(_\d+_(TCP|UDP)(_\w+)?)?|SERVICE_\w+)\Z")

#: Tuned defaults measured on a 2-core machine (docs: performance notes): a short
#: fetch queue backoff keeps a fast loop fed, statistics feed lag and readiness.
CONSUMER_DEFAULTS: dict[str, Any] = {
    "auto.offset.reset": "earliest",
    "fetch.queue.backoff.ms": 10,
    "statistics.interval.ms": 5000,
}
#: Idempotent, fully acknowledged producer with a large local queue (backpressure,
#: not drops) and delivery reports for errors only (the checkpoint uses flush()).
#: ``allow.auto.create.topics`` is off: a mistyped output or dead-letter topic must be
#: an error (nothing is committed until it exists), not a new topic. Batches are LZ4
#: compressed: an enriched record is ~1.3 KB of JSON that repeats its field names and
#: code meanings, so the broker stores and serves a fraction of the bytes
#: (``bench/stream_throughput.py``, 1,000,000 lines: the output-shaped passthrough is
#: broker-bound at about 120,000 msg/s uncompressed here and reaches about 350,000 with
#: LZ4); every Kafka client reads it. ``-X producer.compression.type=none`` turns it off.
PRODUCER_DEFAULTS: dict[str, Any] = {
    "acks": "all",
    "allow.auto.create.topics": False,
    "compression.type": "lz4",
    "linger.ms": 20,
    "queue.buffering.max.messages": 500_000,
    "queue.buffering.max.kbytes": 262_144,
    "delivery.report.only.error": True,
    "statistics.interval.ms": 5000,
}


def is_secret(key: str) -> bool:
    """Whether the librdkafka property ``key`` holds a secret (password, private key)."""
    return key in SECRET_KEYS or "password" in key or "secret" in key or "jaas" in key


def mask(config: Mapping[str, Any]) -> dict[str, Any]:
    """Copy of ``config`` with secret values replaced by ``********`` (for logs and output)."""
    return {k: (MASK if is_secret(k) else v) for k, v in config.items()}


#: librdkafka's default ``message.max.bytes`` (CONFIGURATION.md): the largest record
#: (key + value + headers) a producer accepts unless configured otherwise.
LIBRDKAFKA_MESSAGE_MAX_BYTES = 1_000_000

Guarantee = Literal["at-least-once", "exactly-once"]


def default_instance_id() -> str:
    """This instance's stable name: ``$HOSTNAME`` (the pod name in Kubernetes) or the host name."""
    return os.environ.get("HOSTNAME") or socket.gethostname() or "bounce-processor"


class ConfigError(ValueError):
    """A configuration value is invalid or tries to override a key the processor owns."""


class Settings(BaseSettings):
    """The processor's own options; environment ``BOUNCE_PROCESSOR_<FIELD>``, CLI flags win.

    Durations are in seconds, sizes in bytes. README.md documents every variable.
    """

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="ignore", frozen=True)

    input_topics: Annotated[list[str], NoDecode] = Field(
        default=["mail-delivery-events"], description="comma-separated input topics"
    )
    output_topic: str = "mail-bounces-classified"
    dead_letter_topic: str = "mail-delivery-events-dlq"
    group_id: str = "bounce-processor"
    http_address: str = "0.0.0.0:9850"
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    log_format: Literal["auto", "json", "console"] = "auto"
    policy_file: Path | None = None
    shutdown_grace_seconds: float = Field(default=20.0, gt=0)
    max_payload_bytes: int = Field(default=1_048_576, gt=0)
    commit_interval_seconds: float = Field(default=1.0, gt=0)
    batch_size: int = Field(default=1000, gt=0, le=100_000)
    kafka_config_file: Path | None = None
    guarantee: Guarantee = "at-least-once"
    instance_id: str = Field(default_factory=default_instance_id, min_length=1, max_length=200)
    max_record_bytes: int = Field(default=LIBRDKAFKA_MESSAGE_MAX_BYTES, ge=4096)
    syslog_timezone: str = Field(
        default="UTC",
        description="IANA zone name of log timestamps without a zone (RFC 3164, ISO 8601 "
        "without an offset)",
    )

    def transactional_id(self) -> str:
        """``transactional.id`` of the exactly-once producer: ``<group id>-<instance id>``.

        Stable across restarts of one instance (a StatefulSet pod name), so the restarted
        process fences its previous incarnation and aborts its open transaction
        (Kafka ``InitProducerId``, KIP-98); unique per instance, so two live instances
        never fence each other. See docs/guarantees.md.
        """
        return f"{self.group_id}-{self.instance_id}"

    @field_validator("input_topics", mode="before")
    @classmethod
    def _split_topics(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = value.split(",")
        if isinstance(value, list | tuple):
            topics = [str(t).strip() for t in value if str(t).strip()]
            if not topics:
                raise ValueError("at least one input topic is required")
            return topics
        return value

    @field_validator("syslog_timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            zone_info(value)
        except TimeZoneError as exc:
            raise ConfigError(f"syslog timezone: {exc}") from exc
        return value

    @field_validator("log_level", "log_format", "guarantee", mode="before")
    @classmethod
    def _lower(cls, value: Any) -> Any:
        return value.lower() if isinstance(value, str) else value

    def http_host_port(self) -> tuple[str, int]:
        """``http_address`` split into ``(host, port)``; ``[::1]:9850`` style IPv6 accepted."""
        host, sep, port = self.http_address.rpartition(":")
        if not sep or not port.isdigit():
            raise ConfigError(f"http address must be HOST:PORT, got {self.http_address!r}")
        return host.strip("[]") or "0.0.0.0", int(port)  # noqa: S104


def env_key_to_property(name: str) -> str:
    """``KAFKA_SASL_MECHANISM`` -> ``sasl.mechanism``; ``__`` stands for a literal ``_``."""
    body = name[len(KAFKA_ENV_PREFIX) :].lower()
    return ".".join(part.replace("\0", "_") for part in body.replace("__", "\0").split("_"))


def kafka_env(environ: Mapping[str, str]) -> dict[str, str]:
    """librdkafka properties from ``KAFKA_*`` environment variables (service links ignored)."""
    return {
        env_key_to_property(name): value
        for name, value in environ.items()
        if name.startswith(KAFKA_ENV_PREFIX) and not _K8S_SERVICE_LINK.match(name)
    }


def parse_x_options(options: Iterable[str]) -> dict[str, str]:
    """Parse kcat-style ``-X key=value`` flags into a dict.

    :raises ConfigError: for an option without ``=`` or with an empty key.
    """
    parsed: dict[str, str] = {}
    for option in options:
        key, sep, value = option.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"-X expects key=value, got {option!r}")
        parsed[key.strip()] = value
    return parsed


def read_properties_file(path: Path) -> dict[str, str]:
    """Read a Java ``.properties`` file (kcat ``-F`` / Kafka ``client.properties`` format).

    :raises ConfigError: when the file cannot be read.
    """
    try:
        with path.open(encoding="utf-8") as handle:
            return dict(javaproperties.load(handle))
    except OSError as exc:
        raise ConfigError(f"cannot read Kafka config file {path}: {exc.strerror}") from exc


class KafkaConfig:
    """Merged librdkafka properties, split into consumer and producer dicts.

    :param overrides: properties in precedence order (later wins); a ``consumer.`` or
        ``producer.`` prefix targets one client.
    :raises ConfigError: when an override names a key in :data:`OWNED_KEYS`.
    """

    def __init__(self, *overrides: Mapping[str, str]) -> None:
        self.common: dict[str, str] = {}
        self.consumer_only: dict[str, str] = {}
        self.producer_only: dict[str, str] = {}
        for layer in overrides:
            for key, value in layer.items():
                self._set(key, value)
        self.common.setdefault("bootstrap.servers", DEFAULT_BOOTSTRAP_SERVERS)

    def _set(self, key: str, value: str) -> None:
        target = self.common
        for prefix, bucket in (
            ("consumer.", self.consumer_only),
            ("producer.", self.producer_only),
        ):
            if key.startswith(prefix):
                key, target = key[len(prefix) :], bucket
        if key in OWNED_KEYS:
            raise ConfigError(f"{key} is set by the processor and cannot be overridden")
        target[key] = value

    @classmethod
    def from_sources(
        cls,
        *,
        environ: Mapping[str, str],
        file: Path | None = None,
        x_options: Iterable[str] = (),
        bootstrap_servers: str | None = None,
    ) -> KafkaConfig:
        """Merge file < ``KAFKA_*`` env < ``--bootstrap-servers`` < ``-X`` flags."""
        layers: list[Mapping[str, str]] = []
        if file is not None:
            layers.append(read_properties_file(file))
        layers.append(kafka_env(environ))
        if bootstrap_servers:
            layers.append({"bootstrap.servers": bootstrap_servers})
        layers.append(parse_x_options(x_options))
        return cls(*layers)

    @property
    def bootstrap_servers(self) -> str:
        """The ``bootstrap.servers`` list as configured."""
        return self.common["bootstrap.servers"]

    def consumer(self, group_id: str) -> dict[str, Any]:
        """librdkafka consumer dict: defaults < user settings < owned keys."""
        conf: dict[str, Any] = {**CONSUMER_DEFAULTS, **self.common, **self.consumer_only}
        conf.update(
            {
                "group.id": group_id,
                "enable.auto.commit": False,
                "enable.auto.offset.store": False,
                "enable.partition.eof": False,
            }
        )
        return conf

    def producer(self, transactional_id: str | None = None) -> dict[str, Any]:
        """librdkafka producer dict: defaults < user settings < owned keys.

        :param transactional_id: makes it a transactional producer (exactly-once mode).
        """
        conf: dict[str, Any] = {**PRODUCER_DEFAULTS, **self.common, **self.producer_only}
        conf["enable.idempotence"] = True
        if transactional_id is not None:
            conf["transactional.id"] = transactional_id
        return conf

    def exactly_once_consumer(self, group_id: str) -> dict[str, Any]:
        """Consumer dict for exactly-once mode: :meth:`consumer` reading ``read_committed``.

        Input written by transactional producers is read only once committed
        (librdkafka ``isolation.level``; its default, made explicit and not overridable).
        """
        return {**self.consumer(group_id), "isolation.level": "read_committed"}

    def max_message_bytes(self) -> int:
        """The producer's ``message.max.bytes`` (librdkafka's default when unset)."""
        conf = {**self.common, **self.producer_only}
        try:
            return int(conf.get("message.max.bytes", LIBRDKAFKA_MESSAGE_MAX_BYTES))
        except ValueError as exc:
            raise ConfigError(
                f"message.max.bytes must be an integer, got {conf['message.max.bytes']!r}"
            ) from exc

    def masked(self) -> dict[str, dict[str, Any]]:
        """The merged properties with secrets masked, for logs and ``check-config``."""
        return {
            "common": mask(self.common),
            "consumer": mask(self.consumer_only),
            "producer": mask(self.producer_only),
        }

    def __repr__(self) -> str:
        return f"KafkaConfig({self.masked()!r})"
