"""Ingest time as a cluster shard sees it, so stories close when the copy stops coming.

Stories close on ingest time (`ingested_at`, stamped when storywire took the copy in), not on
the worker's wall clock: a worker working through a backlog must not close a story whose next
article is waiting in that backlog. Between articles, though, ingest time goes on passing. The
shard's clock is the latest `ingested_at` read, moved on by the wall time since the last
article arrived: while copy flows it stays with the copy, and once the shard falls quiet it
keeps going, so a tick (`schemas.ticks`) can close the stories that copy no longer reaches.
"""

import time
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta

from schemas.stories import StoryEventV1
from schemas.ticks import ClusterTickV1
from services.cluster.core import StoryClusterer


class ShardClock:
    def __init__(self, monotonic: Callable[[], float] = time.monotonic) -> None:
        self._monotonic = monotonic
        self._latest: datetime | None = None
        self._since = 0.0  # monotonic time of the last article

    def saw(self, ingested_at: datetime) -> None:
        """An article arrived: the clock stays with the latest ingest time read so far."""
        if self._latest is None or ingested_at > self._latest:
            self._latest = ingested_at
        self._since = self._monotonic()

    def now(self) -> datetime | None:
        """The shard's ingest time now; None before its first article."""
        if self._latest is None:
            return None
        return self._latest + timedelta(seconds=self._monotonic() - self._since)


def closed_by_tick(
    tick: ClusterTickV1,
    clusterers: Mapping[str, StoryClusterer],
    clocks: Mapping[str, ShardClock],
) -> list[StoryEventV1]:
    """The `closed` events a tick makes: its shard's stories that got no copy for the story
    window, on the shard's clock. Nothing for a shard this worker has not rebuilt or read copy
    for since it started: its stories close with its next article."""
    clusterer, clock = clusterers.get(tick.shard), clocks.get(tick.shard)
    now = clock.now() if clock is not None else None
    if clusterer is None or now is None:
        return []
    return clusterer.close_inactive(now)
