"""Scenario 2: each stage's worker SIGKILLed with copy in flight, then restarted."""

import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from services.app import STAGES, Stage
from services.pipeline import LocalPipeline
from services.settings import Settings
from tests.integration.conftest import fresh_settings
from tests.integration.faults.check import lag
from tests.integration.faults.conftest import GoodCopy, feed_good

pytestmark = [pytest.mark.integration, pytest.mark.faults]


def _kill_in_flight(pipeline: LocalPipeline, settings: Settings, stage: Stage) -> int:
    """SIGKILL `stage`'s worker half a second into its input (or, for a later stage, once its
    input has started to arrive), while its group still has input it has not committed: that
    input is redelivered to the restarted worker, whatever of it was already sent on. Return
    the group's lag at the kill (0: it had finished, nothing was in flight)."""
    started = time.monotonic()
    behind = 0
    while time.monotonic() - started < 30:
        pipeline.check()
        behind = lag(settings)[stage]
        if behind and time.monotonic() - started >= 0.5:
            break
        time.sleep(0.1)
    pipeline.stop(stage, kill=True)
    return behind


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
            with ThreadPoolExecutor(1) as feeder:
                fed = feeder.submit(feed_good, part, settings)
                in_flight[stage] = _kill_in_flight(pipeline, settings, stage)
                run.good_ids += fed.result()
            pipeline.start(stage)
            pipeline.wait_until_ready(stage)
        findings = run.finish(pipeline, {"lag_at_kill": in_flight})
    assert all(in_flight.values()), f"a kill found nothing in flight: {in_flight}"
    assert not findings.problems(), "\n".join(findings.problems())
