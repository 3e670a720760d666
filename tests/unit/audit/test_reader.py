"""The reader stops at the ends snapshotted at start, though the topic keeps growing."""

import io
from types import SimpleNamespace
from typing import Any

import pytest
from kafka import TopicPartition

from services.audit import reader
from services.audit.reader import AuditUnreadable, read_topic

TOPIC = "articles.raw"


class GrowingTopic:
    """A consumer's view of a topic that gains a message on every poll."""

    def __init__(self, lengths: dict[int, int], stuck: bool = False) -> None:
        self.lengths = dict(lengths)
        self.positions: dict[TopicPartition, int] = {}
        self.stuck = stuck

    def assign(self, partitions: list[TopicPartition]) -> None:
        self.positions = {tp: 0 for tp in partitions}

    def seek(self, tp: TopicPartition, offset: int) -> None:
        self.positions[tp] = offset

    def position(self, tp: TopicPartition) -> int:
        return self.positions[tp]

    def poll(self, timeout_ms: int) -> dict[TopicPartition, list[Any]]:
        batch = {}
        for tp in self.positions:
            self.lengths[tp.partition] += 1  # written after the snapshot
            if self.stuck:
                continue
            start = self.positions[tp]
            stop = min(start + 2, self.lengths[tp.partition])
            batch[tp] = [
                SimpleNamespace(topic=TOPIC, partition=tp.partition, offset=offset,
                                timestamp=1, value=b"{}")
                for offset in range(start, stop)
            ]
            self.positions[tp] = stop
        return batch


def test_reads_from_the_first_offset_to_the_snapshot_end_and_no_further() -> None:
    bounds = {TopicPartition(TOPIC, 0): (1, 6), TopicPartition(TOPIC, 1): (0, 0)}
    consumer = GrowingTopic({0: 5, 1: 0})
    messages = list(read_topic(consumer, TOPIC, bounds, progress=None))  # type: ignore[arg-type]  # a stand-in consumer
    assert [(m.partition, m.offset) for m in messages] == [(0, o) for o in range(1, 6)]


def test_a_fetch_that_makes_no_progress_is_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(reader, "PROGRESS_SECONDS", 0.0)
    progress = io.StringIO()
    consumer = GrowingTopic({0: 3}, stuck=True)
    with pytest.raises(AuditUnreadable, match="stalled at 0/3"):
        list(read_topic(consumer, TOPIC, {TopicPartition(TOPIC, 0): (0, 3)},  # type: ignore[arg-type]  # a stand-in consumer
                        progress=progress, stall_seconds=0.05))
    assert "articles.raw 0/3 messages (0%)" in progress.getvalue()
