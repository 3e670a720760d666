"""Fixtures for tests against the real broker: one session broker, fresh topics per use."""

import json
import random
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import TypeVar

import pytest
from pydantic import BaseModel

from schemas.topics import Topic
from services.audit.reader import read_topic, snapshot
from services.kafka import create_topics, delete_run_topics, reader_consumer
from services.settings import Settings
from tests.conftest import REPO

pytestmark = pytest.mark.integration

Model = TypeVar("Model", bound=BaseModel)


# Settings `fresh_settings` made this session: their topics are deleted when it ends.
_RUNS: list[Settings] = []


@pytest.fixture(scope="session")
def broker() -> Iterator[Settings]:
    """The local KRaft broker, started (idempotently) by deploy/kafka/broker.sh; the topics
    the session's tests made are deleted at its end."""
    result = subprocess.run(
        [str(REPO / "deploy" / "kafka" / "broker.sh"), "start"],
        capture_output=True, text=True, timeout=600,
    )
    if result.returncode != 0:
        pytest.fail(f"the Kafka broker did not start:\n{result.stdout}\n{result.stderr}")
    yield Settings()
    for settings in _RUNS:
        delete_run_topics(settings)


def fresh_settings(broker: Settings, **overrides: object) -> Settings:
    """Settings with topics and consumer groups no other test uses, topics created."""
    run = uuid.uuid4().hex[:10]
    settings = broker.model_copy(
        update={"topic_prefix": f"t{run}.", "group_prefix": f"test-{run}", **overrides}
    )
    create_topics(settings)
    _RUNS.append(settings)
    return settings


def read_all(settings: Settings, topic: Topic, model: type[Model]) -> list[Model]:
    """Every message of the run's `topic`, from its start to where it ended when called, read
    as `model` (with the audit's reader)."""
    consumer = reader_consumer(settings, "test-topic-reader")
    name = settings.topic(topic)
    try:
        bounds = snapshot(consumer, name, required=True)
        return [model.model_validate_json(message.value or b"")
                for message in read_topic(consumer, name, bounds, progress=None)]
    finally:
        consumer.close()


def ecb_sample(shared: Path, count: int, tmp: Path, seed: int = 11) -> tuple[Path, list[dict]]:
    """`count` ECB+ articles (unrelated to the seeds) written to a JSONL file."""
    records = [json.loads(line) for line in (shared / "data/ecbplus/articles.dev.jsonl").open()]
    random.Random(seed).shuffle(records)
    chosen = records[:count]
    path = tmp / "ecbplus-sample.jsonl"
    path.write_text("".join(json.dumps(record) + "\n" for record in chosen))
    return path, chosen


@pytest.fixture
def tmp_run_dir(tmp_path: Path) -> Iterator[Path]:
    yield tmp_path
