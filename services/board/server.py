"""`storywire board`: the web server and its Kafka reader in one event loop, until stopped."""

import asyncio
import contextlib
import logging
import os
import signal
from collections.abc import AsyncIterator

from aiohttp import web

from services.board.core import Board
from services.board.reader import ReaderStatus, follow
from services.board.web import HUB, make_app
from services.settings import Settings

log = logging.getLogger("storywire.board")


def build_app(settings: Settings, status: ReaderStatus) -> web.Application:
    """The board's app with its reader started on start-up and cancelled on clean-up."""
    board = Board(settings.board_max_stories, settings.board_members_per_story)
    app = make_app(board, status)

    async def reader(app: web.Application) -> AsyncIterator[None]:
        task = asyncio.create_task(follow(settings, board, status, app[HUB].publish))

        def ended(done: asyncio.Task[None]) -> None:
            if done.cancelled():
                return
            # The reader stopped (the broker refused us, a bug): a board that no longer follows
            # the topics would show stale stories as live, so the process ends, non-zero.
            log.error("board: the Kafka reader stopped: %r", done.exception())
            status.failed = True
            os.kill(os.getpid(), signal.SIGTERM)

        task.add_done_callback(ended)
        yield
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    app.cleanup_ctx.append(reader)
    return app


def run_board(settings: Settings, host: str, port: int) -> int:
    """Serve the board on host:port until SIGTERM/SIGINT; the exit code (1: the reader died)."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    status = ReaderStatus()
    app = build_app(settings, status)
    web.run_app(
        app, host=host, port=port, access_log=None, handle_signals=True, shutdown_timeout=5,
        print=lambda _: log.info("board: serving on http://%s:%d/", host, port),
    )
    return 1 if status.failed else 0
