"""Fixes to faust-streaming applied when a worker starts, each naming the upstream issue it answers.

faust-streaming#596, "A race condition in recovery causes unrecoverable gaps in acked offsets
and consequently blocks committing" (open): after a restart or a rebalance,
`Recovery.on_recovery_completed` (faust/tables/recovery.py:624-665 in 0.15.3)

1. resumes the stream partitions while the consumer's flow is still running from the
   changelog replay, so the fetcher starts handing their waiting messages to the agents'
   queues at once;
2. awaits `perform_seek()`, a broker round trip that sets the consumer's read offsets back to
   the committed ones while the fetcher goes on delivering (faust/transport/consumer.py:565);
3. calls `flow_control.resume()`, which empties the agents' queues.

Messages delivered in (1)-(2) and still queued at (3) are dropped, and the fetcher, which went
on delivering the rest of its batch after (2), has moved the read offset past them
(consumer.py:1223), so their re-fetch is discarded as already read (consumer.py:1207). They are
never processed, never acked, and the group's commit stops below the first of them for good
(`Consumer._new_offset` commits only contiguous acks, consumer.py:1127): the copy waits until
the next restart re-reads it.

The fix keeps the stream partitions paused until the queues are empty and the position is
back at the committed offset: clear, seek, then resume. Nothing else changes.
"""

import asyncio
import logging
from typing import Any

import faust
from faust.tables.recovery import Recovery

log = logging.getLogger("storywire")

# The faust release these patches were written against and checked on: its recovery code is
# what they replace, so on any other release they are not applied (and a unit test fails).
FAUST_VERSION = "0.15.3"

_upstream_on_recovery_completed = Recovery.on_recovery_completed


async def _on_recovery_completed(self: Recovery, generation_id: int = 0) -> None:
    """`Recovery.on_recovery_completed` of faust 0.15.3 with the stream partitions resumed
    only after the queues were cleared and the partitions sought to their committed offsets
    (faust-streaming#596). Every other step is upstream's, in upstream's order."""
    app: Any = self.app  # faust.App: `_fetcher` and `flow_control` are not on AppT
    consumer = app.consumer
    self.log.info("Restore complete!")
    await app.on_rebalance_complete.send()
    self._set_recovery_ended()
    callbacks = [
        asyncio.ensure_future(
            table.on_recovery_completed(
                self.actives_for_table[table], self.standbys_for_table[table]
            )
        )
        for table in self.tables.values()
    ]
    if callbacks:
        await asyncio.wait(callbacks)
    assignment = consumer.assignment()
    if app.consumer_generation_id != generation_id:
        self.log.warning(
            f"Recovery rebalancing again app id {app.consumer_generation_id} "
            f"param {generation_id}"
        )
        return
    # The stream partitions are still paused here (since the assignment): empty the queues
    # before any of their messages can reach them, so nothing delivered is cleared after.
    app.flow_control.resume()
    if assignment:
        self.log.info("Seek stream partitions to committed offsets.")
        await self._wait(
            consumer.perform_seek(), timeout=app.conf.broker_request_timeout
        )
    stream_partitions = {tp for tp in assignment if not self._is_changelog_tp(tp)}
    consumer.resume_partitions(stream_partitions)
    log.info(
        "faust-streaming#596 patch: %d stream partitions resumed after the seek to their "
        "committed offsets",
        len(stream_partitions),
    )
    self.completed.set()
    consumer.resume_flow()
    await app._fetcher.maybe_start()
    self.tables.on_actives_ready()
    if not app.assignor.assigned_standbys():
        self.tables.on_standbys_ready()
    app.on_rebalance_end()
    self.log.info("Worker ready")


def applied() -> bool:
    return Recovery.on_recovery_completed is _on_recovery_completed  # type: ignore[comparison-overlap]


def apply() -> bool:
    """Patch faust for this process; return whether it was patched. Idempotent.

    On a faust release other than FAUST_VERSION it patches nothing and logs an error: the
    replaced method may have changed, and the restart gap may or may not be fixed there.
    """
    if faust.__version__ != FAUST_VERSION:
        log.error(
            "faust %s is installed, the patch for faust-streaming#596 (restart gap) was written "
            "for %s: not applied; check whether the new release fixes the issue and update "
            "services/faust_patches.py",
            faust.__version__,
            FAUST_VERSION,
        )
        return False
    Recovery.on_recovery_completed = _on_recovery_completed  # type: ignore[method-assign]
    log.info("faust patched: faust-streaming#596 (stream partitions resume after the seek)")
    return True
