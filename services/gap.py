"""Safety net for the restart gap: a stalled commit with nothing in flight is sought back.

The restart gap (faust-streaming#596, see services/faust_patches.py) leaves a partition whose
group commit stops below the end for good: the messages after the commit point were read
once, dropped before an agent saw them, and their re-fetch is discarded as already read, so
nothing is in flight, nothing is acked, and the commit never moves. The patch closes the race
we know; this timer catches whatever else ends in the same state.

Every `interval_s`, for each input partition the worker holds, it looks at faust's own
bookkeeping on its Consumer: the offset it last committed (`_committed_offset`), the offset
its fetcher last read (`_read_offset`) and the messages handed to the agents but not yet acked
(`_unacked_messages`). A partition is *stalled* when its commit is below the partition's end,
no message of it is in flight, and neither its commit nor its read offset has moved. Stalled
for `stall_s` in a row, it is sought back to the committed offset and its read offset set
there, so the fetcher delivers the messages after the commit point again instead of discarding
them. Each seek-back is logged and counted in `storywire_gap_seekbacks_total{stage}`.

A slow agent does not look stalled: its message is in flight. A busy worker does not either:
its commit moves. Redelivery is safe: every stage recognises an article it already processed.
"""

import logging
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import faust
from aiokafka.errors import ConsumerStoppedError, KafkaError
from faust.exceptions import ConsumerNotStarted
from faust.transport.consumer import Consumer
from faust.types import TP

from services import metrics
from services.lag import input_topics

log = logging.getLogger("storywire")


@dataclass
class _Seen:
    """What a partition looked like when it was first seen stalled as it still is."""

    committed: int
    read: int | None
    since: float


@dataclass(frozen=True)
class Observation:
    """One partition at one tick: where its commit and reads are, what is in flight."""

    tp: TP
    committed: int  # the group's position: next offset to process
    read: int | None  # faust's read offset there (None: nothing read since the last seek)
    end: int  # the partition's highwater (next offset the broker will give)
    in_flight: int  # messages handed to the agents, not yet acked


class GapWatch:
    """Tracks partitions across ticks and says which have been stalled long enough.

    Pure bookkeeping (no faust, no broker), so the rule is unit-tested on its own.
    """

    def __init__(self, stall_s: float) -> None:
        self.stall_s = stall_s
        self._seen: dict[TP, _Seen] = {}

    def observe(self, observations: Iterable[Observation], now: float) -> list[Observation]:
        """The partitions to seek back now; forgets partitions not observed this time."""
        due: list[Observation] = []
        current: set[TP] = set()
        for obs in observations:
            current.add(obs.tp)
            stalled = obs.committed < obs.end and obs.in_flight == 0
            seen = self._seen.get(obs.tp)
            if not stalled:
                self._seen.pop(obs.tp, None)
                continue
            if seen is None or seen.committed != obs.committed or seen.read != obs.read:
                self._seen[obs.tp] = _Seen(obs.committed, obs.read, now)
                continue
            if now - seen.since >= self.stall_s:
                due.append(obs)
                # Start over: after the seek the partition must stall again for stall_s.
                self._seen.pop(obs.tp, None)
        for tp in set(self._seen) - current:
            del self._seen[tp]
        return due


def _in_flight(consumer: Consumer) -> dict[TP, int]:
    counts: dict[TP, int] = {}
    for message in list(consumer._unacked_messages):
        if not message.acked:
            counts[message.tp] = counts.get(message.tp, 0) + 1
    return counts


async def seek_back(consumer: Consumer, tp: TP, offset: int) -> None:
    """Seek `tp` to `offset` and set faust's read offset there, so the fetcher delivers the
    messages from `offset` on again rather than dropping them as already read."""
    # seek_wait seeks in the consumer's thread (aiokafka is not thread-safe) and waits for the
    # position; it also sets the read offset, but from that thread: set it here again.
    await consumer.seek_wait({tp: offset})
    consumer._read_offset[tp] = offset if offset else None


def register_gap_timer(
    app: faust.App, stage: str, stall_s: float, interval_s: float | None = None
) -> None:
    """Seek back each input partition whose commit has stalled below its end for `stall_s`.

    `stall_s` <= 0 registers nothing (the safety net is off).
    """
    if stall_s <= 0:
        return
    watch = GapWatch(stall_s)
    tick_s = interval_s if interval_s is not None else max(min(stall_s / 3, 5.0), 0.5)
    metrics.GAP_SEEKBACKS.labels(stage=stage)

    @app.timer(tick_s, name=f"{stage}-gap-seekback")
    async def seek_back_stalled_partitions() -> None:
        consumer = app.consumer
        assert isinstance(consumer, Consumer), type(consumer)
        if app.rebalancing or app.in_recovery or not consumer.flow_active:
            watch.observe((), time.monotonic())  # positions move at a rebalance: start over
            return
        inputs = input_topics(app)
        try:
            partitions = [
                tp for tp in consumer.assignment()
                if tp.topic in inputs and tp not in consumer._paused_partitions
            ]
            if not partitions:
                watch.observe((), time.monotonic())
                return
            ends: Mapping[TP, int] = await consumer.highwaters(*partitions)
            earliest: Mapping[TP, int] = await consumer.earliest_offsets(*partitions)
        except (ConsumerNotStarted, ConsumerStoppedError):
            return
        except KafkaError as exc:
            log.info("gap check skipped this time: stage=%s error=%r", stage, exc)
            return
        in_flight = _in_flight(consumer)
        observations = []
        for tp in partitions:
            if tp not in ends:
                continue
            # faust keeps a commit at offset 0 as None, as it does no commit at all: the
            # group then starts at the first retained offset.
            committed = consumer._committed_offset.get(tp)
            position = committed if committed is not None else earliest.get(tp, 0)
            observations.append(Observation(
                tp=tp, committed=position, read=consumer._read_offset.get(tp),
                end=ends[tp], in_flight=in_flight.get(tp, 0),
            ))
        for obs in watch.observe(observations, time.monotonic()):
            if app.rebalancing or obs.tp not in consumer.assignment():
                continue
            await seek_back(consumer, obs.tp, obs.committed)
            metrics.GAP_SEEKBACKS.labels(stage=stage).inc()
            log.warning(
                "restart gap: stage=%s %s:%d commit stalled at %d below end %d for %.0fs "
                "with nothing in flight (read offset %s): sought back to %d to redeliver",
                stage, obs.tp.topic, obs.tp.partition, obs.committed, obs.end, stall_s,
                obs.read, obs.committed,
            )
