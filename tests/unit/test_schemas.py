"""The contracts hold their promises: frozen, no extra fields, JSON Schema files up to date."""

from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from schemas.articles import RawArticleV1
from schemas.registry import CONTRACTS, stale_schema_files
from schemas.topics import DEAD_LETTER_TOPICS, Topic

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def test_checked_in_json_schemas_match_the_models() -> None:
    assert stale_schema_files() == [], "run `make schemas` and commit schemas/json/"


def test_every_topic_has_a_contract_and_every_stage_a_dead_letter_topic() -> None:
    assert set(CONTRACTS) == set(Topic)
    assert set(DEAD_LETTER_TOPICS) == {"clean", "enrich", "cluster"}


def test_raw_article_needs_copy_and_rejects_unknown_fields() -> None:
    with pytest.raises(ValidationError, match="text"):
        RawArticleV1(id="a", source="s", ingested_at=NOW)
    with pytest.raises(ValidationError, match="extra"):
        RawArticleV1(id="a", source="s", text="x", ingested_at=NOW, colour="red")  # type: ignore[call-arg]


def test_contracts_are_frozen_and_need_aware_times() -> None:
    article = RawArticleV1(id="a", source="s", text="x", ingested_at=NOW)
    with pytest.raises(ValidationError):
        article.id = "b"  # type: ignore[misc]
    with pytest.raises(ValidationError, match="timezone"):
        RawArticleV1(id="a", source="s", text="x", ingested_at=datetime(2026, 1, 1))  # noqa: DTZ001 - the naive time is the point of the test
