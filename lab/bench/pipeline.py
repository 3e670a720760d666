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
import os
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterable, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from lab.bench.articles import BenchArticle, compose_articles, load_copy, word_count
from lab.bench.broker import private_broker
from lab.bench.measure import (
    bare_throughput,
    body_chars_sweep,
    broker_requests,
    configured_broker_pid,
    core_costs,
    cpu_seconds,
    machine,
    peak_rss_mb,
    percentile,
    topic_bytes,
)
from lab.chain import clean_all
from lab.pipeline import LocalPipeline, WorkerFailed, free_port_block
from lab.story_view import StoryBoard, article_id_of
from schemas.topics import Topic
from services.kafka import admin_client, create_topics, delete_run_topics
from services.settings import Settings

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


def idle_cpu_percent(
    pipeline: BenchPipeline, broker: int | None = None, seconds: float = 10.0
) -> dict[str, float]:
    """Each worker's CPU use while no copy flows (and the broker's, serving them): what it
    costs just to be up."""
    pids: dict[str, int] = pipeline.worker_pids()
    if broker is not None:
        pids["broker"] = broker
    return {name: ms / 10 for name, ms in cpu_ms_per_s(pids, seconds).items()}


def cpu_ms_per_s(pids: dict[str, int], seconds: float) -> dict[str, float]:
    """Each process's CPU milliseconds per second over the next `seconds`."""
    before = {name: cpu_seconds(pid) for name, pid in pids.items()}
    time.sleep(seconds)
    return {name: (cpu_seconds(pid) - before[name]) * 1000 / seconds for name, pid in pids.items()}


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
    wall_s: float = 0.0  # the span the CPU readings cover (first send to last story)
    # The broker's CPU per article less what it spends idle over the same span (the
    # workers' polls, its own timers), from `broker_idle_ms_per_s` measured just before.
    broker_idle_ms_per_s: float | None = None
    broker_net_ms: float | None = None
    requests: dict[str, float] = field(default_factory=dict)  # broker requests per article


def run_burst(
    settings: Settings,
    pipeline: BenchPipeline,
    clock: StoryClock,
    articles: Sequence[BenchArticle],
    timeout_s: float,
    broker: int | None = None,
    broker_idle_ms_per_s: float | None = None,
) -> Burst:
    processes = {**pipeline.worker_pids()}
    if broker is not None:
        processes["broker"] = broker
    # Read outside the CPU window: the reading itself costs the broker a little.
    requests_before = broker_requests(broker) if broker is not None else {}
    wall_before = time.monotonic()
    cpu_before = {name: cpu_seconds(pid) for name, pid in processes.items()}
    bench_before = sum(os.times()[:2])
    ids = [article.key for article in articles]
    messages_before = clock.messages()
    sender_result: list[tuple[float, float]] = []
    sender = threading.Thread(
        target=lambda: sender_result.append(send_all(settings, articles)), daemon=True
    )
    sender.start()
    missing = clock.wait_for(ids, pipeline, timeout_s, messages_before=messages_before)
    sender.join(timeout=60)
    cpu = {name: cpu_seconds(pid) - cpu_before[name] for name, pid in processes.items()}
    wall = time.monotonic() - wall_before
    cpu["bench"] = sum(os.times()[:2]) - bench_before
    requests_after = broker_requests(broker) if broker is not None else {}
    requests = {
        kind: (requests_after[kind] - requests_before[kind]) / len(articles)
        for kind in requests_after.keys() & requests_before.keys()
    }
    broker_net_ms = None
    if "broker" in cpu and broker_idle_ms_per_s is not None:
        broker_net_ms = (cpu["broker"] * 1000 - broker_idle_ms_per_s * wall) / len(articles)
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
        wall_s=wall,
        broker_idle_ms_per_s=broker_idle_ms_per_s,
        broker_net_ms=broker_net_ms,
        requests=requests,
    )


def broker_idle_ms_per_s(broker: int | None, seconds: float = 10.0) -> float | None:
    """The broker's CPU milliseconds per second over `seconds` with no copy flowing."""
    if broker is None:
        return None
    return cpu_ms_per_s({"broker": broker}, seconds)["broker"]


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
                    sent[article.key] = ingested_at.timestamp()
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
        [a.key for a in articles], pipeline, timeout_s=60, messages_before=messages_before
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
    private: bool = True,
) -> dict[str, Any]:
    """Run every measurement once; print the table and the summary line; return the figures.

    `worker_root` runs the workers from another source tree (a proposed change); `write_docs`
    appends the results as a Markdown section to that file. `private` runs the pipeline on a
    broker of the run's own (`lab.bench.broker`), so the broker CPU read is the pipeline's
    alone; otherwise on the configured broker, whose process is the one listening on its port.
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
    now = datetime.now(UTC)
    cleaned = clean_all([a.raw(now) for a in bare_set], max_body_chars=settings.max_body_chars)
    costs = core_costs(bare_set, cleaned, settings)
    bare_1, bare_cpu_ms = bare_throughput(
        cleaned, settings.spacy_model, settings.enrich_batch_size
    )
    bare_2, _ = bare_throughput(
        cleaned, settings.spacy_model, settings.enrich_batch_size, processes=2
    )
    say(f"bare: {bare_1:.1f}/s in one process, {bare_2:.1f}/s in two; the pipeline ...")

    log_dir = Path(".run") / "bench" / run
    with ExitStack() as stack:
        if private:
            say("starting the run's own broker ...")
            own = stack.enter_context(private_broker(log_dir / "kafka"))
            settings = settings.model_copy(update={"bootstrap_servers": own.bootstrap_servers})
            broker: int | None = own.pid
        else:
            broker = configured_broker_pid(settings)
        figures = _run_pipeline(
            settings, run, log_dir, broker, articles, bare_set, warmup, bursts, paced_set,
            plan, worker_root,
        )
    figures = {
        "date": started_at.isoformat(timespec="seconds"),
        "mode": "quick" if quick else "full",
        "machine": machine(),
        "load_before": [round(value, 2) for value in load_before],
        "words_per_article": round(words),
        "batch_size": settings.enrich_batch_size,
        "model": settings.spacy_model,
        "worker_root": str(worker_root) if worker_root else None,
        "broker": "private" if private else "configured",
        "costs": costs.__dict__,
        "bare": {"1": bare_1, "2": bare_2, "cpu_ms": bare_cpu_ms},
        **figures,
    }
    report(figures)
    if write_docs is not None:
        write_markdown(figures, write_docs)
    return figures


def _run_pipeline(
    settings: Settings,
    run: str,
    log_dir: Path,
    broker: int | None,
    articles: Sequence[BenchArticle],
    bare_set: Sequence[BenchArticle],
    warmup: Sequence[BenchArticle],
    bursts: Sequence[Sequence[BenchArticle]],
    paced_set: Sequence[BenchArticle],
    plan: Plan,
    worker_root: Path | None,
) -> dict[str, Any]:
    """The pipeline's part of the run, on the broker `settings` name (process `broker`)."""
    settings = settings.model_copy(
        update={
            "topic_prefix": f"bench-{run}.",
            "group_prefix": f"storywire-bench-{run}",
            "topic_partitions": max(settings.topic_partitions, 2),
            "data_dir": str(Path(".run") / "bench" / run / "faust"),
        }
    )
    create_topics(settings)
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
                if clock.wait_for([a.key for a in warmup[:8]], pipeline, timeout_s=300):
                    raise WorkerFailed("the warm-up articles reached no story in 300 s")
                wait_for_group(settings, "enrich", 1)
                if broker is not None:
                    # The first reading starts the broker's management agent: not in the idle
                    # reading below.
                    broker_requests(broker)
                    time.sleep(3)
                idle = idle_cpu_percent(pipeline, broker)
                say("workers warm; burst with one enrich worker ...")
                results.append(run_burst(
                    settings, pipeline, clock, bursts[0], timeout_s=900, broker=broker,
                    broker_idle_ms_per_s=idle.get("broker", 0.0) * 10 if broker else None,
                ))
                say(f"1 enrich worker: {results[-1].throughput:.1f}/s; adding a second ...")
                pipeline.add_enrich_worker()
                wait_for_group(settings, "enrich", 2, timeout_s=180)
                send_all(settings, warmup[8:])
                if clock.wait_for([a.key for a in warmup[8:]], pipeline, timeout_s=300):
                    raise WorkerFailed("the second warm-up reached no story in 300 s")
                time.sleep(3)  # the new worker's model is loaded off the loop after it joins
                results.append(run_burst(
                    settings, pipeline, clock, bursts[1], timeout_s=900, broker=broker,
                    broker_idle_ms_per_s=broker_idle_ms_per_s(broker),
                ))
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

    return {
        "partitions": settings.topic_partitions,
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


# --- output --------------------------------------------------------------------------------


def summary_line(e2e: float, bare: float, p99_ms: float, rss_mb: float) -> str:
    """The one line a script greps: throughputs in articles/s, latency in ms, RSS in MiB."""
    ratio = e2e / bare if bare else 0.0
    return (
        f"bench: e2e={e2e:.1f} bare={bare:.1f} ratio={ratio:.2f} "
        f"p99_ms={p99_ms:.0f} rss_mb={rss_mb:.0f}"
    )


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
        if burst.get("broker_net_ms") is not None:
            rows.append((
                f"  broker CPU ms/article ({workers}w)",
                f"{burst['cpu_ms']['broker']:.2f} raw, {burst['broker_net_ms']:.2f} less idle "
                f"({burst['broker_idle_ms_per_s']:.1f} ms/s idle x {burst['wall_s']:.1f} s)",
            ))
        if burst.get("requests"):
            rows.append((
                f"  broker requests/article ({workers}w)",
                ", ".join(f"{kind} {n:.2f}" for kind, n in sorted(burst["requests"].items())),
            ))
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
    kib = figures["topic_kb_per_article"]
    rows.append((
        "broker KiB/article",
        f"{sum(kib.values()):.1f} in all: "
        + ", ".join(f"{name} {kb:.1f}" for name, kb in kib.items()),
    ))
    rows.append((
        "peak RSS (VmHWM)",
        ", ".join(f"{name} {mb:.0f} MiB" for name, mb in figures["rss_mb"].items()),
    ))
    load = figures["load_before"]
    rows.append(("machine", f"{figures['machine']['nproc']} x {figures['machine']['cpu']}, "
                            f"{figures['machine']['ram']}, load before {load[0]:.2f} "
                            f"(1 min) {load[1]:.2f} (5 min); broker: "
                            f"{figures.get('broker', 'configured')}"))
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


def broker_line(figures: dict[str, Any]) -> str:
    """The broker's cost per article over both bursts (weighted by their articles): CPU
    milliseconds raw and less its idle cost, KiB kept, produce requests served."""
    bursts = figures["bursts"]
    total = sum(burst["articles"] for burst in bursts)

    def mean(get: Any) -> float:
        values = [(get(burst), burst["articles"]) for burst in bursts]
        if total == 0 or any(value is None for value, _ in values):
            return float("nan")
        return sum(value * count for value, count in values) / total

    return (
        f"bench: broker_ms={mean(lambda b: b['cpu_ms'].get('broker')):.2f} "
        f"broker_net_ms={mean(lambda b: b.get('broker_net_ms')):.2f} "
        f"kib={sum(figures['topic_kb_per_article'].values()):.1f} "
        f"produce={mean(lambda b: b.get('requests', {}).get('Produce')):.2f} "
        f"fetch={mean(lambda b: b.get('requests', {}).get('Fetch')):.2f}"
    )


def report(figures: dict[str, Any]) -> None:
    rows = table_rows(figures)
    width = max(len(name) for name, _ in rows)
    print(f"storywire bench, {figures['date']} ({figures['mode']})")
    for name, value in rows:
        print(f"  {name.ljust(width)}  {value}")
    print(broker_line(figures))
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
    lines += ["", f"`{broker_line(figures)}`", "", f"`{summary(figures)}`", "", ""]
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
    parser.add_argument("--configured-broker", action="store_true",
                        help="run on the configured broker instead of a private one (its "
                        "CPU then includes whatever else uses it)")
    parser.add_argument("--sweep-body-chars", action="store_true",
                        help="only bare NLP for several NER body slices (no broker needed)")
    args = parser.parse_args(argv)
    if args.sweep_body_chars:
        settings = Settings()
        articles = compose_articles(load_copy(args.shared), 200, run="sweep")
        now = datetime.now(UTC)
        cleaned = clean_all([a.raw(now) for a in articles], max_body_chars=settings.max_body_chars)
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
        private=not args.configured_broker,
    )
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
