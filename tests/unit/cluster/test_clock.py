"""The shard clock follows ingest time while copy flows and wall time once it stops."""

from datetime import timedelta

from services.cluster.clock import ShardClock, closed_by_tick, shards_to_tick
from services.cluster.core import ClusterConfig, StoryClusterer
from tests.unit.cluster.test_core import LOHAN_1, REID_1, T0


class FakeMonotonic:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_no_time_before_the_first_article() -> None:
    assert ShardClock(FakeMonotonic()).now() is None


def test_while_copy_flows_the_clock_is_the_latest_ingest_time() -> None:
    wall = FakeMonotonic()
    clock = ShardClock(wall)
    clock.saw(T0)
    wall.now += 0.5
    clock.saw(T0 + timedelta(hours=5))  # a backlog read fast: ingest time runs ahead of wall
    assert clock.now() == T0 + timedelta(hours=5)


def test_an_older_article_does_not_turn_the_clock_back() -> None:
    wall = FakeMonotonic()
    clock = ShardClock(wall)
    clock.saw(T0 + timedelta(hours=1))
    clock.saw(T0)
    assert clock.now() == T0 + timedelta(hours=1)


def test_once_the_shard_is_quiet_the_clock_moves_on_with_wall_time() -> None:
    wall = FakeMonotonic()
    clock = ShardClock(wall)
    clock.saw(T0)
    wall.now += 3 * 3600
    assert clock.now() == T0 + timedelta(hours=3)
    clock.saw(T0 + timedelta(minutes=1))  # the next article restarts the quiet stretch
    assert clock.now() == T0 + timedelta(minutes=1)


def test_a_tick_after_a_restart_starts_the_shard_clock_at_its_newest_copy() -> None:
    # A worker rebuilt from the table (a restart): stories, but no copy read since.
    stories: dict = {}
    StoryClusterer(stories, ClusterConfig(window_hours=1)).add(REID_1)  # last seen T0
    later = T0 + timedelta(minutes=30)
    StoryClusterer(stories, ClusterConfig(window_hours=1)).add(
        LOHAN_1.model_copy(update={"ingested_at": later})
    )
    restarted = StoryClusterer(stories, ClusterConfig(window_hours=1), language="en")
    assert restarted.latest_seen() == later
    wall = FakeMonotonic()
    clocks: dict[str, ShardClock] = {}

    assert closed_by_tick("en", restarted, clocks, lambda: ShardClock(wall)) == []
    assert clocks["en"].now() == later  # as if the newest copy had just come
    wall.now += 40 * 60  # 40 quiet minutes: the Reid story is 70 minutes past its last copy
    [closed] = closed_by_tick("en", restarted, clocks, lambda: ShardClock(wall))
    assert closed.latest_article_ids == ("reid-1",)
    wall.now += 30 * 60
    [closed] = closed_by_tick("en", restarted, clocks, lambda: ShardClock(wall))
    assert closed.latest_article_ids == ("lohan-1",)


def test_a_tick_for_a_shard_without_stories_closes_nothing() -> None:
    clocks: dict[str, ShardClock] = {}
    assert closed_by_tick("en", StoryClusterer({}, ClusterConfig(), language="en"), clocks) == []
    assert clocks == {}


def test_a_worker_with_nothing_rebuilt_ticks_the_shards_of_its_stored_stories() -> None:
    stories = {"a": {"language": "en"}, "b": {"language": "de"}, "c": {"language": "en"}}
    assert shards_to_tick({}, stories) == ["de", "en"]
    rebuilt = {"en": StoryClusterer({}, ClusterConfig(), language="en")}
    assert shards_to_tick(rebuilt, stories) == ["en"]  # then the shards it holds
    assert shards_to_tick({}, {}) == []
