"""A cluster worker killed mid-stream comes back with the same stories (changelog tables)."""

import shutil
from pathlib import Path

import pytest

from lab.pipeline import LocalPipeline, free_port_block
from lab.story_view import StoryBoard
from services.ingest.producer import ingest
from services.settings import Settings
from tests.integration.conftest import fresh_settings

pytestmark = pytest.mark.integration


def _wait_until_placed(board: StoryBoard, pipeline: LocalPipeline, ids: list[str]) -> None:
    placed = board.wait(lambda: board.accounts_for(ids), pipeline.check, timeout_s=240)
    assert placed, f"not placed in time: {ids}"


def test_killed_cluster_worker_resumes_with_the_same_stories(
    broker: Settings, seeds_dir: Path, tmp_path: Path
) -> None:
    # A short session timeout: the killed worker's partitions move on within seconds.
    settings = fresh_settings(broker, session_timeout_seconds=8.0)
    seeds = sorted(seeds_dir.glob("*.txt"))
    first, second = tmp_path / "first", tmp_path / "second"
    first.mkdir()
    second.mkdir()
    for path in seeds[:3]:
        shutil.copy(path, first)
    for path in seeds[3:]:
        shutil.copy(path, second)
    with LocalPipeline(settings, tmp_path / "logs", metrics_base_port=free_port_block()) as run:
        run.wait_until_ready()
        board = StoryBoard(settings)
        sent_first = ingest([first], settings, show_progress=False).sent
        _wait_until_placed(board, run, sent_first)
        [story_before] = board.latest()
        assert story_before.article_count == 3

        run.stop("cluster", kill=True)  # no clean shutdown: state must come from the changelog
        run.start("cluster")
        run.wait_until_ready("cluster")
        sent_second = ingest([second], settings, show_progress=False).sent
        _wait_until_placed(board, run, sent_first + sent_second)
        board.close()

    [story_after] = board.latest()
    assert story_after.story_id == story_before.story_id
    members = board.articles_of(story_after.story_id)
    assert set(members) == set(sent_first + sent_second)
    assert story_after.article_count == len(members)
    assert {article_id.split("/", 1)[1] for article_id in members} == {
        path.stem for path in seeds
    }
    assert story_after.version == story_before.version + 2
