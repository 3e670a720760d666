"""The story-size bench's arithmetic and copy: intervals by offset, growths, one story."""

from datetime import UTC, datetime

from lab.bench.story_size import (
    CopyDesk,
    Interval,
    checkpoints_for,
    interval_of,
    summary,
)
from schemas.articles import EnrichedArticleV1, EntityV1
from services.cluster.core import ClusterConfig, StoryClusterer

T0 = datetime(2016, 3, 24, 9, tzinfo=UTC)


def test_checkpoints_stop_at_the_run_size() -> None:
    assert checkpoints_for(20_000) == (100, 1_000, 10_000, 20_000)
    assert checkpoints_for(1_000) == (100, 1_000)
    assert checkpoints_for(500) == (100, 500)
    assert checkpoints_for(50) == (50,)


def test_a_message_counts_in_the_interval_its_offset_falls_in() -> None:
    tp, new = ("stories", 0), ("stories.members", 0)
    # The end offsets at the start of each interval; `new` had no messages (nor existed) yet.
    ends = [{tp: 10}, {tp: 110, new: 0}, {tp: 150, new: 5}]
    assert interval_of(ends, tp, 9) == -1  # the warm-up
    assert interval_of(ends, tp, 10) == 0 and interval_of(ends, tp, 109) == 0
    assert interval_of(ends, tp, 110) == 1 and interval_of(ends, tp, 149) == 1
    assert interval_of(ends, tp, 150) == 2 and interval_of(ends, tp, 10_000) == 2
    assert interval_of(ends, new, 0) == 1 and interval_of(ends, new, 4) == 1
    assert interval_of(ends, new, 5) == 2


def test_growths_compare_the_last_interval_with_the_first_per_article() -> None:
    first = Interval(100, 100, cpu_s=0.2, bytes_all=1_000_000, largest=4096)
    last = Interval(20_000, 10_000, cpu_s=30.0, bytes_all=150_000_000, largest=65_536)
    assert first.cpu_ms_per_article == 2.0 and last.cpu_ms_per_article == 3.0
    assert summary([first, last]) == (
        "bench-story: articles=20000 cpu_growth=1.50 bytes_growth=1.50 max_message_kb=64.0"
    )


def _seed(n: int, headline: str, body: str) -> EnrichedArticleV1:
    names = [("John Kerry", "PERSON"), ("Vladimir Putin", "PERSON"), ("Moscow", "GPE")]
    return EnrichedArticleV1(
        id=f"seed-{n}", source="wire", headline=headline, body=body, language="en",
        ingested_at=T0, published_at=T0,
        entities=tuple(EntityV1(text=t, label=label, count=1, in_lead=True)  # type: ignore[arg-type]
                       for t, label in names),
    )


def test_the_copy_desk_writes_one_event_that_grows_one_story() -> None:
    body = (
        "MOSCOW - Vladimir Putin met John Kerry in Moscow on Thursday. The two spoke about "
        "Syria for four hours. Kerry said the truce had held. Putin praised the cooperation. "
        "Lavrov joined the talks later. The ministers will meet again in April. Officials "
        "called the meeting constructive. Both sides agreed to continue the dialogue."
    )
    seeds = [_seed(0, "Putin meets Kerry in Moscow", body), _seed(1, "Kerry in Moscow", "Short.")]
    desk = CopyDesk(seeds, T0)
    articles = [desk.next() for _ in range(120)]
    assert len({a.id for a in articles}) == 120 and all(len(a.id) > 50 for a in articles)
    assert sum(a.duplicate_of is not None for a in articles) == 40  # every third, syndicated
    assert articles[-1].ingested_at > articles[0].ingested_at
    clusterer = StoryClusterer({}, ClusterConfig())
    for article in articles:
        clusterer.add(article)
    assert [s["article_count"] for s in clusterer.stories.values()] == [120]
