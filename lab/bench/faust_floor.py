"""What three faust stages cost per message when they do nothing: the floor under `make bench`.

Usage: .venv/bin/python -m lab.bench.faust_floor [--messages 3000] [--rate 0] [--tables]
       [--stages 3]

Three pass-through stages (`--stages`: fewer), each its own worker process as storywire's
are (topic a -> b -> c -> d, raw bytes, two partitions, acks=all, the same faust settings
that matter for cost), on the plaintext broker the settings name
(`STORYWIRE_BOOTSTRAP_SERVERS`; by default the one `make broker-start` runs, and its CPU is
measured only when it is that local one). `--tables` also writes a changelog-backed table
entry per message in every stage, as the clean and cluster stages do. Messages of 3.4 KB (an
article's size on articles.raw) are sent by storywire's ingest producer (`make_producer`);
`--rate` paces them (articles/s; 0: as fast as the producer goes, a backlog). It prints the
CPU milliseconds per message of each stage, the broker and the producer, measured from /proc
between the first message and the last one reaching the last topic.

Everything storywire's stages add to an article beyond their cores sits on top of this. The
pipeline ratio target (end to end >= 0.85 x bare NLP) leaves everything but the NLP about
3.5 ms per article on two cores; see the README for what this script measured.
"""

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from kafka import KafkaConsumer, TopicPartition
from kafka.admin import NewTopic

from lab.bench.measure import configured_broker_pid, cpu_seconds
from services.ingest.producer import make_producer
from services.kafka import admin_client, client_config
from services.settings import Settings
from services.worker import make_worker

MAX_STAGES = 3  # storywire's hops: clean, enrich, cluster
TOPICS = "abcd"  # stage n reads TOPICS[n - 1] and writes TOPICS[n]
VALUE = (b"x" * 60 + b" ") * 56  # 3,416 bytes


def stages(count: int) -> dict[str, tuple[str, str]]:
    """The first `count` pass-through stages: {"s1": ("a", "b"), "s2": ("b", "c"), ...}."""
    return {f"s{n}": (TOPICS[n - 1], TOPICS[n]) for n in range(1, count + 1)}


def run_stage(settings: Settings, stage: str, prefix: str, tables: bool) -> None:
    """One pass-through stage as a faust worker (runs until terminated)."""
    import faust

    raw: dict[str, Any] = {"key_type": bytes, "value_type": bytes, "key_serializer": "raw",
           "value_serializer": "raw"}
    app = faust.App(
        f"{prefix}group-{stage}", store="memory://",
        broker=[f"kafka://{server}" for server in settings.bootstrap_servers.split(",")],
        autodiscover=False, web_enabled=False, producer_acks=-1, broker_commit_interval=1.0,
        consumer_auto_offset_reset="earliest", topic_partitions=2,
        datadir=f".run/faust-floor/{prefix}{stage}",
    )
    source, target = stages(MAX_STAGES)[stage]
    inbound = app.topic(prefix + source, **raw)
    outbound = app.topic(prefix + target, **raw)
    table = app.Table(
        f"floor-{stage}",
        schema=faust.Schema(key_type=str, key_serializer="json", value_serializer="json"),
    )

    @app.agent(inbound, name=stage)
    async def pass_through(stream: faust.StreamT) -> None:
        async for event in stream.events():
            if tables:
                table[str(event.message.offset % 50)] = {"seen": event.message.offset}
            await outbound.send(key=event.message.key, value=event.message.value)

    make_worker(app, "warning").execute_from_commandline()  # as storywire's workers are made


def measure(
    settings: Settings, messages: int, rate: float, tables: bool, stage_count: int = MAX_STAGES
) -> str:
    prefix = f"floor-{int(time.time())}."
    chain = stages(stage_count)
    end = TOPICS[stage_count]  # the topic the last stage writes
    admin = admin_client(settings)
    admin.create_topics([NewTopic(prefix + name, 2, 1) for name in TOPICS[: stage_count + 1]])
    log_dir = Path(".run") / "faust-floor"
    log_dir.mkdir(parents=True, exist_ok=True)
    workers = {
        stage: subprocess.Popen(
            [sys.executable, "-m", "lab.bench.faust_floor", "--stage", stage, "--prefix", prefix,
             *(["--tables"] if tables else [])],
            stdout=(log_dir / f"{stage}.log").open("w"), stderr=subprocess.STDOUT,
        )
        for stage in chain
    }
    producer = make_producer(settings)  # storywire's ingest producer, as it is configured
    reader = KafkaConsumer(**client_config(settings))
    last = [TopicPartition(prefix + end, partition) for partition in (0, 1)]

    def wait_for(count: int) -> None:
        deadline = time.monotonic() + 300
        while sum(reader.end_offsets(last).values()) < count:
            for stage, worker in workers.items():
                if worker.poll() is not None:
                    raise SystemExit(f"stage {stage} stopped; see {log_dir}/{stage}.log")
            if time.monotonic() > deadline:
                raise SystemExit(f"{count} messages did not reach topic {end} in 300 s")
            time.sleep(0.2)

    def send(count: int, offset: int, pace: float) -> None:
        started = time.time()
        for n in range(count):
            if pace:
                delay = started + n / pace - time.time()
                if delay > 0:
                    time.sleep(delay)
            producer.send(prefix + "a", key=str(offset + n).encode(), value=VALUE)
        producer.flush()

    try:
        send(50, 0, 0.0)  # warm-up: groups joined, connections made
        wait_for(50)
        time.sleep(2)
        pids = {stage: worker.pid for stage, worker in workers.items()}
        broker = configured_broker_pid(settings)
        if broker is not None:
            pids["broker"] = broker
        before = {name: cpu_seconds(pid) for name, pid in pids.items()}
        own_before = sum(os.times()[:2])
        started = time.time()
        send(messages, 50, rate)
        wait_for(50 + messages)
        span = time.time() - started
        costs = {name: (cpu_seconds(pid) - before[name]) * 1000 / messages
                 for name, pid in pids.items()}
        costs["producer"] = (sum(os.times()[:2]) - own_before) * 1000 / messages
    finally:
        for worker in workers.values():
            worker.terminate()
        for worker in workers.values():
            worker.wait(30)
        admin.delete_topics([t for t in admin.list_topics() if t.startswith(prefix)])
    figures = " ".join(f"{name}={ms:.2f}" for name, ms in costs.items())
    return (f"faust-floor: stages={stage_count} messages={messages} offered={rate or 'backlog'} "
            f"tables={tables} "
            f"achieved={messages / span:.0f}/s CPU ms/message: {figures} "
            f"sum={sum(costs.values()):.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=3000)
    parser.add_argument("--rate", type=float, default=0.0, help="messages/s; 0: a backlog")
    parser.add_argument("--tables", action="store_true", help="a table write per message")
    parser.add_argument(
        "--stages", type=int, choices=range(1, MAX_STAGES + 1), default=MAX_STAGES,
        help="pass-through stages in the chain (storywire has 3; 2 prices one hop fewer)",
    )
    parser.add_argument("--stage", choices=sorted(stages(MAX_STAGES)), help=argparse.SUPPRESS)
    parser.add_argument("--prefix", help=argparse.SUPPRESS)
    args = parser.parse_args()
    settings = Settings()
    if args.stage:
        run_stage(settings, args.stage, args.prefix, args.tables)
        return
    print(measure(settings, args.messages, args.rate, args.tables, args.stages))


if __name__ == "__main__":
    main()
