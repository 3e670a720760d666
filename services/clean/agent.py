"""The clean stage on Kafka: articles.raw -> clean core -> articles.clean (or dlq.clean)."""

import asyncio

import faust

from schemas.articles import RawArticleV1
from schemas.topics import Topic
from services import metrics
from services.clean.core import clean, warm_up
from services.clean.memory import SourceMemory
from services.errors import InvalidArticle
from services.settings import Settings
from services.stage import RAW_BYTES, dead_letter, decode, encode, json_table, observe_output, timed

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

    @app.on_rebalance_complete.connect  # type: ignore[arg-type]  # mode's stub rejects async receivers it runs
    async def _forget_derived(sender: faust.App, **_: object) -> None:
        # The duplicate index derives from the fingerprints this worker holds, and the template
        # cache runs ahead of the templates it holds: a rebalance changes both.
        memory.forget_derived()

    @app.agent(raw_copy, name=STAGE)
    async def clean_articles(stream: faust.StreamT) -> None:
        # The language model and the rest, once per worker process, off the event loop.
        await asyncio.get_running_loop().run_in_executor(None, warm_up)
        async for event in stream.events():
            metrics.MESSAGES_IN.labels(stage=STAGE).inc()
            try:
                with timed(STAGE):
                    raw = decode(RawArticleV1, event.message.value)
                    # Fingerprints this article may delete must be its partition's (memory.py).
                    memory.partition = event.message.partition
                    article = clean(raw, memory, max_body_chars=settings.max_body_chars)
            except InvalidArticle as error:
                letter = dead_letter(STAGE, error, event.message)
                await dead_letters.send(key=event.message.key, value=encode(letter))
                continue
            if article.duplicate_of:
                metrics.DUPLICATES.inc()
            # Keyed by article id, not language: with all English copy on one partition only
            # one enrich worker would work. The enrich stage re-keys by language for the
            # cluster stage's per-language shards.
            await clean_copy.send(key=article.id.encode(), value=encode(article))
            observe_output(STAGE, article.ingested_at)
