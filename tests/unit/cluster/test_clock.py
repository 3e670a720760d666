"""The shard clock follows ingest time while copy flows and wall time once it stops."""

from datetime import UTC, datetime, timedelta

from services.cluster.clock import ShardClock

T0 = datetime(2016, 3, 24, 12, 0, tzinfo=UTC)


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
