"""The audit's verdict on literal topics: every raw article in one story (by its member record
on `stories.members`) or one dead letter."""

import base64
import json
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from services.audit.core import AuditReport, DoubledArticle, Message, MissingArticle, audit
from services.identity import article_key

NOW = datetime(2016, 3, 24, 18, tzinfo=UTC)
RAW = "articles.raw"
GRACE = 300.0


def _ms(age_seconds: float) -> int:
    return int((NOW - timedelta(seconds=age_seconds)).timestamp() * 1000)


def raw_article(article_id: str, source: str = "xinhua", **fields: object) -> bytes:
    record = {
        "id": article_id, "source": source, "title": "Kerry in Moscow",
        "text": "MOSCOW, March 24 -- Kerry arrived.", "ingested_at": "2016-03-24T17:00:00Z",
    }
    return json.dumps({**record, **fields}).encode()


def raw(offset: int, value: bytes | None, age_seconds: float = 3600, partition: int = 0) -> Message:
    return Message(RAW, partition, offset, _ms(age_seconds), value)


def story(
    story_id: str, version: int, event: str, article_ids: list[str], **fields: object
) -> Message:
    """A StoryEventV2 of a story now holding `article_ids` (a merged one holds none)."""
    held = [] if event == "merged" else article_ids
    record = {
        "story_id": story_id, "version": version, "event": event, "language": "en",
        "title": "Kerry [/x] in Moscow", "article_count": len(held), "source_count": 1,
        "latest_article_ids": held[-10:], "first_seen": "2016-03-24T09:00:00Z",
        "last_seen": "2016-03-24T17:00:00Z", **fields,
    }
    return Message("stories", 0, version, _ms(60), json.dumps(record).encode())


def member(article_id: str, story_id: str | None, offset: int = 0) -> Message:
    """A StoryMemberV1: `article_id` is in `story_id` now (None: in no story)."""
    record = {
        "article_id": article_id, "story_id": story_id, "story_version": 1,
        "source": "xinhua", "headline": "Kerry in Moscow", "language": "en",
        "ingested_at": "2016-03-24T17:00:00Z",
    }
    return Message("stories.members", 0, offset, _ms(60), json.dumps(record).encode())


def letter(
    reason: str, topic: str, offset: int, original: bytes, stage: str = "clean",
    partition: int = 0,
) -> Message:
    record = {
        "stage": stage, "reason": reason, "topic": topic, "partition": partition,
        "offset": offset, "original": base64.b64encode(original).decode(),
        "failed_at": "2016-03-24T17:01:00Z",
    }
    return Message(f"dlq.{stage}", 0, offset, _ms(60), json.dumps(record).encode())


def run(
    raws: Sequence[Message], stories: Sequence[Message] = (), letters: Sequence[Message] = (),
    members: Sequence[Message] = (),
) -> AuditReport:
    return audit(
        raws, stories, letters, raw_topic=RAW, now=NOW, grace_seconds=GRACE, members=members
    )


KERRY = article_key("xinhua", "kerry")


def test_an_article_in_one_story_is_accounted_for() -> None:
    report = run(
        [raw(0, raw_article("kerry"))], [story("s-1", 1, "created", [KERRY])],
        members=[member(KERRY, "s-1")],
    )
    assert report.ok
    assert (report.raw_messages, report.article_keys, report.in_one_story) == (1, 1, 1)
    assert report.miscounted_stories == []
    assert report.lost == [] and report.in_flight == [] and report.namespaced_ids


def test_a_letter_naming_the_raw_offset_accounts_for_the_article() -> None:
    report = run(
        [raw(0, raw_article("kerry")), raw(1, raw_article("empty"), partition=1)],
        [story("s-1", 1, "created", [KERRY])],
        [letter("empty_after_cleaning", RAW, 1, raw_article("empty"), partition=1)],
        [member(KERRY, "s-1")],
    )
    assert report.ok
    assert report.dead_lettered == 1
    assert report.dead_letter_reasons == {"empty_after_cleaning": 1}


def test_a_letter_from_enrich_matches_by_the_clean_articles_id() -> None:
    clean_copy = json.dumps({"id": article_key("sana", "a1"), "source": "sana"}).encode()
    report = run(
        [raw(0, raw_article("a1", source="sana"))],
        [],
        [letter("too_long_for_ner", "articles.clean", 9, clean_copy, stage="enrich")],
    )
    assert report.ok and report.dead_lettered == 1
    assert report.dead_letter_reasons == {"too_long_for_ner": 1}


def test_unaccounted_articles_are_lost_past_the_grace_period_and_in_flight_before() -> None:
    report = run([raw(0, raw_article("old"), age_seconds=GRACE + 60),
                  raw(1, raw_article("new"), age_seconds=GRACE - 60)])
    assert not report.ok
    assert [(m.partition, m.offset, m.key) for m in report.lost] == [
        (0, 0, article_key("xinhua", "old"))
    ]
    assert [(m.offset, m.key) for m in report.in_flight] == [(1, article_key("xinhua", "new"))]
    assert report.in_flight[0].age_seconds is not None and report.in_flight[0].age_seconds < GRACE


def test_in_flight_alone_is_not_a_failure() -> None:
    report = run([raw(0, raw_article("new"), age_seconds=5)])
    assert report.ok and len(report.in_flight) == 1


def test_an_article_left_in_a_merged_story_is_doubled() -> None:
    # s-1 was merged into s-2, but its article's member record still names s-1: listed in
    # s-1, counted in s-2.
    report = run(
        [raw(0, raw_article("kerry"))],
        [story("s-1", 1, "created", [KERRY]), story("s-1", 2, "merged", [KERRY],
                                                     merged_into="s-2"),
         story("s-2", 1, "updated", [KERRY])],
        members=[member(KERRY, "s-1")],
    )
    assert not report.ok
    assert report.doubled == [DoubledArticle(KERRY, ["s-1", "s-2"])]
    assert report.miscounted_stories == ["s-2"]


def test_a_withdrawn_article_is_in_no_story_and_accounted_for() -> None:
    report = run(
        [raw(0, raw_article("kerry")), raw(1, raw_article("kerry", withdrawn=True))],
        [story("s-1", 2, "updated", [])],
        members=[member(KERRY, "s-1", 0), member(KERRY, None, 1)],
    )
    assert report.ok and (report.withdrawn, report.in_one_story) == (1, 0)
    assert report.lost == [] and report.miscounted_stories == []


def test_a_merged_story_holds_nothing_and_only_its_latest_event_counts() -> None:
    other = article_key("xinhua", "lavrov")
    report = run(
        [raw(0, raw_article("kerry")), raw(1, raw_article("lavrov"))],
        [
            story("s-1", 1, "created", [KERRY]),
            story("s-2", 1, "created", [other]),
            story("s-1", 2, "merged", [KERRY], merged_into="s-2"),
            story("s-2", 2, "updated", [other, KERRY]),
        ],
        members=[member(KERRY, "s-1", 0), member(other, "s-2", 1), member(KERRY, "s-2", 2)],
    )
    assert report.ok and report.in_one_story == 2 and report.miscounted_stories == []
    assert (report.stories, report.merged_stories) == (1, 1)


def test_an_older_event_read_later_does_not_win() -> None:
    report = run(
        [raw(0, raw_article("kerry"))],
        [story("s-1", 2, "merged", [KERRY], merged_into="s-2"),
         story("s-1", 1, "created", [KERRY])],
        members=[member(KERRY, "s-1")],
    )
    assert report.in_one_story == 0 and report.doubled == [DoubledArticle(KERRY, ["s-1", "s-2"])]


def test_a_split_keeps_some_articles_and_the_new_story_holds_the_rest() -> None:
    moved = article_key("xinhua", "syria")
    report = run(
        [raw(0, raw_article("kerry")), raw(1, raw_article("syria"))],
        [
            story("s-1", 2, "updated", [KERRY, moved]),
            story("s-1", 3, "split", [KERRY], split_into="s-9"),
            story("s-9", 1, "created", [moved]),
        ],
        members=[member(KERRY, "s-1", 0), member(moved, "s-1", 1), member(moved, "s-9", 2)],
    )
    assert report.ok and report.in_one_story == 2 and report.doubled == []
    assert report.miscounted_stories == []


def test_a_split_whose_new_story_is_not_written_yet_leaves_the_rest_unaccounted() -> None:
    report = run(
        [raw(0, raw_article("kerry")), raw(1, raw_article("syria"), age_seconds=10)],
        [story("s-1", 3, "split", [KERRY], split_into="s-9")],
        members=[member(KERRY, "s-1", 0), member(article_key("xinhua", "syria"), "s-9", 1)],
    )
    assert [m.key for m in report.in_flight] == [article_key("xinhua", "syria")]


def test_an_unparseable_raw_message_is_matched_by_offset_only() -> None:
    report = run(
        [raw(0, b"<html>not a record</html>"), raw(1, b"{\"id\": null}")],
        [],
        [letter("invalid_json", RAW, 0, b"<html>not a record</html>")],
    )
    assert report.unparseable_raw == 2 and report.article_keys == 0
    assert report.dead_letter_reasons == {"invalid_json": 1}
    assert report.lost == [MissingArticle(0, 1, None, 3600.0)]


def test_the_same_offset_in_another_topic_is_no_match() -> None:
    report = run([raw(0, b"junk")], [], [letter("invalid_json", "articles.clean", 0, b"junk")])
    assert report.dead_lettered == 0 and len(report.lost) == 1
    assert report.unmatched_dead_letters == 1


def test_malformed_letters_are_counted_and_listed() -> None:
    bad = [
        Message("dlq.clean", 0, 5, None, b"not json"),
        Message("dlq.enrich", 1, 6, None, None),
        Message("dlq.cluster", 0, 7, None, json.dumps({"reason": 3}).encode()),
    ]
    report = run(
        [raw(0, raw_article("kerry"))], [story("s-1", 1, "created", [KERRY])], bad,
        [member(KERRY, "s-1")],
    )
    assert report.ok
    assert [(m.topic, m.offset) for m in report.malformed_letters] == [
        ("dlq.clean", 5), ("dlq.enrich", 6), ("dlq.cluster", 7)
    ]


def test_stories_of_raw_ids_are_matched_before_ids_were_namespaced() -> None:
    # A deployment before the clean stage used article_key: stories hold the raw ids, and a raw
    # id may hold a '/' of its own.
    report = run(
        [raw(0, raw_article("reuters/2016/03/kerry", source="reuters")),
         raw(1, raw_article("x2", source="sana"))],
        [story("s-1", 1, "created", ["reuters/2016/03/kerry"])],
        [letter("no_entities", "articles.enriched", 3, json.dumps({"id": "x2"}).encode(),
                stage="cluster")],
        [member("reuters/2016/03/kerry", "s-1")],
    )
    assert not report.namespaced_ids
    assert report.ok and report.in_one_story == 1 and report.dead_lettered == 1


def test_raw_ids_are_not_accepted_once_stories_hold_keys() -> None:
    report = run(
        [raw(0, raw_article("kerry")), raw(1, raw_article("lavrov"))],
        [story("s-1", 1, "created", [KERRY, "lavrov"])],
        members=[member(KERRY, "s-1", 0), member("lavrov", "s-1", 1)],
    )
    assert report.namespaced_ids
    assert [m.key for m in report.lost] == [article_key("xinhua", "lavrov")]


def test_redelivered_copies_are_one_article_aged_by_the_newest() -> None:
    report = run([raw(0, raw_article("kerry"), age_seconds=9000),
                  raw(1, raw_article("kerry"), age_seconds=10)])
    assert (report.raw_messages, report.article_keys, report.redelivered) == (2, 1, 1)
    assert [m.offset for m in report.in_flight] == [1] and report.lost == []


def test_hostile_values_in_every_topic_are_counted_never_raised() -> None:
    hostile = [
        b"[" * 100_000, b"\xff\xfe\x00garbage", b"null", b"[]", b"\"a string\"",
        json.dumps({"id": 5, "source": ["x"], "text": None}).encode(),
        raw_article("big", text="word " * 2_000_000), None,
    ]
    raws = [raw(i, value) for i, value in enumerate(hostile)]
    stories = [Message("stories", 0, i, None, v) for i, v in enumerate(hostile)]
    letters = [Message("dlq.clean", 0, i, None, v) for i, v in enumerate(hostile)]
    members = [Message("stories.members", 0, i, None, v) for i, v in enumerate(hostile)]
    report = run(raws, stories, letters, members)
    assert report.raw_messages == len(hostile)
    assert report.article_keys == 1 and report.unparseable_raw == len(hostile) - 1
    assert report.unparseable_story_events == report.unparseable_members == len(hostile)
    assert len(report.malformed_letters) == len(hostile)
    assert len(report.lost) == len(hostile)


def test_a_letter_whose_original_has_wrong_types_is_still_a_letter() -> None:
    original = json.dumps({"id": 7, "source": None}).encode()
    report = run([raw(0, original)], [], [letter("schema_violation", RAW, 0, original)])
    assert report.dead_letter_reasons == {"schema_violation": 1}
    assert report.malformed_letters == []


def test_the_report_serialises_to_json() -> None:
    report = run([raw(0, raw_article("k[/x]"))])
    decoded = json.loads(json.dumps(report.to_dict()))
    assert decoded["ok"] is False and decoded["lost"][0]["key"] == "xinhua/k[/x]"
