"""What every stage's agent shares: decoding input, the one terminal place of each message,
delivery that is confirmed before the input is committed, counting.

The agents stay thin (decode -> core -> send -> count); this module holds the parts that
would otherwise be copied into each of them, and the guarantee they share: every message a
stage reads ends in that stage's output or in its dead-letter topic with a reason.

- Bad input raises `InvalidArticle(reason)`: the original goes to the dead-letter topic.
- Anything else is a bug, and a bug still loses nothing: the message is tried again (up to
  `unexpected_error_attempts` in all), then dead-lettered with the exception's type as its
  reason (`unexpected_<Type>`) and its message in the detail, counted in
  `storywire_unexpected_errors_total` and alerted on. No exception is left to faust, which
  would ack the message an agent crashed on and commit past it.
- Every send waits for the broker's acknowledgement. A send that still fails after retries
  stops the worker before faust commits past the input (`halt`): the message is redelivered
  to the restarted worker, never skipped.
"""

import asyncio
import base64
import hashlib
import logging
import os
import sys
import time
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, NoReturn, TypeVar

import faust
from faust.streams import _current_event  # faust's task-local current event (tables)
from faust.types import TableT
from pydantic import BaseModel, ValidationError

from schemas.deadletter import DeadLetterV1
from services import metrics
from services.errors import InvalidArticle
from services.settings import Settings

Model = TypeVar("Model", bound=BaseModel)
Result = TypeVar("Result")

log = logging.getLogger("storywire")

# Topic options for byte-for-byte messages: the agent decodes them itself, so that a message
# that is not even JSON still reaches it and can be dead-lettered, rather than being dropped
# by faust's deserializer before any stage code sees it.
RAW_BYTES: dict[str, Any] = {
    "key_type": bytes, "value_type": bytes, "key_serializer": "raw", "value_serializer": "raw"
}

# What a dead letter keeps of a failure's text and of the original message's key: enough to
# read, never enough to push the letter past the size limit.
DETAIL_CHARS = 2_000
KEY_BYTES = 1_000
# Room the letter's other fields take besides the base64 original (stage, reason, detail,
# topic, offsets, key, times, JSON punctuation), with a margin.
LETTER_OVERHEAD_BYTES = 8_000
# A send is tried this many times (the producer itself retries inside each) before the worker
# stops rather than commit past a message whose output never reached the broker.
SEND_ATTEMPTS = 3
SEND_BACKOFF_SECONDS = 1.0
# The exit status of a worker halted on a failed send (EX_TEMPFAIL: try again later).
HALT_STATUS = 75


def json_table(app: faust.App, name: str, help_text: str) -> TableT[Any, Any]:
    """A changelog-backed table of JSON values under str keys.

    Keys and values go through JSON on the changelog so a recovered table has the same
    Python types (str keys, plain dicts and lists) as the one that wrote it.
    """
    return app.Table(
        name,
        schema=faust.Schema(key_type=str, key_serializer="json", value_serializer="json"),
        help=help_text,
    )


def decode(model: type[Model], value: bytes | None, settings: Settings) -> Model:
    """Parse one message value into its topic contract, or raise InvalidArticle.

    Refused besides what the contract refuses: a message over the size limit (before any
    parsing), and copy stamped outside the sane range of ingest times (`check_ingest_time`).
    """
    if value is None:
        raise InvalidArticle("empty_message", "the message has no value")
    if len(value) > settings.max_message_bytes:
        raise InvalidArticle(
            "message_too_large",
            f"{len(value)} bytes; the limit is {settings.max_message_bytes} "
            "(STORYWIRE_MAX_MESSAGE_BYTES)",
        )
    try:
        parsed = model.model_validate_json(value)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first.get("loc", ())) or "message"
        # The reason names the kind of failure only (it is a metric label); the detail says
        # which field and why, for the person reading the dead letter.
        reason = "invalid_json" if first["type"] == "json_invalid" else "schema_violation"
        raise InvalidArticle(reason, f"{where}: {first['msg']}"[:DETAIL_CHARS]) from exc
    except RecursionError as exc:  # pydantic's own depth guard raises ValidationError; this
        raise InvalidArticle("invalid_json", "nested too deeply") from exc  # is a backstop
    ingested_at = getattr(parsed, "ingested_at", None)
    if isinstance(ingested_at, datetime):
        check_ingest_time(ingested_at, settings)
    return parsed


def check_ingest_time(
    ingested_at: datetime, settings: Settings, now: datetime | None = None
) -> None:
    """Raise InvalidArticle when `ingested_at` is not a time storywire could have stamped.

    Ingest time drives when stories close, so it is storywire's, not the writer's: copy from
    the future (beyond `max_clock_skew_seconds`) would close every live story of its shard,
    and copy older than `max_copy_age_days` would be compared with stories long closed.
    """
    now = now or datetime.now(UTC)
    if ingested_at - now > timedelta(seconds=settings.max_clock_skew_seconds):
        raise InvalidArticle(
            "ingest_time_in_future",
            f"ingested_at {ingested_at.isoformat()} is after {now.isoformat()} "
            f"(+{settings.max_clock_skew_seconds:g} s allowed)",
        )
    if now - ingested_at > timedelta(days=settings.max_copy_age_days):
        raise InvalidArticle(
            "ingest_time_too_old",
            f"ingested_at {ingested_at.isoformat()} is more than "
            f"{settings.max_copy_age_days:g} days before {now.isoformat()}",
        )


def encode(model: BaseModel) -> bytes:
    return model.model_dump_json().encode()


def dead_letter(stage: str, error: InvalidArticle, message: Any, max_bytes: int) -> DeadLetterV1:
    """The dead letter for a message a stage rejected; `message` is faust's Message.

    It always fits `max_bytes`: an original too big to carry whole (base64 makes it 4/3
    larger) is cut, and the letter says so with the whole's length and sha256.
    """
    original = message.value or b""
    key = message.key
    budget = (max_bytes - LETTER_OVERHEAD_BYTES) * 3 // 4  # base64: 4 bytes per 3
    truncated = len(original) > budget
    return DeadLetterV1(
        stage=stage,  # type: ignore[arg-type]  # checked by the model: a known stage id
        reason=error.reason,
        detail=error.detail[:DETAIL_CHARS],
        topic=message.topic,
        partition=message.partition,
        offset=message.offset,
        # Base64Bytes fields take base64 on input and give the original bytes back.
        key=base64.b64encode(key[:KEY_BYTES]) if key is not None else None,
        original=base64.b64encode(original[:budget]),
        truncated=truncated,
        original_length=len(original) if truncated else None,
        original_sha256=hashlib.sha256(original).hexdigest() if truncated else None,
        failed_at=datetime.now(UTC),
    )


def encode_letter(letter: DeadLetterV1) -> bytes:
    """A letter's bytes; the fields of a truncated letter only where it is one, so a letter
    that fits whole reads exactly as letters always have."""
    exclude = set() if letter.truncated else {"truncated", "original_length", "original_sha256"}
    return letter.model_dump_json(exclude=exclude).encode()


def halt(stage: str, why: str) -> NoReturn:
    """Stop the worker now, before faust commits past the message being handled.

    Used when a send failed for good: carrying on would commit the input offset of a message
    whose output never reached the broker. The process exits without the clean shutdown
    (which would commit); the restarted worker reads the message again.
    """
    log.critical("stage=%s halting before committing past a message: %s", stage, why)
    for handler in logging.getLogger().handlers + log.handlers:
        handler.flush()
    sys.stderr.flush()
    os._exit(HALT_STATUS)


def check_output_size(topic: Any, value: bytes, settings: Settings) -> None:
    """Output over the size limit is the input's fault: InvalidArticle (dead-lettered)."""
    if len(value) > settings.max_message_bytes:
        raise InvalidArticle(
            "output_too_large",
            f"the {topic.get_topic_name()} message would be {len(value)} bytes; "
            f"the limit is {settings.max_message_bytes}",
        )


async def deliver(
    stage: str, topic: Any, key: bytes | None, value: bytes, settings: Settings,
    *, partition: int | None = None, headers: list[tuple[str, bytes]] | None = None,
) -> None:
    """Send one message and wait until the broker has it (acks=all); to `partition` when
    given, else where the key hashes to.

    Output over the size limit is the input's fault (InvalidArticle: dead-lettered). A send
    the broker refuses is tried `SEND_ATTEMPTS` times; then the worker halts (`halt`).
    """
    check_output_size(topic, value, settings)
    placement: dict[str, Any] = {}
    if partition is not None:
        placement["partition"] = partition
    if headers is not None:
        placement["headers"] = headers
    failure: BaseException | None = None
    for attempt in range(SEND_ATTEMPTS):
        try:
            pending = await topic.send(key=key, value=value, force=True, **placement)
            await pending
            return
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - every send failure is retried, then halts
            failure = exc
            metrics.SEND_FAILURES.labels(stage=stage).inc()
            log.warning(
                "stage=%s send to %s failed (attempt %d of %d): %s: %s", stage,
                topic.get_topic_name(), attempt + 1, SEND_ATTEMPTS, type(exc).__name__, exc,
            )
            await asyncio.sleep(SEND_BACKOFF_SECONDS * (attempt + 1))
    halt(stage, f"send to {topic.get_topic_name()} failed: {type(failure).__name__}: {failure}")


async def reject(
    stage: str, dead_letters: Any, error: InvalidArticle, message: Any, settings: Settings
) -> None:
    """Dead-letter `message` with `error`'s reason (confirmed, like every send), and count it
    once the broker has the letter."""
    letter = dead_letter(stage, error, message, settings.max_message_bytes)
    await deliver(stage, dead_letters, message.key[:KEY_BYTES] if message.key else None,
                  encode_letter(letter), settings)
    metrics.DEAD_LETTERS.labels(stage=stage, reason=error.reason).inc()


# --- batches ---------------------------------------------------------------------------------
# A stage that takes its input in batches (`batches`) handles each message of a batch as its
# own (decode -> core, dead-lettered on its own), collects the outputs (`Outgoing`), sends them
# together and waits for all of them (`deliver_all`), and only then lets faust ack the batch's
# input: faust's take_events acks a batch's events when the loop comes back for the next batch,
# so a worker killed mid-batch has acked none of it and the restarted one reads it again.


@dataclass(frozen=True)
class Outgoing:
    """One message a stage will send: its topic, key and bytes, and its partition when it is
    not where the key hashes to."""

    topic: Any
    key: bytes | None
    value: bytes
    partition: int | None = None


def outgoing(
    topic: Any, key: bytes | None, value: bytes, settings: Settings, partition: int | None = None
) -> Outgoing:
    """An output, checked for size now, while its input can still be dead-lettered for it."""
    check_output_size(topic, value, settings)
    return Outgoing(topic, key, value, partition)


async def deliver_all(stage: str, messages: Sequence[Outgoing], settings: Settings) -> None:
    """Send every message, then wait until the broker has all of them (acks=all): the
    producer puts messages sent together into one request per broker instead of one each.

    When a send fails, every message from the first failed one on is sent again in order, one
    at a time (`deliver`: tried again, then the worker halts), so a later version of a story
    or membership never lands before an earlier one on its compacted topic.
    """
    pending: list[Any] = []  # faust's futures of the messages sent, in order
    failed: int | None = None
    failure: BaseException | None = None
    for index, message in enumerate(messages):
        placement = {} if message.partition is None else {"partition": message.partition}
        try:
            pending.append(await message.topic.send(
                key=message.key, value=message.value, force=True, **placement
            ))
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - the rest goes one at a time, below
            failed, failure = index, exc
            break
    outcomes = await asyncio.gather(*pending, return_exceptions=True)
    for index, outcome in enumerate(outcomes):
        if isinstance(outcome, asyncio.CancelledError):
            raise outcome
        if isinstance(outcome, BaseException):
            failed, failure = index, outcome  # earlier than a failed send, if any
            break
    if failed is None:
        return
    metrics.SEND_FAILURES.labels(stage=stage).inc()
    log.warning(
        "stage=%s a batch send failed at message %d of %d (%s: %s): sending the rest one at "
        "a time", stage, failed + 1, len(messages), type(failure).__name__, failure,
    )
    for message in messages[failed:]:
        await deliver(
            stage, message.topic, message.key, message.value, settings,
            partition=message.partition,
        )


def batches(stream: Any, settings: Settings) -> AsyncIterator[Sequence[Any]]:
    """The stream's events in batches of at most `stage_batch_size`, each waited for at most
    `stage_batch_seconds`; a batch's events are acked when the loop asks for the next one."""
    # faust.Stream has take_events; the StreamT protocol it is typed as does not list it.
    taken: AsyncIterator[Sequence[Any]] = stream.take_events(
        settings.stage_batch_size, within=settings.stage_batch_seconds
    )
    return taken


def as_current(event: Any) -> None:
    """Make `event` the one being handled in this task, as faust does for each event it
    yields one at a time: a table written now writes its changelog to this event's partition
    (faust's tables read the task's current event), which in a batch would otherwise be the
    partition of some other event.

    Only the task-local context variable is set, never the stream's `current_event`
    attribute: faust's take_events reads that attribute in another task to know which event
    it buffers, and an agent that moved it would have it buffer a stale event in place of
    the message just fetched (which would then never be handled).
    """
    _current_event.set(weakref.ref(event))


def unexpected(exc: BaseException) -> InvalidArticle:
    """The dead-letter reason and detail for an exception no core raises on purpose."""
    return InvalidArticle(f"unexpected_{type(exc).__name__}", f"{type(exc).__name__}: {exc}")


async def handled(
    stage: str,
    message: Any,
    work: Callable[[], Awaitable[Result]],
    dead_letters: Any,
    settings: Settings,
) -> Result | None:
    """Run `work` for one message; return its result, or None once the message is
    dead-lettered (bad input at once; an unexpected error after its retries)."""
    for attempt in range(settings.unexpected_error_attempts):
        try:
            return await work()
        except InvalidArticle as error:
            await reject(stage, dead_letters, error, message, settings)
            return None
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - a bug: retried, then dead-lettered, counted
            metrics.UNEXPECTED_ERRORS.labels(stage=stage).inc()
            log.exception(
                "stage=%s unexpected error on %s[%s]@%s (attempt %d of %d)", stage,
                message.topic, message.partition, message.offset, attempt + 1,
                settings.unexpected_error_attempts,
            )
            if attempt + 1 == settings.unexpected_error_attempts:
                await reject(stage, dead_letters, unexpected(exc), message, settings)
                return None
    return None  # not reached: the last attempt returns or rejects


@contextmanager
def timed(stage: str, articles: int = 1) -> Iterator[None]:
    """Count processing seconds per article for `stage`."""
    started = time.perf_counter()
    yield
    per_article = (time.perf_counter() - started) / max(articles, 1)
    for _ in range(articles):
        metrics.PROCESSING_SECONDS.labels(stage=stage).observe(per_article)


def observe_output(stage: str, ingested_at: datetime) -> None:
    """Count one message sent on, and its age since ingest."""
    metrics.MESSAGES_OUT.labels(stage=stage).inc()
    age = (datetime.now(UTC) - ingested_at).total_seconds()
    metrics.END_TO_END_SECONDS.labels(stage=stage).observe(max(age, 0.0))
