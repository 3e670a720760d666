"""The faust-streaming#596 patch: what it replaces, when it refuses, and the order it restores."""

import asyncio
from collections.abc import Iterator
from typing import Any
from unittest import mock

import faust
import pytest
from faust.tables.recovery import Recovery
from faust.types import TP

from services import faust_patches

STREAM = TP("articles.enriched", 0)
CHANGELOG = TP("storywire-cluster-stories-changelog", 0)


@pytest.fixture
def unpatched() -> Iterator[None]:
    original = Recovery.on_recovery_completed
    Recovery.on_recovery_completed = faust_patches._upstream_on_recovery_completed  # type: ignore[method-assign]
    yield
    Recovery.on_recovery_completed = original  # type: ignore[method-assign]


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
