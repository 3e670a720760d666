"""Batch mode on the real broker: a burst taken in batches still comes out whole.

The clean and cluster workers take their input in batches (`services.stage.batches`) and send
each batch's output together. A burst of copy with malformed messages among it, fed faster
than the workers take it so batches fill, must come out article for article: every good one in
exactly one story, every malformed one dead-lettered with its reason, counted once.
"""

import json
import time
from pathlib import Path

import pytest
from kafka import KafkaProducer

from lab.pipeline import LocalPipeline, free_port_block
from lab.story_view import StoryBoard
from schemas.topics import Topic
from services.ingest.producer import ingest
from services.kafka import client_config
from services.settings import Settings
from tests.integration.conftest import ecb_sample, fresh_settings
from tests.integration.test_pipeline import _metric

pytestmark = pytest.mark.integration

BURST = 90
# Sent before and after the burst, so they sit inside batches of good copy.
MALFORMED = [
    (b"bad-json-1", b"{not json", "invalid_json"),
    (b"bad-json-2", b"[1, 2", "invalid_json"),
    (b"no-copy-1", json.dumps({"id": "no-copy-1", "source": "x"}).encode(), "schema_violation"),
    (b"no-copy-2", json.dumps({"id": "no-copy-2", "source": "y"}).encode(), "schema_violation"),
]


def test_a_burst_in_batches_comes_out_whole_dead_letters_included(
    broker: Settings, shared: Path, tmp_path: Path
) -> None:
    # Batches of up to 16 that wait up to a second: the burst is taken many at a time.
    settings = fresh_settings(broker, stage_batch_size=16, stage_batch_seconds=1.0)
    ecb_path, _ = ecb_sample(shared, BURST, tmp_path, seed=23)
    logs = tmp_path / "logs"
    with LocalPipeline(settings, logs, metrics_base_port=free_port_block()) as pipeline:
        pipeline.wait_until_ready()
        producer = KafkaProducer(**client_config(settings), acks="all")
        raw = settings.topic(Topic.RAW)
        for key, value, _ in MALFORMED[:2]:
            producer.send(raw, key=key, value=value)
        producer.flush()
        report = ingest([ecb_path], settings, show_progress=False)
        for key, value, _ in MALFORMED[2:]:
            producer.send(raw, key=key, value=value)
        producer.flush()
        producer.close()
        assert not report.rejected and not report.failed and len(report.sent) == BURST
        board = StoryBoard(settings)
        try:
            assert board.wait(
                lambda: board.accounts_for(report.sent)
                and len(board.dead_letters) >= len(MALFORMED),
                pipeline.check,
                timeout_s=420,
            ), "the pipeline did not place every article of the burst"
            time.sleep(1.0)  # counters are updated just after their batch's send
            board.poll(timeout_s=1.0)
            placed = board.assignments()
            assert set(placed) == set(report.sent)
            standing = {story.story_id: story for story in board.latest()}
            for story_id in set(placed.values()):
                assert standing[story_id].article_count == len(board.articles_of(story_id))
            letters = {letter.original: letter for letter in board.dead_letters}
            assert len(board.dead_letters) == len(MALFORMED)
            for _, value, reason in MALFORMED:
                assert letters[value].reason == reason and letters[value].stage == "clean"
            clean = pipeline.metrics_text("clean")
            assert _metric(clean, "storywire_messages_in_total", stage="clean") == (
                BURST + len(MALFORMED)
            )
            assert _metric(clean, "storywire_messages_out_total", stage="clean") == BURST
            for stage in ("enrich", "cluster"):
                assert _metric(
                    pipeline.metrics_text(stage), "storywire_messages_out_total", stage=stage
                ) == BURST
        finally:
            board.close()
