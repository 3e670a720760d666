"""Reading storywire's output topics with kafka-python, as a downstream consumer would."""

import time
from collections.abc import Iterator
from typing import Any

from kafka import KafkaConsumer, TopicPartition
from kafka.errors import KafkaError

from services.kafka import (
    UNREACHABLE,
    BrokerUnavailable,
    check_access,
    client_config,
    refused,
    unreachable_message,
)
from services.settings import Settings


def read_topics(
    settings: Settings,
    topics: list[str],
    *,
    from_beginning: bool = True,
    idle_seconds: float | None = None,
    group_id: str | None = None,
) -> Iterator[Any]:
    """Yield kafka-python ConsumerRecords from every partition of `topics`.

    With a `group_id` the consumer joins that group and commits (a subscriber that resumes
    where it left off); without one it reads every partition and commits nothing. Stops once
    nothing new arrived for `idle_seconds` (never, if None). A broker that refuses us (TLS,
    credentials, ACLs) raises BrokerUnavailable saying which.
    """
    check_access(settings)
    try:
        consumer = KafkaConsumer(
            **client_config(settings),
            group_id=group_id,
            client_id="storywire-tail",
            auto_offset_reset="earliest" if from_beginning else "latest",
            enable_auto_commit=group_id is not None,
            consumer_timeout_ms=200,
        )
    except UNREACHABLE as exc:
        raise BrokerUnavailable(unreachable_message(settings)) from exc
    try:
        if group_id is not None:
            consumer.subscribe(topics)
        else:
            partitions = [
                TopicPartition(topic, partition)
                for topic in topics
                for partition in sorted(consumer.partitions_for_topic(topic) or ())
            ]
            consumer.assign(partitions)
            if from_beginning:
                consumer.seek_to_beginning(*partitions)
            else:
                consumer.seek_to_end(*partitions)
        last_seen = time.monotonic()
        while idle_seconds is None or time.monotonic() - last_seen < idle_seconds:
            for record in consumer:
                last_seen = time.monotonic()
                yield record
    except KafkaError as exc:
        denial = refused(settings, exc)
        if denial is None:
            raise
        raise denial from exc
    finally:
        consumer.close()
