"""Template learning and duplicate detection, through the clean core and plain-dict stores."""

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from schemas.articles import RawArticleV1
from services.clean.core import clean
from services.clean.memory import (
    MAX_LINES_PER_SOURCE,
    TEMPLATE_MIN_ARTICLES,
    TEMPLATE_SAVE_EVERY,
    SourceMemory,
)

NOW = datetime(2016, 3, 26, tzinfo=UTC)
# A long promo line: alone, it reads like body (long, full of stopwords, ends with a stop).
PROMO = (
    "Our reporters have been on the ground in every one of these places for the whole of the "
    "year and they will be there for you in the next one too."
)
# Each story in two paragraphs.
STORIES = [
    (
        "The city council voted on Tuesday to close the old bridge to lorries after engineers "
        "found deep cracks in two of its supporting piers during a routine inspection.",
        "Drivers will have to take the ring road, which the council says adds about a quarter "
        "of an hour to the journey at the busiest times of the day.",
    ),
    (
        "Farmers in the valley say the late frost has destroyed most of this year's apricot "
        "blossom, and some of them expect to lose the whole of their harvest as a result.",
        "The growers' union has asked the ministry for emergency help, as it did after the "
        "floods that hit the same farms six years ago.",
    ),
    (
        "The national orchestra will tour six cities in the spring, playing a programme of new "
        "works written for it by composers who were all born after the year two thousand.",
        "Tickets go on sale next week, and the orchestra says a third of them will be sold at "
        "half price to people under the age of twenty five.",
    ),
    (
        "A rare white stork has nested on the chimney of the village school, and the children "
        "have started a diary in which they record everything the bird does each morning.",
        "Ornithologists say it is the first time in forty years that the species has bred this "
        "far north, and they have asked visitors to keep their distance.",
    ),
]


def _raw(article_id: str, text: str, source: str = "valley-news") -> RawArticleV1:
    return RawArticleV1(id=article_id, source=source, text=text, ingested_at=NOW)


def _page(story: tuple[str, str]) -> str:
    # The promo between two paragraphs of the story, as a site template would put it.
    return f"{story[0]}\n{PROMO}\n{story[1]}\n"


def test_a_line_on_three_articles_of_a_source_is_dropped_from_the_next() -> None:
    memory = SourceMemory(templates={}, fingerprints={})
    for number, story in enumerate(STORIES[:TEMPLATE_MIN_ARTICLES]):
        article = clean(_raw(f"a{number}", _page(story)), memory, max_body_chars=10_000)
        assert PROMO in article.body  # not yet known as template
    fourth = clean(_raw("a3", _page(STORIES[3])), memory, max_body_chars=10_000)
    assert PROMO not in fourth.body
    assert "white stork" in fourth.body


def test_the_template_belongs_to_its_source_only() -> None:
    memory = SourceMemory(templates={}, fingerprints={})
    for number, story in enumerate(STORIES[:TEMPLATE_MIN_ARTICLES]):
        clean(_raw(f"a{number}", _page(story)), memory, max_body_chars=10_000)
    other = clean(_raw("b0", _page(STORIES[3]), source="other"), memory, max_body_chars=10_000)
    assert PROMO in other.body


def test_a_line_repeated_within_one_article_counts_once() -> None:
    memory = SourceMemory(templates={}, fingerprints={})
    doubled = _page(STORIES[0]) + PROMO + "\n" + PROMO + "\n"
    clean(_raw("a0", doubled), memory, max_body_chars=10_000)
    clean(_raw("a1", _page(STORIES[1])), memory, max_body_chars=10_000)
    third = clean(_raw("a2", _page(STORIES[2])), memory, max_body_chars=10_000)
    assert PROMO in third.body  # seen in two articles only, however often in the first


def test_template_state_survives_a_new_memory_over_the_same_stores() -> None:
    templates: dict[str, Any] = {}
    fingerprints: dict[str, Any] = {}
    for number, story in enumerate(STORIES[:TEMPLATE_MIN_ARTICLES]):
        clean(_raw(f"a{number}", _page(story)), SourceMemory(templates, fingerprints),
              max_body_chars=10_000)
    # What a changelog would restore: the stores' JSON, nothing else.
    restored = SourceMemory(
        json.loads(json.dumps(templates)), json.loads(json.dumps(fingerprints))
    )
    fourth = clean(_raw("a3", _page(STORIES[3])), restored, max_body_chars=10_000)
    assert PROMO not in fourth.body


def test_stores_are_written_by_assignment_with_json_values_and_bounded() -> None:
    class AssignOnly(dict[str, Any]):
        """Records keys assigned; values are frozen to JSON so in-place edits would be lost."""

        def __init__(self) -> None:
            super().__init__()
            self.assigned: list[str] = []

        def __setitem__(self, key: str, value: Any) -> None:
            self.assigned.append(key)
            super().__setitem__(key, json.loads(json.dumps(value)))

    templates, fingerprints = AssignOnly(), AssignOnly()
    memory = SourceMemory(templates, fingerprints)
    for number, story in enumerate(STORIES[:TEMPLATE_MIN_ARTICLES]):
        clean(_raw(f"a{number}", _page(story)), memory, max_body_chars=10_000)
    # Written for the source's first article and when its lines reach the cut (the third),
    # not for the second, which changed no cut.
    assert templates.assigned == ["valley-news", "valley-news"]
    assert fingerprints.assigned == ["valley-news/a0", "valley-news/a1", "valley-news/a2"]
    assert PROMO not in clean(_raw("a3", _page(STORIES[3])), memory, max_body_chars=10_000).body

    many = "\n".join(
        f"Line number {n} of a very long page that says a great many different things." for n in
        range(MAX_LINES_PER_SOURCE + 500)
    )
    memory.learn_template("big", many.splitlines())
    assert len(templates["big"]["lines"]) == MAX_LINES_PER_SOURCE


def test_a_steady_template_is_written_back_every_few_articles_and_restores_from_there() -> None:
    written: list[int] = []

    class Recording(dict[str, Any]):
        def __setitem__(self, key: str, value: Any) -> None:
            written.append(value["articles"])
            super().__setitem__(key, json.loads(json.dumps(value)))

    templates = Recording()
    memory = SourceMemory(templates, {})
    nav = [f"nav-{n}" for n in range(5)]
    for number in range(1, 3 * TEMPLATE_SAVE_EVERY + 4):
        memory.learn_template("wire", [*nav, f"story-{number}"])
    # The first article, the third (the navigation reaches the cut), then every N-th only.
    assert written == [1, 3, TEMPLATE_SAVE_EVERY, 2 * TEMPLATE_SAVE_EVERY, 3 * TEMPLATE_SAVE_EVERY]
    assert memory.template_lines("wire") == frozenset(nav)
    # A worker restarted from the stores is at most N-1 articles behind, template intact.
    restored = SourceMemory(json.loads(json.dumps(dict(templates))), {})
    assert restored.template_lines("wire") == frozenset(nav)
    assert memory.template_cache["wire"]["articles"] - templates["wire"]["articles"] == 3
    # After a rebalance the stores are read again.
    memory.forget_derived()
    assert memory.template_cache == {}
    assert memory.template_lines("wire") == frozenset(nav)


def test_a_republished_copy_points_at_the_first_and_an_unrelated_story_does_not() -> None:
    memory = SourceMemory(templates={}, fingerprints={})
    story = " ".join(" ".join(paragraphs) for paragraphs in STORIES)
    first = clean(_raw("wire-1", story, source="agency"), memory, max_body_chars=10_000)
    # Another outlet republishes it with its own dateline and a credit line of its own.
    copy = "LONDON - " + story + " Additional reporting by our correspondent in the valley."
    second = clean(_raw("paper-7", copy, source="paper"), memory, max_body_chars=10_000)
    exact = clean(_raw("blog-3", story, source="blog"), memory, max_body_chars=10_000)
    other = clean(
        _raw("paper-8", "Shares in the shipping company fell sharply on Monday after it warned "
             "that higher fuel prices and weaker demand from Asia would cut its profits this "
             "year by as much as a third, the second warning in as many months.", "paper"),
        memory, max_body_chars=10_000,
    )
    assert first.duplicate_of is None
    assert second.duplicate_of == "agency/wire-1"
    assert exact.duplicate_of == "agency/wire-1"
    assert other.duplicate_of is None


def test_duplicates_are_found_after_a_restart_and_a_redelivery_keeps_its_answer() -> None:
    templates: dict[str, Any] = {}
    fingerprints: dict[str, Any] = {}
    story = " ".join(" ".join(paragraphs) for paragraphs in STORIES)
    clean(_raw("wire-1", story), SourceMemory(templates, fingerprints), max_body_chars=10_000)
    restarted = SourceMemory(
        json.loads(json.dumps(templates)), json.loads(json.dumps(fingerprints))
    )
    again = clean(_raw("wire-2", story), restarted, max_body_chars=10_000)
    assert again.duplicate_of == "valley-news/wire-1"
    # The first copy delivered twice (a replay) is still the original, not its own duplicate.
    replay = clean(_raw("wire-1", story), restarted, max_body_chars=10_000)
    assert replay.duplicate_of is None


class _DeletesRecorded(dict[str, Any]):
    """A plain-dict store that records deletions, as a faust Table sends them on."""

    def __init__(self) -> None:
        super().__init__()
        self.deleted: list[str] = []

    def __delitem__(self, key: str) -> None:
        self.deleted.append(key)
        super().__delitem__(key)


def _at(article_id: str, text: str, hours: float) -> RawArticleV1:
    """An article ingested `hours` after NOW."""
    return RawArticleV1(
        id=article_id, source="agency", text=text, ingested_at=NOW + timedelta(hours=hours)
    )


def test_fingerprints_older_than_the_window_are_deleted_and_no_longer_match() -> None:
    fingerprints = _DeletesRecorded()
    memory = SourceMemory({}, fingerprints, fingerprint_hours=24)
    story = " ".join(" ".join(paragraphs) for paragraphs in STORIES)
    other = " ".join(" ".join(paragraphs) for paragraphs in reversed(STORIES[:3]))

    clean(_at("wire-1", story, 0), memory, max_body_chars=10_000)
    clean(_at("wire-2", other, 20), memory, max_body_chars=10_000)
    within = clean(_at("paper-1", story, 23), memory, max_body_chars=10_000)
    assert within.duplicate_of == "agency/wire-1"
    assert fingerprints.deleted == []

    # 30 hours after the first copy: it and its republication at hour 23 are 7 hours apart,
    # so the republication's fingerprint is still there and this copy points at its original.
    later = clean(_at("paper-2", story, 30), memory, max_body_chars=10_000)
    assert fingerprints.deleted == ["agency/wire-1"]
    assert later.duplicate_of == "agency/wire-1"

    # A week on, every earlier fingerprint is gone: the same body is news again.
    week = clean(_at("paper-3", story, 24 * 7), memory, max_body_chars=10_000)
    assert week.duplicate_of is None
    assert sorted(fingerprints) == ["agency/paper-3"]
    assert sorted(fingerprints.deleted) == [
        "agency/paper-1", "agency/paper-2", "agency/wire-1", "agency/wire-2"
    ]


def test_a_restarted_memory_forgets_by_the_stored_ingest_times() -> None:
    fingerprints: dict[str, Any] = {}
    story = " ".join(" ".join(paragraphs) for paragraphs in STORIES)
    first = SourceMemory({}, fingerprints, fingerprint_hours=24)
    clean(_raw("wire-1", story), first, max_body_chars=10_000)
    restarted = SourceMemory({}, json.loads(json.dumps(fingerprints)), fingerprint_hours=24)
    late = RawArticleV1(
        id="paper-9", source="paper", text=story, ingested_at=NOW + timedelta(hours=25)
    )
    assert clean(late, restarted, max_body_chars=10_000).duplicate_of is None
    assert sorted(restarted.fingerprints) == ["paper/paper-9"]


def test_only_the_current_partitions_fingerprints_are_deleted() -> None:
    # A faust Table sends a deletion to the changelog partition of the message in hand, so a
    # fingerprint written from partition 0 must not be deleted while partition 1 is processed.
    fingerprints = _DeletesRecorded()
    memory = SourceMemory({}, fingerprints, fingerprint_hours=24)
    story = " ".join(" ".join(paragraphs) for paragraphs in STORIES)
    other = " ".join(" ".join(paragraphs) for paragraphs in reversed(STORIES[:3]))

    memory.partition = 0
    clean(_at("p0-old", story, 0), memory, max_body_chars=10_000)
    memory.partition = 1
    clean(_at("p1-new", other, 48), memory, max_body_chars=10_000)
    assert fingerprints.deleted == []
    assert fingerprints["agency/p1-new"]["partition"] == 1
    memory.partition = 0
    third = " ".join(" ".join(paragraphs) for paragraphs in STORIES[3:])
    clean(_at("p0-new", third, 49), memory, max_body_chars=10_000)
    assert fingerprints.deleted == ["agency/p0-old"]


_EVICTION_RUN = """
import json
from services.clean import memory
memory.MAX_LINES_PER_SOURCE = 5
store = {}
mem = memory.SourceMemory(store, {})
mem.learn_template("wire", ["a", "b", "c"])
mem.learn_template("wire", [f"line {n}" for n in range(8)])  # 11 lines: 6 must go, in a tie
print(json.dumps(mem.template_cache))  # the current state (the store is written back later)
"""


def test_which_lines_a_full_template_keeps_does_not_depend_on_the_hash_seed() -> None:
    # A worker restarted with another PYTHONHASHSEED must go on cleaning the same copy the
    # same way: the lines kept when a source's template is full may not follow set order.
    import os
    import subprocess
    import sys

    kept = {
        subprocess.run(
            [sys.executable, "-c", _EVICTION_RUN],
            env={**os.environ, "PYTHONHASHSEED": str(seed)},
            capture_output=True, text=True, check=True,
        ).stdout
        for seed in range(6)
    }
    assert len(kept) == 1, kept
    assert list(json.loads(kept.pop())["wire"]["lines"]) == [f"line {n}" for n in range(5)]
