"""`storywire bench`: how fast the whole pipeline turns wire copy into stories, and what it costs.

One run measures, on the configured broker with real `storywire worker STAGE` processes:
- bare NLP: the enrich core (`enrich_batch`, batches of `enrich_batch_size`) over cleaned
  benchmark articles, outside the pipeline, in one process and in two (one model each);
- end to end: a burst of articles into `articles.raw` with the workers already up and warm,
  timed from the first story event to the story event that first lists the burst's last article,
  with one enrich worker and then with two (same consumer group, so they share partitions);
- latency, ingest -> story event, per article at a fixed offered load (`ingested_at` in the raw
  article against the timestamp of the earliest story event that lists it, which the cluster
  worker's producer stamps as it sends the event; same clock, same machine);
- each worker's peak RSS (VmHWM) and the CPU seconds each process spent per article.

The benchmark articles are real copy (ECB+ dev articles and the extraction ground-truth
bodies) chained and cut to about `TARGET_WORDS` words, with fresh ids on every run.
Everything goes to fresh topics (a per-run prefix), so runs never see each other's copy.
"""

import argparse
import json
import multiprocessing
import os
import platform
import random
import re
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from lab.pipeline import LocalPipeline, WorkerFailed, free_port_block
from lab.story_view import StoryBoard, article_id_of
from schemas.articles import CleanArticleV1, EnrichedArticleV1, RawArticleV1
from schemas.topics import Topic
from services.clean.core import clean
from services.clean.memory import SourceMemory
from services.enrich.core import NER_BODY_CHARS, enrich_batch, load_nlp, ner_text
from services.errors import InvalidArticle
from services.kafka import admin_client, create_topics, delete_run_topics, run_topic_marks
from services.settings import Settings

TARGET_WORDS = 500
SOURCES = 32  # outlets the benchmark copy is spread over (articles.raw is keyed by source)
_SENTENCE_END = re.compile(r"(?<=[.!?\"”])\s+")


# --- benchmark copy ------------------------------------------------------------------------


@dataclass(frozen=True)
class BenchArticle:
    """One benchmark article before ingest (`ingested_at` is stamped when it is sent)."""

    id: str
    source: str
    title: str
    text: str

    def raw(self, ingested_at: datetime) -> RawArticleV1:
        return RawArticleV1(
            id=self.id, source=self.source, title=self.title, text=self.text,
            ingested_at=ingested_at,
        )


def word_count(text: str) -> int:
    return len(text.split())


def load_copy(shared: Path) -> list[tuple[str, str]]:
    """(headline, body) of every ECB+ dev article and every extraction ground-truth body."""
    copy: list[tuple[str, str]] = []
    with (shared / "data" / "ecbplus" / "articles.dev.jsonl").open(encoding="utf-8") as ecb:
        for line in ecb:
            if line.strip():
                record = json.loads(line)
                copy.append((record.get("title") or "", record["text"]))
    truth = json.loads((shared / "data" / "extraction" / "ground-truth.json").read_text())
    for page in truth.values():
        body = page["articleBody"]
        copy.append(("", body))
    return [(title, body) for title, body in copy if word_count(body) >= 20]


def _headline(title: str, body: str) -> str:
    """The copy's own headline, else its first sentence (at most 14 words)."""
    if title.strip():
        return title.strip()
    first = _SENTENCE_END.split(body.strip(), 1)[0]
    return " ".join(first.split()[:14])


def _cut(paragraph: str, words_wanted: int) -> str:
    """The paragraph's leading sentences holding about `words_wanted` words (at least one)."""
    kept: list[str] = []
    count = 0
    for sentence in _SENTENCE_END.split(paragraph):
        if kept and count + word_count(sentence) / 2 > words_wanted:
            break
        kept.append(sentence)
        count += word_count(sentence)
    return " ".join(kept)


def compose_articles(
    copy: Sequence[tuple[str, str]],
    count: int,
    *,
    run: str,
    target_words: int = TARGET_WORDS,
    seed: int = 6,
) -> list[BenchArticle]:
    """`count` articles of about `target_words` words each, with ids unique to `run`.

    Each starts from a random piece of copy (its headline is that copy's) and goes on with the
    paragraphs of further random pieces until it reaches the target, the last paragraph cut at
    a sentence end. Short ECB+ articles and long feature bodies thus both become wire-length
    articles, and no two articles share all their text.
    """
    chooser = random.Random(seed)
    articles = []
    for number in range(count):
        title, body = copy[chooser.randrange(len(copy))]
        paragraphs: list[str] = []
        words = 0
        piece = body
        while words < target_words:
            for paragraph in piece.split("\n\n"):
                paragraph = " ".join(paragraph.split())
                if not paragraph:
                    continue
                wanted = target_words - words
                if word_count(paragraph) > wanted:
                    paragraph = _cut(paragraph, wanted)
                paragraphs.append(paragraph)
                words += word_count(paragraph)
                if words >= target_words:
                    break
            piece = copy[chooser.randrange(len(copy))][1]
        articles.append(
            BenchArticle(
                id=f"bench-{run}-{number:06d}",
                source=f"bench-wire-{number % SOURCES:02d}",
                title=_headline(title, body),
                text="\n\n".join(paragraphs),
            )
        )
    return articles


# --- figures -------------------------------------------------------------------------------


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0..100) with linear interpolation between closest ranks.

    The same definition as numpy's default ("linear"), without numpy for a handful of floats.
    """
    if not values:
        raise ValueError("percentile of no values")
    if not 0 <= q <= 100:
        raise ValueError(f"percentile {q} is outside 0..100")
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def summary_line(e2e: float, bare: float, p99_ms: float, rss_mb: float) -> str:
    """The one line a script greps: throughputs in articles/s, latency in ms, RSS in MiB."""
    ratio = e2e / bare if bare else 0.0
    return (
        f"bench: e2e={e2e:.1f} bare={bare:.1f} ratio={ratio:.2f} "
        f"p99_ms={p99_ms:.0f} rss_mb={rss_mb:.0f}"
    )


# --- bare NLP ------------------------------------------------------------------------------


def clean_all(articles: Sequence[BenchArticle], max_body_chars: int) -> list[CleanArticleV1]:
    """The articles through the clean core (one memory, as one clean worker would hold)."""
    memory = SourceMemory(templates={}, fingerprints={})
    now = datetime.now(UTC)
    cleaned = []
    for article in articles:
        try:
            cleaned.append(clean(article.raw(now), memory, max_body_chars=max_body_chars))
        except InvalidArticle:
            continue  # counted by the caller: len(cleaned) < len(articles)
    return cleaned


def _enrich_in_batches(
    articles: Sequence[CleanArticleV1], nlp: Any, batch_size: int, body_chars: int | None
) -> list[EnrichedArticleV1 | InvalidArticle]:
    results: list[EnrichedArticleV1 | InvalidArticle] = []
    for start in range(0, len(articles), batch_size):
        results.extend(
            enrich_batch(articles[start : start + batch_size], nlp, body_chars=body_chars)
        )
    return results


def _bare_process(
    model: str,
    articles: list[CleanArticleV1],
    batch_size: int,
    body_chars: int | None,
    ready: Any,
    out: Any,
) -> None:
    """One process of the multi-process bare measurement: load, wait for all, time the share."""
    nlp = load_nlp(model)
    _enrich_in_batches(articles[:batch_size], nlp, batch_size, body_chars)  # warm caches
    ready.wait()
    started = time.monotonic()  # CLOCK_MONOTONIC: one clock for every process on the machine
    cpu_started = time.process_time()
    _enrich_in_batches(articles, nlp, batch_size, body_chars)
    out.put((started, time.monotonic(), len(articles), time.process_time() - cpu_started))


def bare_throughput(
    articles: list[CleanArticleV1],
    model: str,
    batch_size: int,
    *,
    processes: int = 1,
    body_chars: int | None = NER_BODY_CHARS,
) -> tuple[float, float]:
    """Articles/s of `enrich_batch` over `articles` in `processes` processes (one model each),
    and the CPU milliseconds it spent per article.

    Wall time runs from the moment every process has its model loaded and warm to the moment
    the last one finishes, so the figure compares with workers that are already up. The CPU
    figure does not depend on what else the machine runs: set against an enrich worker's CPU
    per article, it shows what the worker adds around the NLP.
    """
    context = multiprocessing.get_context("spawn")  # no forked copy of this process's state
    ready = context.Barrier(processes)
    out = context.Queue()
    shares = [articles[index::processes] for index in range(processes)]
    workers = [
        context.Process(
            target=_bare_process, args=(model, share, batch_size, body_chars, ready, out)
        )
        for share in shares
    ]
    for worker in workers:
        worker.start()
    timings = [out.get(timeout=1800) for _ in workers]
    for worker in workers:
        worker.join(timeout=60)
    started = min(t[0] for t in timings)
    finished = max(t[1] for t in timings)
    count = sum(t[2] for t in timings)
    return count / (finished - started), sum(t[3] for t in timings) * 1000 / count


@dataclass
class CoreCosts:
    """CPU milliseconds per article of the in-process parts, one process, no broker.

    CPU time rather than wall time, so the figures hold on a machine that is also busy."""

    clean_ms: float
    ner_ms: float  # nlp.pipe alone over the text the NER reads
    enrich_ms: float  # the whole enrich_batch: nlp.pipe plus entities, keywords, the model
    json_ms: float  # one decode + one encode of an enriched article (what each hop pays)


def core_costs(
    articles: Sequence[BenchArticle], cleaned: list[CleanArticleV1], settings: Settings
) -> CoreCosts:
    memory = SourceMemory(templates={}, fingerprints={})
    now = datetime.now(UTC)
    started = time.process_time()
    for article in articles:
        try:
            clean(article.raw(now), memory, max_body_chars=settings.max_body_chars)
        except InvalidArticle:
            continue
    clean_ms = (time.process_time() - started) * 1000 / len(articles)

    nlp = load_nlp(settings.spacy_model)
    size = settings.enrich_batch_size
    _enrich_in_batches(cleaned[:size], nlp, size, NER_BODY_CHARS)  # warm caches
    texts = [ner_text(article) for article in cleaned]
    started = time.process_time()
    for start in range(0, len(texts), size):
        list(nlp.pipe(texts[start : start + size], batch_size=size))
    ner_s = time.process_time() - started
    started = time.process_time()
    enriched = _enrich_in_batches(cleaned, nlp, size, NER_BODY_CHARS)
    enrich_s = time.process_time() - started
    good = [article for article in enriched if isinstance(article, EnrichedArticleV1)]
    started = time.process_time()
    for enriched_article in good:
        EnrichedArticleV1.model_validate_json(enriched_article.model_dump_json().encode())
    json_ms = (time.process_time() - started) * 1000 / max(len(good), 1)
    return CoreCosts(
        clean_ms=clean_ms,
        ner_ms=ner_s * 1000 / len(cleaned),
        enrich_ms=enrich_s * 1000 / len(cleaned),
        json_ms=json_ms,
    )


def body_chars_sweep(
    cleaned: list[CleanArticleV1], settings: Settings, values: Sequence[int | None]
) -> list[dict[str, Any]]:
    """Bare NLP (one process) for each body slice the NER could read: articles/s, CPU
    milliseconds per article, entities per article (what a shorter slice gives up)."""
    nlp = load_nlp(settings.spacy_model)
    size = settings.enrich_batch_size
    _enrich_in_batches(cleaned[:size], nlp, size, NER_BODY_CHARS)  # warm caches
    rows = []
    for chars in values:
        started, cpu_started = time.perf_counter(), time.process_time()
        enriched = _enrich_in_batches(cleaned, nlp, size, chars)
        wall, cpu = time.perf_counter() - started, time.process_time() - cpu_started
        good = [a for a in enriched if isinstance(a, EnrichedArticleV1)]
        rows.append({
            "body_chars": chars,
            "articles_per_s": len(cleaned) / wall,
            "cpu_ms": cpu * 1000 / len(cleaned),
            "entities": sum(len(a.entities) for a in good) / max(len(good), 1),
        })
    return rows


# --- processes: RSS and CPU from /proc -----------------------------------------------------

_CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def peak_rss_mb(pid: int) -> float:
    """The process's peak resident set (VmHWM) in MiB, from /proc (no psutil needed)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmHWM for process {pid}")


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds the process has used so far."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat[stat.rindex(")") + 2 :].split()  # the command name may hold spaces
    return (int(fields[11]) + int(fields[12])) / _CLOCK_TICKS


def broker_pid() -> int | None:
    """The local Kafka broker's process, if it runs on this machine."""
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            command = (proc / "cmdline").read_bytes()
        except OSError:
            continue
        if b"kafka.Kafka" in command:
            return int(proc.name)
    return None


def topic_bytes(settings: Settings) -> dict[str, int]:
    """Bytes the broker holds for each of this run's topics (storywire's and faust's
    changelogs), from the broker's log directories."""
    run_marks = run_topic_marks(settings)
    admin = admin_client(settings)
    try:
        sizes: dict[str, int] = {}
        for broker in admin.describe_log_dirs():
            for log_dir in broker["log_dirs"]:
                for topic in log_dir["topics"]:
                    name = topic["name"]
                    if name.startswith(run_marks):
                        size = sum(p["partition_size"] for p in topic["partitions"])
                        short = name.removeprefix(run_marks[0]).removeprefix(run_marks[1])
                        sizes[short] = sizes.get(short, 0) + size
        return sizes
    finally:
        admin.close()


def machine() -> dict[str, str]:
    """nproc, CPU model and RAM, as the docs table names the machine."""
    model = platform.processor() or "unknown"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            model = line.split(":", 1)[1].strip()
            break
    memory_kb = 0
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            memory_kb = int(line.split()[1])
    return {
        "nproc": str(os.cpu_count()),
        "cpu": model,
        "ram": f"{memory_kb / 1024 / 1024:.1f} GiB",
        "load": " ".join(f"{value:.2f}" for value in os.getloadavg()),
    }


# --- the pipeline --------------------------------------------------------------------------


@dataclass
class BenchPipeline(LocalPipeline):
    """LocalPipeline plus extra enrich workers (same consumer group)."""

    replicas: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def add_enrich_worker(self) -> subprocess.Popen[bytes]:
        process = self.spawn("enrich", f"enrich-{len(self.replicas) + 2}", metrics_port=0)
        self.replicas.append(process)
        return process

    def check(self) -> None:
        super().check()
        for number, process in enumerate(self.replicas, start=2):
            if process.poll() is not None:
                raise WorkerFailed(f"enrich worker {number} exited with {process.returncode}")

    def worker_pids(self) -> dict[str, int]:
        pids: dict[str, int] = {stage: process.pid for stage, process in self.processes.items()}
        for number, process in enumerate(self.replicas, start=2):
            pids[f"enrich-{number}"] = process.pid
        return pids

    def __exit__(self, *exc_info: Any) -> None:
        for process in self.replicas:
            if process.poll() is None:
                process.terminate()
        for process in self.replicas:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
        super().__exit__(*exc_info)


class StoryClock:
    """When each article first appeared in a story event: the earliest such event's own
    timestamp (set by the cluster worker as it produced it, same clock as `ingested_at`).

    The events are read only when the count of messages on the story and dead-letter topics
    says the awaited articles can all be there: reading them as they come would put this
    process's Kafka decoding (about 1 CPU ms per event on the dev VM) on the same two cores
    as the pipeline it measures, and the timestamps do not depend on when they are read.
    """

    def __init__(self, settings: Settings) -> None:
        self.board = StoryBoard(settings)
        self.first_seen = self.board.placed_at  # article id -> story event time (time.time)
        self.dead: set[str] = set()
        self._letters_read = 0

    def poll(self, timeout_s: float = 0.05) -> None:
        self.board.poll(timeout_s=timeout_s)
        # A dead-lettered article is accounted for: it will never reach a story.
        for letter in self.board.dead_letters[self._letters_read :]:
            self.dead.add(article_id_of(letter))
        self._letters_read = len(self.board.dead_letters)

    def messages(self) -> int:
        return self.board.messages_on_topics()

    def wait_for(
        self,
        ids: Iterable[str],
        pipeline: LocalPipeline,
        timeout_s: float,
        messages_before: int | None = None,
    ) -> list[str]:
        """Wait until every id is in a story or dead-lettered; return the ids still missing.

        With `messages_before` (`messages()` before the ids were sent), the events are left
        unread until the topics hold at least one message per id more than then (each article
        makes a story event or a dead letter), checked twice a second.
        """
        missing = set(ids)
        deadline = time.monotonic() + timeout_s
        if messages_before is not None:
            while time.monotonic() < deadline:
                pipeline.check()
                if self.messages() - messages_before >= len(missing):
                    break
                time.sleep(0.5)
        while missing and time.monotonic() < deadline:
            pipeline.check()
            self.poll(0.1)
            missing -= self.first_seen.keys()
            missing -= self.dead
        return sorted(missing)

    def close(self) -> None:
        self.board.close()


def wait_for_group(settings: Settings, stage: str, members: int, timeout_s: float = 120) -> None:
    """Wait until the stage's consumer group is Stable with `members` members."""
    group = settings.group(stage)
    admin = admin_client(settings)
    deadline = time.monotonic() + timeout_s
    try:
        while True:
            description = admin.describe_groups([group]).get(group, {})
            state = description.get("group_state")
            count = len(description.get("members") or ())
            if state == "Stable" and count == members:
                return
            if time.monotonic() > deadline:
                raise WorkerFailed(f"{group}: {state} with {count} members, wanted {members}")
            time.sleep(0.5)
    finally:
        admin.close()


def idle_cpu_percent(pipeline: BenchPipeline, seconds: float = 5.0) -> dict[str, float]:
    """Each worker's CPU use while no copy flows: what it costs just to be up."""
    pids = pipeline.worker_pids()
    before = {name: cpu_seconds(pid) for name, pid in pids.items()}
    time.sleep(seconds)
    return {name: (cpu_seconds(pid) - before[name]) * 100 / seconds for name, pid in pids.items()}


def send_all(
    settings: Settings, articles: Sequence[BenchArticle], rate: float | None = None
) -> tuple[float, float]:
    """Send the articles to articles.raw (keyed by source), stamping `ingested_at` at send
    time; at `rate` articles/s if given, else as fast as the producer goes. Returns the wall
    (time.time) span of the sending."""
    from services.ingest.producer import make_producer

    producer = make_producer(settings)
    topic = settings.topic(Topic.RAW)
    started = time.time()
    try:
        for number, article in enumerate(articles):
            if rate:
                delay = started + number / rate - time.time()
                if delay > 0:
                    time.sleep(delay)
            raw = article.raw(datetime.now(UTC))
            producer.send(topic, key=article.source.encode(), value=raw.model_dump_json().encode())
        producer.flush()
    finally:
        producer.close(timeout=10)
    return started, time.time()


@dataclass
class Burst:
    enrich_workers: int
    articles: int
    seconds: float
    throughput: float  # articles/s from the first story event to the last article's
    send_to_last: float  # articles/s from the first send to the last article's story event
    cpu_ms: dict[str, float]  # CPU milliseconds per article of each process
    missing: int


def run_burst(
    settings: Settings,
    pipeline: BenchPipeline,
    clock: StoryClock,
    articles: Sequence[BenchArticle],
    timeout_s: float,
) -> Burst:
    processes = {**pipeline.worker_pids()}
    broker = broker_pid()
    if broker is not None:
        processes["broker"] = broker
    cpu_before = {name: cpu_seconds(pid) for name, pid in processes.items()}
    bench_before = sum(os.times()[:2])
    ids = [article.id for article in articles]
    messages_before = clock.messages()
    sender_result: list[tuple[float, float]] = []
    sender = threading.Thread(
        target=lambda: sender_result.append(send_all(settings, articles)), daemon=True
    )
    sender.start()
    missing = clock.wait_for(ids, pipeline, timeout_s, messages_before=messages_before)
    sender.join(timeout=60)
    cpu = {name: cpu_seconds(pid) - cpu_before[name] for name, pid in processes.items()}
    cpu["bench"] = sum(os.times()[:2]) - bench_before
    # When the burst's articles were placed; the first story event starts the clock, so the
    # articles it lists are not counted as done within the span.
    seen = sorted(clock.first_seen[i] for i in ids if i in clock.first_seen)
    placed_first = sum(1 for t in seen if t == seen[0]) if seen else 0
    span = seen[-1] - seen[0] if len(seen) > 1 else float("nan")
    sent_at = sender_result[0][0] if sender_result else seen[0]
    return Burst(
        enrich_workers=1 + len(pipeline.replicas),
        articles=len(articles),
        seconds=span,
        throughput=(len(seen) - placed_first) / span if span and span > 0 else 0.0,
        send_to_last=len(seen) / (seen[-1] - sent_at) if seen else 0.0,
        cpu_ms={name: seconds * 1000 / len(articles) for name, seconds in cpu.items()},
        missing=len(missing),
    )


@dataclass
class Latency:
    rate: float  # offered articles/s
    achieved_rate: float
    articles: int
    p50_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float
    missing: int


def run_latency(
    settings: Settings,
    pipeline: BenchPipeline,
    clock: StoryClock,
    articles: Sequence[BenchArticle],
    rate: float,
) -> Latency:
    sent: dict[str, float] = {}
    lock = threading.Lock()
    span: list[tuple[float, float]] = []

    def paced() -> None:
        from services.ingest.producer import make_producer

        producer = make_producer(settings)
        topic = settings.topic(Topic.RAW)
        started = time.time()
        try:
            for number, article in enumerate(articles):
                delay = started + number / rate - time.time()
                if delay > 0:
                    time.sleep(delay)
                ingested_at = datetime.now(UTC)
                raw = article.raw(ingested_at)
                producer.send(
                    topic, key=article.source.encode(), value=raw.model_dump_json().encode()
                )
                with lock:
                    sent[article.id] = ingested_at.timestamp()
            producer.flush()
        finally:
            producer.close(timeout=10)
        span.append((started, time.time()))

    messages_before = clock.messages()
    sender = threading.Thread(target=paced, daemon=True)
    sender.start()
    while sender.is_alive():
        pipeline.check()
        sender.join(timeout=0.5)
    missing = clock.wait_for(
        [a.id for a in articles], pipeline, timeout_s=60, messages_before=messages_before
    )
    latencies = [
        (clock.first_seen[article_id] - ingested) * 1000
        for article_id, ingested in sent.items()
        if article_id in clock.first_seen
    ]
    started, finished = span[0]
    return Latency(
        rate=rate,
        achieved_rate=len(articles) / (finished - started),
        articles=len(latencies),
        p50_ms=percentile(latencies, 50),
        p95_ms=percentile(latencies, 95),
        p99_ms=percentile(latencies, 99),
        max_ms=max(latencies),
        missing=len(missing),
    )


# --- the whole run -------------------------------------------------------------------------


@dataclass
class Plan:
    bare_articles: int
    burst_articles: int
    latency_rate: float
    latency_seconds: float

    @classmethod
    def for_mode(cls, quick: bool) -> "Plan":
        if quick:
            return cls(bare_articles=120, burst_articles=300, latency_rate=20, latency_seconds=30)
        return cls(bare_articles=600, burst_articles=1500, latency_rate=20, latency_seconds=150)


def say(message: str) -> None:
    print(f"bench: {message}", file=sys.stderr, flush=True)


def run_bench(
    settings: Settings,
    *,
    shared: Path,
    quick: bool = False,
    worker_root: Path | None = None,
    write_docs: Path | None = None,
) -> dict[str, Any]:
    """Run every measurement once; print the table and the summary line; return the figures.

    `worker_root` runs the workers from another source tree (a proposed change); `write_docs`
    appends the results as a Markdown section to that file.
    """
    plan = Plan.for_mode(quick)
    run = f"{datetime.now(UTC):%Y%m%d%H%M%S}-{uuid.uuid4().hex[:4]}"
    started_at = datetime.now(UTC)
    load_before = os.getloadavg()
    copy = load_copy(shared)
    latency_count = int(plan.latency_rate * plan.latency_seconds)
    articles = compose_articles(
        copy, plan.bare_articles + 2 * plan.burst_articles + latency_count + 16, run=run
    )
    bare_set = articles[: plan.bare_articles]
    warmup = articles[plan.bare_articles : plan.bare_articles + 16]
    rest = articles[plan.bare_articles + 16 :]
    bursts = [rest[: plan.burst_articles], rest[plan.burst_articles : 2 * plan.burst_articles]]
    paced_set = rest[2 * plan.burst_articles :]
    words = sum(word_count(a.text) for a in articles) / len(articles)

    say(f"{len(articles)} articles of {words:.0f} words on average; bare NLP ...")
    cleaned = clean_all(bare_set, settings.max_body_chars)
    costs = core_costs(bare_set, cleaned, settings)
    bare_1, bare_cpu_ms = bare_throughput(
        cleaned, settings.spacy_model, settings.enrich_batch_size
    )
    bare_2, _ = bare_throughput(
        cleaned, settings.spacy_model, settings.enrich_batch_size, processes=2
    )
    say(f"bare: {bare_1:.1f}/s in one process, {bare_2:.1f}/s in two; the pipeline ...")

    settings = settings.model_copy(
        update={
            "topic_prefix": f"bench-{run}.",
            "group_prefix": f"storywire-bench-{run}",
            "topic_partitions": max(settings.topic_partitions, 2),
            "data_dir": str(Path(".run") / "bench" / run / "faust"),
        }
    )
    create_topics(settings)
    log_dir = Path(".run") / "bench" / run
    try:
        results: list[Burst] = []
        rss: dict[str, float] = {}
        with BenchPipeline(
            settings, log_dir, metrics_base_port=free_port_block(3), worker_root=worker_root
        ) as pipeline:
            pipeline.wait_until_ready()
            clock = StoryClock(settings)
            try:
                send_all(settings, warmup[:8])
                if clock.wait_for([a.id for a in warmup[:8]], pipeline, timeout_s=300):
                    raise WorkerFailed("the warm-up articles reached no story in 300 s")
                wait_for_group(settings, "enrich", 1)
                idle = idle_cpu_percent(pipeline)
                say("workers warm; burst with one enrich worker ...")
                results.append(run_burst(settings, pipeline, clock, bursts[0], timeout_s=900))
                say(f"1 enrich worker: {results[-1].throughput:.1f}/s; adding a second ...")
                pipeline.add_enrich_worker()
                wait_for_group(settings, "enrich", 2, timeout_s=180)
                send_all(settings, warmup[8:])
                if clock.wait_for([a.id for a in warmup[8:]], pipeline, timeout_s=300):
                    raise WorkerFailed("the second warm-up reached no story in 300 s")
                time.sleep(3)  # the new worker's model is loaded off the loop after it joins
                results.append(run_burst(settings, pipeline, clock, bursts[1], timeout_s=900))
                say(f"2 enrich workers: {results[-1].throughput:.1f}/s; latency at "
                    f"{plan.latency_rate:.0f}/s for {plan.latency_seconds:.0f} s ...")
                latency = run_latency(settings, pipeline, clock, paced_set, plan.latency_rate)
                pipeline.check()
                rss = {name: peak_rss_mb(pid) for name, pid in pipeline.worker_pids().items()}
            finally:
                clock.close()
        sizes = topic_bytes(settings)
    finally:
        # Measured, or the run failed: left behind, its topics slow every later client.
        try:
            delete_run_topics(settings)
        except Exception as exc:  # the run's own error, if any, is the one to see
            say(f"could not delete the run's topics ({settings.topic_prefix}*): {exc!r}")

    figures: dict[str, Any] = {
        "date": started_at.isoformat(timespec="seconds"),
        "mode": "quick" if quick else "full",
        "machine": machine(),
        "load_before": [round(value, 2) for value in load_before],
        "words_per_article": round(words),
        "batch_size": settings.enrich_batch_size,
        "model": settings.spacy_model,
        "partitions": settings.topic_partitions,
        "worker_root": str(worker_root) if worker_root else None,
        "costs": costs.__dict__,
        "bare": {"1": bare_1, "2": bare_2, "cpu_ms": bare_cpu_ms},
        "bursts": [burst.__dict__ for burst in results],
        "latency": latency.__dict__,
        "rss_mb": rss,
        "idle_cpu_percent": idle,
        "topic_kb_per_article": {
            name: size / 1024 / (len(articles) - len(bare_set))  # the bare set is never sent
            for name, size in sorted(sizes.items(), key=lambda item: -item[1])
            if size
        },
    }
    report(figures)
    if write_docs is not None:
        write_markdown(figures, write_docs)
    return figures


# --- output --------------------------------------------------------------------------------


def table_rows(figures: dict[str, Any]) -> list[tuple[str, str]]:
    costs = figures["costs"]
    bare = figures["bare"]
    rows = [
        ("articles", f"{figures['words_per_article']} words on average, "
                     f"batch {figures['batch_size']}, {figures['model']}, "
                     f"{figures['partitions']} partitions"),
        ("clean core", f"{costs['clean_ms']:.1f} CPU ms/article"),
        ("NER (nlp.pipe)", f"{costs['ner_ms']:.1f} CPU ms/article"),
        ("enrich_batch", f"{costs['enrich_ms']:.1f} ms/article (NER + entities, keywords)"),
        ("JSON hop", f"{costs['json_ms']:.2f} ms/article (decode + encode, enriched)"),
        ("bare NLP, 1 process",
         f"{bare['1']:.1f} articles/s ({bare['cpu_ms']:.1f} CPU ms/article)"),
        ("bare NLP, 2 processes", f"{bare['2']:.1f} articles/s"),
    ]
    for burst in figures["bursts"]:
        workers = burst["enrich_workers"]
        reference = bare[str(min(workers, 2))]
        cpu = ", ".join(f"{name} {ms:.1f}" for name, ms in burst["cpu_ms"].items())
        rows.append((
            f"e2e, {workers} enrich worker{'s' if workers > 1 else ''}",
            f"{burst['throughput']:.1f} articles/s ({burst['articles']} articles, "
            f"{burst['seconds']:.1f} s; {burst['throughput'] / reference:.2f} x bare "
            f"{min(workers, 2)}p; send->last {burst['send_to_last']:.1f}/s; "
            f"missing {burst['missing']})",
        ))
        rows.append((f"  CPU ms/article ({workers}w)", cpu))
    latency = figures["latency"]
    rows.append((
        "latency ingest->story",
        f"p50 {latency['p50_ms']:.0f} ms, p95 {latency['p95_ms']:.0f} ms, "
        f"p99 {latency['p99_ms']:.0f} ms, max {latency['max_ms']:.0f} ms at "
        f"{latency['achieved_rate']:.1f} articles/s offered ({latency['articles']} articles, "
        f"missing {latency['missing']})",
    ))
    rows.append((
        "idle CPU",
        ", ".join(f"{name} {pct:.1f}%" for name, pct in figures["idle_cpu_percent"].items()),
    ))
    rows.append((
        "broker KiB/article",
        ", ".join(f"{name} {kb:.1f}" for name, kb in figures["topic_kb_per_article"].items()),
    ))
    rows.append((
        "peak RSS (VmHWM)",
        ", ".join(f"{name} {mb:.0f} MiB" for name, mb in figures["rss_mb"].items()),
    ))
    load = figures["load_before"]
    rows.append(("machine", f"{figures['machine']['nproc']} x {figures['machine']['cpu']}, "
                            f"{figures['machine']['ram']}, load before {load[0]:.2f} "
                            f"(1 min) {load[1]:.2f} (5 min)"))
    return rows


def summary(figures: dict[str, Any]) -> str:
    bursts = figures["bursts"]
    best = bursts[-1]  # the two-worker deployment: compared with two bare processes
    return summary_line(
        e2e=best["throughput"],
        bare=figures["bare"][str(min(best["enrich_workers"], 2))],
        p99_ms=figures["latency"]["p99_ms"],
        rss_mb=max(figures["rss_mb"].values(), default=0.0),
    )


def report(figures: dict[str, Any]) -> None:
    rows = table_rows(figures)
    width = max(len(name) for name, _ in rows)
    print(f"storywire bench, {figures['date']} ({figures['mode']})")
    for name, value in rows:
        print(f"  {name.ljust(width)}  {value}")
    print(summary(figures))


def write_markdown(figures: dict[str, Any], path: Path) -> None:
    """Append this run to `path` as a dated section with one table."""
    machine_ = figures["machine"]
    lines = []
    if not path.exists():
        lines += [
            "# Benchmarks",
            "",
            "Written by `storywire bench --write-docs` (`python -m lab.bench.pipeline`):",
            "real broker, real worker processes, ~500-word articles from `shared/data`. Newest run",
            "last.",
            "",
        ]
    lines += [
        f"## {figures['date']} ({figures['mode']})",
        "",
        f"Machine: {machine_['nproc']} CPUs ({machine_['cpu']}), {machine_['ram']} RAM; "
        f"load average before the run {figures['load_before'][0]:.2f} / "
        f"{figures['load_before'][1]:.2f} (1 / 5 min)."
        + (f" Workers from `{figures['worker_root']}`." if figures["worker_root"] else ""),
        "",
        "| measure | result |",
        "|---|---|",
    ]
    lines += [f"| {name.strip()} | {value} |" for name, value in table_rows(figures)]
    lines += ["", f"`{summary(figures)}`", "", ""]
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as docs:
        docs.write("\n".join(lines))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lab.bench.pipeline", description=__doc__.split(
        "\n\n")[0])
    parser.add_argument("--shared", type=Path, default=Path("../shared"),
                        help="the shared data folder (default ../shared)")
    parser.add_argument("--quick", action="store_true", help="short run (~3 min): 30 s latency")
    parser.add_argument("--write-docs", action="store_true",
                        help="append the results to docs/benchmarks.md")
    parser.add_argument("--worker-root", type=Path, default=None,
                        help="run the workers from this source tree (a proposed change)")
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here")
    parser.add_argument("--sweep-body-chars", action="store_true",
                        help="only bare NLP for several NER body slices (no broker needed)")
    args = parser.parse_args(argv)
    if args.sweep_body_chars:
        settings = Settings()
        articles = compose_articles(load_copy(args.shared), 200, run="sweep")
        cleaned = clean_all(articles, settings.max_body_chars)
        for row in body_chars_sweep(cleaned, settings, [0, 300, 600, 1000, 2000, None]):
            print(f"body_chars={row['body_chars']}: {row['articles_per_s']:.1f} articles/s, "
                  f"{row['cpu_ms']:.1f} CPU ms/article, {row['entities']:.1f} entities/article")
        return 0
    figures = run_bench(
        Settings(),
        shared=args.shared,
        quick=args.quick,
        worker_root=args.worker_root.resolve() if args.worker_root else None,
        write_docs=Path("docs") / "benchmarks.md" if args.write_docs else None,
    )
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
