"""A story closes when its shard's copy stops coming, not only when the next article comes."""

from pathlib import Path

import pytest

from lab.pipeline import LocalPipeline, free_port_block
from lab.story_view import StoryBoard
from services.ingest.producer import ingest
from services.settings import Settings
from tests.integration.conftest import fresh_settings

pytestmark = pytest.mark.integration

WINDOW_S = 20.0


def _seeds_in_a_story(
    run: LocalPipeline, settings: Settings, seeds_dir: Path
) -> tuple[StoryBoard, list[str]]:
    """The seeds fed in and placed (one story); the board watching the story topic."""
    run.wait_until_ready()
    board = StoryBoard(settings)
    sent = ingest([seeds_dir], settings, show_progress=False).sent
    placed = board.wait(lambda: board.accounts_for(sent), run.check, timeout_s=240)
    assert placed, f"not placed in time: {sent}"
    return board, sent


def test_a_quiet_shard_closes_its_story_after_the_window(
    broker: Settings, seeds_dir: Path, tmp_path: Path
) -> None:
    settings = fresh_settings(
        broker, story_window_hours=WINDOW_S / 3600, story_close_check_seconds=1.0
    )
    with LocalPipeline(settings, tmp_path / "logs", metrics_base_port=free_port_block()) as run:
        board, sent = _seeds_in_a_story(run, settings, seeds_dir)
        [story] = board.latest()
        assert story.event != "closed"  # copy has just come: the window is still open
        # No more copy: only the worker's ticks can close it now.
        closed = board.wait(
            lambda: board.latest()[0].event == "closed", run.check, timeout_s=WINDOW_S + 60
        )
        board.close()

    assert closed, "the story was not closed after its shard went quiet"
    [story] = board.latest()
    assert set(board.articles_of(story.story_id)) == set(sent) and story.article_count == len(sent)
    last_placed = max(board.placed_at[article_id] for article_id in sent)
    assert story.last_seen.timestamp() <= last_placed  # closed without any new copy


def test_a_restarted_worker_closes_a_quiet_shards_story(
    broker: Settings, seeds_dir: Path, tmp_path: Path
) -> None:
    settings = fresh_settings(
        broker, story_window_hours=WINDOW_S / 3600, story_close_check_seconds=1.0,
        session_timeout_seconds=8.0,
    )
    with LocalPipeline(settings, tmp_path / "logs", metrics_base_port=free_port_block()) as run:
        board, sent = _seeds_in_a_story(run, settings, seeds_dir)
        run.stop("cluster", kill=True)  # before the window is up: the story is still open
        [story] = board.latest()
        assert story.event != "closed"
        # Rebuilt from the changelog by the first tick it reads (one the killed worker sent
        # and never committed, or its own for the shards its table holds); no copy comes.
        run.start("cluster")
        run.wait_until_ready("cluster")
        closed = board.wait(
            lambda: board.latest()[0].event == "closed", run.check, timeout_s=WINDOW_S + 90
        )
        board.close()

    assert closed, "the restarted worker did not close the quiet shard's story"
    assert set(board.articles_of(board.latest()[0].story_id)) == set(sent)
