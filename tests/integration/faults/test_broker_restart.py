"""Scenario 4: the broker stopped for ~15 s mid-stream and started again.

On a private broker (deploy/kafka/broker.sh on free ports, its own state), never the shared
one on 9092 that other test runs use.
"""

import time
from typing import Any

import pytest

from lab.pipeline import LocalPipeline
from lab.story_view import StoryBoard
from tests.integration.faults.conftest import GoodCopy, PrivateBroker, feed_good

pytestmark = [pytest.mark.integration, pytest.mark.faults]

OUTAGE_S = 15.0


def test_broker_stopped_and_started_mid_stream(
    private_broker: PrivateBroker, good_copy: GoodCopy, scenario: Any
) -> None:
    settings = private_broker.settings(session_timeout_seconds=8.0)
    run = scenario("broker_restart", settings)
    with LocalPipeline(settings, run.log_dir, metrics_base_port=0) as pipeline:
        pipeline.wait_until_ready()
        board = StoryBoard(settings)
        run.good_ids += feed_good(good_copy.parts[0] + good_copy.parts[1], settings)
        board.wait(lambda: board.messages_on_topics() > 0, pipeline.check, 60)
        board.close()
        private_broker.run("stop")  # copy in flight in every stage
        time.sleep(OUTAGE_S)
        private_broker.run("start")
        run.good_ids += feed_good(good_copy.parts[2], settings)
        findings = run.finish(pipeline, {"outage_seconds": OUTAGE_S})
    assert not findings.problems(), "\n".join(findings.problems())
