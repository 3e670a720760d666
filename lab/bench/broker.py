"""A private Kafka broker for one benchmark run: deploy/kafka/broker.sh on free ports with its
own state, so the broker whose CPU the bench reads is the one the pipeline talks to, and
nothing else (another helper's tests, the fault suite) loads it."""

import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from lab.pipeline import free_port_block

REPO = Path(__file__).resolve().parents[2]
BROKER_SH = REPO / "deploy" / "kafka" / "broker.sh"


@dataclass(frozen=True)
class Broker:
    bootstrap_servers: str
    pid: int


def _run(verb: str, env: dict[str, str]) -> None:
    result = subprocess.run(
        [str(BROKER_SH), verb], env=env, capture_output=True, text=True, timeout=180
    )
    if result.returncode != 0:
        raise RuntimeError(f"broker.sh {verb}: {result.stdout}\n{result.stderr}")


@contextmanager
def private_broker(state: Path) -> Iterator[Broker]:
    """Start a broker with its state in `state` (jars from STORYWIRE_KAFKA_LIBS, else this
    tree's .kafka/libs, fetched if missing); yield its address and process id; stop it."""
    port = free_port_block(2)  # broker, controller
    libs = os.environ.get("STORYWIRE_KAFKA_LIBS", str(REPO / ".kafka" / "libs"))
    env = {
        **os.environ,
        "STORYWIRE_KAFKA_DIR": str(state.resolve()),
        "STORYWIRE_KAFKA_LIBS": libs,
        "STORYWIRE_BROKER_PORT": str(port),
        "STORYWIRE_CONTROLLER_PORT": str(port + 1),
    }
    try:
        _run("start", env)
        pid = int((state / "broker.pid").read_text())
        yield Broker(f"127.0.0.1:{port}", pid)
    finally:
        _run("stop", env)
