"""The enrich stage on Kafka: articles.clean -> spaCy NER in batches -> articles.enriched.

A batch's enriched copy is sent together and confirmed before the batch's input is acked
(`services.stage.deliver_all`). A batch that fails as a whole (a library error on one member)
is run again one article at a time, so the good members still go through and only the failing
one reaches the dead-letter topic (`services.stage.handled`: retried, then dead-lettered with
the error's type).
"""

import asyncio
from functools import partial
from typing import Any

import faust

from schemas.articles import CleanArticleV1, EnrichedArticleV1
from schemas.topics import Topic
from services import metrics
from services.enrich.core import admissible, enrich_batch, load_nlp
from services.errors import InvalidArticle
from services.settings import Settings
from services.stage import (
    RAW_BYTES,
    Outgoing,
    decode,
    deliver_all,
    encode,
    handled,
    log,
    observe_output,
    outgoing,
    timed,
)

STAGE = "enrich"


def register(app: faust.App, settings: Settings) -> None:
    clean_copy = app.topic(settings.topic(Topic.CLEAN), **RAW_BYTES)
    enriched = app.topic(settings.topic(Topic.ENRICHED), **RAW_BYTES)
    dead_letters = app.topic(settings.topic(Topic.DLQ_ENRICH), **RAW_BYTES)

    async def admitted(message: Any) -> CleanArticleV1:
        return admissible(decode(CleanArticleV1, message.value, settings), settings.max_body_chars)

    async def send_on(
        result: EnrichedArticleV1 | InvalidArticle,
    ) -> tuple[EnrichedArticleV1, Outgoing]:
        if isinstance(result, InvalidArticle):
            raise result
        return result, outgoing(enriched, result.language.encode(), encode(result), settings)

    @app.agent(clean_copy, name=STAGE)
    async def enrich_articles(stream: faust.StreamT) -> None:
        loop = asyncio.get_running_loop()
        # Loaded once per worker process, off the event loop so heartbeats keep going.
        nlp = await loop.run_in_executor(None, load_nlp, settings.spacy_model)

        async def enriched_one(article: CleanArticleV1) -> tuple[EnrichedArticleV1, Outgoing]:
            [result] = await loop.run_in_executor(None, enrich_batch, [article], nlp)
            return await send_on(result)

        # faust.Stream has take_events; the StreamT protocol it is typed as does not list it.
        batches = stream.take_events(  # type: ignore[attr-defined]
            settings.enrich_batch_size, within=settings.enrich_batch_seconds
        )
        async for events in batches:
            metrics.MESSAGES_IN.labels(stage=STAGE).inc(len(events))
            decoded: list[tuple[Any, CleanArticleV1]] = []  # those that passed the contract
            for event in events:
                article = await handled(
                    STAGE, event.message, partial(admitted, event.message), dead_letters,
                    settings,
                )
                if article is not None:
                    decoded.append((event, article))
            if not decoded:
                continue
            articles = [article for _, article in decoded]
            done: list[tuple[EnrichedArticleV1, Outgoing]] = []
            try:
                with timed(STAGE, len(articles)), metrics.SPACY_BATCH_SECONDS.time():
                    # spaCy releases the GIL in its hot loops; the thread keeps the loop
                    # responsive.
                    results = await loop.run_in_executor(None, enrich_batch, articles, nlp)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - the batch again, one article at a time
                log.warning(
                    "stage=%s a batch of %d failed (%s: %s): enriching one at a time",
                    STAGE, len(articles), type(exc).__name__, exc,
                )
                for event, article in decoded:
                    one = await handled(
                        STAGE, event.message, partial(enriched_one, article), dead_letters,
                        settings,
                    )
                    if one is not None:
                        done.append(one)
            else:
                for (event, _), result in zip(decoded, results, strict=True):
                    one = await handled(
                        STAGE, event.message, partial(send_on, result), dead_letters, settings
                    )
                    if one is not None:
                        done.append(one)
            await deliver_all(STAGE, [message for _, message in done], settings)
            for article, _ in done:
                observe_output(STAGE, article.ingested_at)
