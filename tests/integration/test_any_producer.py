"""Copy from a librdkafka producer (Debian's kcat) is cleaned with its outlet's one memory.

kcat partitions keys with CRC32 (librdkafka's `consistent_random`), not murmur2, and here it
keys one outlet's copy by article, so the outlet's copy lands on every partition of
`articles.raw`. The clean stage must still clean all of it on the outlet's murmur2 partition,
with one template memory: every article's fingerprint and every write of the outlet's
template go to that partition's changelog, which is what a worker taking the partition over
restores; and with two clean workers, one partition each, the outlet's boilerplate is learnt
once (kept in the first TEMPLATE_MIN_ARTICLES bodies) where, without the routing, each worker
learnt it on its own (measured: 6 bodies kept it instead of 3).
"""

import json
import re
import shutil
import signal
import subprocess
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest
from kafka import KafkaConsumer, TopicPartition

from lab.pipeline import LocalPipeline, free_port_block
from schemas.articles import CleanArticleV1
from schemas.deadletter import DeadLetterV1
from schemas.topics import Topic
from services.clean.memory import TEMPLATE_MIN_ARTICLES
from services.clean.route import REROUTED_HEADER, home_partition
from services.identity import article_key
from services.kafka import client_config
from services.settings import Settings
from tests.integration.conftest import ecb_sample, fresh_settings

pytestmark = pytest.mark.integration

OUTLET = "Kcat Wire"
ARTICLES = 12
BOILERPLATE = ("Kcat Wire correspondents across the region contributed reporting to this "
               "article, which has been updated since it was first published.")


Record = tuple[int, bytes | None, bytes, dict[str, bytes]]


def _read(settings: Settings, topic: str) -> list[Record]:
    """(partition, key, value, headers) of every message on `topic`, start to current end."""
    consumer = KafkaConsumer(**client_config(settings), enable_auto_commit=False)
    partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or ()]
    consumer.assign(partitions)
    consumer.seek_to_beginning(*partitions)
    ends = consumer.end_offsets(partitions)
    found = []
    while any(consumer.position(tp) < ends[tp] for tp in partitions):
        for tp, records in consumer.poll(timeout_ms=1000).items():
            found += [(tp.partition, r.key, r.value, dict(r.headers or [])) for r in records]
    consumer.close()
    return found


def _kcat_copy(shared: Path, tmp_path: Path) -> str:
    """One outlet's copy as kcat's `key<TAB>value` lines, one key per article, each article
    ending with the outlet's boilerplate line."""
    _, records = ecb_sample(shared, ARTICLES, tmp_path, seed=26)
    now = datetime.now(UTC).isoformat()
    lines = []
    for number, record in enumerate(records):
        article = {"id": f"kcat-{number}", "source": OUTLET, "title": record["title"],
                   "text": f"{record['title']}\n\n{record['text']}\n\n{BOILERPLATE}\n",
                   "ingested_at": now}
        # One key per article: librdkafka's CRC32 spreads them over the partitions.
        lines.append(f"{OUTLET}#{number}\t{json.dumps(article)}")
    return "\n".join(lines) + "\n"


def _kcat_produce(settings: Settings, copy: str, *options: str) -> None:
    if shutil.which("kcat") is None:
        pytest.fail("`kcat` is not installed: run `make kcat-install` (Debian's kcat package)")
    produced = subprocess.run(
        ["kcat", "-P", "-b", settings.bootstrap_servers, "-t", settings.topic(Topic.RAW),
         "-K", "\t", "-X", "partitioner=consistent_random", "-X", "acks=all", *options],
        input=copy, capture_output=True, text=True, timeout=60,
    )
    assert produced.returncode == 0, produced.stderr


def _wait_cleaned(settings: Settings, pipeline: LocalPipeline) -> list[CleanArticleV1]:
    cleaned: list[CleanArticleV1] = []
    deadline = time.monotonic() + 180
    while len(cleaned) < ARTICLES and time.monotonic() < deadline:
        pipeline.check()
        cleaned = [CleanArticleV1.model_validate_json(value)
                   for _, _, value, _ in _read(settings, settings.topic(Topic.CLEAN))]
    return cleaned


def _metric(text: str, name: str) -> float:
    match = re.search(rf"^{name} (\S+)$", text, re.M)
    return float(match.group(1)) if match else 0.0


def test_a_crc32_producer_s_copy_is_cleaned_on_its_outlet_s_partition(
    broker: Settings, shared: Path, tmp_path: Path
) -> None:
    settings = fresh_settings(broker)
    partitions = settings.topic_partitions
    assert partitions >= 2
    home = home_partition(OUTLET, partitions)
    raw_topic = settings.topic(Topic.RAW)
    with LocalPipeline(settings, tmp_path / "logs", stages=("clean",),
                       metrics_base_port=free_port_block()) as pipeline:
        pipeline.wait_until_ready()
        _kcat_produce(settings, _kcat_copy(shared, tmp_path))
        cleaned = _wait_cleaned(settings, pipeline)
        metrics_text = pipeline.metrics_text("clean")

    raw = _read(settings, raw_topic)
    originals = [(p, headers) for p, _, _, headers in raw if REROUTED_HEADER not in headers]
    away = [p for p, _ in originals if p != home]
    # The test means something only if kcat put some of the outlet's copy elsewhere.
    assert len(originals) == ARTICLES and away, Counter(p for p, _ in originals)
    resent = [(p, headers) for p, _, _, headers in raw if REROUTED_HEADER in headers]
    assert [p for p, _ in resent] == [home] * len(away)
    assert _metric(metrics_text, "storywire_clean_rerouted_total") == len(away)

    # Each article cleaned once, all of them on the outlet's partition.
    ids = [article_key(OUTLET, f"kcat-{n}") for n in range(ARTICLES)]
    assert sorted(article.id for article in cleaned) == sorted(ids)
    changelog = f"{settings.group('clean')}-clean-fingerprints-changelog"
    written_from = {
        json.loads(key): (partition, json.loads(value)["partition"])
        for partition, key, value, _ in _read(settings, changelog) if key and value
    }
    assert {written_from[article_id] for article_id in ids} == {(home, home)}
    # The outlet's template too: every write of it went to the home partition's changelog,
    # so the worker that holds that partition (after any rebalance) restores all of it.
    templates = f"{settings.group('clean')}-clean-templates-changelog"
    template_writes = [partition for partition, key, _, _ in _read(settings, templates)
                       if key and json.loads(key) == OUTLET]
    assert template_writes and set(template_writes) == {home}
    # And the template works: the outlet's boilerplate line is learnt from the first articles
    # cleaned and cut from every later one. (One worker holds both partitions here and its
    # in-memory table is one dict, so this holds with or without routing; the changelog
    # partitions above are what routing changes.)
    keeping = [article.id for article in cleaned if "correspondents across" in article.body]
    assert len(keeping) == TEMPLATE_MIN_ARTICLES, keeping


def test_with_two_clean_workers_an_outlet_s_template_is_learnt_once(
    broker: Settings, shared: Path, tmp_path: Path
) -> None:
    """Each clean worker holds one partition and its own template memory: copy left where kcat
    put it would be learnt from by both (the boilerplate kept in TEMPLATE_MIN_ARTICLES bodies
    per worker); sent to its outlet's partition, it is learnt from once."""
    settings = fresh_settings(broker, session_timeout_seconds=8.0)
    with LocalPipeline(settings, tmp_path / "logs", stages=("clean",),
                       metrics_base_port=0) as pipeline:
        pipeline.wait_until_ready()
        second = pipeline.spawn("clean", "clean-2", 0)
        try:
            deadline = time.monotonic() + 120
            log = pipeline.log_dir / "clean-2.log"
            while b"[^Worker]: Ready" not in log.read_bytes():
                pipeline.check()
                assert second.poll() is None and time.monotonic() < deadline, log.read_text()
                time.sleep(0.2)
            # Wait until each worker holds one partition of articles.raw (the first worker
            # gives one up when the second joins).
            raw_topic = settings.topic(Topic.RAW)
            while {_raw_partitions(pipeline.log_dir / f"{name}.log", raw_topic)
                   for name in ("clean", "clean-2")} != {"{0}", "{1}"}:
                pipeline.check()
                assert second.poll() is None and time.monotonic() < deadline, "no rebalance"
                time.sleep(0.2)
            _kcat_produce(settings, _kcat_copy(shared, tmp_path))
            cleaned = _wait_cleaned(settings, pipeline)
        finally:
            second.send_signal(signal.SIGTERM)
            second.wait(timeout=60)
    assert sorted(a.id for a in cleaned) == sorted(
        article_key(OUTLET, f"kcat-{n}") for n in range(ARTICLES)
    )
    keeping = [article.id for article in cleaned if "correspondents across" in article.body]
    assert len(keeping) == TEMPLATE_MIN_ARTICLES, keeping


def _raw_partitions(log: Path, raw_topic: str) -> str | None:
    """The partitions of articles.raw a worker's log last said it was assigned, e.g. "{0}"."""
    rows = re.findall(rf"^\| {re.escape(raw_topic)} +\| (\S+) +\|$", log.read_text(), re.M)
    return rows[-1] if rows else None


def test_a_re_sent_article_the_stage_refuses_is_dead_lettered_where_it_was_written(
    broker: Settings, tmp_path: Path
) -> None:
    settings = fresh_settings(broker)
    away = 1 - home_partition(OUTLET, 2)
    links = "\n".join(f"https://example.com/news/{n}/story-{n}.html" for n in range(60))
    article = {"id": "kcat-links", "source": OUTLET, "text": links,
               "ingested_at": datetime.now(UTC).isoformat()}
    with LocalPipeline(settings, tmp_path / "logs", stages=("clean",),
                       metrics_base_port=0) as pipeline:
        pipeline.wait_until_ready()
        # kcat -p: written straight to the partition that is not the outlet's.
        _kcat_produce(settings, f"{OUTLET}\t{json.dumps(article)}\n", "-p", str(away))
        letters: list[DeadLetterV1] = []
        deadline = time.monotonic() + 120
        while not letters and time.monotonic() < deadline:
            pipeline.check()
            letters = [DeadLetterV1.model_validate_json(value) for _, _, value, _
                       in _read(settings, settings.topic(Topic.DLQ_CLEAN))]
    (letter,) = letters
    written = [(p, offset) for p, offset, headers in _raw_places(settings)
               if REROUTED_HEADER not in headers]
    assert written == [(away, 0)]
    assert (letter.topic, letter.partition, letter.offset) == (settings.topic(Topic.RAW), away, 0)
    assert letter.reason and letter.original == json.dumps(article).encode()


def _raw_places(settings: Settings) -> list[tuple[int, int, dict[str, bytes]]]:
    consumer = KafkaConsumer(**client_config(settings), enable_auto_commit=False)
    topic = settings.topic(Topic.RAW)
    partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or ()]
    consumer.assign(partitions)
    consumer.seek_to_beginning(*partitions)
    ends = consumer.end_offsets(partitions)
    found = []
    while any(consumer.position(tp) < ends[tp] for tp in partitions):
        for tp, records in consumer.poll(timeout_ms=1000).items():
            found += [(tp.partition, r.offset, dict(r.headers or [])) for r in records]
    consumer.close()
    return found
