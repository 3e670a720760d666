"""Every example message beside the schemas is valid for its topic and goes through its stage.

One parametrised test per example file (`schemas/examples/<topic>/*.json`): the file must
validate against its topic's contract, and the stage that reads the topic must accept it and
produce the next topic's contract.
"""

import json
from pathlib import Path

import pytest
from spacy.language import Language

from schemas.registry import CONTRACTS, EXAMPLES_DIR
from schemas.topics import Topic
from services.clean.core import clean
from services.clean.memory import SourceMemory
from services.cluster.core import ClusterConfig, StoryClusterer
from services.enrich.core import enrich_batch, load_nlp
from services.settings import Settings
from services.tail.render import dead_letter_line, story_line

EXAMPLES = sorted(EXAMPLES_DIR.glob("*/*.json"))


@pytest.fixture(scope="module")
def nlp() -> Language:
    return load_nlp(Settings().spacy_model)


def test_every_topic_has_an_example() -> None:
    assert {Topic(path.parent.name) for path in EXAMPLES} >= {
        Topic.RAW, Topic.CLEAN, Topic.ENRICHED, Topic.STORIES, Topic.DLQ_CLEAN
    }


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_example_is_valid_and_passes_its_stage(path: Path, nlp: Language) -> None:
    topic = Topic(path.parent.name)
    message = CONTRACTS[topic].model_validate_json(path.read_bytes())
    # The example is exactly what the contract serialises back to (no silently ignored field).
    assert json.loads(message.model_dump_json()) == json.loads(path.read_text())
    if topic is Topic.RAW:
        article = clean(message, SourceMemory({}, {}), max_body_chars=200_000)
        assert article.id == message.id and article.body
    elif topic is Topic.CLEAN:
        [enriched] = enrich_batch([message], nlp)
        assert enriched.id == message.id and enriched.entities
    elif topic is Topic.ENRICHED:
        events = StoryClusterer({}, ClusterConfig()).add(message)
        assert [event.event for event in events] == ["created"]
        assert events[0].article_ids == (message.id,)
    elif topic is Topic.STORIES:
        assert message.story_id in story_line(message)
    else:
        assert message.reason in dead_letter_line(message)
