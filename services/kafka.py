"""Kafka client settings and topic creation, shared by the CLI commands (kafka-python)."""

import ssl
import time
from collections.abc import Iterable
from typing import Any

from kafka import KafkaAdminClient, KafkaConsumer
from kafka.admin import NewTopic
from kafka.errors import (
    AuthorizationError,
    KafkaConnectionError,
    KafkaError,
    KafkaTimeoutError,
    TopicAlreadyExistsError,
)

from schemas.topics import Topic
from services.settings import Settings


class BrokerUnavailable(RuntimeError):
    """The configured Kafka bootstrap servers did not answer, or refused us: the message says
    which (unreachable, untrusted certificate, wrong credentials, missing ACL)."""


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
    """kafka-python keyword arguments for the configured cluster (servers, TLS, SASL).

    TLS goes through `ssl_context`, the same context the workers' faust/aiokafka clients get,
    so the CLI and the workers trust, verify and present the same things.
    """
    config: dict[str, Any] = {
        "bootstrap_servers": settings.bootstrap_servers.split(","),
        "security_protocol": settings.security_protocol,
    }
    if settings.security_protocol.startswith("SASL"):
        config["sasl_mechanism"] = settings.sasl_mechanism
        config["sasl_plain_username"] = settings.sasl_username
        if settings.sasl_password is not None:
            config["sasl_plain_password"] = settings.sasl_password.get_secret_value()
    context = ssl_context(settings)
    if context is not None:
        config["ssl_context"] = context
    return config


def ssl_context(settings: Settings) -> ssl.SSLContext | None:
    """The TLS context of every storywire client (kafka-python and faust alike), or None
    without TLS: the broker's certificate must chain to `ssl_cafile` (else the system's CAs)
    and, unless `ssl_check_hostname` is off, name the host; `ssl_certfile`/`ssl_keyfile`, if
    set, are presented for mutual TLS."""
    if not settings.security_protocol.endswith("SSL"):
        return None
    context = ssl.create_default_context(cafile=settings.ssl_cafile)
    context.check_hostname = settings.ssl_check_hostname  # CERT_REQUIRED either way
    if settings.ssl_certfile:
        context.load_cert_chain(settings.ssl_certfile, keyfile=settings.ssl_keyfile)
    return context


def check_access(settings: Settings) -> None:
    """Raise BrokerUnavailable, saying which, if the first bootstrap server refuses us: its
    certificate fails verification, or it rejects our SASL credentials. A no-op without TLS
    or SASL, and when the server cannot be reached (the clients' own timeout reports that).

    kafka-python only logs these refusals and retries until its timeout, which would then
    read as "no broker answered"; aiokafka's single connection raises them at once.
    """
    if settings.security_protocol == "PLAINTEXT":
        return
    import asyncio

    from aiokafka.conn import create_conn
    from aiokafka.errors import KafkaError as AioKafkaError

    server = settings.bootstrap_servers.split(",")[0].strip()
    host, _, port = server.rpartition(":")
    sasl = settings.security_protocol.startswith("SASL")

    async def connect() -> None:
        connection = await create_conn(
            host, int(port),
            security_protocol=settings.security_protocol,
            ssl_context=ssl_context(settings),
            sasl_mechanism=settings.sasl_mechanism if sasl else "PLAIN",
            sasl_plain_username=settings.sasl_username,
            sasl_plain_password=(
                settings.sasl_password.get_secret_value() if settings.sasl_password else None
            ),
        )
        connection.close()

    try:
        asyncio.run(asyncio.wait_for(connect(), timeout=10))
    except ssl.SSLCertVerificationError as exc:
        raise BrokerUnavailable(
            f"TLS: the certificate of {server} failed verification ({exc.verify_message}); "
            "set STORYWIRE_SSL_CAFILE to the CA that signed it"
        ) from exc
    except ssl.SSLError as exc:
        raise BrokerUnavailable(f"TLS handshake with {server} failed: {exc}") from exc
    except AioKafkaError as exc:
        if "Authentication" in type(exc).__name__ or "Sasl" in type(exc).__name__:
            raise BrokerUnavailable(_authentication_message(settings, exc)) from exc
        raise BrokerUnavailable(f"{server} refused the connection: {exc}") from exc
    except (OSError, TimeoutError):
        return


def _authentication_message(settings: Settings, exc: Exception) -> str:
    return (
        f"SASL authentication failed for user {settings.sasl_username!r} "
        f"({settings.sasl_mechanism}) at {settings.bootstrap_servers}: {exc}; "
        "check STORYWIRE_SASL_USERNAME / STORYWIRE_SASL_PASSWORD / STORYWIRE_SASL_MECHANISM"
    )


def denied_message(settings: Settings, exc: Exception, what: str = "") -> str:
    """What to tell a user whose request the broker's ACLs refused (`what`: the request)."""
    principal = settings.sasl_username or "this client"
    detail = what or str(exc)[:300]
    return (
        f"not authorized: the broker's ACLs refuse {principal!r} {detail} "
        f"({type(exc).__name__}); grant the ACL, or run this as the principal meant for it"
    )


def refused(settings: Settings, exc: Exception) -> BrokerUnavailable | None:
    """A BrokerUnavailable saying why, if `exc` is the broker refusing us (credentials,
    ACLs); None for any other error."""
    from kafka.errors import SaslAuthenticationFailedError

    if isinstance(exc, SaslAuthenticationFailedError):
        return BrokerUnavailable(_authentication_message(settings, exc))
    # kafka-python's idempotent producer wraps a refused InitProducerId (no Write on any
    # topic: ClusterAuthorizationFailed) in a plain KafkaError that only names it.
    if isinstance(exc, AuthorizationError) or "AuthorizationFailed" in str(exc):
        return BrokerUnavailable(denied_message(settings, exc))
    return None


def admin_client(settings: Settings, timeout_s: float = 10.0) -> KafkaAdminClient:
    check_access(settings)
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
    check_access(settings)
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
            except AuthorizationError as exc:
                raise BrokerUnavailable(
                    denied_message(settings, exc, f"creating topic {new_topic.name}")
                ) from exc
        return created
    finally:
        admin.close()


def check_group_access(settings: Settings, group: str, timeout_s: float = 60.0) -> None:
    """Raise BrokerUnavailable if the ACLs refuse us consumer group `group`.

    A worker checks before faust starts: refused its group, aiokafka's coordinator retries
    GroupAuthorizationFailed without end and the worker sits there silently. (A refused
    input topic faust reports itself: its fetcher crashes and the worker exits 1.)
    """
    admin = admin_client(settings)
    deadline = time.monotonic() + timeout_s
    try:
        while True:
            try:
                admin.list_group_offsets({group: None})
                return
            except AuthorizationError as exc:
                raise BrokerUnavailable(
                    denied_message(settings, exc, f"access to the consumer group {group}")
                ) from exc
            except KafkaError as exc:
                # A fresh broker has no group coordinator until it has made its offsets
                # topic (CoordinatorNotAvailable): retriable, for a while.
                if not exc.retriable or time.monotonic() > deadline:
                    raise
                time.sleep(0.5)
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
