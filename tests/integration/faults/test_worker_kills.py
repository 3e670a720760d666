"""Scenario 2: each stage's worker SIGKILLed with copy in flight, then restarted."""

import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from lab.pipeline import LocalPipeline
from services.app import STAGES, Stage
from services.journal import FAULT_ENV, FAULT_STATUS
from services.settings import Settings
from tests.integration.conftest import fresh_settings
from tests.integration.faults.check import input_end, lag
from tests.integration.faults.conftest import GoodCopy, feed_good

pytestmark = [pytest.mark.integration, pytest.mark.faults]


def _kill_in_flight(
    pipeline: LocalPipeline, settings: Settings, stage: Stage, before: int
) -> int:
    """SIGKILL `stage`'s worker as soon as new input (beyond `before` messages) reaches its
    topics (the clean stage keeps up with ingest: any later and it may be done). What it has
    not committed by then is redelivered to the restarted worker, whatever of it was already
    sent on. Return the group's lag after the kill (0: nothing was in flight)."""
    deadline = time.monotonic() + 60
    while input_end(settings, stage) <= before and time.monotonic() < deadline:
        pipeline.check()
        time.sleep(0.05)
    pipeline.stop(stage, kill=True)
    return lag(settings)[stage]


def test_each_stage_killed_mid_stream(
    broker: Settings, good_copy: GoodCopy, scenario: Any
) -> None:
    settings = fresh_settings(broker, session_timeout_seconds=8.0)
    run = scenario("sigkill_each_stage", settings)
    in_flight = {}
    with LocalPipeline(settings, run.log_dir, metrics_base_port=0) as pipeline:
        pipeline.wait_until_ready()
        for stage, part in zip(STAGES, good_copy.parts, strict=True):
            # Fed while the kill happens: the clean stage keeps up with ingest, so copy is in
            # flight in it only while copy is still coming.
            before = input_end(settings, stage)
            with ThreadPoolExecutor(1) as feeder:
                fed = feeder.submit(feed_good, part, settings)
                in_flight[stage] = _kill_in_flight(pipeline, settings, stage, before)
                run.good_ids += fed.result()
            pipeline.start(stage)
            pipeline.wait_until_ready(stage)
        findings = run.finish(pipeline, {"lag_at_kill": in_flight})
    assert all(in_flight.values()), f"a kill found nothing in flight: {in_flight}"
    assert not findings.problems(), "\n".join(findings.problems())


def test_cluster_stopped_between_a_batchs_table_writes(
    broker: Settings, good_copy: GoodCopy, scenario: Any
) -> None:
    """The cluster worker stopped dead with half of a batch's table writes on the broker (a
    SIGKILL cannot be timed into that gap, so the worker stops itself there: `FAULT_ENV`).
    The restarted worker completes its tables from the batch's journal before it handles the
    batch again: every article in one story, none counted twice, no crash."""
    settings = fresh_settings(broker, session_timeout_seconds=8.0)
    run = scenario("cluster_stopped_mid_commit", settings)
    stop_in: dict[Stage, dict[str, str]] = {"cluster": {FAULT_ENV: "2"}}  # 2nd batch with writes
    with LocalPipeline(settings, run.log_dir, metrics_base_port=0, stage_env=stop_in) as pipeline:
        pipeline.wait_until_ready()
        run.good_ids += feed_good(good_copy.parts[0], settings)
        worker = pipeline.processes.pop("cluster")
        assert worker.wait(timeout=120) == FAULT_STATUS, pipeline.log_tail("cluster")
        pipeline.stage_env = {}
        pipeline.start("cluster")
        pipeline.wait_until_ready("cluster")
        for part in good_copy.parts[1:]:
            run.good_ids += feed_good(part, settings)
        findings = run.finish(pipeline)
    log = (run.log_dir / "cluster.log").read_text(errors="replace")
    assert "written again from the journal" in log, "the restarted worker replayed nothing"
    assert not findings.problems(), "\n".join(findings.problems())
