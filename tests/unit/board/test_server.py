"""The board stops, saying why, when it cannot follow its topics."""

import asyncio
import socket

import pytest

from services.board.server import serve
from services.kafka import BrokerUnavailable
from services.settings import Settings


def test_no_broker_stops_the_board_with_the_reason() -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        dead = probe.getsockname()[1]
    settings = Settings(bootstrap_servers=f"127.0.0.1:{dead}")
    with pytest.raises(BrokerUnavailable, match="no Kafka broker answered"):
        asyncio.run(asyncio.wait_for(serve(settings, "127.0.0.1", 0), timeout=30))
