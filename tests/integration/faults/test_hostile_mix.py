"""Scenario 1: every kind of hostile message among good copy; nothing lost, nothing doubled."""

import os
from collections import Counter
from datetime import UTC, datetime
from typing import Any

import pytest

from lab.pipeline import LocalPipeline
from services.settings import Settings
from tests.integration.conftest import fresh_settings
from tests.integration.faults.conftest import GoodCopy, feed_good, feed_hostile
from tests.integration.faults.hostile import HostileCase, hostile_cases

pytestmark = [pytest.mark.integration, pytest.mark.faults]


def _selected(cases: list[HostileCase]) -> list[HostileCase]:
    """The cases to feed: all, unless STORYWIRE_FAULTS_ONLY or STORYWIRE_FAULTS_SKIP (comma-
    separated case names) narrow them, to see what else fails once one case halts a stage."""
    only = {name for name in os.environ.get("STORYWIRE_FAULTS_ONLY", "").split(",") if name}
    skip = {name for name in os.environ.get("STORYWIRE_FAULTS_SKIP", "").split(",") if name}
    return [c for c in cases if (not only or c.name in only) and c.name not in skip]


def test_catalogue_covers_every_input_topic_and_kind() -> None:
    """The catalogue itself: 30 kinds or more, every stage's input topic, unique names."""
    from schemas.articles import RawArticleV1

    article = RawArticleV1(id="v", source="s", text="Some copy.", ingested_at=datetime.now(UTC))
    cases = hostile_cases(article, [article] * 60, datetime.now(UTC))
    names = Counter(case.name for case in cases)
    assert len(cases) >= 30
    assert [name for name, count in names.items() if count > 1] == []
    assert {case.topic for case in cases} == {
        "articles.raw", "articles.clean", "articles.enriched", "cluster.ticks"
    }


def test_hostile_messages_among_good_copy(
    broker: Settings, good_copy: GoodCopy, scenario: Any
) -> None:
    settings = fresh_settings(broker, session_timeout_seconds=8.0, story_close_check_seconds=5.0)
    run = scenario("hostile_mix", settings)
    cases = _selected(hostile_cases(good_copy.victim, good_copy.spare, datetime.now(UTC)))
    with LocalPipeline(settings, run.log_dir, metrics_base_port=0) as pipeline:
        pipeline.wait_until_ready()
        run.good_ids += feed_good(good_copy.parts[0] + good_copy.parts[1], settings)
        run.sent += feed_hostile(cases, settings)
        run.good_ids += feed_good(good_copy.parts[2], settings)
        findings = run.finish(pipeline, {"kinds": len(cases)})
    assert findings.good >= 200
    assert not findings.problems(), "\n".join(findings.problems())
