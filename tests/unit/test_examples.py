"""Every example message beside the schemas is valid for its topic and goes through its stage.

One parametrised test per example file (`schemas/examples/<topic>/*.json`): the file must
validate against its topic's contract, and the stage that reads the topic must accept it and
produce the next topic's contract.
"""

import json
from pathlib import Path

import pytest
from spacy.language import Language

from schemas.articles import CleanArticleV1, EnrichedArticleV1, RawArticleV1
from schemas.deadletter import DeadLetterV1
from schemas.registry import CONTRACTS, EXAMPLES_DIR
from schemas.stories import StoryEventV2, StoryMemberV1
from schemas.ticks import ClusterTickV1
from schemas.topics import Topic
from services.clean.core import clean
from services.clean.memory import SourceMemory
from services.cluster import members
from services.cluster.clock import ShardClock, closed_by_tick
from services.cluster.core import ClusterConfig, StoryClusterer
from services.enrich.core import enrich_batch, load_nlp
from services.identity import article_key
from services.settings import Settings
from services.stage import encode_letter
from services.tail.render import dead_letter_line, story_line

EXAMPLES = sorted(EXAMPLES_DIR.glob("*/*.json"))


@pytest.fixture(scope="module")
def nlp() -> Language:
    return load_nlp(Settings().spacy_model)


def test_every_topic_has_an_example() -> None:
    assert {Topic(path.parent.name) for path in EXAMPLES} >= {
        Topic.RAW, Topic.CLEAN, Topic.ENRICHED, Topic.STORIES, Topic.MEMBERS, Topic.DLQ_CLEAN,
        Topic.CLUSTER_TICKS,
    }


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_example_is_valid_and_passes_its_stage(path: Path, nlp: Language) -> None:
    topic = Topic(path.parent.name)
    message = CONTRACTS[topic].model_validate_json(path.read_bytes())
    # The example is exactly what the contract serialises back to (no silently ignored field);
    # dead letters as the stages write them (a truncated letter's fields only on one).
    written = (
        encode_letter(message) if isinstance(message, DeadLetterV1) else message.model_dump_json()
    )
    assert json.loads(written) == json.loads(path.read_text())
    if topic is Topic.RAW:
        assert isinstance(message, RawArticleV1)
        article = clean(message, SourceMemory({}, {}), max_body_chars=200_000)
        assert article.id == article_key(message.source, message.id) and article.body
    elif topic is Topic.CLEAN:
        assert isinstance(message, CleanArticleV1)
        [enriched] = enrich_batch([message], nlp)
        assert isinstance(enriched, EnrichedArticleV1)
        assert enriched.id == message.id and enriched.entities
    elif topic is Topic.ENRICHED:
        assert isinstance(message, EnrichedArticleV1)
        events = StoryClusterer({}, ClusterConfig()).add(message)
        assert [event.event for event in events] == ["created"]
        assert events[0].first_article_ids == events[0].joined_ids == (message.id,)
    elif topic is Topic.STORIES:
        assert isinstance(message, StoryEventV2)
        assert message.story_id in story_line(message)
    elif topic is Topic.MEMBERS:
        assert isinstance(message, StoryMemberV1)
        # The cluster stage writes such a record when the article of that id joins a story.
        example = CONTRACTS[Topic.ENRICHED].model_validate_json(
            next(EXAMPLES_DIR.glob("articles.enriched/*.json")).read_bytes()
        )
        assert isinstance(example, EnrichedArticleV1)
        clusterer = StoryClusterer({}, ClusterConfig())
        fingerprint = members.fingerprint(example)
        clusterer.add(example, members.payload(example, fingerprint))
        [(article_id, story_id, version)] = clusterer.moved
        record = members.member_record(clusterer.members, article_id, story_id, version)
        assert record is not None and record.article_id == example.id
        assert record.story_id is not None and record.story_id.startswith("st-")
    elif topic is Topic.CLUSTER_TICKS:
        assert isinstance(message, ClusterTickV1)
        # A tick closes its shard's stories once the shard's clock is past the story window.
        example = CONTRACTS[Topic.ENRICHED].model_validate_json(
            next(EXAMPLES_DIR.glob("articles.enriched/*.json")).read_bytes()
        )
        assert isinstance(example, EnrichedArticleV1)
        enriched = example
        clusterer = StoryClusterer({}, ClusterConfig(window_hours=1), language=message.shard)
        clusterer.add(enriched.model_copy(update={"language": message.shard}))
        wall = [0.0]
        clock = ShardClock(lambda: wall[0])
        clock.saw(enriched.ingested_at)
        clocks = {message.shard: clock}
        assert closed_by_tick(message.shard, clusterer, clocks) == []  # it has just had copy
        wall[0] += 2 * 3600.0  # two quiet hours, no more copy
        closed = closed_by_tick(message.shard, clusterer, clocks)
        assert [event.event for event in closed] == ["closed"]
        assert closed_by_tick(message.shard, clusterer, clocks) == []  # closed once
    else:
        assert isinstance(message, DeadLetterV1)
        assert message.reason in dead_letter_line(message)
