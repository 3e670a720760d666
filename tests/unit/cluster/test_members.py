"""Which story each article is in follows the story events; the fingerprint tells copies apart."""

from datetime import UTC, datetime

from schemas.articles import CleanArticleV1
from schemas.stories import StoryEventV1
from services.cluster import members

T = datetime(2016, 3, 24, 12, tzinfo=UTC)


def event(story_id: str, kind: str, article_ids: tuple[str, ...], version: int = 1) -> StoryEventV1:
    return StoryEventV1(
        story_id=story_id, version=version, event=kind, language="en", title="Kerry in Moscow",
        article_ids=article_ids, sources=("reuters",), article_count=len(article_ids),
        first_seen=T, last_seen=T,
    )


def article(body: str) -> CleanArticleV1:
    return CleanArticleV1(
        id="a1", source="reuters", headline="Kerry meets Putin", body=body, language="en",
        ingested_at=T,
    )


def test_the_same_copy_has_the_same_fingerprint_and_other_copy_another() -> None:
    assert members.fingerprint(article("Kerry met Putin.")) == members.fingerprint(
        article("Kerry met Putin.")
    )
    assert members.fingerprint(article("Kerry met Putin.")) != members.fingerprint(
        article("A quake hit Chile.")
    )


def test_membership_follows_joins_merges_splits_and_closes() -> None:
    table: dict = {}
    members.follow(table, [event("s1", "created", ("a1",))], {"a1": "p1"})
    assert members.story_of(table, "a1") == ("s1", "p1")
    members.follow(table, [event("s2", "created", ("a2",))], {"a2": "p2"})
    # a3 joins s1 and bridges s2 into it: s1's update lists every article, s2 is merged away.
    members.follow(
        table,
        [event("s1", "updated", ("a1", "a3", "a2"), 2), event("s2", "merged", ("a2",), 2)],
        {"a3": "p3"},
    )
    assert {aid: table[aid][0] for aid in table} == {"a1": "s1", "a2": "s1", "a3": "s1"}
    assert table["a2"] == ["s1", "p2"]  # the fingerprint stays with the article
    # A split moves a2 to a new story.
    members.follow(
        table, [event("s1", "split", ("a1", "a3"), 3), event("s3", "created", ("a2",))], {}
    )
    assert table["a2"][0] == "s3" and table["a1"][0] == "s1"
    members.follow(table, [event("s1", "closed", ("a1", "a3"), 4)], {})
    assert members.story_of(table, "a1") is None and members.story_of(table, "a2") is not None
