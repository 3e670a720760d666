"""`storywire bench pipeline` leaves no topics behind, also when a run fails."""

from pathlib import Path
from typing import Any

import pytest
from kafka import KafkaAdminClient

from lab.bench import pipeline as bench
from lab.pipeline import WorkerFailed
from services.settings import Settings

pytestmark = pytest.mark.integration


def test_a_failed_bench_run_deletes_the_topics_it_made(
    broker: Settings, shared: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    admin = KafkaAdminClient(bootstrap_servers=broker.bootstrap_servers)
    made: list[str] = []  # the run's topic prefix
    existed: list[str] = []  # its topics, seen while the run was under way

    def create(settings: Settings, *args: Any, **kwargs: Any) -> None:
        made.append(settings.topic_prefix)
        real_create(settings, *args, **kwargs)

    def fail(self: bench.BenchPipeline) -> None:
        existed.extend(t for t in admin.list_topics() if t.startswith(made[0]))
        raise WorkerFailed("failed on purpose by the test")

    real_create = bench.create_topics
    monkeypatch.setattr(bench, "create_topics", create)
    monkeypatch.setattr(bench.BenchPipeline, "wait_until_ready", fail)
    # The measuring before the pipeline starts is not what is tested here: kept small.
    monkeypatch.setattr(
        bench.Plan, "for_mode",
        classmethod(lambda cls, quick: cls(bare_articles=4, burst_articles=4, latency_rate=20,
                                           latency_seconds=1)),
    )
    monkeypatch.setattr(bench, "core_costs", lambda *args, **kwargs: None)
    monkeypatch.setattr(bench, "bare_throughput", lambda *args, **kwargs: (1.0, 1.0))

    with pytest.raises(WorkerFailed, match="on purpose"):
        # On the test's broker, where the topics are looked for (not a broker of the run's own).
        bench.run_bench(broker, shared=shared, quick=True, private=False)

    assert existed, "the run made no topics: nothing was tested"
    left = [t for t in admin.list_topics() if t.startswith(made[0])]
    admin.close()
    assert left == []
