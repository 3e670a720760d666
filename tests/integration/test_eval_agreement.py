"""The clustering evaluation's two modes agree: in-process cores vs the real pipeline."""

from pathlib import Path

import pytest

from lab.cluster.evaluate import evaluate_clustering
from lab.cluster.through_kafka import evaluate_through_kafka
from lab.pipeline import free_port_block
from services.settings import Settings
from tests.integration.conftest import ecb_sample

pytestmark = pytest.mark.integration


def test_through_kafka_places_every_article_as_the_in_process_replay_does(
    broker: Settings, shared: Path, tmp_path: Path
) -> None:
    sample, _ = ecb_sample(shared, 120, tmp_path, seed=5)
    seeds = shared / "seeds"
    in_process = evaluate_clustering(
        sample, tmp_path / "in-process.json", 3, broker.spacy_model, extra=[seeds], quiet=True
    )
    through_kafka = evaluate_through_kafka(
        sample, tmp_path / "kafka.json", 3, broker, extra=[seeds],
        metrics_base_port=free_port_block(), quiet=True, timeout_s=400,
    )
    assert (tmp_path / "kafka.json").read_text() == (tmp_path / "in-process.json").read_text()
    assert through_kafka["bcubed"] == in_process["bcubed"]
    assert through_kafka["seeds_one_story"] and in_process["seeds_one_story"]
