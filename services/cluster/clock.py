"""Ingest time as a cluster shard sees it, so stories close when the copy stops coming.

Stories close on ingest time (`ingested_at`, stamped when storywire took the copy in), not on
the worker's wall clock: a worker working through a backlog must not close a story whose next
article is waiting in that backlog. Between articles, though, ingest time goes on passing. The
shard's clock is the latest `ingested_at` read, moved on by the wall time since the last
article arrived: while copy flows it stays with the copy, and once the shard falls quiet it
keeps going, so a tick (`schemas.ticks`) can close the stories that copy no longer reaches.
"""

import time
from collections.abc import Callable, Mapping, MutableMapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from schemas.stories import StoryEventV2

if TYPE_CHECKING:  # imported by the worker only after it chose the core (`use_build`)
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


def shards_to_tick(
    clusterers: Mapping[str, "StoryClusterer"], stories: Mapping[str, Any]
) -> list[str]:
    """The shards a worker ticks: those it has rebuilt; if none yet (just started or
    rebalanced, no copy since), those of the stories its table holds, so a quiet shard's
    stories still close."""
    return sorted(set(clusterers) or {story["language"] for story in stories.values()})


def closed_by_tick(
    shard: str,
    clusterer: "StoryClusterer",
    clocks: MutableMapping[str, ShardClock],
    new_clock: Callable[[], ShardClock] = ShardClock,
) -> list[StoryEventV2]:
    """The `closed` events a tick for `shard` (its clusterer, rebuilt if it had to be) makes:
    the stories that got no copy for the story window, on the shard's clock. A shard with
    stories but no clock yet (the worker restarted and no copy has come since) starts its
    clock at its newest story's last copy, as if that copy had just arrived: its stories then
    close at most one window after the restart."""
    clock = clocks.get(shard)
    if clock is None:
        latest = clusterer.latest_seen()
        if latest is None:
            return []
        clock = clocks[shard] = new_clock()
        clock.saw(latest)
    now = clock.now()
    return clusterer.close_inactive(now) if now is not None else []
