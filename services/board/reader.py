"""Feeding the board from Kafka: both compacted topics from the beginning, then live.

A consumer in no group that commits nothing (aiokafka, in the web server's event loop): every
start reads `stories` and `stories.members` from their first offsets, so a restarted board
rebuilds the same state, then follows them. `ready` is set once it has read up to the ends
the topics had when it started.
"""

import asyncio
import gc
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from aiokafka import AIOKafkaConsumer
from pydantic import ValidationError

from schemas.stories import StoryEventV2, StoryMemberV1
from schemas.topics import Topic
from services.board.core import Board
from services.kafka import client_config
from services.settings import Settings

log = logging.getLogger("storywire.board")

# Called with the ids of the stories a batch changed (their event, or their article list).
OnChange = Callable[[set[str]], None]
Record = TypeVar("Record", StoryEventV2, StoryMemberV1)


@dataclass
class ReaderStatus:
    ready: asyncio.Event = field(default_factory=asyncio.Event)
    stories_read: int = 0
    members_read: int = 0
    unreadable: int = 0  # records on the topics that are no V2 story event / member


def _parse(model: type[Record], value: bytes, status: ReaderStatus) -> Record | None:
    """The record as `model`, or None (counted, and logged the first time) when it is not one:
    an event of an older contract version from an older cluster stage, or foreign bytes."""
    try:
        return model.model_validate_json(value)
    except (ValidationError, ValueError, RecursionError):
        if status.unreadable == 0:
            log.warning("board: a record that is no %s skipped", model.__name__)
        status.unreadable += 1
        return None


def apply_record(
    board: Board, status: ReaderStatus, is_story: bool, key: bytes | None, value: bytes | None
) -> str | None:
    """One record from either topic into the board; the id of the story it changed, if any.
    A tombstone (no value) removes the story, or the article from its story."""
    if is_story:
        status.stories_read += 1
    else:
        status.members_read += 1
    if value is None:
        if not key:
            return None
        record_id = key.decode(errors="replace")
        if is_story:
            board.remove_story(record_id)
            return record_id
        return board.remove_member(record_id)
    if is_story:
        story = _parse(StoryEventV2, value, status)
        return story.story_id if story is not None and board.apply_story(story) else None
    member = _parse(StoryMemberV1, value, status)
    return board.apply_member(member) if member is not None else None


async def follow(
    settings: Settings, board: Board, status: ReaderStatus, on_change: OnChange,
    on_ready: Callable[[], None] = lambda: None,
) -> None:
    """Read both topics from the beginning into `board`, then follow them until cancelled.

    `on_change` gets the stories each batch changed once the board has caught up; `on_ready`
    is called when it has (pages opened before then reload what they show)."""
    stories_topic = settings.topic(Topic.STORIES)
    members_topic = settings.topic(Topic.MEMBERS)
    # No group: nothing committed, so each start reads both topics from their first offsets
    # (auto_offset_reset), and the consumer takes every partition of them itself.
    consumer = AIOKafkaConsumer(
        **client_config(settings),
        client_id="storywire-board",
        group_id=None,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
    )
    try:
        await consumer.start()
    except BaseException:
        await consumer.stop()  # closes what start() opened before it failed
        raise
    try:
        # Subscribed only once both exist: aiokafka logs an error every 100 ms for a
        # subscribed topic the broker does not have.
        waited = 0
        while not {stories_topic, members_topic} <= await consumer.topics():
            if waited % 15 == 0:
                log.warning("board: waiting for topics %s and %s", stories_topic, members_topic)
            waited += 1
            await asyncio.sleep(2.0)
        consumer.subscribe([stories_topic, members_topic])
        while {tp.topic for tp in consumer.assignment()} != {stories_topic, members_topic}:
            await asyncio.sleep(0.1)
        ends = await consumer.end_offsets(list(consumer.assignment()))
        behind = {tp for tp, end in ends.items() if end > 0}
        if not behind:
            status.ready.set()
            on_ready()
        while True:
            batches = await consumer.getmany(timeout_ms=500, max_records=2000)
            changed: set[str] = set()
            for tp, records in batches.items():
                for record in records:
                    story_id = apply_record(
                        board, status, tp.topic == stories_topic, record.key, record.value
                    )
                    if story_id is not None:
                        changed.add(story_id)
                    if tp in behind and record.offset + 1 >= ends[tp]:
                        behind.discard(tp)
            if behind:
                for tp in list(behind):
                    if await consumer.position(tp) >= ends[tp]:
                        behind.discard(tp)
            if not behind and not status.ready.is_set():
                status.ready.set()
                on_ready()
                log.info("board: caught up with %d stories", len(board.stories))
                # What the replay built stays: out of the collector's generations.
                gc.collect()
                gc.freeze()
            if changed and status.ready.is_set():
                on_change(changed)
    finally:
        await consumer.stop()
