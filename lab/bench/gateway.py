"""`storywire bench gateway`: a bounded load test of the HTTP gateway on loopback.

Starts `storywire gateway` (a real process) on fresh topics of the real broker, posts a fixed
number of records (real ECB+ copy, each with its own id) in batches from a fixed number of
concurrent clients, stopping early at a time limit, and prints records/s, request latency
p50/p99 and errors. Every 202 means the broker acknowledged the batch (acks=all).
"""

import asyncio
import json
import os
import random
import secrets
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
import numpy as np

from lab.pipeline import free_port_block, settings_env
from services.kafka import create_topics, delete_run_topics
from services.settings import Settings


@dataclass(frozen=True)
class GatewayBench:
    records: int
    batch: int
    concurrency: int
    seconds: float
    sent: int
    errors: int
    error_codes: dict[int, int]
    latencies_ms: list[float]

    @property
    def records_per_second(self) -> float:
        return self.sent / self.seconds if self.seconds else 0.0

    def summary(self) -> str:
        p50, p99 = (np.percentile(self.latencies_ms, [50, 99]) if self.latencies_ms
                    else (float("nan"), float("nan")))
        return (
            f"gateway bench: {self.sent}/{self.records} records in {self.seconds:.1f}s = "
            f"{self.records_per_second:,.0f} records/s; batch {self.batch}, "
            f"{self.concurrency} clients; request latency p50 {p50:.1f} ms, p99 {p99:.1f} ms; "
            f"errors {self.errors} {self.error_codes or ''}".rstrip()
        )


def _copy(shared: Path, count: int) -> list[dict[str, object]]:
    rows = [json.loads(line) for line in
            (shared / "data" / "ecbplus" / "articles.dev.jsonl").open(encoding="utf-8")]
    random.Random(3).shuffle(rows)
    return [
        {"id": f"bench-{i}", "source": f"outlet-{i % 20}", "title": row.get("title"),
         "text": row["text"]}
        for i, row in enumerate(rows[i % len(rows)] for i in range(count))
    ]


async def _load(url: str, token: str, records: list[dict[str, object]], batch: int,
                concurrency: int, max_seconds: float) -> tuple[int, dict[int, int], list[float]]:
    batches = [records[i:i + batch] for i in range(0, len(records), batch)]
    queue: asyncio.Queue[list[dict[str, object]]] = asyncio.Queue()
    for one in batches:
        queue.put_nowait(one)
    latencies: list[float] = []
    errors: dict[int, int] = {}
    sent = 0
    deadline = time.perf_counter() + max_seconds
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}

    async def client(session: aiohttp.ClientSession) -> None:
        nonlocal sent
        while not queue.empty() and time.perf_counter() < deadline:
            body = json.dumps(queue.get_nowait()).encode()
            started = time.perf_counter()
            async with session.post(f"{url}/v1/articles", data=body, headers=headers) as answer:
                payload = await answer.read()
                latencies.append((time.perf_counter() - started) * 1000)
                if answer.status == 202:
                    sent += len(json.loads(payload)["ids"])
                else:
                    errors[answer.status] = errors.get(answer.status, 0) + 1

    timeout = aiohttp.ClientTimeout(total=60)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        await asyncio.gather(*(client(session) for _ in range(concurrency)))
    return sent, errors, latencies


def run_gateway_bench(
    settings: Settings, *, shared: Path, records: int, batch: int, concurrency: int,
    max_seconds: float,
) -> GatewayBench:
    run = datetime.now(UTC).strftime("%Y%m%d%H%M%S")
    settings = settings.model_copy(update={
        "topic_prefix": f"bench-gw-{run}.", "group_prefix": f"storywire-bench-gw-{run}",
    })
    create_topics(settings)
    token = secrets.token_urlsafe(24)
    port = free_port_block(1)
    env = {**os.environ, **settings_env(settings), "STORYWIRE_GATEWAY_PORT": str(port),
           "STORYWIRE_GATEWAY_TOKENS": token}
    log_dir = Path(".run") / "bench-gateway"
    log_dir.mkdir(parents=True, exist_ok=True)
    with (log_dir / f"{run}.log").open("wb") as log:
        process = subprocess.Popen([sys.executable, "-m", "services.cli", "gateway"], env=env,
                                   stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"{url}/healthz", timeout=2).close()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"the gateway did not start (see {log_dir})") from None
                time.sleep(0.2)
        copy = _copy(shared, records)
        # One request first: the gateway's producer connects on it; not timed.
        asyncio.run(_load(url, token, [dict(copy[0], id="bench-warm-up")], 1, 1, 60))
        started = time.perf_counter()
        sent, errors, latencies = asyncio.run(
            _load(url, token, copy, batch, concurrency, max_seconds)
        )
        elapsed = time.perf_counter() - started
    finally:
        process.terminate()
        process.wait(timeout=30)
        delete_run_topics(settings)
    return GatewayBench(records, batch, concurrency, elapsed, sent, sum(errors.values()),
                        errors, latencies)
