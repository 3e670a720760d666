"""How fast the story board answers `GET /api/stories` with 1,000 live stories (loopback).

Fresh topics on the real broker get 1,000 live stories of the largest size a StoryEventV2 can
take (20 outlets, 20 entities, 20 keywords; a 60-character title) and 5 member records each;
a real `storywire board` process reads them. While a background thread keeps publishing
updates (20 story events a second, so the board is live and its streams busy, and one SSE
stream is open), one keep-alive HTTP client times, on 127.0.0.1:
- `GET /api/stories` (the default page: the 50 most active of the 1,000), and
- `GET /api/stories?limit=1000` (the whole list),
each `REQUESTS` times after a warm-up, and prints p50 / p95 / p99 / max in ms (wall time: the
client and the board share the machine). The topics are deleted at the end.

First, how fast a board rebuilds its state on start: `REPLAY_STORIES` such events and 5
members each, as the bytes the topics hold, through the reader's `apply_record` into a board
of the default bound (5,000 stories), with the server's GC thresholds; CPU time, records/s.

Usage: python -m lab.bench.board
(last line: `bench-board: stories=1000 p99_ms=N list_p99_ms=N replay_records_per_s=N`)
"""

import gc
import http.client
import random
import statistics
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from lab.board import BoardProcess, publish
from schemas.stories import StoryEntityV1, StoryEventV2, StoryMemberV1, StorySourceV2
from services.board.core import Board
from services.board.reader import ReaderStatus, apply_record
from services.kafka import create_topics, delete_run_topics
from services.settings import Settings

STORIES = 1000
MEMBERS_PER_STORY = 5
REQUESTS = 1000
WARM_UP = 50
REPLAY_STORIES = 20_000
UPDATES_PER_SECOND = 20
WORDS = ["summit", "talks", "quake", "flood", "election", "strike", "market", "court", "vote",
         "storm", "ceasefire", "visit", "budget", "protest", "trial", "outbreak", "rescue",
         "deal", "merger", "launch"]


def story_event(n: int, version: int, now: datetime, chooser: random.Random) -> StoryEventV2:
    return StoryEventV2(
        story_id=f"st-bench-{n:05d}", version=version,
        event="created" if version == 1 else "updated", language="en",
        title=" ".join(chooser.choice(WORDS) for _ in range(8))[:60],
        article_count=chooser.randint(2, 400), duplicate_count=chooser.randint(0, 5),
        source_count=20,
        sources=tuple(StorySourceV2(source=f"outlet-{i}.example", articles=20 - i)
                      for i in range(20)),
        first_seen=now - timedelta(hours=chooser.randint(1, 48)),
        last_seen=now - timedelta(minutes=chooser.randint(0, 600)),
        latest_article_ids=tuple(f"outlet-{i}.example/{n}-{i}" for i in range(10)),
        top_entities=tuple(
            StoryEntityV1(text=f"Entity {n}-{i}", label=("PERSON", "GPE", "ORG")[i % 3],
                          articles=20 - i) for i in range(20)),
        keywords=tuple(f"keyword{n}-{i}" for i in range(20)),
    )


def member(n: int, i: int, now: datetime) -> StoryMemberV1:
    return StoryMemberV1(
        article_id=f"outlet-{i}.example/{n}-{i}", story_id=f"st-bench-{n:05d}", story_version=1,
        source=f"outlet-{i}.example", headline=f"Headline {i} of story {n}",
        url=f"https://outlet-{i}.example/{n}/{i}", language="en",
        published_at=now - timedelta(minutes=i), ingested_at=now,
    )


def percentiles(samples: list[float]) -> dict[str, float]:
    cuts = statistics.quantiles(samples, n=100, method="inclusive")
    return {"p50": cuts[49], "p95": cuts[94], "p99": cuts[98], "max": max(samples)}


def time_requests(port: int, path: str, count: int) -> list[float]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    times = []
    try:
        for n in range(WARM_UP + count):
            started = time.perf_counter()
            connection.request("GET", path)
            response = connection.getresponse()
            body = response.read()
            elapsed = (time.perf_counter() - started) * 1000
            if response.status != 200 or not body:
                raise RuntimeError(f"GET {path}: {response.status}")
            if n >= WARM_UP:
                times.append(elapsed)
    finally:
        connection.close()
    return times


def replay_rate() -> float:
    """Records/s (CPU) of the reader's rebuild: see the module docstring."""
    now = datetime.now(UTC)
    chooser = random.Random(3)
    records: list[tuple[bool, bytes]] = []
    for n in range(REPLAY_STORIES):
        records += [(False, member(n, i, now).model_dump_json().encode())
                    for i in range(MEMBERS_PER_STORY)]
        records.append((True, story_event(n, 1, now, chooser).model_dump_json().encode()))
    thresholds = gc.get_threshold()
    gc.set_threshold(100_000, 50, 100)  # as services.board.server.run_board sets them
    try:
        board, status = Board(), ReaderStatus()
        started = time.process_time()
        for is_story, value in records:
            apply_record(board, status, is_story, None, value)
        seconds = time.process_time() - started
    finally:
        gc.set_threshold(*thresholds)
    rate = len(records) / seconds
    print(f"replay: {len(records):,} records ({REPLAY_STORIES:,} stories) in {seconds:.1f} s CPU,"
          f" {rate:,.0f} records/s; kept {len(board.stories):,} stories")
    return rate


def run_bench(settings: Settings) -> dict[str, float]:
    replay = replay_rate()
    run = datetime.now(UTC).strftime("%Y%m%d%H%M%S")
    settings = settings.model_copy(update={
        "topic_prefix": f"bench-board-{run}.", "group_prefix": f"storywire-bench-board-{run}",
    })
    create_topics(settings)
    now = datetime.now(UTC)
    chooser = random.Random(5)
    try:
        publish(
            settings,
            [story_event(n, 1, now, chooser) for n in range(STORIES)],
            [member(n, i, now) for n in range(STORIES) for i in range(MEMBERS_PER_STORY)],
        )
        with tempfile.TemporaryDirectory() as tmp, \
                BoardProcess(settings, Path(tmp) / "board.log") as board:
            status = board.get("/api/status")
            print(f"board: {status['stories']} stories read, ready={status['ready']}")
            if status["stories"] != STORIES:
                raise RuntimeError(f"the board holds {status['stories']} stories, not {STORIES}")
            stop = threading.Event()
            versions = dict.fromkeys(range(STORIES), 1)

            def keep_publishing() -> None:
                updater = random.Random(9)
                while not stop.is_set():
                    batch = []
                    for _ in range(UPDATES_PER_SECOND):
                        n = updater.randrange(STORIES)
                        versions[n] += 1
                        batch.append(story_event(n, versions[n], datetime.now(UTC), updater))
                    publish(settings, batch)
                    stop.wait(1.0)

            stream = http.client.HTTPConnection("127.0.0.1", board.port, timeout=60)
            stream.request("GET", "/api/stream")
            stream.getresponse()  # open; its events are left unread in the socket buffer
            updates = threading.Thread(target=keep_publishing, daemon=True)
            updates.start()
            try:
                page = percentiles(time_requests(board.port, "/api/stories", REQUESTS))
                whole = percentiles(
                    time_requests(board.port, "/api/stories?limit=1000", REQUESTS // 5)
                )
            finally:
                stop.set()
                updates.join(timeout=10)
                stream.close()
    finally:
        delete_run_topics(settings)
    for name, figures in (("GET /api/stories (50 of 1,000)", page),
                          ("GET /api/stories?limit=1000 (all)", whole)):
        print(f"{name}: " + ", ".join(f"{k} {v:.1f} ms" for k, v in figures.items()))
    print(f"bench-board: stories={STORIES} p99_ms={page['p99']:.1f} "
          f"list_p99_ms={whole['p99']:.1f} replay_records_per_s={replay:.0f}")
    return {"p99_ms": page["p99"], "list_p99_ms": whole["p99"], "replay": replay}


if __name__ == "__main__":
    run_bench(Settings())
