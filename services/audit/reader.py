"""Reading a deployment's topics for the audit (kafka-python), up to where they ended at start.

The end offsets of `articles.raw` are taken first, then those of `stories`, `stories.members`
and the dead-letter topics, so every article the audit counts had at least as long to reach a
story as the audit took to start; each topic is then read from its beginning to those offsets,
so the audit finishes on a topic that is still being written.
"""

import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import TextIO

from kafka import KafkaConsumer, TopicPartition
from kafka.errors import KafkaError

from schemas.topics import DEAD_LETTER_TOPICS, Topic
from services.audit.core import DEFAULT_GRACE_SECONDS, AuditReport, Message, audit
from services.kafka import (
    UNREACHABLE,
    BrokerUnavailable,
    reader_consumer,
    refused,
    unreachable_message,
)
from services.settings import Settings

# (first offset, end offset) of each partition, as snapshotted at start.
Bounds = dict[TopicPartition, tuple[int, int]]

PROGRESS_SECONDS = 2.0


class AuditUnreadable(RuntimeError):
    """The topics could not be read to their end (missing raw topic, a stalled fetch)."""


def snapshot(consumer: KafkaConsumer, topic: str, *, required: bool) -> Bounds:
    partitions = [
        TopicPartition(topic, partition)
        for partition in sorted(consumer.partitions_for_topic(topic) or ())
    ]
    if not partitions:
        if required:
            raise AuditUnreadable(
                f"topic {topic!r} does not exist (check STORYWIRE_TOPIC_PREFIX / --topic-prefix)"
            )
        return {}
    ends = consumer.end_offsets(partitions)
    firsts = consumer.beginning_offsets(partitions)
    return {tp: (firsts[tp], ends[tp]) for tp in partitions}


def read_topic(
    consumer: KafkaConsumer,
    topic: str,
    bounds: Bounds,
    *,
    progress: TextIO | None,
    stall_seconds: float = 30.0,
) -> Iterator[Message]:
    """Every message of `topic` within `bounds`; a line on `progress` every 2 s of reading."""
    pending = {tp: first_end for tp, first_end in bounds.items() if first_end[1] > first_end[0]}
    total = sum(end - first for first, end in pending.values())
    if not pending:
        return
    consumer.assign(list(pending))
    for tp, (first, _) in pending.items():
        consumer.seek(tp, first)
    covered = {tp: first for tp, (first, _) in pending.items()}
    started = last_report = last_move = time.monotonic()
    done = 0
    while pending:
        for tp, records in consumer.poll(timeout_ms=500).items():
            end = bounds[tp][1]
            for record in records:
                if record.offset >= end:
                    break  # written after the snapshot
                yield Message(
                    record.topic, record.partition, record.offset, record.timestamp, record.value
                )
        for tp in list(pending):
            # Offsets, not messages, measure progress: a compacted topic has gaps.
            covered[tp] = min(consumer.position(tp), pending[tp][1])
            if covered[tp] >= pending[tp][1]:
                del pending[tp]
        now = time.monotonic()
        read = sum(covered[tp] - bounds[tp][0] for tp in covered)
        if read > done:
            done, last_move = read, now
        elif now - last_move > stall_seconds:
            raise AuditUnreadable(
                f"reading {topic!r} stalled at {done:,}/{total:,} messages "
                f"for {stall_seconds:.0f} s"
            )
        if progress is not None and now - last_report >= PROGRESS_SECONDS:
            last_report = now
            print(f"audit: {topic} {done:,}/{total:,} messages ({100 * done // total}%)",
                  file=progress, flush=True)
    if progress is not None and last_report > started:
        print(f"audit: {topic} {total:,}/{total:,} messages (100%)", file=progress, flush=True)


def audit_deployment(
    settings: Settings,
    *,
    grace_seconds: float = DEFAULT_GRACE_SECONDS,
    progress: TextIO | None = None,
) -> AuditReport:
    """Audit the deployment `settings` names: raises BrokerUnavailable when no broker answers,
    AuditUnreadable when its topics cannot be read through."""
    raw_topic = settings.topic(Topic.RAW)
    # Members after stories: the cluster stage writes an event's member records before the
    # event, so the members read hold those of every event read.
    others = [settings.topic(Topic.STORIES), settings.topic(Topic.MEMBERS)]
    others += [settings.topic(topic) for topic in DEAD_LETTER_TOPICS.values()]
    consumer = reader_consumer(settings, client_id="storywire-audit")
    try:
        raw_bounds = snapshot(consumer, raw_topic, required=True)
        now = datetime.now(UTC)
        bounds = {topic: snapshot(consumer, topic, required=False) for topic in others}
        for topic, topic_bounds in bounds.items():
            if not topic_bounds and progress is not None:
                print(f"audit: topic {topic} does not exist; read as empty", file=progress)

        def read(topic: str, topic_bounds: Bounds) -> Iterator[Message]:
            return read_topic(consumer, topic, topic_bounds, progress=progress)

        letters = (
            message for topic in others[2:] for message in read(topic, bounds[topic])
        )
        return audit(
            read(raw_topic, raw_bounds),
            read(others[0], bounds[others[0]]),
            letters,
            raw_topic=raw_topic,
            now=now,
            grace_seconds=grace_seconds,
            members=read(others[1], bounds[others[1]]),
        )
    except UNREACHABLE as exc:
        raise BrokerUnavailable(unreachable_message(settings)) from exc
    except KafkaError as exc:
        denial = refused(settings, exc)
        if denial is not None:
            raise denial from exc
        raise AuditUnreadable(f"Kafka error at {settings.bootstrap_servers}: {exc}") from exc
    finally:
        consumer.close()
