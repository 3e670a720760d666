"""Scenario 2: each stage's worker SIGKILLed with copy in flight, then restarted."""

import time
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
    """SIGKILL `stage`'s worker once it has started on its input but not finished it (or
    after 60 s, whatever it has done); return its lag at the kill."""
    deadline = time.monotonic() + 60
    behind = lag(settings)[stage]
    first = behind
    while time.monotonic() < deadline:
        pipeline.check()
        behind = lag(settings)[stage]
        if 0 < behind < first:
            break
        first = max(first, behind)
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
            run.good_ids += feed_good(part, settings)
            in_flight[stage] = _kill_in_flight(pipeline, settings, stage)
            pipeline.start(stage)
            pipeline.wait_until_ready(stage)
        findings = run.finish(pipeline, {"lag_at_kill": in_flight})
    assert all(in_flight.values()), f"a kill found nothing in flight: {in_flight}"
    assert not findings.problems(), "\n".join(findings.problems())
