"""`storywire bench story-size`: what one story costs the cluster stage as it grows to 20,000
articles, through the real cluster worker and the broker.

The five seed articles (Kerry meets Putin in Moscow) are enriched once, in this process; from
them come the copies of one event: syndicated copies (another outlet, same text, `duplicate_of`
the original) and fresh copy (a rewrite of the lead seed: its sentences drawn anew, in another
order; copies drawn from all five seeds make two stories past a few dozen articles, which is the
split check telling their two angles apart, so one story would not grow), with ids of realistic
length (`<outlet>/<date>/<slug>-<serial>`, about 60 characters). They are written as
`EnrichedArticleV1` straight to the cluster stage's input topic (`articles.enriched`), so
spaCy does not dominate the run, to a lone `storywire worker cluster` on fresh topics of one
partition. A warm-up story in another shard comes first, so the first interval does not pay for
the worker's first messages.

The run's topics, the worker's table changelogs among them, are made beforehand without
compaction: the broker would otherwise compact away the earlier values of a key (one story's
changelog) before they are read back, and the bytes written would be undercounted.

At each checkpoint (the story at 100, 1,000, 10,000 and 20,000 articles) the run waits until
the worker has placed every article sent (their `stories.members` records are read), then
notes the worker's CPU seconds (/proc) and the end offset of every partition of the run's
topics (storywire's and the worker's table changelogs). At the end every message of those
topics is read back, and each counted (key + value bytes) in the interval its offset falls in:
per interval, CPU ms per article, bytes written to the broker per article (all topics and
changelogs, the copy fed in included, and the cluster stage's writes alone) and the largest
message. The last line:
`bench-story: articles=<n> cpu_growth=<at n / at 100> bytes_growth=<...> max_message_kb=<...>`
where the growths compare the last interval with the first, per article, and bytes are all the
broker took in.
"""

import json
import random
import re
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from kafka import KafkaConsumer, KafkaProducer, TopicPartition

from schemas.articles import EnrichedArticleV1, EntityV1
from schemas.stories import StoryMemberV1
from schemas.topics import Topic
from services.kafka import (
    BATCH_FRAMING_BYTES,
    admin_client,
    client_config,
    create_topics,
    delete_run_topics,
    run_topic_marks,
)
from services.settings import Settings

CHECKPOINTS = (100, 1_000, 10_000, 20_000)
# The cluster worker's tables (`services.cluster.agent`), whose changelogs faust names
# `<group prefix>-cluster-<table>-changelog`.
TABLES = (
    "cluster-stories", "cluster-records", "cluster-members", "cluster-rosters", "cluster-journal"
)
WARMUP = 100  # articles of another shard's story, before the measured one
IDLE_S = 5.0  # seconds the idle worker's CPU is measured over
OUTLETS = tuple(
    f"{name}" for name in (
        "reuters", "apnews", "afp", "xinhua", "tass", "bbc", "cnn", "aljazeera", "dpa", "efe",
        "ansa", "kyodo", "yonhap", "guardian", "nytimes", "washingtonpost", "wsj", "ft",
        "bloomberg", "lemonde", "spiegel", "elpais", "corriere", "haaretz", "hindustantimes",
        "abc-au", "cbc", "rferl", "interfax", "sana", "presstv", "anadolu", "voa", "dw",
        "france24", "euronews", "skynews", "npr", "politico", "axios",
    )
)
SENTENCE = re.compile(r"(?<=[.!?\"])\s+(?=[A-Z\"])")


# --- the copy ------------------------------------------------------------------------------


def enriched_seeds(shared: Path, settings: Settings) -> list[EnrichedArticleV1]:
    """The seed articles through the clean and enrich cores, once (spaCy loads here)."""
    from lab.chain import clean_all, enrich_all, enriched
    from lab.cluster.evaluate import read_gold
    from services.enrich.core import load_nlp

    raws, _ = read_gold([shared / "seeds"])
    cleaned = clean_all(raws, max_body_chars=settings.max_body_chars)
    return enriched(enrich_all(cleaned, load_nlp(settings.spacy_model)))


@dataclass
class CopyDesk:
    """Copies of the seeds' event, one after another: every third a syndicated copy of an
    earlier fresh one from another outlet, the rest fresh copy drawn from the lead seed (the
    longest), its entities those of any seed its text names."""

    seeds: Sequence[EnrichedArticleV1]
    start: datetime
    language: str = "en"
    rng: random.Random = field(default_factory=lambda: random.Random(23))
    originals: list[EnrichedArticleV1] = field(default_factory=list)
    serial: int = 0

    def __post_init__(self) -> None:
        self.lead = max(self.seeds, key=lambda seed: len(seed.body))
        self.sentences = [s for s in SENTENCE.split(self.lead.body) if s]

    def next(self) -> EnrichedArticleV1:
        self.serial += 1
        at = self.start + timedelta(seconds=self.serial)
        outlet = self.rng.choice(OUTLETS)
        article_id = (
            f"{outlet}/{at:%Y/%m/%d}/kerry-putin-moscow-talks-syria-{self.language}-"
            f"{self.serial:06d}"
        )
        if self.originals and self.serial % 3 == 0:
            original = self.rng.choice(self.originals)
            return original.model_copy(update={
                "id": article_id, "source": outlet, "url": f"https://{outlet}.example/{article_id}",
                "duplicate_of": original.id, "ingested_at": at,
            })
        seed = self.lead
        body = " ".join(self.rng.sample(self.sentences, min(8, len(self.sentences))))
        headline = seed.headline
        named: dict[tuple[str, str], EntityV1] = {}
        for entity in (e for s in self.seeds for e in s.entities):
            if entity.text in body or entity.text in headline:
                named.setdefault((entity.text, entity.label), EntityV1(
                    text=entity.text, label=entity.label, count=max(body.count(entity.text), 1),
                    in_headline=entity.text in headline, in_lead=entity.text in body[:400],
                ))
        article = seed.model_copy(update={
            "id": article_id, "source": outlet, "url": f"https://{outlet}.example/{article_id}",
            "language": self.language, "headline": headline, "body": body,
            "entities": tuple(named.values()), "published_at": at, "ingested_at": at,
            "duplicate_of": None,
        })
        self.originals.append(article)
        return article


# --- the arithmetic ------------------------------------------------------------------------


@dataclass
class Interval:
    """What the worker did between two checkpoints (`upto` articles of the story at its end)."""

    upto: int
    articles: int
    cpu_s: float  # the worker's CPU seconds over the interval, less what it spends idle
    bytes_all: int = 0  # every message the broker took in, the copy fed in included
    bytes_out: int = 0  # the cluster stage's writes alone (its topics and changelogs)
    largest: int = 0  # bytes, key + value
    largest_in: str = ""  # the topic of the largest message
    by_topic: Counter[str] = field(default_factory=Counter)  # bytes, run prefixes left off

    @property
    def cpu_ms_per_article(self) -> float:
        return 1000 * self.cpu_s / self.articles

    @property
    def bytes_per_article(self) -> float:
        return self.bytes_all / self.articles

    @property
    def out_per_article(self) -> float:
        return self.bytes_out / self.articles


def checkpoints_for(articles: int) -> tuple[int, ...]:
    """The checkpoints of a run to `articles` (those of `CHECKPOINTS` below it, then it)."""
    return tuple(sorted({c for c in CHECKPOINTS if c < articles} | {articles}))


def interval_of(
    ends: Sequence[dict[tuple[str, int], int]], tp: tuple[str, int], offset: int
) -> int:
    """Which interval a message at `offset` of partition `tp` falls in: i when it is at or past
    checkpoint i's start (`ends[i]`, the end offsets then) and before checkpoint i + 1's; -1
    before the first (the warm-up), len(ends) - 1 past the last."""
    found = -1
    for k, marks in enumerate(ends):
        if offset >= marks.get(tp, 0):
            found = k
    return found


def summary(intervals: Sequence[Interval]) -> str:
    """The last line: growths of the last interval over the first, per article."""
    first, last = intervals[0], intervals[-1]
    return (
        f"bench-story: articles={last.upto} "
        f"cpu_growth={last.cpu_ms_per_article / first.cpu_ms_per_article:.2f} "
        f"bytes_growth={last.bytes_per_article / first.bytes_per_article:.2f} "
        f"max_message_kb={max(i.largest for i in intervals) / 1024:.1f}"
    )


def table(intervals: Sequence[Interval]) -> list[str]:
    lines = [
        f"{'story at':>9} {'articles':>9} {'cpu ms/art':>11} {'bytes/art':>10} "
        f"{'out b/art':>10} {'largest KiB':>12}"
    ]
    for i in intervals:
        lines.append(
            f"{i.upto:>9,} {i.articles:>9,} {i.cpu_ms_per_article:>11.2f} "
            f"{i.bytes_per_article:>10,.0f} {i.out_per_article:>10,.0f} {i.largest / 1024:>12.1f}"
        )
    return lines


# --- the run -------------------------------------------------------------------------------


def _uncompacted_topics(settings: Settings) -> None:
    """The run's topics and the cluster worker's changelogs, made with `cleanup.policy=delete`
    (see the module docstring), one partition each."""
    from kafka.admin import NewTopic

    names = [settings.topic(topic) for topic in Topic]
    names += [f"{settings.group_prefix}-cluster-{table}-changelog" for table in TABLES]
    configs = {
        "cleanup.policy": "delete",
        "max.message.bytes": str(settings.max_message_bytes + BATCH_FRAMING_BYTES),
    }
    admin = admin_client(settings)
    try:
        admin.create_topics([
            NewTopic(name=name, num_partitions=1, replication_factor=settings.topic_replication,
                     topic_configs=configs)
            for name in names
        ])
    finally:
        admin.close()


def _cpu_seconds(pid: int) -> float:
    from lab.bench.measure import cpu_seconds

    return cpu_seconds(pid)


def _run_partitions(consumer: KafkaConsumer, settings: Settings) -> list[TopicPartition]:
    marks = run_topic_marks(settings)
    names = sorted(t for t in consumer.topics() if t.startswith(marks))
    return [
        TopicPartition(name, p) for name in names
        for p in sorted(consumer.partitions_for_topic(name) or ())
    ]


def _ends(consumer: KafkaConsumer, settings: Settings) -> dict[tuple[str, int], int]:
    partitions = _run_partitions(consumer, settings)
    return {(tp.topic, tp.partition): end for tp, end in consumer.end_offsets(partitions).items()}


class _Placed:
    """The article ids the worker has placed so far, read from `stories.members`; a dead
    letter from the cluster stage stops the run (the copy should all be placed)."""

    def __init__(self, settings: Settings) -> None:
        self.consumer = KafkaConsumer(**client_config(settings), enable_auto_commit=False)
        self.members = settings.topic(Topic.MEMBERS)
        partitions = [
            TopicPartition(topic, p)
            for topic in (self.members, settings.topic(Topic.DLQ_CLUSTER))
            for p in sorted(self.consumer.partitions_for_topic(topic) or ())
        ]
        self.consumer.assign(partitions)
        self.consumer.seek_to_beginning(*partitions)
        self.ids: set[str] = set()

    def wait_for(self, ids: Iterable[str], check: Callable[[], None], timeout_s: float) -> None:
        wanted = set(ids)
        deadline = time.monotonic() + timeout_s
        while not wanted <= self.ids:
            check()
            if time.monotonic() > deadline:
                raise TimeoutError(f"{len(wanted - self.ids)} articles not placed in {timeout_s}s")
            for records in self.consumer.poll(timeout_ms=500).values():
                for record in records:
                    if record.topic != self.members:
                        refused = record.value[:300]
                        raise RuntimeError(f"the cluster stage refused copy: {refused!r}")
                    self.ids.add(StoryMemberV1.model_validate_json(record.value).article_id)

    def close(self) -> None:
        self.consumer.close()


def _read_back(
    settings: Settings, ends: list[dict[tuple[str, int], int]], final: dict[tuple[str, int], int],
    intervals: list[Interval], main_story: str,
) -> int:
    """Count every message of the run into its interval; return the main story's last
    article count (from its latest event on `stories`)."""
    consumer = KafkaConsumer(
        **client_config(settings), enable_auto_commit=False,
        max_partition_fetch_bytes=16 * 1024 * 1024, fetch_max_bytes=64 * 1024 * 1024,
    )
    input_topic = settings.topic(Topic.ENRICHED)
    marks = run_topic_marks(settings)

    def short(topic: str) -> str:
        return topic.removeprefix(marks[0]).removeprefix(marks[1])

    stories_topic = settings.topic(Topic.STORIES)
    partitions = [TopicPartition(t, p) for (t, p), end in final.items() if end > 0]
    consumer.assign(partitions)
    consumer.seek_to_beginning(*partitions)
    left = {(tp.topic, tp.partition) for tp in partitions}
    story_size, story_version = 0, 0
    try:
        while left:
            for tp, records in consumer.poll(timeout_ms=1000, max_records=5000).items():
                key = (tp.topic, tp.partition)
                for record in records:
                    if record.offset >= final[key]:
                        left.discard(key)
                        break
                    if record.offset == final[key] - 1:
                        left.discard(key)
                    k = interval_of(ends, key, record.offset)
                    if k < 0:
                        continue  # the warm-up
                    size = len(record.key or b"") + len(record.value or b"")
                    into = intervals[min(k, len(intervals) - 1)]
                    into.bytes_all += size
                    into.bytes_out += 0 if tp.topic == input_topic else size
                    into.by_topic[short(tp.topic)] += size
                    if size > into.largest:
                        into.largest, into.largest_in = size, short(tp.topic)
                    if tp.topic == stories_topic and record.key == main_story.encode():
                        event = json.loads(record.value)
                        if event["version"] > story_version:
                            story_version, story_size = event["version"], event["article_count"]
    finally:
        consumer.close()
    return story_size


def run_story_size(
    settings: Settings, shared: Path, articles: int = CHECKPOINTS[-1],
    say: Callable[[str], None] = print,
) -> list[Interval]:
    """Grow one story to `articles` through a cluster worker; print the table and the last
    line; return the intervals."""
    from lab.bench.measure import machine
    from lab.pipeline import LocalPipeline, free_port_block
    from services.cluster.core import story_id_for

    run = uuid.uuid4().hex[:8]
    seeds = enriched_seeds(shared, settings)
    # Ingested a second apart, the last one now: the cluster stage refuses copy from the future.
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(seconds=WARMUP + articles + 60)
    warm, desk = CopyDesk(seeds, start, language="zz"), CopyDesk(seeds, start)
    stops = checkpoints_for(articles)
    say(f"bench-story: {len(seeds)} seeds enriched; machine {machine()}")
    settings = settings.model_copy(update={
        "topic_prefix": f"bench-story-{run}.", "group_prefix": f"storywire-bench-story-{run}",
        "topic_partitions": 1, "data_dir": str(Path(".run") / "bench-story" / run / "faust"),
    })
    _uncompacted_topics(settings)
    create_topics(settings)  # any the worker needs that the run has not made
    log_dir = Path(".run") / "bench-story" / run
    producer = KafkaProducer(**client_config(settings), linger_ms=20, batch_size=512 * 1024,
                             max_request_size=8 * 1024 * 1024)
    topic = settings.topic(Topic.ENRICHED)

    def send(batch: list[EnrichedArticleV1]) -> None:
        for article in batch:
            producer.send(topic, key=article.language.encode(),
                          value=article.model_dump_json().encode())
        producer.flush()

    intervals: list[Interval] = []
    try:
        with LocalPipeline(settings, log_dir, stages=("cluster",),
                           metrics_base_port=free_port_block(3)) as pipeline:
            pipeline.wait_until_ready("cluster")
            pid = pipeline.processes["cluster"].pid
            placed = _Placed(settings)
            probe = KafkaConsumer(**client_config(settings), enable_auto_commit=False)
            try:
                batch = [warm.next() for _ in range(WARMUP)]
                send(batch)
                placed.wait_for((a.id for a in batch), pipeline.check, timeout_s=300)
                time.sleep(2)  # the warm-up's last table writes
                # What the worker spends with no copy (timers, ticks, heartbeats), per second:
                # taken off each interval, so the short first one is not charged for it.
                idle_from = _cpu_seconds(pid)
                time.sleep(IDLE_S)
                idle = (_cpu_seconds(pid) - idle_from) / IDLE_S
                say(f"bench-story: idle worker {1000 * idle:.1f} cpu ms/s")
                ends = [_ends(probe, settings)]
                cpu = [_cpu_seconds(pid)]
                main_story = ""
                done = 0
                for stop in stops:
                    started = time.monotonic()
                    batch = [desk.next() for _ in range(stop - done)]
                    main_story = main_story or story_id_for(batch[0].id)
                    send(batch)
                    placed.wait_for((a.id for a in batch), pipeline.check, timeout_s=1800)
                    time.sleep(1)
                    ends.append(_ends(probe, settings))
                    cpu.append(_cpu_seconds(pid))
                    busy = cpu[-1] - cpu[-2] - idle * (time.monotonic() - started)
                    intervals.append(Interval(stop, stop - done, max(busy, 0.0)))
                    done = stop
                    say(f"bench-story: story at {stop:,} articles "
                        f"({time.monotonic() - started:.0f} s, "
                        f"{intervals[-1].cpu_ms_per_article:.2f} cpu ms/article)")
            finally:
                probe.close()
                placed.close()
                producer.close()
        size = _read_back(settings, ends[:-1], ends[-1], intervals, main_story)
    finally:
        try:
            delete_run_topics(settings)
        except Exception as exc:  # noqa: BLE001 - the run's own error, if any, is the one to see
            say(f"could not delete the run's topics ({settings.topic_prefix}*): {exc!r}")
    say(f"bench-story: the story {main_story} holds {size:,} articles at the end "
        f"({articles:,} sent); {datetime.now(UTC):%Y-%m-%d %H:%M} UTC")
    for line in table(intervals):
        say(line)
    for i in intervals:
        top = ", ".join(
            f"{topic} {size / i.articles / 1024:.1f}" for topic, size in i.by_topic.most_common()
        )
        say(f"bench-story: at {i.upto:,}, KiB/article: {top}; largest in {i.largest_in}")
    say(summary(intervals))
    return intervals
