"""The restart gap's safety net: which partitions it seeks back, and what a seek-back resets."""

import asyncio
from unittest import mock

from faust.types import TP

from services.gap import GapWatch, Observation, seek_back

TP0 = TP("articles.raw", 0)
TP1 = TP("articles.raw", 1)


def obs(tp: TP = TP0, committed: int = 100, read: int | None = 149, end: int = 150,
        in_flight: int = 0) -> Observation:
    return Observation(tp=tp, committed=committed, read=read, end=end, in_flight=in_flight)


def test_a_commit_stalled_below_the_end_with_nothing_in_flight_is_due_after_the_stall_time(
) -> None:
    watch = GapWatch(stall_s=30.0)
    assert watch.observe([obs()], now=0.0) == []
    assert watch.observe([obs()], now=29.0) == []
    assert watch.observe([obs()], now=30.0) == [obs()]
    # Once sought back it must stall a whole stall time again before the next seek.
    assert watch.observe([obs()], now=31.0) == []
    assert watch.observe([obs()], now=60.0) == []
    assert watch.observe([obs()], now=61.0) == [obs()]


def test_a_moving_commit_or_read_offset_restarts_the_clock() -> None:
    watch = GapWatch(stall_s=30.0)
    watch.observe([obs(committed=100)], now=0.0)
    assert watch.observe([obs(committed=120)], now=30.0) == []  # the agent works through it
    assert watch.observe([obs(committed=120, read=None)], now=45.0) == []  # read again
    assert watch.observe([obs(committed=120, read=None)], now=74.0) == []
    assert watch.observe([obs(committed=120, read=None)], now=75.0) == [
        obs(committed=120, read=None)
    ]


def test_a_message_in_flight_or_a_commit_at_the_end_is_no_stall() -> None:
    watch = GapWatch(stall_s=30.0)
    for now in (0.0, 30.0, 60.0):
        # A slow agent: its message is in flight for a long time, the commit waits for it.
        assert watch.observe([obs(in_flight=1), obs(TP1, committed=150)], now=now) == []
    # The in-flight message acked and the commit still stuck: only now does the clock start.
    assert watch.observe([obs()], now=61.0) == []
    assert watch.observe([obs()], now=91.0) == [obs()]


def test_partitions_no_longer_observed_are_forgotten() -> None:
    watch = GapWatch(stall_s=30.0)
    watch.observe([obs(), obs(TP1)], now=0.0)
    watch.observe([obs(TP1)], now=10.0)  # TP0 was revoked
    assert watch.observe([obs(), obs(TP1)], now=30.0) == [obs(TP1)]  # TP0 starts over
    assert watch.observe([obs()], now=59.0) == []
    assert watch.observe([obs()], now=60.0) == [obs()]


def test_seek_back_seeks_the_consumer_and_resets_the_read_offset() -> None:
    consumer = mock.Mock()
    consumer.seek_wait = mock.AsyncMock()
    consumer._read_offset = {TP0: 149}
    asyncio.run(seek_back(consumer, TP0, 100))
    consumer.seek_wait.assert_awaited_once_with({TP0: 100})
    # The fetcher accepts offsets >= the read offset: the messages from 100 on come again.
    assert consumer._read_offset[TP0] == 100
    asyncio.run(seek_back(consumer, TP1, 0))
    assert consumer._read_offset[TP1] is None  # faust's "nothing read yet"
