"""The member entry keeps what `stories.members` lists an article by; the fingerprint tells
copies apart; a member record is built from the entry alone, after any move."""

from datetime import UTC, datetime

from schemas.articles import CleanArticleV1
from services.cluster import members

T = datetime(2016, 3, 24, 12, tzinfo=UTC)


def article(body: str, **facts: object) -> CleanArticleV1:
    return CleanArticleV1(
        id="a1", source="reuters", headline="Kerry meets Putin", body=body, language="en",
        ingested_at=T, **facts,  # type: ignore[arg-type]  # literal test facts
    )


def test_the_same_copy_has_the_same_fingerprint_and_other_copy_another() -> None:
    assert members.fingerprint(article("Kerry met Putin.")) == members.fingerprint(
        article("Kerry met Putin.")
    )
    assert members.fingerprint(article("Kerry met Putin.")) != members.fingerprint(
        article("A quake hit Chile.")
    )


def test_a_member_record_lists_the_article_from_its_entry_in_its_story_now() -> None:
    copy = article(
        "Kerry met Putin.", url="https://example.org/k", published_at=T, duplicate_of="a0"
    )
    table = {"a1": ["s1", *members.payload(copy, members.fingerprint(copy))]}
    assert members.story_of(table, "a1") == ("s1", members.fingerprint(copy))
    table["a1"] = ["s2", *table["a1"][1:]]  # a merge moved it: the core rewrites the story id
    record = members.member_record(table, "a1", "s2", 4)
    assert record is not None
    assert (record.article_id, record.story_id, record.story_version) == ("a1", "s2", 4)
    assert (record.source, record.headline, record.url, record.language) == (
        "reuters", "Kerry meets Putin", "https://example.org/k", "en"
    )
    assert (record.published_at, record.ingested_at, record.duplicate_of) == (T, T, "a0")


def test_an_entry_of_an_older_release_has_no_record_and_a_missing_one_neither() -> None:
    table = {"a1": ["s1", "fingerprint"]}
    assert members.story_of(table, "a1") == ("s1", "fingerprint")
    assert members.member_record(table, "a1", "s1", 2) is None
    assert members.member_record(table, "a2", "s1", 2) is None
