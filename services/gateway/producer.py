"""The gateway's producer: aiokafka, acks=all and idempotent, started when first needed.

The gateway answers 202 only once the broker has acknowledged every record of a request, so a
send waits for its acks, bounded by `gateway_send_timeout_seconds`. A broker that cannot be
reached (at start-up or later) is `BrokerDown`: the gateway answers 503 and keeps serving, and
the next request tries again.
"""

import asyncio
import logging
from collections.abc import Sequence

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError

from schemas.topics import Topic
from services.gateway.core import Outgoing
from services.kafka import client_config, create_topics
from services.settings import Settings

log = logging.getLogger(__name__)


class BrokerDown(Exception):
    """The broker did not acknowledge in time, or could not be reached."""


class Publisher:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.topic = settings.topic(Topic.RAW)
        self._producer: AIOKafkaProducer | None = None
        self._starting = asyncio.Lock()
        self._topics_made = False

    @property
    def connected(self) -> bool:
        return self._producer is not None

    async def _ready(self) -> AIOKafkaProducer:
        if self._producer is not None:
            return self._producer
        async with self._starting:
            if self._producer is not None:
                return self._producer
            timeout = self.settings.gateway_send_timeout_seconds
            loop = asyncio.get_running_loop()
            if not self._topics_made:
                # The broker does not create topics on first use (kafka-python admin: a thread).
                try:
                    await asyncio.wait_for(
                        loop.run_in_executor(None, create_topics, self.settings), timeout
                    )
                except Exception as exc:  # noqa: BLE001 - any failure here is "broker down"
                    raise BrokerDown(f"cannot create or check topics: {exc!r}") from exc
                self._topics_made = True
            producer = AIOKafkaProducer(
                **client_config(self.settings),
                client_id="storywire-gateway",
                acks="all",
                enable_idempotence=True,
                linger_ms=5,
                max_request_size=self.settings.max_message_bytes,
                request_timeout_ms=int(timeout * 1000),
            )
            try:
                await asyncio.wait_for(producer.start(), timeout)
            except (KafkaError, OSError, TimeoutError) as exc:
                await producer.stop()
                raise BrokerDown(f"cannot connect: {exc!r}") from exc
            self._producer = producer
            return producer

    async def publish(self, articles: Sequence[Outgoing]) -> None:
        """Send `articles` and return once the broker acknowledged all; BrokerDown if it did
        not within the timeout (some may still arrive: ids are stable, a resend is safe)."""
        producer = await self._ready()
        timeout = self.settings.gateway_send_timeout_seconds

        async def send_all() -> None:
            pending = [
                await producer.send(self.topic, key=a.key, value=a.value) for a in articles
            ]
            await asyncio.gather(*pending)

        try:
            await asyncio.wait_for(send_all(), timeout)
        except (KafkaError, TimeoutError) as exc:
            raise BrokerDown(f"no acknowledgement: {exc!r}") from exc

    async def close(self) -> None:
        if self._producer is not None:
            await self._producer.stop()
            self._producer = None
