"""Scenario 3: a second worker of a stage joins mid-stream and leaves again."""

import signal
from typing import Any

import pytest

from lab.pipeline import LocalPipeline, WorkerFailed
from lab.story_view import StoryBoard
from services.app import Stage
from services.settings import Settings
from tests.integration.conftest import fresh_settings
from tests.integration.faults.conftest import GoodCopy, feed_good

pytestmark = [pytest.mark.integration, pytest.mark.faults]


def _wait_for_ready(pipeline: LocalPipeline, name: str, timeout_s: float = 120.0) -> None:
    import time

    log = pipeline.log_dir / f"{name}.log"
    deadline = time.monotonic() + timeout_s
    while b"[^Worker]: Ready" not in log.read_bytes():
        pipeline.check()
        if time.monotonic() > deadline:
            raise WorkerFailed(f"{name} was not ready within {timeout_s}s (see {log})")
        time.sleep(0.2)


# enrich: keyed by article id, so a second worker really takes half the copy. clean: keyed by
# source, with changelog tables (templates, duplicate fingerprints) that move with partitions.
# cluster: keyed by language shard, and the copy is all English, so the second worker takes the
# other partition: the one that holds the stories is revoked and assigned again around it twice
# (its indexes rebuilt, its journal checked again) while copy flows.
@pytest.mark.parametrize("stage", ["enrich", "clean", "cluster"])
def test_second_worker_joins_and_leaves(
    broker: Settings, good_copy: GoodCopy, scenario: Any, stage: Stage
) -> None:
    settings = fresh_settings(broker, session_timeout_seconds=8.0)
    run = scenario(f"second_{stage}_worker_joins_and_leaves", settings)
    with LocalPipeline(settings, run.log_dir, metrics_base_port=0) as pipeline:
        pipeline.wait_until_ready()
        board = StoryBoard(settings)
        run.good_ids += feed_good(good_copy.parts[0] + good_copy.parts[1], settings)
        second = pipeline.spawn(stage, f"{stage}-2", 0)
        try:
            _wait_for_ready(pipeline, f"{stage}-2")
            run.good_ids += feed_good(good_copy.parts[2], settings)
            before = board.messages_on_topics()
            board.wait(lambda: board.messages_on_topics() > before + 20, pipeline.check, 60)
        finally:
            second.send_signal(signal.SIGTERM)  # leaves the group cleanly, mid-stream
            second.wait(timeout=60)
        board.close()
        findings = run.finish(pipeline, {"second_worker": stage, "exit": second.returncode})
    assert not findings.problems(), "\n".join(findings.problems())
