"""The clean stage on Kafka: articles.raw -> clean core -> articles.clean (or dlq.clean).

Input is taken in batches (`services.stage.batches`): each article is cleaned, or
dead-lettered, on its own and in order, and the batch's clean copy is sent together and
confirmed before the batch's input is acked.
"""

import asyncio
from concurrent.futures import ThreadPoolExecutor
from functools import partial

import faust

from schemas.articles import CleanArticleV1, RawArticleV1
from schemas.topics import Topic
from services import metrics
from services.clean.core import extract, remember, warm_up, withdrawal
from services.clean.memory import SourceMemory
from services.clean.route import as_written, send_home
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
    observe_output,
    outgoing,
    timed,
)

STAGE = "clean"


def register(app: faust.App, settings: Settings) -> None:
    raw_copy = app.topic(settings.topic(Topic.RAW), **RAW_BYTES)
    clean_copy = app.topic(settings.topic(Topic.CLEAN), **RAW_BYTES)
    dead_letters = app.topic(settings.topic(Topic.DLQ_CLEAN), **RAW_BYTES)
    # Per-source template lines and duplicate fingerprints: changelog-backed, so a restarted
    # worker still knows each outlet's boilerplate and the copies it has already seen.
    templates = json_table(app, "clean-templates", "per-source template line counts")
    fingerprints = json_table(app, "clean-fingerprints", "MinHash of every article seen")
    memory = SourceMemory(templates, fingerprints, fingerprint_hours=settings.dedup_window_hours)
    # Parsing and line classification run in this one thread, never on the event loop: a
    # large or deeply nested page would otherwise stall heartbeats and commits. One thread,
    # so pages are cleaned in order and the GIL is shared with the loop alone.
    parser = ThreadPoolExecutor(max_workers=1, thread_name_prefix="storywire-clean")

    @app.on_rebalance_complete.connect  # type: ignore[arg-type]  # mode's stub rejects async receivers it runs
    async def _forget_derived(sender: faust.App, **_: object) -> None:
        # The duplicate index derives from the fingerprints this worker holds, and the template
        # cache runs ahead of the templates it holds: a rebalance changes both.
        memory.forget_derived()

    async def cleaned(message: faust.types.Message) -> tuple[CleanArticleV1, Outgoing]:
        raw = decode(RawArticleV1, message.value, settings)
        # Fingerprints this article may delete must be its partition's (memory.py).
        memory.partition = message.partition
        if raw.withdrawn:  # a kill: nothing to extract (core.withdrawal)
            article = withdrawal(raw, memory)
        else:
            template = memory.template_lines(raw.source)  # a snapshot the thread may read
            found = await asyncio.get_running_loop().run_in_executor(
                parser, lambda: extract(raw, template, max_body_chars=settings.max_body_chars)
            )
            article = remember(raw, found, memory)
        # Keyed by article id, not language: with all English copy on one partition only
        # one enrich worker would work. The enrich stage re-keys by language for the
        # cluster stage's per-language shards.
        return article, outgoing(clean_copy, article.id.encode(), encode(article), settings)

    @app.agent(raw_copy, name=STAGE)
    async def clean_articles(stream: faust.StreamT) -> None:
        # The language model and the rest, once per worker process, off the event loop.
        await asyncio.get_running_loop().run_in_executor(parser, warm_up)
        async for events in batches(stream, settings):
            outbox: list[Outgoing] = []
            articles: list[CleanArticleV1] = []
            for event in events:
                as_current(event)  # the tables' writes go to its partition
                message = event.message
                # An outlet's copy written with another partitioner goes to its own partition
                # first, to be cleaned and counted there with the outlet's one memory (route.py).
                partitions = app.consumer.topic_partitions(message.topic)
                if await send_home(STAGE, message, raw_copy, partitions, settings):
                    continue
                metrics.MESSAGES_IN.labels(stage=STAGE).inc()
                with timed(STAGE):
                    result = await handled(  # a letter points where the producer wrote the copy
                        STAGE, as_written(message), partial(cleaned, message), dead_letters,
                        settings,
                    )
                if result is not None:
                    articles.append(result[0])
                    outbox.append(result[1])
            await deliver_all(STAGE, outbox, settings)
            for article in articles:
                if article.duplicate_of:
                    metrics.DUPLICATES.inc()
                observe_output(STAGE, article.ingested_at)

