"""`storywire board`: the web server and its Kafka reader in one event loop, until stopped."""

import asyncio
import gc
import logging
import signal

from aiohttp import web
from aiokafka.errors import KafkaConnectionError

from services.board.core import Board
from services.board.reader import ReaderStatus, follow
from services.board.web import HUB, make_app
from services.kafka import BrokerUnavailable, unreachable_message
from services.settings import Settings

log = logging.getLogger("storywire.board")


async def serve(settings: Settings, host: str, port: int) -> None:
    """Serve on host:port and follow the topics until SIGTERM/SIGINT.

    Raises BrokerUnavailable when no broker answers, and the reader's error if it stops on
    one: a board that no longer follows its topics would show stale stories as live, so it
    stops serving too.
    """
    board = Board(settings.board_max_stories, settings.board_members_per_story)
    status = ReaderStatus()
    app = make_app(board, status)
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=5)
    await runner.setup()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    hub = app[HUB]
    reader = asyncio.create_task(follow(settings, board, status, hub.publish, hub.ready))
    stopping = asyncio.create_task(stop.wait())
    try:
        await web.TCPSite(runner, host, port).start()
        log.info("board: serving on http://%s:%d/", host, port)
        await asyncio.wait({reader, stopping}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in (reader, stopping):
            task.cancel()
        await asyncio.gather(reader, stopping, return_exceptions=True)
        await runner.cleanup()
    if reader.done() and not reader.cancelled() and reader.exception() is not None:
        error = reader.exception()
        if isinstance(error, KafkaConnectionError):
            raise BrokerUnavailable(unreachable_message(settings)) from error
        raise RuntimeError(f"the board's Kafka reader stopped: {error!r}") from error


def run_board(settings: Settings, host: str, port: int) -> None:
    """Serve the board until SIGTERM/SIGINT (see `serve`)."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    # The state is many small objects, nearly all without cycles (refcounting frees them):
    # the default thresholds run full collections over all of them again and again while the
    # topics are read, which made a replay 2.3 times slower (lab measurement, 120,000 records).
    gc.set_threshold(100_000, 50, 100)
    asyncio.run(serve(settings, host, port))
