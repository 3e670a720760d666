"""A minimal faust worker for the restart-gap test: one agent, one changelog-backed table.

It has what makes a storywire stage open to the restart gap (faust-streaming issue 596) and
nothing else: a table, so every start runs faust's table recovery, and an agent slower than
the fetcher (about the cluster core's cost per article), so copy waiting at a restart fills
faust's queues. Each article's key is counted in the table and the article is sent on to
`<topic_prefix>gap-placed`.

Run as `python -m tests.integration.gap_worker` with the run's STORYWIRE_* settings;
`STORYWIRE_GAP_PATCH=0` starts it without services.faust_patches and
`STORYWIRE_GAP_SEEKBACK_SECONDS=0` without the safety net of services.gap (both off: to show
the gap), and
`STORYWIRE_GAP_SEEK_DELAY=<seconds>` holds back the answer of faust's seek to the committed
offsets (after the seek) that long: the race's window is that seek's broker round trip, a few
milliseconds on an idle local broker (where the gap shows at about one restart in four), more
on a busy or remote one. Widened so, the gap showed at 3 of 3 restarts without the patch.
"""

import asyncio
import os
from collections.abc import Mapping
from pathlib import Path

import faust
from faust.transport.consumer import ThreadDelegateConsumer
from faust.types import TP

from services import faust_patches
from services.gap import register_gap_timer
from services.settings import Settings
from services.stage import RAW_BYTES
from services.worker import make_worker

ARTICLES = "gap-articles"
PLACED = "gap-placed"
TABLE = "seen"
# Per article: about what the cluster core costs at a few thousand live stories.
AGENT_SECONDS = 0.002
STREAM_BUFFER = 64


def app_id(settings: Settings) -> str:
    return settings.group("gap")


def changelog_topic(settings: Settings) -> str:
    return f"{app_id(settings)}-{TABLE}-changelog"


def build_app(settings: Settings) -> faust.App:
    datadir = Path(settings.data_dir).resolve() / f"{settings.topic_prefix}gap"
    datadir.mkdir(parents=True, exist_ok=True)
    app = faust.App(
        app_id(settings),
        broker=f"kafka://{settings.bootstrap_servers}",
        autodiscover=False,
        store="memory://",
        datadir=str(datadir),
        topic_partitions=settings.topic_partitions,
        broker_commit_interval=1.0,
        broker_session_timeout=settings.session_timeout_seconds,
        broker_heartbeat_interval=min(3.0, settings.session_timeout_seconds / 3),
        consumer_auto_offset_reset="earliest",
        web_enabled=False,
        # Small, so that the agent's queue is full whenever copy waits at a restart, as a
        # slow stage's 4,096-message queue is with a large backlog: the fetcher is then in the
        # middle of a batch when faust's recovery seeks, which is the race's window.
        stream_buffer_maxsize=STREAM_BUFFER,
    )
    articles = app.topic(settings.topic(ARTICLES), **RAW_BYTES)
    placed = app.topic(settings.topic(PLACED), **RAW_BYTES)
    seen = app.Table(TABLE, default=int, partitions=settings.topic_partitions)

    @app.agent(articles, name="gap")
    async def place(stream: faust.StreamT) -> None:
        async for event in stream.events():
            seen[event.key.decode()] += 1
            await asyncio.sleep(AGENT_SECONDS)
            await placed.send(key=event.key, value=event.value)

    # As services.app.build_app does for every stage.
    register_gap_timer(app, "gap", settings.gap_seekback_seconds)
    return app


def slow_seeks(delay_s: float) -> None:
    """Make every seek to the committed offsets answer `delay_s` after it seeks (a slow broker)."""
    seek_to_committed = ThreadDelegateConsumer.seek_to_committed

    async def slow_seek_to_committed(self: ThreadDelegateConsumer) -> Mapping[TP, int]:
        committed = await seek_to_committed(self)
        await asyncio.sleep(delay_s)
        return committed

    ThreadDelegateConsumer.seek_to_committed = slow_seek_to_committed  # type: ignore[method-assign]


def main() -> None:
    settings = Settings()
    if os.environ.get("STORYWIRE_GAP_PATCH", "1") == "1":
        faust_patches.apply()
    if delay_s := float(os.environ.get("STORYWIRE_GAP_SEEK_DELAY", "0")):
        slow_seeks(delay_s)
    make_worker(build_app(settings), "info").execute_from_commandline()


if __name__ == "__main__":
    main()
