"""Corrections and kills through a real cluster worker: a higher revision replaces the copy in
its story, a withdrawn copy takes the article out, a lower revision changes nothing."""

from datetime import UTC, datetime
from pathlib import Path

import pytest
from kafka import KafkaProducer

from lab.pipeline import LocalPipeline, free_port_block
from lab.story_view import StoryBoard
from schemas.articles import EnrichedArticleV1
from schemas.registry import EXAMPLES_DIR
from schemas.topics import Topic
from services.kafka import client_config
from services.settings import Settings
from tests.integration.conftest import fresh_settings

pytestmark = pytest.mark.integration


def _examples() -> list[EnrichedArticleV1]:
    """The two enriched examples (one story), ingested now."""
    now = datetime.now(UTC)
    return [
        EnrichedArticleV1.model_validate_json(path.read_bytes()).model_copy(
            update={"ingested_at": now}
        )
        for path in sorted((EXAMPLES_DIR / "articles.enriched").glob("*.json"))
    ]


def test_a_correction_replaces_and_a_kill_removes_an_article(
    broker: Settings, tmp_path: Path
) -> None:
    settings = fresh_settings(broker)
    producer = KafkaProducer(**client_config(settings))

    def send(article: EnrichedArticleV1) -> None:
        producer.send(settings.topic(Topic.ENRICHED), key=article.language.encode(),
                      value=article.model_dump_json().encode()).get(timeout=30)

    first, second = _examples()
    with LocalPipeline(settings, tmp_path / "logs", stages=("cluster",),
                       metrics_base_port=free_port_block()) as run:
        run.wait_until_ready()
        board = StoryBoard(settings)
        try:
            for article in (first, second):
                send(article)
            assert board.wait(lambda: board.accounts_for([first.id, second.id]), run.check, 120)
            [story] = board.latest()
            assert story.article_count == 2

            corrected = second.model_copy(
                update={"headline": "Kerry lands in Moscow", "revision": 2}
            )
            send(corrected)
            older = second.model_copy(update={"headline": "Kerry flies out", "revision": 1})
            send(older)
            killed = first.model_copy(update={"withdrawn": True})
            send(killed)
            # The kill's member record comes before its story event: both are waited for.
            assert board.wait(
                lambda: board.members.get(first.id) is not None
                and board.members[first.id].story_id is None
                and [s.left_ids for s in board.latest()] == [(first.id,)],
                run.check, 120,
            )
        finally:
            board.close()
            producer.close()

    [story] = board.latest()
    assert story.article_count == 1 and story.left_ids == (first.id,)
    # The correction took the place of the first copy; the older revision changed nothing.
    assert board.members[second.id].headline == "Kerry lands in Moscow"
    assert board.articles_of(story.story_id) == [second.id]
    assert not board.dead_letters
