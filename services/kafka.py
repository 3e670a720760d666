"""Kafka client settings and topic creation, shared by the CLI commands (kafka-python)."""

import ssl
from collections.abc import Iterable
from typing import Any

from kafka import KafkaAdminClient, KafkaConsumer
from kafka.admin import NewTopic
from kafka.errors import KafkaConnectionError, KafkaTimeoutError, TopicAlreadyExistsError

from schemas.topics import Topic
from services.settings import Settings


class BrokerUnavailable(RuntimeError):
    """The configured Kafka bootstrap servers did not answer."""


# Room a record batch's header and a record's framing take beyond the value, so a message of
# exactly settings.max_message_bytes fits the topic.
BATCH_FRAMING_BYTES = 16_384

# What kafka-python raises when no bootstrap server answers.
UNREACHABLE = (KafkaTimeoutError, KafkaConnectionError)


def unreachable_message(settings: Settings) -> str:
    return (
        f"no Kafka broker answered at {settings.bootstrap_servers} "
        "(start the local one with `make broker-start`, or set STORYWIRE_BOOTSTRAP_SERVERS)"
    )


def client_config(settings: Settings) -> dict[str, Any]:
    """kafka-python keyword arguments for the configured cluster (servers, TLS, SASL)."""
    config: dict[str, Any] = {
        "bootstrap_servers": settings.bootstrap_servers.split(","),
        "security_protocol": settings.security_protocol,
    }
    if settings.security_protocol.startswith("SASL"):
        config["sasl_mechanism"] = settings.sasl_mechanism
        config["sasl_plain_username"] = settings.sasl_username
        if settings.sasl_password is not None:
            config["sasl_plain_password"] = settings.sasl_password.get_secret_value()
    if settings.security_protocol.endswith("SSL") and settings.ssl_cafile:
        config["ssl_cafile"] = settings.ssl_cafile
    return config


def ssl_context(settings: Settings) -> ssl.SSLContext | None:
    if not settings.security_protocol.endswith("SSL"):
        return None
    return ssl.create_default_context(cafile=settings.ssl_cafile)


def admin_client(settings: Settings, timeout_s: float = 10.0) -> KafkaAdminClient:
    try:
        return KafkaAdminClient(
            **client_config(settings),
            client_id="storywire-admin",
            request_timeout_ms=int(timeout_s * 1000),
        )
    except UNREACHABLE as exc:
        raise BrokerUnavailable(unreachable_message(settings)) from exc


def reader_consumer(settings: Settings, client_id: str, timeout_s: float = 10.0) -> KafkaConsumer:
    """A consumer in no group that commits nothing, for a command that reads topics to report
    on them (it assigns partitions itself). Gives up after `timeout_s` without a broker."""
    try:
        return KafkaConsumer(
            **client_config(settings),
            client_id=client_id,
            group_id=None,
            enable_auto_commit=False,
            bootstrap_timeout_ms=int(timeout_s * 1000),
        )
    except UNREACHABLE as exc:
        raise BrokerUnavailable(unreachable_message(settings)) from exc


def create_topics(settings: Settings, changelogs: Iterable[str] = ()) -> list[str]:
    """Create every storywire topic that does not exist yet; return the names created.

    Partitions and replication come from settings, so the same call works on a real cluster.
    `stories` is compacted: it keeps the latest state of each story, keyed by story id.
    The dead-letter topics keep messages settings.dead_letter_retention_days (retention.ms):
    set when a topic is created here; an existing topic keeps its config.
    `changelogs` names a worker's faust table changelog topics (compacted, like faust makes
    them): made here, before the worker's clients start, so their first metadata already knows
    the partitions. Left to faust, a table written within a second of start-up could find its
    changelog with "0 partitions" in stale client metadata and crash the agent
    (PartitionsMismatch) until the next metadata refresh, minutes later.
    """
    admin = admin_client(settings)
    try:
        existing = set(admin.list_topics())
        wanted = []
        topics = [
            (
                settings.topic(topic.value),
                topic.compacted,
                topic.retention_ms(settings.dead_letter_retention_days),
            )
            for topic in Topic
        ]
        topics += [(name, True, None) for name in changelogs]
        for name, compacted, retention_ms in topics:
            if name in existing:
                continue
            configs = {"cleanup.policy": "compact"} if compacted else {}
            # The size policy reaches the broker: a topic takes what storywire may write
            # (settings.max_message_bytes) plus a record batch's framing.
            configs["max.message.bytes"] = str(settings.max_message_bytes + BATCH_FRAMING_BYTES)
            if retention_ms is not None:
                configs["retention.ms"] = str(retention_ms)
            wanted.append(
                NewTopic(
                    name=name,
                    num_partitions=settings.topic_partitions,
                    replication_factor=settings.topic_replication,
                    topic_configs=configs,
                )
            )
        created = []
        for new_topic in wanted:
            try:
                admin.create_topics([new_topic])
                created.append(new_topic.name)
            except TopicAlreadyExistsError:
                pass  # another process created it between our list and create: same outcome
        return created
    finally:
        admin.close()


def run_topic_marks(settings: Settings) -> tuple[str, str]:
    """How a run's topic names start: its topic prefix (storywire's topics), then its group
    prefix and a dash (faust's, named after the app: table changelogs, the assignor's)."""
    return settings.topic_prefix, f"{settings.group_prefix}-"


def delete_run_topics(settings: Settings) -> list[str]:
    """Delete one run's topics: those named with its `topic_prefix`, and the faust topics
    (table changelogs, assignor) named after its `group_prefix`. Return the names deleted.

    For runs on fresh prefixes (benchmarks, evaluations, tests). Left behind, their topics
    pile up on the broker, and every client's metadata request then lists them all: with
    2,000 leftover topics, decoding metadata took a sixth of a clean worker's CPU in a
    benchmark. Refuses settings without a topic prefix or with the default group prefix:
    their topics are the production ones.
    """
    default_group = Settings.model_fields["group_prefix"].default
    if not settings.topic_prefix or settings.group_prefix == default_group:
        raise ValueError(
            "refusing to delete topics: a run needs its own topic_prefix and group_prefix"
        )
    admin = admin_client(settings)
    try:
        doomed = sorted(
            name for name in admin.list_topics() if name.startswith(run_topic_marks(settings))
        )
        if doomed:
            admin.delete_topics(doomed)
        return doomed
    finally:
        admin.close()
