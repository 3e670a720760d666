"""One outlet, one partition, whatever wrote `articles.raw`.

The clean stage learns each outlet's template (`memory.py`) in a table partitioned like its
input, so all of an outlet's copy must be read from one partition of `articles.raw`. The
contract says so (key = source, Kafka's default partitioner: murmur2 of the key modulo the
partition count, as kafka-python, aiokafka and the Java client do), but a producer may follow
it only in part: librdkafka-based clients (confluent-kafka, kcat, Go and .NET wrappers) hash
keys with CRC32 by default (`consistent_random`), and a producer may key by something else
or not at all. Such copy would split an outlet's template memory across partitions, and so
across clean workers.

So the clean stage checks each raw article's partition against its source's home partition,
`murmur2(source) % partitions` (`home_partition`), and sends one found elsewhere to its home
partition (same key, value and headers, plus `storywire-rerouted-from: <partition>@<offset>`)
before acknowledging it: the copy is cleaned there, with the outlet's one memory. The re-send
waits for the broker's ack (`services.stage.deliver`), so a crash before the commit sends it
again, never loses it; a redelivered article is one article downstream (same source and id).

A message that is no valid `RawArticleV1` stays where it is: the clean stage dead-letters it
from there, and the letter names the offset the audit knows it by. A re-sent article rejected
at home is dead-lettered as where its producer wrote it (`as_written`).
`storywire_clean_rerouted_total` counts the re-sends: a steady rate names a producer to fix
(each re-sent article costs one more write and read).
"""

from dataclasses import dataclass
from typing import Any

from aiokafka.partitioner import murmur2
from pydantic import BaseModel, ConfigDict, ValidationError

from schemas.articles import RawArticleV1
from services import metrics
from services.settings import Settings
from services.stage import deliver

REROUTED_HEADER = "storywire-rerouted-from"
# Room a re-sent message needs besides its key and value (record overhead, headers): a message
# that would not fit the producer's limit with it is cleaned where it is rather than re-sent,
# since a send the broker refuses for its size would halt the worker on every restart.
RESEND_OVERHEAD_BYTES = 8_000


class _Source(BaseModel):
    model_config = ConfigDict(extra="ignore")

    source: str


def home_partition(source: str, partitions: int) -> int:
    """The partition Kafka's default partitioner gives the key `source` (UTF-8)."""
    return (murmur2(source.encode()) & 0x7FFFFFFF) % partitions


def source_of(value: bytes | None) -> str | None:
    """The `source` of a raw article's bytes, or None when it has none to read."""
    if not value:
        return None
    try:
        return _Source.model_validate_json(value).source
    except (ValidationError, RecursionError):
        return None


def misplaced(message: Any, partitions: int | None) -> int | None:
    """The home partition of a raw article read from another partition, else None.

    Only a valid `RawArticleV1` moves (checked only once it is known to be away from home):
    anything else is dead-lettered where it is, so its letter names the offset the audit
    knows it by (a message that is no article has no other name).
    """
    source = source_of(message.value)
    if source is None or not partitions:
        return None
    home = home_partition(source, partitions)
    if home == message.partition:
        return None
    try:
        RawArticleV1.model_validate_json(message.value)
    except (ValidationError, RecursionError):
        return None
    return home


async def send_home(
    stage: str, message: Any, topic: Any, partitions: int | None, settings: Settings
) -> bool:
    """Re-send `message` to its source's home partition of `topic` (its own topic) if it
    was read elsewhere; True when it was (the caller then skips it: it is cleaned there)."""
    home = misplaced(message, partitions)
    if home is None:
        return False
    size = len(message.value or b"") + len(message.key or b"")
    if size > settings.max_message_bytes - RESEND_OVERHEAD_BYTES:
        return False
    headers = list(_headers(message.headers))
    headers.append((REROUTED_HEADER, f"{message.partition}@{message.offset}".encode()))
    await deliver(stage, topic, message.key, message.value, settings,
                  partition=home, headers=headers)
    metrics.CLEAN_REROUTED.inc()
    return True


@dataclass(frozen=True)
class WrittenAt:
    """A re-sent message seen where its producer wrote it (what a dead letter reads of it)."""

    value: bytes | None
    key: bytes | None
    topic: str
    partition: int
    offset: int


def as_written(message: Any) -> Any:
    """`message`, or, for one this stage sent home, the same bytes at the partition and
    offset its producer first wrote it to: where its dead letter points, so the letter names
    the message its producer (and `storywire audit`) know, not the stage's re-sent copy."""
    origin = dict(_headers(message.headers)).get(REROUTED_HEADER)
    if origin is None:
        return message
    try:
        partition, offset = (int(part) for part in origin.decode().split("@"))
    except ValueError:  # not a header this stage wrote: the message's own place stands
        return message
    return WrittenAt(message.value, message.key, message.topic, partition, offset)


def _headers(headers: Any) -> list[tuple[str, bytes]]:
    if not headers:
        return []
    items = headers.items() if isinstance(headers, dict) else headers
    return [(str(name), bytes(value or b"")) for name, value in items]
