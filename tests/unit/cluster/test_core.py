"""StoryClusterer on literal enriched articles: joins, splits, state, resume, closing."""

import copy
import json
from datetime import UTC, datetime, timedelta
from typing import Any, TypedDict

from schemas.articles import EnrichedArticleV1, EntityV1
from services.cluster import roster
from services.cluster.core import FEATURES, ClusterConfig, StoryClusterer, story_id_for

T0 = datetime(2013, 5, 2, 9, 0, tzinfo=UTC)


def _article(
    article_id: str,
    headline: str,
    body: str,
    entities: list[tuple[str, str]],
    hours: float = 0.0,
    **facts: object,
) -> EnrichedArticleV1:
    """An enriched article; each entity is (name, label), named in the lead."""
    return EnrichedArticleV1(
        id=article_id, source=f"wire-{article_id}", headline=headline, body=body,
        # Fed in as it was published: ingest time (first/last seen, closing) follows it.
        language="en", published_at=T0 + timedelta(hours=hours),
        ingested_at=T0 + timedelta(hours=hours),
        entities=tuple(
            EntityV1(text=name, label=label, count=2, in_headline=name in headline, in_lead=True)
            for name, label in entities
        ),
        **facts,  # type: ignore[arg-type]  # literal test facts
    )


REID = [("Tara Reid", "PERSON"), ("Promises Treatment Center", "ORG"), ("Malibu", "GPE")]
LOHAN = [("Lindsay Lohan", "PERSON"), ("Betty Ford Center", "ORG"), ("Rancho Mirage", "GPE")]

REID_1 = _article(
    "reid-1", "Tara Reid checks into rehab at Promises in Malibu",
    "Actress Tara Reid has checked herself into the Promises Treatment Center in Malibu, her "
    "publicist said. The American Pie star entered the rehab facility on Friday.", REID,
)
REID_2 = _article(
    "reid-2", "Publicist: Tara Reid enters Promises rehab",
    "Tara Reid has entered rehab at the Promises Treatment Center in Malibu, California, her "
    "representative confirmed. The actress checked in on Friday.", REID, hours=5,
)
REID_3 = _article(
    "reid-3", "Tara Reid in rehab",
    "The actress Tara Reid is in rehab at the Malibu facility Promises, a spokesman said.",
    REID, hours=9, duplicate_of="reid-1",
)
LOHAN_1 = _article(
    "lohan-1", "Lindsay Lohan checks into rehab at Betty Ford Center",
    "Actress Lindsay Lohan has checked into the Betty Ford Center in Rancho Mirage, her "
    "lawyer said. The Mean Girls star entered the rehab facility under a court order.",
    LOHAN, hours=7,
)


def _members(clusterer: StoryClusterer) -> list[set[str]]:
    """Each live story's articles, by the member entries; each story's roster says the same,
    in arrival order, each article once."""
    groups: dict[str, set[str]] = {story_id: set() for story_id in clusterer.stories}
    for article_id, entry in clusterer.members.items():
        groups[entry[0]].add(article_id)
    for story_id, story in clusterer.stories.items():
        listed = roster.members(clusterer.rosters, story_id, story["article_count"])
        assert len(listed) == story["article_count"] and set(listed) == groups[story_id]
        assert listed[: len(story["first_ids"])] == story["first_ids"]
        assert listed[-len(story["latest_ids"]) :] == story["latest_ids"]
    return sorted(groups.values(), key=sorted)


class _Tables(TypedDict):
    """The four mappings of a clusterer's state, as the agent's tables hold them."""

    stories: dict[str, Any]
    records: dict[str, Any]
    members: dict[str, Any]
    rosters: dict[str, Any]


def _tables() -> _Tables:
    return {"stories": {}, "records": {}, "members": {}, "rosters": {}}


def test_same_event_articles_join_one_story() -> None:
    stories: dict = {}
    clusterer = StoryClusterer(stories, ClusterConfig())
    events = [e for a in (REID_1, REID_2) for e in clusterer.add(a)]
    assert [(e.event, e.version) for e in events] == [("created", 1), ("updated", 2)]
    assert events[1].first_article_ids == ("reid-1", "reid-2")
    assert (events[1].joined_ids, events[1].joined_count) == (("reid-2",), 1)
    assert clusterer.moved == [("reid-2", events[1].story_id, 2)]
    assert _members(clusterer) == [{"reid-1", "reid-2"}]


def test_two_rehab_stays_of_different_people_split() -> None:
    stories: dict = {}
    clusterer = StoryClusterer(stories, ClusterConfig())
    for article in (REID_1, LOHAN_1, REID_2):
        clusterer.add(article)
    assert _members(clusterer) == [{"lohan-1"}, {"reid-1", "reid-2"}]
    assert clusterer.live_count == 2


def test_story_state_counts_duplicates_sources_and_times() -> None:
    clusterer = StoryClusterer({}, ClusterConfig())
    clusterer.add(REID_1)
    clusterer.add(REID_2)
    [event] = clusterer.add(REID_3)
    assert (event.event, event.version, event.article_count) == ("updated", 3, 3)
    assert event.duplicate_count == 1
    assert [(s.source, s.articles) for s in event.sources] == [
        ("wire-reid-1", 1), ("wire-reid-2", 1), ("wire-reid-3", 1)
    ]
    assert event.source_count == 3
    assert event.first_seen == T0 and event.last_seen == T0 + timedelta(hours=9)
    assert event.top_entities[0].text == "Tara Reid" and event.top_entities[0].articles == 3
    assert "rehab" in event.keywords


def test_a_name_labelled_two_ways_is_listed_once_under_its_usual_label() -> None:
    clusterer = StoryClusterer({}, ClusterConfig())
    two_ways = REID_2.model_copy(
        update={"entities": (*REID_2.entities, EntityV1(
            text="Malibu", label="ORG", count=1, in_headline=False, in_lead=False
        ))}
    )
    clusterer.add(REID_1)
    [event] = clusterer.add(two_ways)
    story = clusterer.stories[event.story_id]
    # Stored apart (they are two keys), listed once in the event, as the place both articles name.
    assert {"where:malibu", "org:malibu"} <= set(story["entities"])
    assert [(e.text, e.label, e.articles) for e in event.top_entities if e.text == "Malibu"] == [
        ("Malibu", "GPE", 2)
    ]
    assert len(event.top_entities) == len({e.text for e in event.top_entities}) == 3


def test_stored_state_is_plain_json() -> None:
    stories: dict = {}
    clusterer = StoryClusterer(stories, ClusterConfig())
    for article in (REID_1, LOHAN_1, REID_2):
        clusterer.add(article)
    assert json.loads(json.dumps(stories)) == stories


class _AssignmentOnly(dict):
    """Keeps a deep copy of what is assigned, as a faust Table keeps the serialised value: a
    clusterer that mutated a story in place instead of assigning it would drift from it."""

    writes = 0

    def __setitem__(self, key, value):  # type: ignore[no-untyped-def]  # dict's own signature
        self.writes += 1
        super().__setitem__(key, copy.deepcopy(value))


def _assignment_only(config: ClusterConfig) -> tuple[dict[str, _AssignmentOnly], StoryClusterer]:
    """Four tables that keep copies of what is assigned, and a clusterer on them."""
    tables = {name: _AssignmentOnly() for name in ("stories", "records", "members", "rosters")}
    clusterer = StoryClusterer(
        tables["stories"], config, records=tables["records"], members=tables["members"],
        rosters=tables["rosters"],
    )
    return tables, clusterer


def test_state_is_written_by_assignment_one_key_per_table_per_article() -> None:
    plain = _tables()
    tables, clusterer = _assignment_only(ClusterConfig())
    reference = StoryClusterer(config=ClusterConfig(), **plain)
    for article in (REID_1, LOHAN_1, REID_2, REID_3):
        for table in tables.values():
            table.writes = 0
        assert clusterer.add(article) == reference.add(article)
        # The story, the article's member entry, the last chunk of the story's roster: a
        # join writes as much at 3 articles as at 3,000.
        writes = {name: table.writes for name, table in tables.items() if name != "records"}
        assert writes == {"stories": 1, "members": 1, "rosters": 1}
    assert tables == plain


def test_a_join_writes_the_same_bytes_however_big_the_story() -> None:
    tables, clusterer = _assignment_only(ClusterConfig(join_threshold=-1e9))
    written: list[int] = []
    for n in range(300):
        article = REID_2.model_copy(update={"id": f"reid-{n:04d}", "source": f"wire-{n % 7}"})
        before = {name: dict(table) for name, table in tables.items()}
        clusterer.add(article)
        written.append(sum(
            len(json.dumps(value)) for name, table in tables.items()
            for key, value in table.items() if before[name].get(key) != value
        ))
        if n == 0:
            continue
        [event] = clusterer.add(article)  # a redelivery: the story as it stands
        assert len(event.model_dump_json()) < 4096
    # Past the split sizes (no records), the bytes a join writes stay flat: the roster's last
    # chunk goes from 1 to 64 ids and starts again.
    assert max(written[100:300]) <= 1.2 * max(written[100:164])
    assert clusterer.stories[story_id_for("reid-0000")]["article_count"] == 300


def test_a_rebuilt_clusterer_resumes_identically() -> None:
    tables = _tables()
    first = StoryClusterer(config=ClusterConfig(), **tables)
    for article in (REID_1, LOHAN_1):
        first.add(article)
    resumed_tables = copy.deepcopy(tables)  # what the changelogs restore after a kill
    resumed = StoryClusterer(config=ClusterConfig(), **resumed_tables)
    for article in (REID_2, REID_3):
        assert first.add(article) == resumed.add(article)
    assert resumed_tables == tables


def test_a_redelivered_article_changes_nothing() -> None:
    stories: dict = {}
    clusterer = StoryClusterer(stories, ClusterConfig())
    clusterer.add(REID_1)
    [joined] = clusterer.add(REID_2)
    before = copy.deepcopy(stories)
    # The story as it stands, again: same version, so a subscriber sees nothing new, and an
    # event a crash kept from the broker comes out (what the first one moved is not listed).
    unmoved = joined.model_copy(update={"joined_ids": (), "joined_count": 0})
    assert clusterer.add(REID_2) == [unmoved]
    assert stories == before and clusterer.moved == []


def test_close_inactive_closes_only_stories_past_the_window() -> None:
    tables = _tables()
    clusterer = StoryClusterer(config=ClusterConfig(window_hours=72), **tables)
    clusterer.add(REID_1)  # last seen T0
    clusterer.add(LOHAN_1)  # last seen T0 + 7h
    assert clusterer.close_inactive(T0 + timedelta(hours=72)) == []
    [closed] = clusterer.close_inactive(T0 + timedelta(hours=75))
    assert (closed.event, closed.version, closed.article_count) == ("closed", 2, 1)
    assert closed.latest_article_ids == ("reid-1",) and clusterer.moved == []
    assert _members(clusterer) == [{"lohan-1"}] and clusterer.live_count == 1
    # The closed story's member entries and roster go with it.
    assert set(tables["members"]) == {"lohan-1"}
    assert list(tables["rosters"]) == [f"{story_id_for('lohan-1')}#0"]
    # A later copy of the closed event starts a new story rather than reopening it.
    later = T0 + timedelta(hours=80)
    [event] = clusterer.add(REID_2.model_copy(update={"published_at": later, "ingested_at": later}))
    assert event.event == "created"


def test_an_article_bridging_two_stories_merges_them() -> None:
    tables = _tables()
    # Nothing joins: two copies of one event start two stories...
    apart = StoryClusterer(config=ClusterConfig(join_threshold=1e9), **tables)
    apart.add(REID_1, ["kept"])
    apart.add(REID_2, ["kept"])
    assert len(tables["stories"]) == 2
    # ...until a third copy scores high against both.
    bridging = StoryClusterer(
        config=ClusterConfig(join_threshold=-1e9, merge_threshold=-1e9), **tables
    )
    events = bridging.add(REID_3)
    assert [e.event for e in events] == ["updated", "merged"]
    survivor, gone = events
    assert gone.merged_into == survivor.story_id and gone.version == 2
    assert (gone.article_count, gone.left_count) == (0, 1)
    assert survivor.article_count == 3 and survivor.joined_count == 2
    assert set(survivor.joined_ids) == {"reid-3", gone.left_ids[0]}
    # The absorbed story's article moved, told with the survivor's version, its payload kept.
    moved = gone.left_ids[0]
    assert (moved, survivor.story_id, survivor.version) in bridging.moved
    assert tables["members"][moved] == [survivor.story_id, "kept"]
    assert _members(bridging) == [{"reid-1", "reid-2", "reid-3"}]


def test_copy_about_an_old_event_does_not_close_todays_stories() -> None:
    """Closing follows ingest time: a backfilled article published years ago is fed in now."""
    stories: dict = {}
    clusterer = StoryClusterer(stories, ClusterConfig(window_hours=72))
    clusterer.add(REID_1)
    archive = LOHAN_1.model_copy(
        update={"published_at": T0 - timedelta(days=3000), "ingested_at": T0 + timedelta(hours=1)}
    )
    assert clusterer.close_inactive(archive.ingested_at) == []
    clusterer.add(archive)
    assert clusterer.close_inactive(T0 + timedelta(hours=2)) == []
    assert clusterer.live_count == 2


def test_a_story_keeps_a_bounded_number_of_member_leads() -> None:
    stories: dict = {}
    clusterer = StoryClusterer(stories, ClusterConfig(story_members=2, member_terms=5))
    for article in (REID_1, REID_2, REID_3):
        clusterer.add(article)
    [story] = stories.values()
    assert story["article_count"] == 3
    assert len(story["members"]) == 2 and all(len(m) <= 5 for m in story["members"])


def test_written_dates_give_years_and_bare_years_do_not() -> None:
    from services.cluster.text import dated_years

    assert dated_years("MOSCOW, March 24, 2016 - Kerry met Putin") == {2016}
    assert dated_years("Updated 9 September 2013, 14:08; filed 27/09/2012") == {2013, 2012}
    assert dated_years("Reid, in rehab since 1999, starred in 2005's film") == frozenset()
    # A year is four digits on their own: not the tail of a longer number.
    assert dated_years("March 24, 12016 and March 24, 20161") == frozenset()
    assert dated_years("2016-03-24, March 24, 2016") == {2016}


def test_days_written_out_give_their_months() -> None:
    from services.cluster.text import dated_months

    assert dated_months("MOSCOW, March 24, 2016 - Kerry met Putin") == {"mar"}
    assert dated_months("Rules issued on Dec. 11 took effect 15th of January") == {"dec", "jan"}
    assert dated_months("Updated 9 Sept 2013; the quake struck on Sunday, Nov 27") == {
        "sep", "nov"
    }
    # A month on its own, a word that only starts like one, a time, a name: no date.
    assert dated_months("In March, the Mayor 5 said; Marching 4 bands") == frozenset()
    assert dated_months("Maybe 12:30 works") == frozenset()
    assert dated_months("Prime Minister Theresa May 10 times said no") == frozenset()
    assert dated_months("The vote is on Friday, May 10") == {"may"}
    # A letter whose lower case is longer ("İ" -> "i̇") must not shift where a month is read.
    assert dated_months("İİ İzmir: Prime Minister Theresa May 10 times; on 3 June") == {"jun"}


def _month_features(story_body: str, article_body: str) -> tuple[float, float]:
    """(month_conflict, month_match) of an article against a one-article story, both about
    Tara Reid's rehab and differing only in the day their body writes."""
    clusterer = StoryClusterer({}, ClusterConfig())
    clusterer.add(_article("first", REID_1.headline, story_body, REID))
    [(_, features)] = clusterer.scored_candidates(
        _article("second", REID_2.headline, article_body, REID, hours=5)
    )
    return features[FEATURES.index("month_conflict")], features[FEATURES.index("month_match")]


def test_a_day_of_another_month_counts_against_joining_and_of_the_same_month_for() -> None:
    base = "Actress Tara Reid has checked into the Promises Treatment Center in Malibu"
    assert _month_features(f"{base} on March 3.", f"{base} on Dec. 11.") == (1.0, 0.0)
    assert _month_features(f"{base} on March 3.", f"{base}, on 4 March.") == (0.0, 1.0)
    # Undated copy on either side says nothing either way.
    assert _month_features(f"{base}.", f"{base} on Dec. 11.") == (0.0, 0.0)
    assert _month_features(f"{base} on March 3.", f"{base}.") == (0.0, 0.0)
    weights = dict(zip(FEATURES, ClusterConfig().weights, strict=True))
    assert weights["month_conflict"] <= 0.0 < weights["month_match"]


def test_a_story_counts_the_months_of_its_articles_through_joins_and_merges() -> None:
    stories: dict = {}
    clusterer = StoryClusterer(stories, ClusterConfig())
    base = "Actress Tara Reid has checked into the Promises Treatment Center in Malibu"
    first = _article("m-1", REID_1.headline, f"{base} on March 3.", REID)
    second = _article("m-2", REID_2.headline, f"{base}; she said on March 4 she is well.", REID)
    undated = _article("m-3", REID_3.headline, f"{base}.", REID, hours=1)
    clusterer.place(first, None)
    story_id = next(iter(stories))
    clusterer.place(second, story_id)
    clusterer.place(undated, story_id)
    assert stories[story_id]["months"] == {"mar": 2} and stories[story_id]["dated"] == 2
    other = _article("m-4", LOHAN_1.headline, "Lohan entered rehab on June 2.", LOHAN)
    [created] = clusterer.place(other, None)
    closing = _article("m-5", REID_1.headline, f"{base} on June 2.", REID, hours=2)
    clusterer.place(closing, story_id, merge=[created.story_id])
    assert stories[story_id]["months"] == {"jun": 2, "mar": 2}
    assert stories[story_id]["dated"] == 4


def test_terms_are_words_and_numbers_as_wire_copy_writes_them() -> None:
    from services.cluster.text import term_counts

    counts = term_counts("Quake's toll: 26 dead, 5.2 magnitude; 1,200 homes. Quakes hit cities")
    # Possessive and plural folded, stop words dropped; a number is a term of its own, but
    # not one with a thousands separator or a part of a decimal.
    assert counts == {
        "quake": 2, "toll": 1, "#26": 1, "dead": 1, "#5.2": 1, "magnitude": 1, "home": 1,
        "hit": 1, "city": 1,
    }
    assert list(term_counts("Police say police")) == ["police"]  # first seen order
    # Any whitespace separates words; a word with punctuation or letters outside ASCII keeps
    # only its ASCII tokens ("São" has none); a word seen again gives the same terms.
    text = "Cities\xa0hit\t2016.\nRoyaume-Uni’s São Paulo cities"
    assert list(term_counts(text).elements()) == [
        "city", "city", "hit", "#2016", "royaume-uni", "paulo"
    ]


def test_the_right_story_is_found_among_many_naming_the_same_place() -> None:
    # 30 live stories name Malibu: more than the candidates ranked per article, so only the
    # best-voted (Reid's, sharing her name and the clinic) may be scored.
    stories: dict = {}
    clusterer = StoryClusterer(stories, ClusterConfig())
    for n in range(30):
        council = _article(
            f"council-{n}", f"Malibu council votes on zoning item {n}",
            f"The Malibu city council voted on zoning item {n} on Tuesday.", [("Malibu", "GPE")],
        )
        clusterer.place(council, None)  # a story each, whatever they share
    for article in (REID_1, REID_2):
        clusterer.add(article)
    assert {"reid-1", "reid-2"} in _members(clusterer)
    assert len(stories) == 31


def test_index_look_ups_read_the_rarest_keys_first_within_the_postings_budget() -> None:
    """With a budget of 5 postings, the names only Reid's story has vote and Malibu, named by
    six council stories, does not: the councils are no candidates. Unbounded, they are."""
    def candidates(budget: int) -> list[str]:
        clusterer = StoryClusterer({}, ClusterConfig(postings_budget=budget))
        for n in range(6):
            council = _article(
                f"council-{n}", f"Malibu council votes on zoning item {n}",
                f"The Malibu city council voted on item {n}.", [("Malibu", "GPE")],
            )
            clusterer.place(council, None)
        clusterer.place(REID_1, None)
        return [story_id for story_id, _ in clusterer.scored_candidates(REID_2)]

    assert candidates(5) == [story_id_for("reid-1")]
    unbounded = candidates(10_000)
    assert unbounded[0] == story_id_for("reid-1") and len(unbounded) == 4  # max_candidates


def test_stored_weights_stay_rounded_as_articles_join_and_stories_merge() -> None:
    stories: dict = {}
    clusterer = StoryClusterer(stories, ClusterConfig())
    for article in (REID_1, LOHAN_1, REID_2, REID_3):
        clusterer.add(article)
    for story in stories.values():
        for vector in (story["terms"], story["headline"], *story["members"]):
            assert all(w == round(w, 5) for w in vector.values())


def test_round5_is_round_to_five_digits_bit_for_bit() -> None:
    """Stored weights are rounded by `_round5`; a resumed or replayed clusterer must store the
    same numbers `round(w, 5)` gives, including weights a hair either side of a half."""
    import math
    import random

    from services.cluster.core import _round5

    rng = random.Random(5)
    weights = [rng.random() * 10 ** rng.uniform(-7, 4.5) for _ in range(200_000)]
    for _ in range(20_000):
        half = (rng.randrange(10**9) + 0.5) / 1e5  # the double nearest a rounding tie
        weights += [math.nextafter(half, 0.0), half, math.nextafter(half, math.inf)]
    weights += [0.0, 5e-324, 0.015625, 9999.999995, 1e4, 12345.678915, 1e300]
    assert [_round5(w) for w in weights] == [round(w, 5) for w in weights]


def test_a_lead_name_the_ner_missed_counts_when_the_text_writes_it() -> None:
    # The NER reads only the top of the copy: a story's lead name that the article's later
    # text writes is named, one it never writes is absent.
    opening = "A Hollywood actress has checked into the Promises rehab facility in Malibu. "
    clusterer = StoryClusterer({}, ClusterConfig(body_chars=len(opening)))
    clusterer.add(REID_1)
    writes_it = _article("late-name", "Actress in rehab", opening + "It is Tara Reid.", [
        ("Malibu", "GPE"),
    ])
    lacks_it = _article("no-name", "Actress in rehab", opening + "It is her second stay.", [
        ("Malibu", "GPE"),
    ])
    absent = FEATURES.index("story_absent")
    [(_, named)] = clusterer.scored_candidates(writes_it)
    [(_, unnamed)] = clusterer.scored_candidates(lacks_it)
    assert named[absent] < unnamed[absent]
    assert unnamed[absent] > 0.0


# Two earthquakes on one island, years apart: the story's common words (quake, island, Iran,
# Qeshm) are in every article; what tells the events apart is in some articles only.
SMALL_QUAKE = [("Qeshm", "GPE"), ("Iran", "GPE"), ("Hormozgan", "GPE")]
DEADLY_QUAKE = [("Qeshm", "GPE"), ("Iran", "GPE"), ("Bandar Abbas", "GPE")]
QUAKES = [
    _article(
        f"small-{n}", f"Quake on Qeshm island off Iran {tail}",
        "A moderate earthquake shook Qeshm island in Hormozgan province, Iran, "
        f"damaging residential buildings; five people were hurt. {tail}",
        SMALL_QUAKE, hours=n,
    )
    for n, tail in enumerate(["injures five", "damages homes", "shakes buildings"])
] + [
    _article(
        f"deadly-{n}", f"Quake on Qeshm island off Iran {tail}",
        "A powerful earthquake struck Qeshm island near Bandar Abbas, Iran, killing ten "
        f"villagers and flattening seven villages; survivors sheltered in tents. {tail}",
        DEADLY_QUAKE, hours=3 + n,
    )
    for n, tail in enumerate(["kills ten", "flattens villages", "leaves villagers in tents"])
]


def _one_story_config(**split: object) -> ClusterConfig:
    """Every article joins the best story: only the split check can part them."""
    return ClusterConfig(join_threshold=-1e9, merge_threshold=1e9, **split)  # type: ignore[arg-type]


def test_a_story_holding_two_events_of_one_kind_is_split_in_two() -> None:
    stories: dict = {}
    clusterer = StoryClusterer(stories, _one_story_config(split_sizes=(6,)))
    events = [clusterer.add(article) for article in QUAKES]
    assert [[e.event for e in per] for per in events[:5]] == [["created"]] + [["updated"]] * 4
    updated, split, created = events[5]
    assert (updated.event, split.event, created.event) == ("updated", "split", "created")
    # The side with the first article keeps the story (one version on); the other is new.
    assert split.story_id == updated.story_id and split.version == updated.version + 1
    assert split.split_into == created.story_id and created.version == 1
    # Named by the split's version too: split off, merged back and split off again, the
    # same articles make a new story, not the merged one's id restarting at version 1.
    assert created.story_id == story_id_for(f"{split.story_id}/{split.version}/deadly-0")
    assert split.first_article_ids == ("small-0", "small-1", "small-2")
    assert split.left_ids == created.joined_ids == ("deadly-0", "deadly-1", "deadly-2")
    assert split.article_count == 3 and split.left_count == created.joined_count == 3
    assert created.first_article_ids == ("deadly-0", "deadly-1", "deadly-2")
    # The moved articles are told in the new story (the one that joined, first in its old).
    assert clusterer.moved[-3:] == [
        (f"deadly-{n}", created.story_id, 1) for n in range(3)
    ]
    assert _members(clusterer) == [
        {"deadly-0", "deadly-1", "deadly-2"}, {"small-0", "small-1", "small-2"}
    ]
    # Each side is rebuilt from its own articles: names and sources of the other are gone.
    names = {entity.text for entity in created.top_entities}
    assert "Bandar Abbas" in names and "Hormozgan" not in names
    assert {s.source for s in created.sources} == {f"wire-deadly-{n}" for n in range(3)}
    assert created.first_seen == T0 + timedelta(hours=3)


def test_a_story_of_one_event_is_not_split() -> None:
    again = [a.model_copy(update={"id": f"{a.id}-again"}) for a in QUAKES[:3]]
    # Six copies of one text share every word: nothing sets any of them apart.
    copies = [QUAKES[0].model_copy(update={"id": f"copy-{n}"}) for n in range(6)]
    for articles in (QUAKES[:3] + again, copies):
        stories: dict = {}
        clusterer = StoryClusterer(stories, _one_story_config(split_sizes=(6,)))
        for article in articles:
            assert "split" not in [e.event for e in clusterer.add(article)]
        assert len(stories) == 1


def test_no_split_below_the_thresholds_or_between_the_sizes() -> None:
    for config in (
        _one_story_config(split_sizes=(6,), split_threshold=-1.0),  # never that unlike
        _one_story_config(split_sizes=(6,), split_min=4),  # a side of 3 is too small
        _one_story_config(split_sizes=(5, 7)),  # checked at 5 (2 unlike) and 7 only
    ):
        stories: dict = {}
        clusterer = StoryClusterer(stories, config)
        for article in QUAKES:
            clusterer.add(article)
        assert len(stories) == 1, config


def test_records_are_kept_only_while_a_story_can_still_be_split() -> None:
    records: dict = {}
    clusterer = StoryClusterer({}, _one_story_config(split_sizes=(3,)), records=records)
    clusterer.add(QUAKES[0])
    assert records == {}  # a one-article story is its own record
    clusterer.add(QUAKES[1])
    assert set(records) == {"small-0", "small-1"}
    assert records["small-0"]["first_ids"] == ["small-0"]
    clusterer.add(QUAKES[2])
    clusterer.add(QUAKES[3])  # past the last split size: none kept
    assert records == {}
    closing = StoryClusterer({}, _one_story_config(), records=records)
    closing.add(QUAKES[0])
    closing.add(QUAKES[1])
    assert len(records) == 2
    closing.close_inactive(T0 + timedelta(days=30))
    assert records == {}


def test_a_rebuilt_clusterer_resumes_a_split_identically() -> None:
    tables = _tables()
    config = _one_story_config(split_sizes=(6,))
    first = StoryClusterer(config=config, **tables)
    for article in QUAKES[:5]:
        first.add(article)
    resumed_tables = copy.deepcopy(tables)
    resumed = StoryClusterer(config=config, **resumed_tables)
    assert first.add(QUAKES[5]) == resumed.add(QUAKES[5])
    assert resumed_tables == tables
    assert len(tables["stories"]) == 2


def test_stories_a_split_parted_are_not_merged_again_by_one_bridging_article() -> None:
    tables = _tables()
    stories = tables["stories"]
    splitting = StoryClusterer(config=_one_story_config(split_sizes=(6,)), **tables)
    for article in QUAKES:
        splitting.add(article)
    assert len(stories) == 2
    bridge = _article(
        "bridge", "Quake on Qeshm island off Iran", "An earthquake struck Qeshm island, Iran.",
        [("Qeshm", "GPE"), ("Iran", "GPE")], hours=7,
    )
    anything_merges = ClusterConfig(join_threshold=-1e9, merge_threshold=-1e9, split_sizes=())
    events = StoryClusterer(config=anything_merges, **tables).add(bridge)
    assert [e.event for e in events] == ["updated"] and len(stories) == 2
    # Without the record of the split, the same article would fold one into the other.
    forgotten = {k: {**v, "apart": []} for k, v in stories.items()}
    events = StoryClusterer(
        forgotten, anything_merges, rosters=copy.deepcopy(tables["rosters"])
    ).add(bridge.model_copy(update={"id": "b2"}))
    assert [e.event for e in events] == ["updated", "merged"]


def test_a_stored_story_says_its_format_and_an_unknown_one_is_refused() -> None:
    import pytest

    from services.cluster.core import STORY_FORMAT

    stories: dict[str, Any] = {}
    StoryClusterer(stories, ClusterConfig()).add(REID_1)
    (story,) = stories.values()
    assert story["format"] == STORY_FORMAT
    with pytest.raises(ValueError, match="has format 3"):
        StoryClusterer({story["id"]: {**story, "format": 3}}, ClusterConfig())


def test_a_format_1_story_is_read_bounded_and_its_ids_go_to_its_roster() -> None:
    from services.cluster.story import load_story

    tables = _tables()
    clusterer = StoryClusterer(config=ClusterConfig(), **tables)
    for article in (REID_1, REID_2):
        clusterer.add(article)
    (story,) = tables["stories"].values()
    ids = [f"old-{n}" for n in range(70)] + ["reid-1", "reid-2"]
    # Format 1 listed every id and each source once; the oldest stories said no format and
    # lacked months, dates and splits.
    bounded = ("format", "article_count", "first_ids", "latest_ids", "source_counts")
    format_1 = {
        **{k: v for k, v in story.items() if k not in bounded}, "format": 1,
        "article_ids": ids, "sources": ["wire-a", "wire-b"],
    }
    oldest = {k: v for k, v in format_1.items() if k not in ("format", "months", "dated", "apart")}
    for raw in (format_1, oldest):
        loaded = load_story(raw)
        assert (loaded["article_count"], loaded["first_ids"], loaded["latest_ids"]) == (
            72, ids[:5], ids[-10:]
        )
        assert loaded["source_counts"] == {"wire-a": 1, "wire-b": 1}
    assert load_story(oldest)["apart"] == [] and load_story(oldest)["months"] == {}
    # Loaded by a clusterer, the story is stored in the current format, its ids in its roster.
    migrated: dict[str, Any] = {story["id"]: format_1}
    resumed = StoryClusterer(migrated, ClusterConfig(), rosters={})
    assert migrated[story["id"]] == load_story(format_1)
    assert roster.members(resumed.rosters, story["id"], 72) == ids
    # ...and goes on from there: the next article is its 73rd.
    [event] = resumed.add(REID_3)
    assert (event.article_count, event.latest_article_ids[-1]) == (73, "reid-3")
    assert roster.members(resumed.rosters, story["id"], 73) == [*ids, "reid-3"]


def test_a_withdrawn_article_leaves_its_story_and_its_counts() -> None:
    tables = _tables()
    clusterer = StoryClusterer(config=ClusterConfig(), **tables)
    for article in (REID_1, REID_2, REID_3):
        clusterer.add(article, ["print", {"source": article.source,
                                          "duplicate_of": article.duplicate_of}])
    story_id = story_id_for("reid-1")
    before = copy.deepcopy(tables["stories"][story_id])
    [event] = clusterer.withdraw("reid-3")
    assert (event.event, event.version, event.article_count) == ("updated", 4, 2)
    assert (event.left_ids, event.left_count, event.duplicate_count) == (("reid-3",), 1, 0)
    assert {s.source for s in event.sources} == {"wire-reid-1", "wire-reid-2"}
    assert clusterer.moved == [("reid-3", None, 4)]
    assert _members(clusterer) == [{"reid-1", "reid-2"}] and "reid-3" not in tables["records"]
    # What the record kept of it is subtracted: its names count one article less.
    story = tables["stories"][story_id]
    assert story["entities"]["who:reid"][2] == before["entities"]["who:reid"][2] - 1 == 2
    assert story["dated"] <= before["dated"] and story["terms"] != before["terms"]
    # Down to one article: the story is exactly that article's record again.
    record = copy.deepcopy(tables["records"]["reid-1"])
    [event] = clusterer.withdraw("reid-2")
    assert tables["stories"][story_id] == {
        **record, "id": story_id, "version": event.version, "apart": story["apart"]
    }
    assert tables["records"] == {} and _members(clusterer) == [{"reid-1"}]
    # The last article withdrawn: the emptied story closes; withdrawn again, nothing happens.
    [closed] = clusterer.withdraw("reid-1")
    assert (closed.event, closed.article_count, closed.left_ids) == ("closed", 0, ("reid-1",))
    assert tables["stories"] == tables["rosters"] == tables["members"] == {}
    assert clusterer.withdraw("reid-1") == [] and clusterer.live_count == 0


def test_a_corrected_copy_replaces_the_earlier_one_in_its_story() -> None:
    tables = _tables()
    clusterer = StoryClusterer(config=ClusterConfig(), **tables)
    for article in (REID_1, REID_2):
        clusterer.add(article, ["print"])
    corrected = REID_2.model_copy(update={"headline": "Tara Reid enters Promises rehab, she says",
                                          "revision": 2})
    [event] = clusterer.revise(corrected, ["print-2"])
    assert (event.event, event.version, event.article_count) == ("updated", 3, 2)
    assert event.joined_ids == event.left_ids == ("reid-2",)
    assert clusterer.moved == [("reid-2", event.story_id, 3)]
    assert tables["members"]["reid-2"] == [event.story_id, "print-2"]
    assert _members(clusterer) == [{"reid-1", "reid-2"}]
    assert set(tables["records"]) == {"reid-1", "reid-2"}  # both can still be split
    # A one-article story's only article corrected: the same story, one version on.
    alone = StoryClusterer(config=ClusterConfig(), **_tables())
    alone.add(LOHAN_1)
    [again] = alone.revise(LOHAN_1.model_copy(update={"revision": 3}))
    assert (again.story_id, again.version, again.article_count) == (story_id_for("lohan-1"), 2, 1)


def test_a_correction_after_its_story_closed_starts_a_story_of_a_new_id() -> None:
    clusterer = StoryClusterer(config=ClusterConfig(), **_tables())
    [created] = clusterer.add(LOHAN_1)
    [closed] = clusterer.close_inactive(T0 + timedelta(days=30))
    assert (closed.story_id, closed.event) == (created.story_id, "closed")
    # The closed story's id back at version 1 would be older than its `closed` event to a
    # subscriber keeping each story's highest version: the corrected copy's story is new.
    [again] = clusterer.revise(LOHAN_1.model_copy(update={"revision": 2}))
    assert (again.event, again.version) == ("created", 1)
    assert again.story_id not in {created.story_id, closed.story_id}
    assert again.story_id == story_id_for("lohan-1", 2)  # still stable across replays
