"""Sending raw copy written with another partitioner to its source's partition (route.py)."""

import asyncio
import json
from dataclasses import dataclass
from typing import Any

from kafka.partitioner.default import murmur2 as kafka_python_murmur2

from services import metrics
from services.clean.route import (
    REROUTED_HEADER,
    as_written,
    home_partition,
    misplaced,
    send_home,
    source_of,
)
from services.settings import Settings

SETTINGS = Settings()


@dataclass
class Message:
    value: bytes | None
    partition: int
    key: bytes | None = b"any-key"
    headers: Any = None
    offset: int = 7
    topic: str = "articles.raw"


class Topic:
    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []

    def get_topic_name(self) -> str:
        return "articles.raw"

    async def send(self, **fields: Any) -> Any:
        self.sent.append(fields)
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        future.set_result(None)
        return future


def raw(source: str) -> bytes:
    return json.dumps({"id": "1", "source": source, "text": "copy",
                       "ingested_at": "2026-12-01T00:00:00Z"}).encode()


def test_home_partition_is_where_kafka_python_puts_the_source_key() -> None:
    # kafka-python's own murmur2 (the ingest producer's partitioner), not aiokafka's, which
    # route.py uses: two implementations of the Java client's hash must agree.
    for source in ("Reuters", "Example Wire", "Agence France-Presse", "ü-news", "x" * 150):
        for partitions in (1, 2, 3, 12):
            expected = (kafka_python_murmur2(source.encode()) & 0x7FFFFFFF) % partitions
            assert home_partition(source, partitions) == expected


def test_source_is_read_from_the_value_whatever_the_key() -> None:
    assert source_of(raw("Reuters")) == "Reuters"
    assert source_of(b"{not json") is None
    assert source_of(b'{"id": "1"}') is None
    assert source_of(None) is None


def test_only_copy_away_from_its_sources_partition_is_misplaced() -> None:
    home = home_partition("Reuters", 4)
    assert misplaced(Message(raw("Reuters"), partition=home), 4) is None
    away = (home + 1) % 4
    assert misplaced(Message(raw("Reuters"), partition=away), 4) == home
    # Unreadable copy stays (to be dead-lettered where it is); so does everything while the
    # partition count is not known yet.
    assert misplaced(Message(b"{not json", partition=away), 4) is None
    no_copy = json.dumps({"id": "1", "source": "Reuters", "ingested_at": "2026-12-01T00:00:00Z"})
    assert misplaced(Message(no_copy.encode(), partition=away), 4) is None
    assert misplaced(Message(raw("Reuters"), partition=away), None) is None


def test_misplaced_copy_is_sent_home_unchanged_with_a_provenance_header() -> None:
    home = home_partition("Reuters", 2)
    message = Message(raw("Reuters"), partition=1 - home, key=b"crc32-keyed",
                      headers=[("trace", b"abc")])
    topic = Topic()
    before = metrics.CLEAN_REROUTED._value.get()
    assert asyncio.run(send_home("clean", message, topic, 2, SETTINGS)) is True
    (sent,) = topic.sent
    assert sent["partition"] == home and sent["key"] == b"crc32-keyed"
    assert sent["value"] == message.value
    assert sent["headers"] == [("trace", b"abc"),
                               (REROUTED_HEADER, f"{1 - home}@7".encode())]
    assert metrics.CLEAN_REROUTED._value.get() == before + 1


def test_copy_at_home_is_left_to_the_stage() -> None:
    home = home_partition("Reuters", 2)
    topic = Topic()
    assert asyncio.run(send_home("clean", Message(raw("Reuters"), home), topic, 2, SETTINGS)) \
        is False
    assert topic.sent == []


def test_a_message_sent_home_is_dead_lettered_as_where_it_was_written() -> None:
    home = home_partition("Reuters", 2)
    away = Message(raw("Reuters"), partition=1 - home, offset=41)
    topic = Topic()
    asyncio.run(send_home("clean", away, topic, 2, SETTINGS))
    (sent,) = topic.sent
    at_home = Message(sent["value"], partition=home, key=sent["key"], headers=sent["headers"],
                      offset=900)
    written = as_written(at_home)
    assert (written.partition, written.offset) == (1 - home, 41)
    assert (written.value, written.key, written.topic) == (away.value, away.key, away.topic)
    assert as_written(away) is away  # a message never re-sent is its own place
    odd = Message(raw("Reuters"), partition=home, headers=[(REROUTED_HEADER, b"somewhere")])
    assert as_written(odd) is odd


def test_copy_too_big_to_re_send_is_cleaned_where_it_is() -> None:
    home = home_partition("Reuters", 2)
    body = b"x" * (SETTINGS.max_message_bytes - 500)
    value = raw("Reuters").replace(b'"copy"', b'"' + body + b'"')
    topic = Topic()
    assert asyncio.run(send_home("clean", Message(value, 1 - home), topic, 2, SETTINGS)) is False
    assert topic.sent == []
