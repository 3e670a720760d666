"""The cluster stage on Kafka: articles.enriched -> story assignment -> stories (compacted,
`StoryEventV2` keyed by story id) and stories.members (compacted, `StoryMemberV1` keyed by
article id: each article's story, written when it joins and whenever it moves).

The agent also reads `cluster.ticks`, which the worker's own timer writes (one tick per shard
it holds, keyed and partitioned like the shard's articles): a tick closes the shard's stories
that got no copy for the story window, on the shard's ingest-time clock (`ShardClock`), so
stories close also when no more copy comes, and after a restart with no copy since. Table
writes must happen while a message of the table's partition is handled, which is why closing
waits for a tick instead of running in the timer.

Input is taken in batches (`services.stage.batches`): articles and ticks are handled one at a
time and in order, each dead-lettered on its own; the batch's member records are sent together
and confirmed, then its story events (two produce requests a batch, not two an article), and
only then is the batch's input acked. The tables' writes are held for the batch and written
once per key, through a journal, so that a killed worker's tables hold all of a batch's writes
or none (`services.journal`), before its output is sent.
"""

import gc
import logging
from collections import ChainMap
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from typing import Any, TypeVar

import faust

from schemas.articles import EnrichedArticleV1
from schemas.stories import StoryEventV2
from schemas.ticks import ClusterTickV1
from schemas.topics import Topic
from services import metrics
from services.cluster import members
from services.cluster.clock import ShardClock, closed_by_tick, shards_to_tick
from services.cluster.compiled import describe, use_build
from services.cluster.limits import LANGUAGE, admissible
from services.errors import InvalidArticle
from services.journal import PART_BYTES, BatchWrites, Journal
from services.settings import Settings
from services.stage import (
    RAW_BYTES,
    Outgoing,
    as_current,
    batches,
    decode,
    deliver_all,
    encode,
    handled,
    json_table,
    log,
    observe_output,
    outgoing,
    timed,
)

STAGE = "cluster"
Result = TypeVar("Result")


@dataclass
class Publication:
    """What handling one message gives the batch to send: member records (sent first) and
    story events, with the events themselves for counting once they are delivered."""

    members: list[Outgoing] = field(default_factory=list)
    stories: list[Outgoing] = field(default_factory=list)
    events: list[StoryEventV2] = field(default_factory=list)

    def add(self, other: "Publication") -> None:
        self.members += other.members
        self.stories += other.stories
        self.events += other.events


def register(app: faust.App, settings: Settings) -> None:
    # The compiled core, when current, is used from the core's first import, which is here.
    logging.getLogger("storywire").info("cluster core: %s", describe(use_build()))
    from services.cluster.core import ClusterConfig, StoryClusterer

    ticks_name = settings.topic(Topic.CLUSTER_TICKS)
    # One stream over both: partition p of each goes to the worker holding the shard stories
    # of partition p (faust assigns the topics of one agent together).
    inbound = app.topic(settings.topic(Topic.ENRICHED), ticks_name, **RAW_BYTES)
    ticks = app.topic(ticks_name, **RAW_BYTES)
    stories_topic = app.topic(settings.topic(Topic.STORIES), **RAW_BYTES)
    members_topic = app.topic(settings.topic(Topic.MEMBERS), **RAW_BYTES)
    dead_letters = app.topic(settings.topic(Topic.DLQ_CLUSTER), **RAW_BYTES)
    # Every live story of this worker's language shards: changelog-backed, so a killed worker
    # comes back with the same stories.
    stories = BatchWrites(
        "stories", json_table(app, "cluster-stories", "every live story of this worker's shards")
    )
    # Per article of a story small enough to be checked for two events, what a split rebuilds
    # both sides from (`StoryClusterer.records`): written once per article, dropped with the
    # story's close or once it has grown past the last check.
    records = BatchWrites(
        "records", json_table(app, "cluster-records", "one-article stories a split rebuilds from")
    )
    # Which story each article is in (`members`): a redelivered article changes nothing.
    placements = BatchWrites(
        "placements", json_table(app, "cluster-members", "the story of each article of the window")
    )
    # Each live story's article ids, in chunks (`services.cluster.roster`): what a merge moves
    # and a close drops, kept out of the story so that a join writes a bounded story.
    rosters = BatchWrites(
        "rosters", json_table(app, "cluster-rosters", "each live story's article ids, in chunks")
    )
    # Each table's writes are held for the batch and written once per key at its end (a story
    # many of the batch's articles joined is written once), journaled first so that they land
    # all or none, before the batch's output is sent.
    journal = Journal(
        STAGE,
        app.Table(
            "cluster-journal",
            schema=faust.Schema(
                key_type=str, value_type=bytes, key_serializer="json", value_serializer="raw"
            ),
            help="the last batch's table writes per partition (services.journal)",
        ),
        (stories, records, placements, rosters),
        part_bytes=min(PART_BYTES, settings.max_message_bytes // 2),
    )
    config = ClusterConfig(window_hours=settings.story_window_hours)
    # The clusterer's in-memory indexes derive from the table; they are rebuilt whenever the
    # worker's partitions (and so the table's contents) change.
    clusterers: dict[str, StoryClusterer] = {}
    clocks: dict[str, ShardClock] = {}

    @app.on_rebalance_complete.connect  # type: ignore[arg-type]  # async receivers are awaited
    async def _forget_indexes(sender: faust.App, **_: object) -> None:
        clusterers.clear()
        journal.forget()

    def clusterer_for(shard: str) -> StoryClusterer:
        if shard not in clusterers:
            clusterers[shard] = StoryClusterer(
                stories, config, language=shard, records=records, members=placements,
                rosters=rosters,
            )
            # The recovered stories and the indexes just built from them live for hours:
            # frozen out of the collector's generations, they are not walked by every full
            # collection (2.5M objects at 100k live stories: a second of CPU each time).
            # Stories replaced later are freed as before.
            gc.freeze()
        return clusterers[shard]

    @app.timer(interval=settings.story_close_check_seconds)
    async def _tick() -> None:
        for shard in shards_to_tick(clusterers, stories):
            if not LANGUAGE.fullmatch(shard):
                continue  # no article of such a shard is admitted; nothing to close
            tick = ClusterTickV1(shard=shard, sent_at=datetime.now(UTC))
            try:
                await ticks.send(key=shard.encode(), value=encode(tick))
            except Exception as exc:  # noqa: BLE001 - a lost tick is sent again next interval
                log.warning("stage=%s tick for %s not sent: %s", STAGE, shard, exc)

    def publication(
        story_events: list[StoryEventV2],
        moved: list[tuple[str, str | None, int]],
        gone: dict[str, Any] | None = None,
    ) -> Publication:
        """The member records of `moved` (listed from their entries as they stand now, or from
        `gone` for the articles whose entries were just dropped), and the story events."""
        entries = ChainMap(gone or {}, placements)
        out = Publication(events=list(story_events))
        for article_id, story_id, version in moved:
            record = members.member_record(entries, article_id, story_id, version)
            if record is None:
                continue  # placed by a release before stories.members: no listing kept
            out.members.append(
                outgoing(members_topic, article_id.encode(), encode(record), settings)
            )
        for story in story_events:
            out.stories.append(
                outgoing(stories_topic, story.story_id.encode(), encode(story), settings)
            )
        return out

    async def publish(out: Publication) -> None:
        """Members first: a subscriber that reads an event and then its story's members finds
        the articles it moved already there. Counted once the broker has them."""
        await deliver_all(STAGE, out.members, settings)
        await deliver_all(STAGE, out.stories, settings)
        for story in out.events:
            metrics.STORY_EVENTS.labels(event=story.event).inc()
            metrics.STORY_SIZE.observe(story.article_count)
        metrics.LIVE_STORIES.set(sum(c.live_count for c in clusterers.values()))

    async def on_tick(message: faust.types.Message) -> Publication:
        tick = decode(ClusterTickV1, message.value, settings)
        # A tick for a shard this worker neither holds stories of nor has seen copy of has
        # nothing to close: no clusterer is built for it (a stray tick must not grow state).
        if tick.shard not in clusterers and not any(
            story["language"] == tick.shard for story in stories.values()
        ):
            return Publication()
        # A restarted worker's quiet shard is rebuilt here, by its first tick.
        closed = closed_by_tick(tick.shard, clusterer_for(tick.shard), clocks)
        return publication(closed, [])

    async def on_article(
        message: faust.types.Message,
    ) -> tuple[EnrichedArticleV1, Publication]:
        article = admissible(decode(EnrichedArticleV1, message.value, settings))
        shard = article.language
        clusterer = clusterer_for(shard)
        clock = clocks.get(shard)
        if clock is None:
            clock = clocks[shard] = ShardClock()
        clock.saw(article.ingested_at)
        copy_print = members.fingerprint(article)
        entry = placements.get(article.id)
        action = members.action(entry, article, copy_print)
        placed_in = entry[0] if entry else None
        if action == "reused":
            raise InvalidArticle(
                "reused_id",
                f"id {article.id!r} already names another article (in story {placed_in}); "
                "ids must be unique per source",
            )
        if action == "again":
            # Delivered again: its story and membership as they stand, in case those never
            # went out.
            if placed_in is not None and placed_in in stories:
                story = clusterer.current_event(placed_in)
                return article, publication([story], [(article.id, placed_in, story.version)])
            return article, Publication()
        # Closing follows ingest time: no new copy for the window closes a story.
        story_events = clusterer.close_inactive(article.ingested_at)
        if action == "absent":  # a kill of an article in no live story: said, nothing moved
            gone = {article.id: [None, copy_print, members.listing(article)]}
            return article, publication(story_events, [(article.id, None, 0)], gone)
        if action == "withdraw":
            story_events += clusterer.withdraw(article.id)
            return article, publication(story_events, clusterer.moved, {article.id: entry})
        payload = members.payload(article, copy_print)
        if action == "revise":
            story_events += clusterer.revise(article, payload)
        else:
            story_events += clusterer.add(article, payload)
        return article, publication(story_events, clusterer.moved)

    async def whole(work: Callable[[], Awaitable[Result]]) -> Result:
        """Run one message's `work`; if it fails, its table writes are undone (its retry, or the
        next message once it is dead-lettered, starts from the tables as they were), and the
        indexes, which may hold part of it, are rebuilt from them."""
        mark = journal.mark()
        try:
            return await work()
        except Exception as exc:
            if journal.undo(mark) or not isinstance(exc, InvalidArticle):
                clusterers.clear()
            raise

    @app.agent(inbound, name=STAGE)
    async def cluster_articles(stream: faust.StreamT) -> None:
        async for events in batches(stream, settings):
            # A partition the worker (re)got: its tables are completed from its journal
            # before any index is built from them.
            replayed = await journal.recover(event.message.partition for event in events)
            if replayed:
                log.warning(
                    "stage=%s the tables lacked %d writes of a batch a stopped worker was "
                    "writing: written again from the journal", STAGE, replayed,
                )
                clusterers.clear()
            out = Publication()
            placed: list[EnrichedArticleV1] = []
            for event in events:
                as_current(event)  # the tables' writes go to its partition
                message = event.message
                if message.topic == ticks_name:
                    closed = await handled(
                        STAGE, message, partial(whole, partial(on_tick, message)), dead_letters,
                        settings,
                    )
                    if closed is not None:
                        out.add(closed)
                    continue
                metrics.MESSAGES_IN.labels(stage=STAGE).inc()
                with timed(STAGE):
                    result = await handled(
                        STAGE, message, partial(whole, partial(on_article, message)),
                        dead_letters, settings,
                    )
                if result is not None:
                    placed.append(result[0])
                    out.add(result[1])
            await journal.commit()
            await publish(out)
            await journal.landed()
            for article in placed:
                observe_output(STAGE, article.ingested_at)
