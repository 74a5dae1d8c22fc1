"""Settings and librdkafka passthrough: precedence, env mapping, owned keys, masking."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from processor.stream.config import (
    ConfigError,
    KafkaConfig,
    Settings,
    env_key_to_property,
    kafka_env,
    mask,
)


@pytest.mark.parametrize(
    ("name", "prop"),
    [
        ("KAFKA_BOOTSTRAP_SERVERS", "bootstrap.servers"),
        ("KAFKA_SASL_MECHANISM", "sasl.mechanism"),
        ("KAFKA_SSL_CA_LOCATION", "ssl.ca.location"),
        ("KAFKA_SECURITY_PROTOCOL", "security.protocol"),
        ("KAFKA_CONSUMER_FETCH_MIN_BYTES", "consumer.fetch.min.bytes"),
        ("KAFKA_SSL__KEY", "ssl_key"),
    ],
)
def test_env_names_map_to_librdkafka_properties(name: str, prop: str) -> None:
    assert env_key_to_property(name) == prop


def test_kubernetes_service_links_are_not_kafka_settings() -> None:
    environ = {
        "KAFKA_PORT": "tcp://10.0.0.1:9092",
        "KAFKA_PORT_9092_TCP_ADDR": "10.0.0.1",
        "KAFKA_SERVICE_HOST": "10.0.0.1",
        "KAFKA_SERVICE_PORT": "9092",
        "KAFKA_SASL_USERNAME": "svc",
        "OTHER": "x",
    }
    assert kafka_env(environ) == {"sasl.username": "svc"}


def test_precedence_file_then_env_then_bootstrap_flag_then_x(tmp_path: Path) -> None:
    props = tmp_path / "client.properties"
    props.write_text(
        "# comment\nbootstrap.servers=file:9092\nlinger.ms = 7\nsasl.username: file-user\n"
        "client.id=from-file\n"
    )
    config = KafkaConfig.from_sources(
        environ={"KAFKA_LINGER_MS": "8", "KAFKA_SASL_USERNAME": "env-user"},
        file=props,
        x_options=["sasl.username=x-user", "producer.compression.type=zstd"],
        bootstrap_servers="flag:9092",
    )
    assert config.common == {
        "bootstrap.servers": "flag:9092",
        "linger.ms": "8",
        "sasl.username": "x-user",
        "client.id": "from-file",
    }
    assert config.producer()["compression.type"] == "zstd"
    assert "compression.type" not in config.consumer("g")


def test_owned_keys_refuse_overrides() -> None:
    for key in (
        "enable.auto.commit",
        "enable.auto.offset.store",
        "consumer.group.id",
        "enable.idempotence",
        "transactional.id",
    ):
        with pytest.raises(ConfigError, match="cannot be overridden"):
            KafkaConfig.from_sources(environ={}, x_options=[f"{key}=true"])


def test_consumer_and_producer_dicts_carry_tuned_defaults_and_owned_keys() -> None:
    config = KafkaConfig.from_sources(environ={}, x_options=["fetch.queue.backoff.ms=50"])
    consumer = config.consumer("grp")
    assert consumer["bootstrap.servers"] == "localhost:9092"
    assert consumer["group.id"] == "grp"
    assert consumer["enable.auto.commit"] is False
    assert consumer["enable.auto.offset.store"] is False
    assert consumer["fetch.queue.backoff.ms"] == "50"
    producer = config.producer()
    assert producer["enable.idempotence"] is True
    assert producer["acks"] == "all"
    assert producer["delivery.report.only.error"] is True


def test_secrets_are_masked_everywhere_they_are_shown() -> None:
    config = KafkaConfig.from_sources(
        environ={"KAFKA_SASL_PASSWORD": "hunter2", "KAFKA_SSL_KEY_PASSWORD": "k3y"},
        x_options=["sasl.oauthbearer.client.secret=s3cret", "sasl.username=u"],
    )
    shown = repr(config) + str(config.masked()) + str(mask(config.producer()))
    for secret in ("hunter2", "k3y", "s3cret"):
        assert secret not in shown
    assert config.masked()["common"]["sasl.username"] == "u"
    assert config.producer()["sasl.password"] == "hunter2"


def test_bad_x_option_is_a_config_error() -> None:
    with pytest.raises(ConfigError):
        KafkaConfig.from_sources(environ={}, x_options=["novalue"])


def test_settings_from_env_and_flags_win(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BOUNCE_PROCESSOR_INPUT_TOPICS", "a, b,,c")
    monkeypatch.setenv("BOUNCE_PROCESSOR_GROUP_ID", "env-group")
    monkeypatch.setenv("BOUNCE_PROCESSOR_LOG_LEVEL", "DEBUG")
    settings = Settings(group_id="flag-group")
    assert settings.input_topics == ["a", "b", "c"]
    assert settings.group_id == "flag-group"
    assert settings.log_level == "debug"
    assert settings.http_host_port() == ("0.0.0.0", 9850)
    assert Settings(http_address="[::1]:9851").http_host_port() == ("::1", 9851)


def test_invalid_settings_are_rejected() -> None:
    with pytest.raises(ValidationError):
        Settings(max_payload_bytes=0)
    with pytest.raises(ValidationError):
        Settings(input_topics=" , ")


def test_records_are_lz4_compressed_unless_configured_otherwise() -> None:
    assert KafkaConfig({"bootstrap.servers": "b:9092"}).producer()["compression.type"] == "lz4"
    assert "compression.type" not in KafkaConfig({}).consumer("g")
    off = KafkaConfig({"bootstrap.servers": "b:9092"}, {"producer.compression.type": "none"})
    assert off.producer()["compression.type"] == "none"
