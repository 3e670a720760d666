"""The board's state: latest event per story, members that move, the bounds, filters, order."""

from datetime import UTC, datetime, timedelta

import orjson

from schemas.stories import StoryEntityV1, StoryEventV2, StoryMemberV1, StorySourceV2
from services.board.core import Board, StoryFilter

NOW = datetime(2026, 12, 6, 3, 0, tzinfo=UTC)


def story(
    story_id: str, version: int = 1, *, event: str = "created", count: int = 1,
    title: str = "Kerry meets Putin in Moscow", last: datetime = NOW, language: str = "en",
    sources: tuple[str, ...] = ("xinhua",), entities: tuple[str, ...] = ("John Kerry",),
    keywords: tuple[str, ...] = ("syria",), merged_into: str | None = None,
) -> StoryEventV2:
    return StoryEventV2(
        story_id=story_id, version=version, event=event,  # type: ignore[arg-type]
        language=language, title=title, article_count=count, source_count=len(sources),
        sources=tuple(StorySourceV2(source=s, articles=1) for s in sources),
        top_entities=tuple(StoryEntityV1(text=e, label="PERSON", articles=1) for e in entities),
        keywords=keywords, first_seen=last - timedelta(hours=1), last_seen=last,
        merged_into=merged_into,
    )


def member(
    article_id: str, story_id: str | None, *, source: str = "xinhua", minutes: int = 0,
    headline: str = "Kerry arrives", version: int = 1,
) -> StoryMemberV1:
    return StoryMemberV1(
        article_id=article_id, story_id=story_id, story_version=version, source=source,
        headline=headline, url=f"https://example.org/{article_id}", language="en",
        published_at=NOW + timedelta(minutes=minutes),
        ingested_at=NOW + timedelta(minutes=minutes),
    )


def test_the_latest_version_wins_and_a_stale_delivery_changes_nothing() -> None:
    board = Board()
    assert board.apply_story(story("st-1", 2, event="updated", count=2))
    assert not board.apply_story(story("st-1", 1, count=1))
    assert not board.apply_story(story("st-1", 2, event="updated", count=2))
    assert board.stories["st-1"].event.article_count == 2
    assert board.stale == 2


def test_members_arriving_before_their_story_are_listed_when_it_comes() -> None:
    board = Board()
    assert board.apply_member(member("a/1", "st-1")) is None
    board.apply_member(member("a/2", "st-1", minutes=-5))
    board.apply_story(story("st-1", 1, count=2))
    assert [m.article_id for m in board.articles("st-1")] == ["a/2", "a/1"]


def test_an_article_that_moves_leaves_its_old_story_and_a_withdrawn_one_leaves_all() -> None:
    board = Board()
    board.apply_story(story("st-1"))
    board.apply_story(story("st-2"))
    board.apply_member(member("a/1", "st-1"))
    board.apply_member(member("a/2", "st-1"))
    assert board.apply_member(member("a/1", "st-2", version=2)) == "st-2"
    assert [m.article_id for m in board.articles("st-1")] == ["a/2"]
    assert [m.article_id for m in board.articles("st-2")] == ["a/1"]
    assert board.apply_member(member("a/2", None)) == "st-1"
    assert board.articles("st-1") == []
    assert board.remove_member("a/1") == "st-2"
    assert board.articles("st-2") == []


def test_a_story_lists_only_its_latest_members_and_the_board_only_so_many_stories() -> None:
    board = Board(max_stories=10, members_per_story=5)
    board.apply_story(story("st-big", count=8))
    for n in range(8):
        board.apply_member(member(f"a/{n}", "st-big", minutes=n))
    assert [m.article_id for m in board.articles("st-big")] == [f"a/{n}" for n in range(3, 8)]
    assert len(board.placed) == 5
    for n in range(12):  # older copy, one closed
        board.apply_story(story(f"st-{n}", last=NOW - timedelta(days=n),
                                event="closed" if n == 0 else "created"))
    # Past the bound it evicts down to nine tenths: the closed story first, then the oldest.
    assert 9 <= len(board.stories) <= 10
    assert "st-0" not in board.stories and "st-11" not in board.stories
    assert {"st-big", "st-1", "st-2"} <= set(board.stories)
    assert len(board.placed) == 5  # the big story's listed articles, nothing of the evicted


def test_waiting_members_are_bounded_and_follow_their_article() -> None:
    board = Board(max_stories=10, members_per_story=5)
    for n in range(15):  # members of 15 stories not seen yet: the oldest 5 groups dropped
        board.apply_member(member(f"a/{n}", f"st-{n}"))
    assert len(board.waiting) == 10 and len(board.placed) == 10
    board.apply_member(member("a/14", "st-other"))  # it moved before its story came
    board.apply_story(story("st-14"))
    board.apply_story(story("st-other"))
    assert board.articles("st-14") == []
    assert [m.article_id for m in board.articles("st-other")] == ["a/14"]
    board.apply_story(story("st-0"))  # its waiting members were dropped with the bound
    assert board.articles("st-0") == []


def test_filters_each_narrow_the_list() -> None:
    board = Board()
    board.apply_story(story("st-kerry", count=5, sources=("xinhua", "tass")))
    board.apply_story(story("st-quake", title="Earthquake hits Chile", entities=("Chile",),
                            keywords=("earthquake",), sources=("reuters",), language="es"))
    board.apply_story(story("st-old", event="closed"))

    def ids(**query: str) -> list[str]:
        return [s.event.story_id for s in board.select(StoryFilter.of(query), NOW)[1]]

    assert ids() == ["st-kerry", "st-quake"]  # live only, most articles first
    assert ids(entity="john kerry") == ["st-kerry"]
    assert ids(keyword="Earthquake") == ["st-quake"]
    assert ids(outlet="TASS") == ["st-kerry"]
    assert ids(language="es") == ["st-quake"]
    assert ids(q="chile") == ["st-quake"]
    assert ids(q="nothing like it") == []
    assert set(ids(ended="1")) == {"st-kerry", "st-quake", "st-old"}


def test_an_outlet_filter_also_sees_outlets_beyond_the_listed_top_ones() -> None:
    board = Board()
    board.apply_story(story("st-1", sources=("xinhua",)))
    board.apply_member(member("a/1", "st-1", source="smallpaper"))
    assert board.select(StoryFilter.of({"outlet": "smallpaper"}), NOW)[0] == 1


def test_most_active_first_recent_copy_before_bigger_older_stories() -> None:
    board = Board()
    board.apply_story(story("st-old-big", count=50, last=NOW - timedelta(days=2)))
    board.apply_story(story("st-new-small", count=2, last=NOW - timedelta(minutes=5)))
    board.apply_story(story("st-new-big", count=9, last=NOW - timedelta(hours=3)))
    order = [s.event.story_id for s in board.select(StoryFilter(), NOW)[1]]
    assert order == ["st-new-big", "st-new-small", "st-old-big"]


def test_the_page_json_is_valid_and_paged() -> None:
    board = Board()
    for n in range(30):
        board.apply_story(story(f"st-{n}", count=n + 1, title=f'"quoted" <b>{n}</b>'))
    page = orjson.loads(board.page_json(StoryFilter(), NOW, offset=5, limit=10))
    assert page["total"] == 30 and page["offset"] == 5 and page["limit"] == 10
    assert [s["article_count"] for s in page["stories"]] == list(range(25, 15, -1))
    assert page["stories"][0]["title"] == '"quoted" <b>24</b>'


def test_detail_lists_articles_in_time_order_with_lifecycle_and_merges() -> None:
    board = Board()
    board.apply_story(story("st-1", count=1))
    board.apply_story(story("st-2", count=1))
    board.apply_member(member("a/late", "st-1", minutes=30))
    board.apply_member(member("a/early", "st-1", minutes=-30, source="tass"))
    board.apply_story(story("st-2", 2, event="merged", merged_into="st-1"))
    board.apply_story(story("st-1", 2, event="updated", count=3))
    detail = board.detail("st-1")
    assert detail is not None
    assert [a["article_id"] for a in detail["articles"]] == ["a/early", "a/late"]
    assert [a["source"] for a in detail["articles"]] == ["tass", "xinhua"]
    assert [step["event"] for step in detail["lifecycle"]] == ["created", "absorbed", "updated"]
    assert detail["lifecycle"][1]["merged_from"] == "st-2"
    assert detail["entities_by_type"] == {"PERSON": [{"text": "John Kerry", "articles": 1}]}
    assert board.detail("st-none") is None
    # The merged story is no longer live: off the list unless ended stories are asked for.
    assert [s.event.story_id for s in board.select(StoryFilter(), NOW)[1]] == ["st-1"]


def test_a_tombstone_removes_the_story_and_its_listing() -> None:
    board = Board()
    board.apply_story(story("st-1"))
    board.apply_member(member("a/1", "st-1"))
    board.remove_story("st-1")
    assert board.detail("st-1") is None and board.placed == {}
