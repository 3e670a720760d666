"""The cluster bench's worlds: a renamed article is the original with its terms renamed."""

from datetime import UTC, datetime

from lab.bench.cluster import (
    _article_in_world,
    _live_stories,
    _story_in_world,
    _suffix,
    _world_id,
)
from schemas.articles import EnrichedArticleV1, EntityV1
from services.cluster import roster
from services.cluster.core import ClusterConfig, StoryClusterer

T0 = datetime(2016, 3, 24, 9, 0, tzinfo=UTC)


def _article(article_id: str, headline: str, body: str) -> EnrichedArticleV1:
    names = [("John Kerry", "PERSON"), ("Putin", "PERSON"), ("Moscow", "GPE"),
             ("United Nations", "ORG")]
    return EnrichedArticleV1(
        id=article_id, source="wire", headline=headline, body=body, language="en",
        published_at=T0, ingested_at=T0,
        entities=tuple(
            EntityV1(text=name, label=label, count=2, in_headline=name in headline, in_lead=True)
            for name, label in names
        ),
    )


# Plurals, possessives, stop words, a number, a hyphenated word and a written day: each is
# a different path through the clusterer's tokeniser.
KERRY = _article(
    "kerry-1", "Kerry meets Putin's aides in Moscow talks",
    "U.S. Secretary of State John Kerry met Russian President Vladimir Putin in Moscow on "
    "March 24 for four-hour talks on Syria's ceasefire and Ukraine. The United Nations "
    "envoys said 26 cities were covered.",
)
KERRY_2 = _article(
    "kerry-2", "Putin and Kerry hold Moscow talks on Syria",
    "Russian President Vladimir Putin and U.S. Secretary of State John Kerry held talks in "
    "Moscow on March 24 about the ceasefire in Syria and the war in Ukraine.",
)


def _story(clusterer: StoryClusterer, article: EnrichedArticleV1) -> dict[str, object]:
    """The one-article story the clusterer makes of `article`, as the bench makes its bases."""
    comparable = clusterer._comparable(article)
    vectors = clusterer._stored_vectors(comparable)
    return dict(clusterer._new_story("base", article, comparable, vectors))


def test_a_renamed_article_makes_the_renamed_story_of_the_original() -> None:
    clusterer = StoryClusterer({}, ClusterConfig())
    base = _story(clusterer, KERRY)
    for world in (0, 18, 400):  # suffixes of one and two letters
        expected = _story_in_world(base, world, "bench-0")
        renamed = _story(clusterer, _article_in_world(KERRY, world, 0))
        for field in ("title", "title_terms", "terms", "headline", "members", "entities",
                      "months", "years", "dated"):
            assert renamed[field] == expected[field], (world, field)
        suffix = _suffix(world)
        assert "putin" + suffix in expected["terms"]  # "Putin's" is renamed as its term
        assert "#26" in expected["terms"]  # numbers are every world's
        assert expected["months"] == {"mar": 1}  # so are the days copy writes
        assert "who:putin" + suffix in expected["entities"]
        assert "org:united" + suffix + " nation" + suffix in expected["entities"]


def test_worlds_share_no_story() -> None:
    """A second article about the event joins its story in the story's world, and starts
    one of its own in another world."""
    base = _story(StoryClusterer({}, ClusterConfig()), KERRY)
    story = _story_in_world(base, 3, "bench-0")
    rosters: dict = {}
    roster.append(rosters, "bench-0", 0, story["first_ids"])
    clusterer = StoryClusterer({"bench-0": story}, ClusterConfig(), rosters=rosters)
    same_world = clusterer.add(_article_in_world(KERRY_2, 3, 1))
    assert [(e.event, e.story_id) for e in same_world] == [("updated", "bench-0")]
    other_world = clusterer.add(_article_in_world(KERRY_2, 4, 2))
    assert [e.event for e in other_world] == ["created"]


LOHAN = _article(
    "lohan-1", "Lindsay Lohan checks into rehab at Betty Ford Center",
    "Actress Lindsay Lohan has checked into the Betty Ford Center in Rancho Mirage, her "
    "lawyer said. The Mean Girls star entered the rehab facility under a court order.",
)


def test_live_worlds_are_the_clusterers_stories_with_their_records() -> None:
    """Each world holds the stories the clusterer makes of the corpus, renamed, and every
    article of a story of several has its record (what a split check reads; a one-article
    story is its own), made when first read."""
    config = ClusterConfig()
    corpus = [KERRY, KERRY_2, LOHAN.model_copy(update={"entities": ()})]
    stories, records, worlds, _, rosters = _live_stories(corpus, 3, config)
    assert worlds == 2  # two stories a world: the second world is partly live
    assert sorted(s["article_count"] for s in stories.values()) == [1, 2, 2]
    for story_id, story in stories.items():
        world = int(story_id[1 : story_id.index("/")])
        held = roster.members(rosters, story_id, story["article_count"])
        assert len(held) == story["article_count"] and held[-1] == story["latest_ids"][-1]
        assert all(a.startswith(f"w{world}/") for a in held)
        for article_id in held:
            if len(held) == 1:
                assert article_id not in records
                continue
            assert article_id in records
            assert records[article_id]["first_ids"] == [article_id]
    kerry = records[_world_id(1, "kerry-1")]
    assert "putin" + _suffix(1) in kerry["terms"]
    assert "query-1" not in records and _world_id(2, "kerry-1") not in records
    del records[_world_id(1, "kerry-1")]
    assert _world_id(1, "kerry-1") not in records
    records[_world_id(1, "kerry-1")] = kerry
    assert records[_world_id(1, "kerry-1")] is kerry
