"""The enrich stage on Kafka: articles.clean -> spaCy NER in batches -> articles.enriched."""

import asyncio

import faust

from schemas.articles import CleanArticleV1
from schemas.topics import Topic
from services import metrics
from services.enrich.core import enrich_batch, load_nlp
from services.errors import InvalidArticle
from services.settings import Settings
from services.stage import RAW_BYTES, dead_letter, decode, encode, observe_output, timed

STAGE = "enrich"


def register(app: faust.App, settings: Settings) -> None:
    clean_copy = app.topic(settings.topic(Topic.CLEAN), **RAW_BYTES)
    enriched = app.topic(settings.topic(Topic.ENRICHED), **RAW_BYTES)
    dead_letters = app.topic(settings.topic(Topic.DLQ_ENRICH), **RAW_BYTES)

    @app.agent(clean_copy, name=STAGE)
    async def enrich_articles(stream: faust.StreamT) -> None:
        loop = asyncio.get_running_loop()
        # Loaded once per worker process, off the event loop so heartbeats keep going.
        nlp = await loop.run_in_executor(None, load_nlp, settings.spacy_model)
        # faust.Stream has take_events; the StreamT protocol it is typed as does not list it.
        batches = stream.take_events(  # type: ignore[attr-defined]
            settings.enrich_batch_size, within=settings.enrich_batch_seconds
        )
        async for events in batches:
            metrics.MESSAGES_IN.labels(stage=STAGE).inc(len(events))
            decoded = []  # (event, article) pairs that passed the contract
            for event in events:
                try:
                    decoded.append((event, decode(CleanArticleV1, event.message.value)))
                except InvalidArticle as error:
                    letter = dead_letter(STAGE, error, event.message)
                    await dead_letters.send(key=event.message.key, value=encode(letter))
            if not decoded:
                continue
            articles = [article for _, article in decoded]
            with timed(STAGE, len(articles)), metrics.SPACY_BATCH_SECONDS.time():
                # spaCy releases the GIL in its hot loops; the thread keeps the loop responsive.
                results = await loop.run_in_executor(None, enrich_batch, articles, nlp)
            for (event, _), result in zip(decoded, results, strict=True):
                if isinstance(result, InvalidArticle):
                    letter = dead_letter(STAGE, result, event.message)
                    await dead_letters.send(key=event.message.key, value=encode(letter))
                    continue
                await enriched.send(key=result.language.encode(), value=encode(result))
                observe_output(STAGE, result.ingested_at)
