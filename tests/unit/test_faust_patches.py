"""The faust-streaming#596 patch: what it replaces, when it refuses, and the order it restores."""

import asyncio
from collections.abc import Iterator
from typing import Any
from unittest import mock

import faust
import pytest
from faust.tables.recovery import Recovery
from faust.transport.drivers.aiokafka import AIOKafkaConsumerThread
from faust.types import TP

from services import faust_patches

STREAM = TP("articles.enriched", 0)
CHANGELOG = TP("storywire-cluster-stories-changelog", 0)


@pytest.fixture
def unpatched() -> Iterator[None]:
    original = Recovery.on_recovery_completed
    original_fetch = AIOKafkaConsumerThread._fetch_records
    Recovery.on_recovery_completed = faust_patches._upstream_on_recovery_completed  # type: ignore[method-assign]
    AIOKafkaConsumerThread._fetch_records = faust_patches._upstream_fetch_records  # type: ignore[method-assign]
    yield
    Recovery.on_recovery_completed = original  # type: ignore[method-assign]
    AIOKafkaConsumerThread._fetch_records = original_fetch  # type: ignore[method-assign]


def test_the_installed_faust_is_the_release_the_patch_was_written_for() -> None:
    # On a faust upgrade this fails on purpose: read faust-streaming#596 and the new
    # Recovery.on_recovery_completed, then update or drop services/faust_patches.py.
    assert faust.__version__ == faust_patches.FAUST_VERSION


def test_apply_replaces_the_recovery_end_and_is_idempotent(unpatched: None) -> None:
    assert not faust_patches.applied()
    assert faust_patches.apply()
    assert faust_patches.apply()
    assert faust_patches.applied()


def test_apply_refuses_another_faust_release(
    unpatched: None, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(faust, "__version__", "0.16.0")
    assert not faust_patches.apply()
    assert not faust_patches.applied()
    assert "faust-streaming#596" in caplog.text


def _recovery(calls: list[str]) -> Any:
    """A Recovery at the end of a restore: stand-ins record the order of the steps."""

    async def perform_seek() -> None:
        calls.append("seek")

    async def wait(coro: Any, timeout: float | None = None) -> None:
        await coro

    async def nothing(*_: object, **__: object) -> None:
        return None

    consumer = mock.Mock()
    consumer.assignment.return_value = {STREAM, CHANGELOG}
    consumer.perform_seek = perform_seek
    consumer.resume_partitions.side_effect = lambda tps: calls.append(f"resume {sorted(tps)}")
    consumer.resume_flow.side_effect = lambda: calls.append("flow")
    app = mock.Mock(consumer=consumer, consumer_generation_id=7)
    app.on_rebalance_complete.send = nothing
    app._fetcher.maybe_start = nothing
    app.flow_control.resume.side_effect = lambda: calls.append("clear queues")
    app.assignor.assigned_standbys.return_value = set()
    recovery = mock.Mock(app=app)
    recovery.tables.values.return_value = []
    recovery._wait = wait
    recovery._is_changelog_tp = lambda tp: tp == CHANGELOG
    return recovery


def test_stream_partitions_resume_only_after_the_queues_are_cleared_and_the_seek() -> None:
    calls: list[str] = []
    asyncio.run(faust_patches._on_recovery_completed(_recovery(calls), generation_id=7))
    # Upstream resumes first, then seeks and clears: what the fetcher delivered in between
    # is cleared after the read offsets moved past it.
    assert calls == ["clear queues", "seek", f"resume {[STREAM]}", "flow"]


def test_a_newer_rebalance_leaves_the_partitions_paused() -> None:
    calls: list[str] = []
    asyncio.run(faust_patches._on_recovery_completed(_recovery(calls), generation_id=6))
    assert calls == []


def _aiokafka(buffered: dict[TP, list[int]], empty_live_set_first: bool) -> tuple[Any, Any]:
    """A consumer thread and an aiokafka consumer whose `fetched_records` behaves as
    aiokafka 0.14's: it reads `partitions` when its wait wakes, and empty means all."""

    async def fetched_records(
        partitions: set[TP], timeout: float = 0, max_records: int | None = None
    ) -> dict[TP, list[int]]:
        if empty_live_set_first:
            # While aiokafka waited, the recovery paused the last active (changelog) partition.
            partitions_live.clear()
        return {tp: r for tp, r in buffered.items() if not partitions or tp in partitions}

    partitions_live: set[TP] = set()
    consumer = mock.MagicMock(_closed=False)
    consumer._fetcher._closed = False
    consumer._fetcher.fetched_records = fetched_records
    thread = mock.Mock()
    thread.consumer.flow_active = True
    return thread, (consumer, partitions_live)


def test_a_fetch_returns_only_partitions_active_when_it_started() -> None:
    buffered = {CHANGELOG: [1], STREAM: [40, 41, 42]}
    thread, (consumer, live) = _aiokafka(buffered, empty_live_set_first=True)
    live.add(CHANGELOG)
    # Upstream: the live set emptied while aiokafka waited, and the paused stream partition's
    # records come back (aiokafka's position moves past them, faust then drops them).
    upstream = asyncio.run(faust_patches._upstream_fetch_records(thread, consumer, live, 1.0))
    assert STREAM in upstream
    live.add(CHANGELOG)
    patched = asyncio.run(faust_patches._fetch_records(thread, consumer, live, 1.0))
    assert patched == {CHANGELOG: [1]}


def test_a_fetch_with_no_active_partition_fetches_nothing() -> None:
    thread, (consumer, _) = _aiokafka({STREAM: [40]}, empty_live_set_first=False)
    assert asyncio.run(faust_patches._fetch_records(thread, consumer, set(), 1.0)) == {}
    # A client-only app (None) still asks for every partition, as upstream.
    assert asyncio.run(faust_patches._fetch_records(thread, consumer, None, 1.0)) == {
        STREAM: [40]
    }
