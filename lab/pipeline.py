"""Running the whole pipeline locally: one worker process per stage, as an operator would.

Used by `storywire demo`, the integration tests and the evaluations that go through Kafka.
Each worker is a real `storywire worker STAGE` process against the configured broker.
"""

import os
import random
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Self

from services.app import STAGES, Stage
from services.settings import Settings


def free_port_block(size: int = 3) -> int:
    """A base port with `size` free consecutive ports after it (for workers' /metrics)."""
    chooser = random.Random()
    for _ in range(50):
        # Below Linux's ephemeral range (32768-60999 by default): a port there can be taken
        # by any outgoing connection between this probe and the listener's bind.
        base = chooser.randint(20000, 32000 - size)
        try:
            for port in range(base, base + size):
                with socket.socket() as probe:
                    probe.bind(("127.0.0.1", port))
            return base
        except OSError:
            continue
    raise RuntimeError("no free block of ports")


class WorkerFailed(RuntimeError):
    """A worker process exited while the pipeline was supposed to be running."""


def settings_env(settings: Settings) -> dict[str, str]:
    """The environment that hands `settings` to a child process."""
    env: dict[str, str] = {}
    for name, value in settings.model_dump().items():
        if value is None:
            continue
        if hasattr(value, "get_secret_value"):
            value = value.get_secret_value()
        env[f"STORYWIRE_{name.upper()}"] = str(value)
    return env


@dataclass
class LocalPipeline:
    """Start one worker per stage on enter; stop them (SIGTERM, then SIGKILL) on exit.

    Worker logs go to `log_dir/<stage>.log`; each worker serves /metrics on
    `metrics_base_port + index of its stage` (0 for none). With `worker_root` the workers run
    from that source tree (`-m` puts the working directory first on the path). `stage_env`
    adds environment for one stage's workers only, after `extra_env` (e.g. each stage's own
    SASL principal: STORYWIRE_SASL_USERNAME / STORYWIRE_SASL_PASSWORD).
    """

    settings: Settings
    log_dir: Path
    stages: tuple[Stage, ...] = STAGES
    metrics_base_port: int = 9401
    extra_env: Mapping[str, str] = field(default_factory=dict)
    stage_env: Mapping[Stage, Mapping[str, str]] = field(default_factory=dict)
    worker_root: Path | None = None
    processes: dict[Stage, subprocess.Popen[bytes]] = field(default_factory=dict)
    # Where each stage's log stood when its current process started (a restart appends).
    log_marks: dict[Stage, int] = field(default_factory=dict)

    def metrics_port(self, stage: Stage) -> int:
        return self.metrics_base_port + STAGES.index(stage) if self.metrics_base_port else 0

    def start(self, stage: Stage) -> None:
        log = self.log_dir / f"{stage}.log"
        self.log_marks[stage] = log.stat().st_size if log.exists() else 0
        self.processes[stage] = self.spawn(stage, stage, self.metrics_port(stage))

    def wait_until_ready(self, *stages: Stage, timeout: float = 120.0) -> None:
        """Wait until each stage's current process (all of them by default) has said faust's
        "Ready": it has its partitions and has restored its tables from their changelogs. A
        worker serves /metrics before it starts faust, so a ready worker serves them too.

        Copy that reaches a worker while it restores can be dropped by faust (its recovery
        clears the in-memory queues; faust-streaming issue 596), so copy is fed to a started or
        restarted pipeline only after this.
        """
        deadline = time.monotonic() + timeout
        for stage in stages or tuple(self.processes):
            log = self.log_dir / f"{stage}.log"
            while True:
                self.check()
                with log.open("rb") as lines:
                    lines.seek(self.log_marks.get(stage, 0))
                    if b"[^Worker]: Ready" in lines.read():
                        break
                if time.monotonic() > deadline:
                    raise WorkerFailed(f"{stage} was not ready within {timeout}s (see {log})")
                time.sleep(0.2)

    def spawn(self, stage: Stage, name: str, metrics_port: int) -> subprocess.Popen[bytes]:
        """One `storywire worker STAGE` process logging to `log_dir/<name>.log`."""
        self.log_dir.mkdir(parents=True, exist_ok=True)
        env = {
            **os.environ,
            **settings_env(self.settings),
            "STORYWIRE_METRICS_PORT": str(metrics_port),
            **self.extra_env,
            **self.stage_env.get(stage, {}),
        }
        log = (self.log_dir / f"{name}.log").open("ab")
        return subprocess.Popen(
            [sys.executable, "-m", "services.cli", "worker", stage],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            cwd=self.worker_root,
        )

    def stop(self, stage: Stage, kill: bool = False, timeout: float = 30.0) -> None:
        process = self.processes.pop(stage, None)
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGKILL if kill else signal.SIGTERM)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)

    def check(self) -> None:
        """Raise WorkerFailed, with the worker's last log lines, if any worker has exited."""
        for stage, process in self.processes.items():
            if process.poll() is not None:
                tail = self.log_tail(stage)
                raise WorkerFailed(f"the {stage} worker exited with {process.returncode}:\n{tail}")

    def log_tail(self, stage: Stage, lines: int = 25) -> str:
        path = self.log_dir / f"{stage}.log"
        if not path.exists():
            return "(no log)"
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])

    def metrics_text(self, stage: Stage) -> str:
        url = f"http://{self.settings.metrics_host}:{self.metrics_port(stage)}/metrics"
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.read().decode()

    def __enter__(self) -> Self:
        for stage in self.stages:
            self.start(stage)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        for stage in list(self.processes):
            self.stop(stage)
