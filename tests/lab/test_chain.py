"""The in-process chain: raw copy in, the story events the cluster stage would publish out."""

from datetime import UTC, datetime
from pathlib import Path

import pytest
from spacy.language import Language

from lab import chain
from lab.cluster.evaluate import read_gold
from schemas.articles import RawArticleV1
from services.enrich.core import load_nlp
from services.identity import article_key
from services.settings import Settings

NOW = datetime(2016, 3, 24, 12, tzinfo=UTC)


@pytest.fixture(scope="module")
def nlp() -> Language:
    return load_nlp(Settings().spacy_model)


def test_the_five_seed_articles_come_out_as_one_story(seeds_dir: Path, nlp: Language) -> None:
    raws, _ = read_gold([seeds_dir])
    events = chain.run(raws, nlp)
    latest = {event.story_id: event for event in events}
    assert len(latest) == 1
    (story,) = latest.values()
    joined = [article_id for event in events for article_id in event.joined_ids]
    assert story.article_count == len(raws)
    assert sorted(joined) == sorted(article_key(raw.source, raw.id) for raw in raws)
    assert events[0].event == "created"


def test_a_rejected_article_goes_no_further(seeds_dir: Path, nlp: Language) -> None:
    raws, _ = read_gold([seeds_dir])
    junk = RawArticleV1(id="junk-1", source="junk", text="\x00\x01 binary", ingested_at=NOW)
    cleaned = chain.clean_all([junk, *raws])
    keys = [article_key(raw.source, raw.id) for raw in raws]
    assert [article.id for article in cleaned] == keys
    shards = chain.cluster_all(chain.enriched(chain.enrich_all(cleaned, nlp)))
    assert article_key("junk", "junk-1") not in shards.assignment()
    assert set(shards.assignment()) == set(keys)
