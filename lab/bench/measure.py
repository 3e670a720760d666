"""What the benchmark measures outside the pipeline: the cores' own cost, and processes.

The bare NLP figures (the enrich core over cleaned articles, in one process and in several)
are what the pipeline's throughput is compared with; the CPU and RSS readings come from
/proc, and the broker's bytes per topic from its log directories.
"""

import multiprocessing
import os
import platform
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from lab.bench.articles import BenchArticle
from lab.chain import clean_all, enrich_all
from schemas.articles import CleanArticleV1, EnrichedArticleV1
from services.enrich.core import NER_BODY_CHARS, load_nlp, ner_text
from services.kafka import admin_client, run_topic_marks
from services.settings import Settings


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


# --- bare NLP ------------------------------------------------------------------------------


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
    # Warm the caches first.
    enrich_all(articles[:batch_size], nlp, batch_size=batch_size, body_chars=body_chars)
    ready.wait()
    started = time.monotonic()  # CLOCK_MONOTONIC: one clock for every process on the machine
    cpu_started = time.process_time()
    enrich_all(articles, nlp, batch_size=batch_size, body_chars=body_chars)
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
    now = datetime.now(UTC)
    started = time.process_time()
    clean_all([article.raw(now) for article in articles], max_body_chars=settings.max_body_chars)
    clean_ms = (time.process_time() - started) * 1000 / len(articles)

    nlp = load_nlp(settings.spacy_model)
    size = settings.enrich_batch_size
    enrich_all(cleaned[:size], nlp, batch_size=size)  # warm caches
    texts = [ner_text(article) for article in cleaned]
    started = time.process_time()
    for start in range(0, len(texts), size):
        list(nlp.pipe(texts[start : start + size], batch_size=size))
    ner_s = time.process_time() - started
    started = time.process_time()
    enriched = enrich_all(cleaned, nlp, batch_size=size)
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
    enrich_all(cleaned[:size], nlp, batch_size=size)  # warm caches
    rows = []
    for chars in values:
        started, cpu_started = time.perf_counter(), time.process_time()
        enriched = enrich_all(cleaned, nlp, batch_size=size, body_chars=chars)
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


_TCP_LISTEN = "0A"


def listening_inodes(port: int, tables: Sequence[str] = ("tcp", "tcp6")) -> set[str]:
    """The socket inodes listening on `port` (any address), from /proc/net/tcp and tcp6."""
    inodes: set[str] = set()
    for table in tables:
        path = Path("/proc/net") / table
        if not path.exists():
            continue
        for line in path.read_text().splitlines()[1:]:
            fields = line.split()
            local, state, inode = fields[1], fields[3], fields[9]
            if state == _TCP_LISTEN and int(local.rsplit(":", 1)[1], 16) == port:
                inodes.add(inode)
    return inodes


def listening_pid(port: int) -> int | None:
    """The process that listens on TCP `port` on this machine (the broker the clients talk
    to), found through its socket's inode in /proc/<pid>/fd; None if no process of ours does."""
    wanted = {f"socket:[{inode}]" for inode in listening_inodes(port)}
    if not wanted:
        return None
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            for fd in (proc / "fd").iterdir():
                if os.readlink(fd) in wanted:
                    return int(proc.name)
        except OSError:  # gone, or not ours to read
            continue
    return None


def configured_broker_pid(settings: Settings) -> int | None:
    """The process of the broker `settings` name first (the one listening on its port), so
    the CPU read is that broker's even when several run on this machine."""
    port = int(settings.bootstrap_servers.split(",")[0].rsplit(":", 1)[1])
    return listening_pid(port)


_REQUESTS_SOURCE = Path(__file__).with_name("BrokerRequests.java")


def broker_requests(pid: int, kinds: Sequence[str] = ("Produce", "Fetch")) -> dict[str, int]:
    """How many requests of each kind the broker `pid` has served since it started (its
    RequestMetrics, read by BrokerRequests.java through the JVM attach API); {} when that
    cannot be read (no JDK, another user's JVM)."""
    try:
        result = subprocess.run(
            ["java", str(_REQUESTS_SOURCE), str(pid), *kinds],
            capture_output=True, text=True, timeout=60,
        )
    except (OSError, subprocess.TimeoutExpired):
        return {}
    if result.returncode != 0:
        return {}
    counts = {}
    for line in result.stdout.splitlines():
        kind, _, count = line.partition(" ")
        if kind in kinds and count.isdigit():
            counts[kind] = int(count)
    return counts


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
