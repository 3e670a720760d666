"""`storywire audit` on real topics: what an operator runs, and the exit code a cron acts on."""

import base64
import json
import os
import subprocess
import time
from datetime import UTC, datetime

from kafka import KafkaProducer

from schemas.topics import Topic
from services.identity import article_key
from services.kafka import client_config
from services.settings import Settings
from tests.conftest import REPO
from tests.integration.conftest import fresh_settings

STORYWIRE = REPO / ".venv" / "bin" / "storywire"
HOUR_MS = 3_600_000


def raw_article(article_id: str, source: str) -> bytes:
    return json.dumps({
        "id": article_id, "source": source, "title": "Kerry [/x] in Moscow",
        "text": "MOSCOW, March 24 -- Kerry arrived.", "ingested_at": "2016-03-24T17:00:00Z",
    }).encode()


def story(story_id: str, article_ids: list[str]) -> bytes:
    return json.dumps({
        "story_id": story_id, "version": 1, "event": "created", "language": "en",
        "title": "Kerry [/x] in Moscow", "article_count": len(article_ids), "source_count": 1,
        "sources": [{"source": "xinhua", "articles": len(article_ids)}],
        "first_article_ids": article_ids[:5], "latest_article_ids": article_ids[-10:],
        "joined_ids": article_ids[:16], "joined_count": len(article_ids),
        "first_seen": "2016-03-24T09:00:00Z", "last_seen": "2016-03-24T17:00:00Z",
    }).encode()


def member(article_id: str, story_id: str) -> bytes:
    return json.dumps({
        "article_id": article_id, "story_id": story_id, "story_version": 1, "source": "xinhua",
        "headline": "Kerry [/x] in Moscow", "language": "en",
        "ingested_at": "2016-03-24T17:00:00Z",
    }).encode()


def letter(stage: str, reason: str, topic: str, partition: int, offset: int,
           original: bytes) -> bytes:
    return json.dumps({
        "stage": stage, "reason": reason, "topic": topic, "partition": partition,
        "offset": offset, "original": base64.b64encode(original).decode(),
        "failed_at": "2016-03-24T17:01:00Z",
    }).encode()


class Writer:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.producer = KafkaProducer(**client_config(settings))

    def send(self, topic: Topic, value: bytes, *, age_ms: int = HOUR_MS) -> tuple[int, int]:
        """Send and return (partition, offset); `age_ms` back-dates the broker timestamp."""
        now_ms = int(datetime.now(UTC).timestamp() * 1000)
        meta = self.producer.send(
            self.settings.topic(topic), value=value, key=b"xinhua", timestamp_ms=now_ms - age_ms
        ).get(timeout=30)
        return meta.partition, meta.offset

    def close(self) -> None:
        self.producer.flush()
        self.producer.close()


def run_audit(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "STORYWIRE_BOOTSTRAP_SERVERS": settings.bootstrap_servers}
    return subprocess.run(
        [str(STORYWIRE), "audit", "--topic-prefix", settings.topic_prefix, *args],
        capture_output=True, text=True, timeout=120, env=env,
    )


def test_audit_passes_when_every_article_is_accounted_for(broker: Settings) -> None:
    settings = fresh_settings(broker)
    writer = Writer(settings)
    writer.send(Topic.RAW, raw_article("kerry", "xinhua"))
    junk_at = writer.send(Topic.RAW, b"<html>not a record</html>")
    writer.send(Topic.RAW, raw_article("a1", "sana"))
    writer.send(Topic.RAW, raw_article("fresh", "xinhua"), age_ms=1000)  # still in the pipeline
    writer.send(Topic.STORIES, story("s-1", [article_key("xinhua", "kerry")]))
    writer.send(Topic.MEMBERS, member(article_key("xinhua", "kerry"), "s-1"))
    writer.send(Topic.DLQ_CLEAN, letter(
        "clean", "invalid_json", settings.topic(Topic.RAW), *junk_at, b"<html>not a record</html>"
    ))
    enriched = json.dumps({"id": article_key("sana", "a1"), "source": "sana"}).encode()
    writer.send(Topic.DLQ_ENRICH, letter(
        "enrich", "too_long_for_ner", settings.topic(Topic.CLEAN), 0, 3, enriched
    ))
    writer.send(Topic.DLQ_CLUSTER, b"{\"not\": \"a letter\"")
    writer.close()

    result = run_audit(settings, "--json")

    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["ok"] is True
    assert (report["raw_messages"], report["article_keys"], report["unparseable_raw"]) == (4, 3, 1)
    assert report["in_one_story"] == 1 and report["dead_lettered"] == 2
    assert report["dead_letter_reasons"] == {"invalid_json": 1, "too_long_for_ner": 1}
    assert [m["key"] for m in report["in_flight"]] == [article_key("xinhua", "fresh")]
    assert report["lost"] == [] and report["doubled"] == []
    assert len(report["malformed_letters"]) == 1


def test_audit_fails_on_a_lost_article(broker: Settings) -> None:
    settings = fresh_settings(broker)
    writer = Writer(settings)
    writer.send(Topic.RAW, raw_article("kerry", "xinhua"))
    lost_at = writer.send(Topic.RAW, raw_article("k[/x]", "xinhua"))
    writer.send(Topic.STORIES, story("s-1", [article_key("xinhua", "kerry")]))
    writer.send(Topic.MEMBERS, member(article_key("xinhua", "kerry"), "s-1"))
    writer.close()
    started = time.monotonic()

    result = run_audit(settings, "--json")

    assert result.returncode == 1, result.stderr
    report = json.loads(result.stdout)
    assert report["ok"] is False and report["in_one_story"] == 1
    lost = [(m["partition"], m["offset"], m["key"]) for m in report["lost"]]
    assert lost == [(*lost_at, "xinhua/k[/x]")]
    # The table escapes what came from messages: the key is printed as it is.
    table = run_audit(settings)
    assert table.returncode == 1, table.stderr
    assert "xinhua/k[/x]" in table.stdout and "FAILED" in table.stdout
    assert time.monotonic() - started < 60
