"""Corrections and kills through the clean core: a higher revision is new copy, never a
redelivery nor a duplicate of its own earlier version; a kill reaches its article's language."""

from datetime import UTC, datetime, timedelta
from typing import Any

from schemas.articles import RawArticleV1
from services.clean.core import WITHDRAWN_BODY, clean
from services.clean.memory import SourceMemory

NOW = datetime(2016, 3, 26, tzinfo=UTC)
FIRST = (
    "The city council voted on Tuesday to close the old bridge to lorries after engineers "
    "found deep cracks in two of its supporting piers during a routine inspection.\n"
    "Drivers will have to take the ring road, which the council says adds about a quarter "
    "of an hour to the journey at the busiest times of the day.\n"
)
# The same story corrected: one figure changed, so its body is a near-duplicate of the first.
CORRECTED = FIRST.replace("two of its supporting piers", "three of its supporting piers")
OTHER = (
    "Farmers in the valley say the late frost has destroyed most of this year's apricot "
    "blossom, and some of them expect to lose the whole of their harvest as a result.\n"
    "The growers' union has asked the ministry for emergency help, as it did after the "
    "floods that hit the same farms six years ago.\n"
)


def _memory() -> SourceMemory:
    templates: dict[str, Any] = {}
    fingerprints: dict[str, Any] = {}
    return SourceMemory(templates, fingerprints)


def _raw(text: str | None, revision: int | None, minutes: int = 0, **extra: Any) -> RawArticleV1:
    fields: dict[str, Any] = {"title": "Bridge closed to lorries", **extra}
    return RawArticleV1(
        id="story-1", source="valley-news", text=text, revision=revision,
        ingested_at=NOW + timedelta(minutes=minutes), **fields,
    )


def test_a_correction_is_not_a_redelivery_nor_a_duplicate_of_itself() -> None:
    memory = _memory()
    first = clean(_raw(FIRST, 1), memory, max_body_chars=100_000, now=NOW)
    corrected = clean(_raw(CORRECTED, 2, minutes=5), memory, max_body_chars=100_000, now=NOW)
    assert first.duplicate_of is None and corrected.duplicate_of is None
    assert "three of its supporting piers" in corrected.body
    assert (first.revision, corrected.revision) == (1, 2)
    assert memory.fingerprints[corrected.id]["revision"] == 2


def test_a_late_lower_version_is_a_redelivery_with_the_first_answer() -> None:
    memory = _memory()
    clean(_raw(FIRST, 2), memory, max_body_chars=100_000, now=NOW)
    late = clean(_raw(CORRECTED, 1, minutes=5), memory, max_body_chars=100_000, now=NOW)
    assert late.revision == 1 and late.duplicate_of is None
    assert memory.fingerprints[late.id]["revision"] == 2  # the memory still holds version 2


def test_a_copy_of_the_earlier_version_does_not_make_the_correction_its_duplicate() -> None:
    memory = _memory()
    clean(_raw(FIRST, 1), memory, max_body_chars=100_000, now=NOW)
    copy = RawArticleV1(id="copy", source="valley-news", text=FIRST, ingested_at=NOW)
    assert clean(copy, memory, max_body_chars=100_000, now=NOW).duplicate_of is not None
    corrected = clean(_raw(CORRECTED, 2, minutes=5), memory, max_body_chars=100_000, now=NOW)
    assert corrected.duplicate_of is None


def test_a_kill_without_copy_keeps_the_articles_headline_and_language() -> None:
    memory = _memory()
    first = clean(_raw(FIRST, 1, title=None), memory, max_body_chars=100_000, now=NOW)
    kill = _raw(None, 2, minutes=9, withdrawn=True, language="fr")
    killed = clean(kill, memory, max_body_chars=100_000, now=NOW)
    assert killed.withdrawn and killed.id == first.id
    assert killed.language == first.language == "en"  # the article's, not the sender's tag
    assert killed.headline == first.headline
    assert killed.body == WITHDRAWN_BODY
    # Nothing learned: the kill neither replaced the fingerprint nor counted toward templates.
    assert memory.fingerprints[first.id]["revision"] == 1


def test_a_kill_of_an_unknown_article_uses_the_senders_language() -> None:
    killed = clean(
        _raw(None, 2, withdrawn=True, language="nb-NO"), _memory(), max_body_chars=100_000,
        now=NOW,
    )
    assert (killed.language, killed.headline) == ("nb", "Bridge closed to lorries")


def test_the_senders_located_is_the_dateline_when_the_copy_prints_none() -> None:
    article = clean(
        _raw(OTHER, None, located="Valence"), _memory(), max_body_chars=100_000, now=NOW
    )
    assert article.dateline_place == "Valence"


def test_corrections_do_not_teach_an_article_to_its_outlets_template() -> None:
    memory = _memory()
    for revision in (1, 2, 3):
        text = FIRST.replace("two of its", f"{revision + 1} of its")
        clean(_raw(text, revision, minutes=revision), memory, max_body_chars=100_000, now=NOW)
    fourth = clean(_raw(FIRST.replace("two of its", "five of its"), 4, minutes=9), memory,
                   max_body_chars=100_000, now=NOW)
    # The unchanged second paragraph is still the article's, not the outlet's template.
    assert "Drivers will have to take the ring road" in fourth.body
