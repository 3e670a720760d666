"""The terminal place of every message: output, or a dead letter with a reason, never lost."""

import asyncio
import base64
import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from schemas.articles import RawArticleV1
from schemas.deadletter import DeadLetterV1
from services import metrics, stage
from services.errors import InvalidArticle
from services.settings import Settings

SETTINGS = Settings(unexpected_error_attempts=3)
NOW = datetime.now(UTC)


@dataclass
class Message:
    value: bytes | None
    key: bytes | None = b"reuters"
    topic: str = "articles.raw"
    partition: int = 1
    offset: int = 42


class Topic:
    """A topic whose sends the broker acknowledges, or refuses `failures` times first."""

    def __init__(self, failures: int = 0) -> None:
        self.sent: list[tuple[bytes | None, bytes]] = []
        self.failures = failures

    def get_topic_name(self) -> str:
        return "dlq.clean"

    async def send(self, *, key: bytes | None, value: bytes, force: bool) -> Any:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        if self.failures:
            self.failures -= 1
            future.set_exception(RuntimeError("MessageSizeTooLargeError"))
        else:
            self.sent.append((key, value))
            future.set_result(None)
        return future


def raw_json(**fields: Any) -> bytes:
    article = {"id": "a1", "source": "reuters", "text": "Kerry met Putin in Moscow.",
               "ingested_at": NOW.isoformat(), **fields}
    return json.dumps(article).encode()


def test_decode_refuses_copy_stamped_in_the_future_or_long_ago() -> None:
    assert stage.decode(RawArticleV1, raw_json(), SETTINGS).id == "a1"
    for when, reason in (
        (datetime(9999, 12, 30, tzinfo=UTC), "ingest_time_in_future"),
        (NOW + timedelta(hours=1), "ingest_time_in_future"),
        (datetime(1, 1, 2, tzinfo=UTC), "ingest_time_too_old"),
        (NOW - timedelta(days=31), "ingest_time_too_old"),
    ):
        with pytest.raises(InvalidArticle) as refused:
            stage.decode(RawArticleV1, raw_json(ingested_at=when.isoformat()), SETTINGS)
        assert refused.value.reason == reason


def test_decode_refuses_oversized_and_nested_messages_before_parsing() -> None:
    with pytest.raises(InvalidArticle) as too_big:
        stage.decode(RawArticleV1, b" " * (SETTINGS.max_message_bytes + 1), SETTINGS)
    assert too_big.value.reason == "message_too_large"
    with pytest.raises(InvalidArticle) as nested:
        stage.decode(RawArticleV1, b"[" * 100_000, SETTINGS)
    assert nested.value.reason in {"invalid_json", "schema_violation"}


def test_a_dead_letter_always_fits_and_says_what_it_cut() -> None:
    original = b"x" * 990_000  # base64 would make it 1.32 MB
    letter = stage.dead_letter(
        "clean", InvalidArticle("body_too_large"), Message(original), SETTINGS.max_message_bytes
    )
    encoded = stage.encode_letter(letter)
    assert len(encoded) <= SETTINGS.max_message_bytes
    read = DeadLetterV1.model_validate_json(encoded)
    assert read.truncated and read.original_length == len(original)
    assert read.original_sha256 == hashlib.sha256(original).hexdigest()
    assert original.startswith(read.original)


def test_a_letter_that_fits_is_written_as_letters_always_were() -> None:
    letter = stage.dead_letter(
        "clean", InvalidArticle("invalid_json", "x"), Message(b"{"), SETTINGS.max_message_bytes
    )
    written = json.loads(stage.encode_letter(letter))
    assert "truncated" not in written and base64.b64decode(written["original"]) == b"{"


def _run(work: Any, dead_letters: Topic) -> Any:
    return asyncio.run(stage.handled("clean", Message(b"{}"), work, dead_letters, SETTINGS))


def test_bad_input_is_dead_lettered_once_with_its_reason() -> None:
    letters = Topic()
    tries = []

    async def work() -> str:
        tries.append(1)
        raise InvalidArticle("empty_after_cleaning", "nothing reads as article")

    before = metrics.DEAD_LETTERS.labels(stage="clean", reason="empty_after_cleaning")._value.get()
    assert _run(work, letters) is None
    assert len(tries) == 1
    [(_key, value)] = letters.sent
    assert DeadLetterV1.model_validate_json(value).reason == "empty_after_cleaning"
    after = metrics.DEAD_LETTERS.labels(stage="clean", reason="empty_after_cleaning")._value.get()
    assert after == before + 1


def test_an_unexpected_error_is_retried_then_dead_lettered_with_its_type() -> None:
    letters = Topic()
    tries = []

    async def work() -> str:
        tries.append(1)
        raise OverflowError("date value out of range")

    assert _run(work, letters) is None
    assert len(tries) == SETTINGS.unexpected_error_attempts
    [(_key, value)] = letters.sent
    letter = DeadLetterV1.model_validate_json(value)
    assert letter.reason == "unexpected_OverflowError"
    assert "date value out of range" in letter.detail


def test_a_passing_retry_sends_no_letter() -> None:
    letters = Topic()
    tries = []

    async def work() -> str:
        tries.append(1)
        if len(tries) == 1:
            raise KeyError("flaky")
        return "cleaned"

    assert _run(work, letters) == "cleaned"
    assert letters.sent == []


def test_a_send_that_keeps_failing_halts_the_worker_before_it_commits(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(stage, "SEND_BACKOFF_SECONDS", 0.0)
    exits: list[int] = []

    def fake_exit(status: int) -> None:
        exits.append(status)
        raise SystemExit(status)

    monkeypatch.setattr(stage.os, "_exit", fake_exit)
    refusing = Topic(failures=stage.SEND_ATTEMPTS)
    with pytest.raises(SystemExit):
        asyncio.run(stage.deliver("clean", refusing, b"k", b"v", SETTINGS))
    assert exits == [stage.HALT_STATUS] and refusing.sent == []
    # Fewer failures than attempts: delivered, no halt.
    flaky = Topic(failures=stage.SEND_ATTEMPTS - 1)
    asyncio.run(stage.deliver("clean", flaky, b"k", b"v", SETTINGS))
    assert flaky.sent == [(b"k", b"v")]


def test_output_over_the_limit_is_the_inputs_fault() -> None:
    with pytest.raises(InvalidArticle) as refused:
        asyncio.run(stage.deliver("cluster", Topic(), b"k", b"v" * 1_000_001, SETTINGS))
    assert refused.value.reason == "output_too_large"


# --- batches --------------------------------------------------------------------------------


class BatchTopic:
    """A topic whose acknowledgements come only after the sender yields to the loop, and which
    refuses the first send of each value in `refuse`; it records every send in order and how
    many sends had been made when each acknowledgement came."""

    def __init__(self, refuse: tuple[bytes, ...] = ()) -> None:
        self.sent: list[bytes] = []
        self.sends_at_ack: list[int] = []
        self.refuse = set(refuse)

    def get_topic_name(self) -> str:
        return "stories"

    async def send(
        self, *, key: bytes | None, value: bytes, force: bool, partition: int | None = None
    ) -> Any:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()
        self.sent.append(value)
        refused = value in self.refuse
        self.refuse.discard(value)

        def acknowledge() -> None:
            self.sends_at_ack.append(len(self.sent))
            if refused:
                future.set_exception(RuntimeError("NotLeaderForPartitionError"))
            else:
                future.set_result(None)

        loop.call_soon(acknowledge)
        return future


def test_deliver_all_sends_every_message_before_waiting_for_any() -> None:
    topic = BatchTopic()
    batch = [stage.outgoing(topic, b"k", value, SETTINGS) for value in (b"1", b"2", b"3")]
    asyncio.run(stage.deliver_all("cluster", batch, SETTINGS))
    assert topic.sent == [b"1", b"2", b"3"]
    assert topic.sends_at_ack == [3, 3, 3]  # one request's worth, not one round trip each


def test_deliver_all_sends_again_in_order_from_the_first_refused_message(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(stage, "SEND_BACKOFF_SECONDS", 0.0)
    topic = BatchTopic(refuse=(b"v2",))
    batch = [stage.outgoing(topic, b"story-1", value, SETTINGS) for value in (b"v1", b"v2", b"v3")]
    before = metrics.SEND_FAILURES.labels(stage="cluster")._value.get()
    asyncio.run(stage.deliver_all("cluster", batch, SETTINGS))
    # v3 was delivered before v2 failed; sent again after v2, it stays the story's last word.
    assert topic.sent == [b"v1", b"v2", b"v3", b"v2", b"v3"]
    assert metrics.SEND_FAILURES.labels(stage="cluster")._value.get() == before + 1


def test_deliver_all_of_nothing_sends_nothing() -> None:
    topic = BatchTopic()
    asyncio.run(stage.deliver_all("clean", [], SETTINGS))
    assert topic.sent == []


def test_an_oversized_output_is_refused_when_collected_not_when_sent() -> None:
    with pytest.raises(InvalidArticle) as refused:
        stage.outgoing(BatchTopic(), b"k", b"v" * 1_000_001, SETTINGS)
    assert refused.value.reason == "output_too_large"


def test_as_current_makes_a_batch_event_the_one_tables_write_for() -> None:
    import faust
    from faust.streams import current_event

    app = faust.App("storywire-test-batches", broker="memory://", store="memory://")
    stream = app.stream(app.channel())
    fetched = object()  # what faust's take_events reads as the event it buffers
    stream.current_event = fetched  # type: ignore[assignment]  # a stand-in for an event

    @dataclass
    class Event:
        partition: int

    first, second = Event(0), Event(1)
    stage.as_current(first)
    assert current_event() is first
    stage.as_current(second)
    assert current_event() is second
    assert stream.current_event is fetched  # never moved under take_events' feet
