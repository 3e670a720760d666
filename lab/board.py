"""Running `storywire board` as a process, and feeding its topics directly.

Used by `make demo` (the board over the demo's topics), `make bench-board` and the board's
integration tests. `BoardProcess` starts a real `storywire board` process (the command an
operator runs) and waits until it has read its topics; `publish` writes story events and
member records to the configured `stories` / `stories.members` topics, keyed as the cluster
stage keys them.
"""

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import IO, Any, Self

from kafka import KafkaProducer

from lab.pipeline import free_port_block, settings_env
from schemas.stories import StoryEventV2, StoryMemberV1
from schemas.topics import Topic
from services.kafka import client_config
from services.settings import Settings


def port_is_free(host: str, port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind((host, port))
        except OSError:
            return False
        return True


def stop_recorded(pid_file: Path, timeout: float = 15.0) -> int | None:
    """Stop the `storywire board` whose pid `pid_file` holds (one a demo left running), if it
    still runs and is one; remove the file. Returns the pid stopped, or None."""
    try:
        pid = int(pid_file.read_text().strip())
    except (OSError, ValueError):
        return None
    pid_file.unlink(missing_ok=True)
    try:
        command = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return None
    if b"services.cli" not in command or b"board" not in command:
        return None  # the pid was reused by another program: not ours to stop
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while _running(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    return pid


def _running(pid: int) -> bool:
    """The process exists and has not exited (a zombie waiting for its parent has)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rpartition(")")[2].split()[0] != "Z"


def publish(
    settings: Settings,
    stories: Iterable[StoryEventV2] = (),
    members: Iterable[StoryMemberV1] = (),
) -> None:
    """Send story events (key: story id) and member records (key: article id), acks=all."""
    producer = KafkaProducer(**client_config(settings), acks="all", linger_ms=5)
    try:
        for member in members:
            producer.send(
                settings.topic(Topic.MEMBERS), key=member.article_id.encode(),
                value=member.model_dump_json().encode(),
            )
        for story in stories:
            producer.send(
                settings.topic(Topic.STORIES), key=story.story_id.encode(),
                value=story.model_dump_json().encode(),
            )
        producer.flush()
    finally:
        producer.close()


@dataclass
class BoardProcess:
    """`storywire board` on 127.0.0.1:`port` over `settings`' topics, for a `with` block.

    With `detach` the process outlives this object (the demo leaves it running: its pid is in
    `pid_file`); otherwise leaving the block stops it (SIGTERM, then SIGKILL).
    """

    settings: Settings
    log_path: Path
    port: int = field(default_factory=lambda: free_port_block(1))
    host: str = "127.0.0.1"
    detach: bool = False
    pid_file: Path | None = None
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log: IO[bytes] = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "services.cli", "board",
             "--host", self.host, "--port", str(self.port)],
            env={**os.environ, **settings_env(self.settings)},
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        log.close()
        if self.pid_file is not None:
            self.pid_file.parent.mkdir(parents=True, exist_ok=True)
            self.pid_file.write_text(f"{self.process.pid}\n")

    def get(self, path: str, timeout: float = 10.0) -> Any:
        with urllib.request.urlopen(self.url + path, timeout=timeout) as response:
            return json.loads(response.read())

    def wait_ready(self, timeout: float = 60.0) -> None:
        """Until the board answers and has read its topics up to their ends at its start."""
        deadline = time.monotonic() + timeout
        while True:
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(
                    f"storywire board exited with {self.process.returncode}; see {self.log_path}"
                )
            try:
                if self.get("/api/status", timeout=2)["ready"]:
                    return
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError(f"the board was not ready in {timeout}s; see {self.log_path}")
            time.sleep(0.2)

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)

    def __enter__(self) -> Self:
        self.start()
        try:
            self.wait_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if not self.detach or exc_type is not None:
            self.stop()
