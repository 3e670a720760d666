"""The whole pipeline against the real broker: seeds + unrelated copy -> stories.

One pipeline (three real worker processes on fresh topics) serves this module's tests: the
seeds' story, the dead letters and the metrics all describe the same run.
"""

import json
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
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

pytestmark = pytest.mark.integration

ECB_COUNT = 120
# Bad input sent straight to articles.raw: (key, value, the reason the clean stage must give).
MALFORMED = [
    (b"bad-json", b"{this is not json", "invalid_json"),
    (b"no-copy", json.dumps({"id": "no-copy", "source": "x", "ingested_at":
                             "2026-01-01T00:00:00Z"}).encode(), "schema_violation"),
]


@dataclass
class Run:
    settings: Settings
    pipeline: LocalPipeline
    board: StoryBoard
    seed_ids: set[str]
    good_ids: set[str]


def _metric(text: str, name: str, **labels: str) -> float:
    """The value of one sample in Prometheus text format (0 if absent)."""
    wanted = ",".join(f'{key}="{value}"' for key, value in sorted(labels.items()))
    for line in text.splitlines():
        match = re.match(r"^([a-z_]+)(\{[^}]*\})? (\S+)$", line)
        if not match or match.group(1) != name:
            continue
        found = ",".join(sorted((match.group(2) or "{}")[1:-1].split(","))) if labels else ""
        if found == wanted or (not labels and not match.group(2)):
            return float(match.group(3))
    return 0.0


@pytest.fixture(scope="module")
def run(broker: Settings, shared: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Run]:
    settings = fresh_settings(broker)
    tmp = tmp_path_factory.mktemp("pipeline")
    seeds = shared / "seeds"
    ecb_path, _ = ecb_sample(shared, ECB_COUNT, tmp)
    with LocalPipeline(settings, tmp / "logs", metrics_base_port=free_port_block()) as pipeline:
        pipeline.wait_until_ready()
        report = ingest([seeds, ecb_path], settings, show_progress=False)
        assert not report.rejected and not report.failed
        producer = KafkaProducer(**client_config(settings), acks="all")
        for key, value, _ in MALFORMED:
            producer.send(settings.topic(Topic.RAW), key=key, value=value)
        producer.flush()
        producer.close()
        board = StoryBoard(settings)
        assert board.wait(
            lambda: board.accounts_for(report.sent) and len(board.dead_letters) >= len(MALFORMED),
            pipeline.check,
            timeout_s=420,
        ), "the pipeline did not place every article"
        # Let counters settle (the last messages' metrics are updated after their send).
        time.sleep(1.0)
        # Ids downstream are keys (source/id): the seeds' are those whose id is a seed file's.
        stems = {p.stem for p in seeds.glob("*.txt")}
        seed_ids = {key for key in report.sent if key.split("/", 1)[1] in stems}
        assert len(seed_ids) == len(stems)
        yield Run(settings, pipeline, board, seed_ids, set(report.sent))
        board.close()


def test_seed_articles_form_exactly_one_story_holding_nothing_else(run: Run) -> None:
    assert len(run.good_ids) == 5 + ECB_COUNT
    members = {s.story_id: set(run.board.articles_of(s.story_id)) for s in run.board.latest()}
    holding_seeds = [s for s in run.board.latest() if run.seed_ids & members[s.story_id]]
    assert len(holding_seeds) == 1, [members[s.story_id] for s in holding_seeds]
    story = holding_seeds[0]
    assert members[story.story_id] == run.seed_ids
    assert story.article_count == 5
    names = {entity.text for entity in story.top_entities}
    assert {"Vladimir Putin", "John Kerry", "Syria"} <= names


def test_every_good_article_is_in_exactly_one_story(run: Run) -> None:
    # stories.members says one story per article (keyed by article id); each story's latest
    # event counts exactly the articles whose member record names it.
    placed = run.board.assignments()
    assert set(placed) == run.good_ids
    standing = {story.story_id: story for story in run.board.latest()}
    assert set(placed.values()) <= set(standing)
    for story_id, story in standing.items():
        assert story.article_count == len(run.board.articles_of(story_id)), story


def test_malformed_messages_land_in_the_dead_letter_topic_with_their_reason(run: Run) -> None:
    letters = {letter.original: letter for letter in run.board.dead_letters}
    for _, value, reason in MALFORMED:
        assert value in letters, f"no dead letter for {value!r}"
        letter = letters[value]
        assert letter.reason == reason
        assert letter.stage == "clean"
        assert letter.topic == run.settings.topic(Topic.RAW)
        assert letter.offset >= 0


def test_metrics_count_what_passed(run: Run) -> None:
    clean = run.pipeline.metrics_text("clean")
    fed = len(run.good_ids) + len(MALFORMED)
    assert _metric(clean, "storywire_messages_in_total", stage="clean") == fed
    assert _metric(clean, "storywire_messages_out_total", stage="clean") == len(run.good_ids)
    for _, _, reason in MALFORMED:
        assert _metric(
            clean, "storywire_dead_letters_total", stage="clean", reason=reason
        ) == 1
    enrich = run.pipeline.metrics_text("enrich")
    assert _metric(enrich, "storywire_messages_out_total", stage="enrich") == len(run.good_ids)
    cluster = run.pipeline.metrics_text("cluster")
    assert _metric(cluster, "storywire_messages_in_total", stage="cluster") == len(run.good_ids)
    created = _metric(cluster, "storywire_cluster_story_events_total", event="created")
    assert created >= len({s.story_id for s in run.board.stories.values()})
