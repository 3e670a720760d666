"""The feed poller's memory: settled entries and validators survive a reopen, per feed."""

from datetime import UTC, datetime, timedelta
from pathlib import Path

from services.feed.state import FeedState


def test_settled_entries_and_validators_survive_a_restart(tmp_path: Path) -> None:
    state = FeedState(tmp_path / "state")
    state.settle("https://a/rss", "g-1", "sent")
    state.settle("https://a/rss", "g-2", "refused", "too_large: 2 MB")
    state.settle("https://b/rss", "g-1", "sent")
    state.remember_validators("https://a/rss", '"etag-1"', None)
    state.close()

    reopened = FeedState(tmp_path / "state")
    assert reopened.settled("https://a/rss", ["g-1", "g-2", "g-3"]) == {"g-1", "g-2"}
    assert reopened.settled("https://a/rss", [f"g-{n}" for n in range(2000)]) == {"g-1", "g-2"}
    assert reopened.outcomes("https://a/rss") == {"g-1": "sent", "g-2": "refused"}
    assert reopened.settled("https://c/rss", ["g-1"]) == set()
    assert reopened.validators("https://a/rss") == ('"etag-1"', None)
    assert reopened.validators("https://b/rss") == (None, None)
    reopened.remember_validators("https://a/rss", None, "Tue, 01 Dec 2026 10:00:00 GMT")
    assert reopened.validators("https://a/rss") == (None, "Tue, 01 Dec 2026 10:00:00 GMT")
    reopened.close()


def test_entries_the_feed_no_longer_lists_are_forgotten_once_old(tmp_path: Path) -> None:
    state = FeedState(tmp_path / "state")
    for n in range(3):
        state.settle("https://a/rss", f"g-{n}", "sent")
    state.settle("https://b/rss", "g-0", "sent")
    now = datetime.now(UTC)
    # Settled just now: nothing is old enough yet, listed or not.
    assert state.forget("https://a/rss", ["g-2"], now - timedelta(days=30)) == 0
    assert state.settled("https://a/rss", ["g-0", "g-1", "g-2"]) == {"g-0", "g-1", "g-2"}
    # Old enough: what the feed still lists is kept, the rest forgotten, other feeds untouched.
    assert state.forget("https://a/rss", ["g-2"], now + timedelta(seconds=1)) == 2
    assert state.settled("https://a/rss", ["g-0", "g-1", "g-2"]) == {"g-2"}
    assert state.settled("https://b/rss", ["g-0"]) == {"g-0"}
    state.close()
