"""The fault suite's fixtures: good copy, hostile messages, a private broker, the report.

Every scenario feeds good copy (ECB+ articles and the seeds, through `storywire ingest`'s
producer) into a fresh set of topics, does something hostile to the pipeline, waits for it to
settle and accounts for every message (`check.py`). Its figures go to `.run/faults-report.json`
and the end of pytest's output.
"""

import json
import os
import random
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from kafka import KafkaProducer

from lab.pipeline import LocalPipeline, WorkerFailed, free_port_block
from schemas.articles import RawArticleV1
from services.ingest.core import Accepted, read_articles
from services.ingest.producer import ingest
from services.kafka import client_config, create_topics
from services.settings import Settings
from tests.conftest import REPO
from tests.integration.faults.check import Findings, Sent, account, audit, settle, worker_crashes
from tests.integration.faults.hostile import HostileCase

GOOD_ECB = 200  # with the 5 seeds, 205 good articles a scenario
SPARE = 60  # articles the hostile cases take their copy from
REPORT = REPO / ".run" / "faults-report.json"
_FIGURES = pytest.StashKey[list[dict[str, Any]]]()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Every test in this folder is a fault test (`make test-faults` selects them)."""
    here = Path(__file__).parent
    for item in items:
        if item.path.is_relative_to(here):
            item.add_marker(pytest.mark.faults)


@dataclass
class GoodCopy:
    """The good copy of one scenario in three parts (the seeds in the first), so hostile
    input or a fault can land between them."""

    parts: list[list[Path]]
    victim: RawArticleV1  # a good article of the first half, whose id a hostile case reuses
    spare: list[RawArticleV1]  # valid copy fed nowhere else, for the hostile cases


@pytest.fixture
def good_copy(shared: Path, tmp_path: Path) -> GoodCopy:
    records = [json.loads(line) for line in (shared / "data/ecbplus/articles.dev.jsonl").open()]
    random.Random(21).shuffle(records)
    third = GOOD_ECB // 3
    chunks = records[:third], records[third : 2 * third], records[2 * third : GOOD_ECB]
    paths = []
    for number, chunk in enumerate(chunks, 1):
        path = tmp_path / f"good-{number}.jsonl"
        path.write_text("".join(json.dumps(record) + "\n" for record in chunk))
        paths.append(path)
    spare_path = tmp_path / "spare.jsonl"
    spare_path.write_text(
        "".join(json.dumps(r) + "\n" for r in records[GOOD_ECB : GOOD_ECB + SPARE])
    )
    spare = [item.article for item in read_articles([spare_path]) if isinstance(item, Accepted)]
    [victim, *_] = [item.article for item in read_articles([paths[0]])
                    if isinstance(item, Accepted)]
    return GoodCopy([[shared / "seeds", paths[0]], [paths[1]], [paths[2]]], victim, spare)


def feed_good(paths: list[Path], settings: Settings) -> list[str]:
    report = ingest(paths, settings, show_progress=False)
    assert not report.failed, report.failed
    return report.sent


def feed_hostile(cases: list[HostileCase], settings: Settings) -> list[Sent]:
    """Write each case's bytes to its topic as they are; return where each landed."""
    producer = KafkaProducer(
        **client_config(settings), acks="all", max_request_size=2 * 1024 * 1024,
        client_id="storywire-fault-suite",
    )
    try:
        futures = [
            (case, producer.send(settings.topic(case.topic), key=case.key, value=case.value))
            for case in cases
        ]
        producer.flush()
        sent = []
        for case, future in futures:
            metadata = future.get(timeout=30)
            sent.append(Sent(case, metadata.topic, metadata.partition, metadata.offset))
        return sent
    finally:
        producer.close(timeout=10)


@dataclass
class Scenario:
    """One scenario's run: its name, settings, pipeline, clock, and what it fed in."""

    name: str
    settings: Settings
    log_dir: Path
    figures: list[dict[str, Any]]
    started: float = field(default_factory=time.monotonic)
    good_ids: list[str] = field(default_factory=list)
    sent: list[Sent] = field(default_factory=list)

    def finish(self, pipeline: LocalPipeline, extra: dict[str, Any] | None = None) -> Findings:
        """Let the pipeline settle, account for everything and record the figures."""
        crashes: list[str] = []
        try:
            stalled = settle(self.settings, pipeline.check)
        except WorkerFailed as exc:
            crashes.append(str(exc)[:2000])
            stalled = []
        findings = account(self.settings, self.good_ids, self.sent)
        findings.stalled = stalled
        findings.crashes = crashes + worker_crashes(self.log_dir)
        findings.audit = audit(self.settings)
        record = {
            "scenario": self.name,
            **findings.figures(),
            "seconds": round(time.monotonic() - self.started, 1),
            "problems": findings.problems(),
            **(extra or {}),
        }
        self.figures.append(record)
        return findings


@pytest.fixture
def scenario(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Any]:
    """`scenario(name, settings)`: a Scenario whose figures are kept for the report."""
    figures = request.config.stash.setdefault(_FIGURES, [])

    def make(name: str, settings: Settings) -> Scenario:
        return Scenario(name, settings, tmp_path / "logs", figures)

    yield make


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    figures = config.stash.get(_FIGURES, [])
    if not figures:
        return
    terminalreporter.section("fault suite figures")
    for record in figures:
        terminalreporter.write_line(
            f"{record['scenario']}: good {record['good']}, hostile {record['hostile']}, "
            f"lost {record['lost']}, doubled {record['doubled']}, "
            f"dead-lettered {record['dead_lettered']}, misplaced {record['misplaced']}, "
            f"crashes {record['crashes']}, stalled {record['stalled'] or 'none'}, "
            f"{record['seconds']} s"
        )
        for problem in record["problems"]:
            terminalreporter.write_line(f"    {problem[:400]}")
    terminalreporter.write_line(f"(written to {REPORT})")


def pytest_sessionfinish(session: pytest.Session) -> None:
    figures = session.config.stash.get(_FIGURES, [])
    if figures:
        REPORT.parent.mkdir(exist_ok=True)
        REPORT.write_text(json.dumps(
            {"written_at": datetime.now(UTC).isoformat(), "scenarios": figures}, indent=2
        ) + "\n")


# --- a private broker, for the scenario that stops one ------------------------------------

@dataclass
class PrivateBroker:
    """A broker of the suite's own (deploy/kafka/broker.sh on free ports, state in a temp
    dir, the jars of .kafka/libs): stopping it touches no one else's."""

    port: int
    env: dict[str, str]

    def run(self, verb: str) -> None:
        result = subprocess.run(
            [str(REPO / "deploy" / "kafka" / "broker.sh"), verb], env=self.env,
            capture_output=True, text=True, timeout=180,
        )
        if result.returncode != 0:
            raise RuntimeError(f"broker.sh {verb}: {result.stdout}\n{result.stderr}")

    def settings(self, **overrides: object) -> Settings:
        run = f"{random.getrandbits(40):010x}"
        settings = Settings(
            bootstrap_servers=f"127.0.0.1:{self.port}", topic_prefix=f"t{run}.",
            group_prefix=f"test-{run}", **overrides,  # type: ignore[arg-type]  # Settings fields
        )
        create_topics(settings)
        return settings


@pytest.fixture
def private_broker(broker: Settings, tmp_path: Path) -> Iterator[PrivateBroker]:
    """Started after the shared one (whose fetch put the jars in .kafka/libs); always
    stopped at the end."""
    libs = Path(os.environ.get("STORYWIRE_KAFKA_LIBS", REPO / ".kafka" / "libs"))
    # Two free ports in a row (broker, controller): two separate probes can get one port twice.
    port = free_port_block(2)
    env = {
        **os.environ,
        "STORYWIRE_KAFKA_DIR": str(tmp_path / "kafka"),
        "STORYWIRE_KAFKA_LIBS": str(libs),
        "STORYWIRE_BROKER_PORT": str(port),
        "STORYWIRE_CONTROLLER_PORT": str(port + 1),
    }
    private = PrivateBroker(port, env)
    try:
        private.run("start")
        yield private
    finally:
        private.run("stop")
