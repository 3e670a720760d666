"""Topic housekeeping rules that need no broker."""

from pathlib import Path
from typing import Any

import pytest

from schemas.topics import DEAD_LETTER_TOPICS, Topic
from services import kafka
from services.kafka import create_topics, delete_run_topics
from services.settings import Settings


@pytest.mark.parametrize(
    "overrides",
    [
        {},  # production settings: no topic prefix, default group prefix
        {"topic_prefix": "bench-1."},  # the default group prefix names production changelogs
        {"group_prefix": "storywire-bench-1"},  # no topic prefix: articles.raw itself
    ],
)
def test_delete_run_topics_refuses_production_names(overrides: dict[str, str]) -> None:
    settings = Settings().model_copy(update=overrides)
    with pytest.raises(ValueError, match="own topic_prefix and group_prefix"):
        delete_run_topics(settings)


def test_kafka_python_checksums_record_batches_in_native_code() -> None:
    # kafka-python falls back to a pure-Python CRC-32C (about half a millisecond per article
    # the ingest producer writes) when its `crc32c` extra is missing from the environment.
    from kafka.record import util

    assert util.crc32c_c is not None, "install kafka-python's crc32c extra (requirements.lock)"
    assert util.calc_crc32c(memoryview(b"123456789")) == 0xE3069283  # the CRC-32C check value


class RecordingAdmin:
    """Stands for kafka-python's admin client: a broker with no topics that records creates."""

    def __init__(self) -> None:
        self.created: dict[str, dict[str, str]] = {}

    def list_topics(self) -> list[str]:
        return []

    def create_topics(self, new_topics: list[Any]) -> None:
        for topic in new_topics:
            self.created[topic.name] = dict(topic.topic_configs)

    def close(self) -> None:
        pass


@pytest.mark.parametrize(("days", "retention_ms"), [(None, "2592000000"), (7, "604800000")])
def test_dead_letter_topics_are_created_with_the_retention_setting(
    monkeypatch: pytest.MonkeyPatch, days: int | None, retention_ms: str
) -> None:
    # Dead letters hold the original bytes of the copy: they must not outlive the setting.
    admin = RecordingAdmin()
    monkeypatch.setattr(kafka, "admin_client", lambda settings: admin)
    settings = Settings() if days is None else Settings(dead_letter_retention_days=days)
    created = create_topics(settings)
    assert set(created) == {topic.value for topic in Topic}
    for topic in DEAD_LETTER_TOPICS.values():
        assert admin.created[topic.value]["retention.ms"] == retention_ms
        assert "cleanup.policy" not in admin.created[topic.value]  # deleted, not compacted
    assert admin.created[Topic.CLUSTER_TICKS.value]["retention.ms"] == "3600000"
    for topic in (Topic.RAW, Topic.CLEAN, Topic.ENRICHED, Topic.STORIES):
        assert "retention.ms" not in admin.created[topic.value]  # the broker's policy


def test_the_retention_setting_is_read_from_the_environment(
    monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STORYWIRE_DEAD_LETTER_RETENTION_DAYS", "0.5")
    assert Topic.DLQ_CLEAN.retention_ms(Settings().dead_letter_retention_days) == 43_200_000
def test_no_tls_context_without_tls() -> None:
    from services.kafka import client_config, ssl_context

    settings = Settings(security_protocol="SASL_PLAINTEXT", sasl_username="clean")
    assert ssl_context(settings) is None
    assert "ssl_context" not in client_config(settings)


def test_kafka_python_and_faust_get_the_same_tls_settings(tmp_path: Path) -> None:
    import ssl
    import subprocess

    from services.app import _credentials
    from services.kafka import client_config

    cert, key = tmp_path / "client.pem", tmp_path / "client.key"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-keyout", str(key), "-out", str(cert), "-subj", "/CN=storywire-clean"],
        check=True, capture_output=True,
    )
    settings = Settings(
        security_protocol="SASL_SSL", sasl_mechanism="SCRAM-SHA-512", sasl_username="clean",
        sasl_password="secret", ssl_cafile=str(cert), ssl_certfile=str(cert),
        ssl_keyfile=str(key), ssl_check_hostname=False,
    )
    kafka_python = client_config(settings)["ssl_context"]
    credentials = _credentials(settings)
    assert credentials is not None
    faust_context = credentials.ssl_context  # type: ignore[union-attr]  # SASLCredentials
    for context in (kafka_python, faust_context):
        assert isinstance(context, ssl.SSLContext)
        assert context.verify_mode == ssl.CERT_REQUIRED  # the chain is verified either way
        assert context.check_hostname is False
        assert len(context.get_ca_certs()) == 1
    assert Settings(security_protocol="SSL").ssl_check_hostname is True  # on by default
