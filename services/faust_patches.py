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

The same issue, second way in (found with the restart-gap test once the first was closed):
faust's fetcher hands aiokafka its *live* set of active partitions
(`AIOKafkaConsumerThread._fetch_records`, faust/transport/drivers/aiokafka.py:1088, running
in the consumer's thread), and aiokafka's `Fetcher.fetched_records` re-reads it each time its
wait for records wakes, taking an empty set to mean every partition
(aiokafka/consumer/fetcher.py:1221). At the end of a recovery the changelog partitions are
paused (the set empties) while the stream partitions are still paused: a fetch that was
waiting then returns the stream partitions' records, from the committed offset the recovery
has just sought to, and aiokafka's position moves past them; faust's `getmany` drops them as
not active (faust/transport/consumer.py:758). Nothing was delivered, the read offset stays at
the commit, and the fetcher goes on from the end: the partition's commit stops there with
nothing in flight. The fix gives aiokafka a copy of the set taken when the fetch starts, and
fetches nothing when it is empty (as faust's own `_wait_next_records` intends).
"""

import asyncio
import logging
from typing import Any

import faust
from aiokafka import AIOKafkaConsumer
from faust.tables.recovery import Recovery
from faust.transport.consumer import RecordMap
from faust.transport.drivers.aiokafka import AIOKafkaConsumerThread
from faust.types import TP

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


_upstream_fetch_records = AIOKafkaConsumerThread._fetch_records


async def _fetch_records(
    self: AIOKafkaConsumerThread,
    consumer: AIOKafkaConsumer,
    active_partitions: set[TP] | None,
    timeout: float | None = None,
    max_records: int | None = None,
) -> RecordMap:
    """`AIOKafkaConsumerThread._fetch_records` of faust 0.15.3, handing aiokafka a copy of the
    active partitions as they are now: the live set may be emptied while aiokafka waits for
    records, and aiokafka reads an empty set as "all partitions" (faust-streaming#596)."""
    if active_partitions is not None:
        active_partitions = set(active_partitions)  # copied in one step under the GIL
        if not active_partitions:
            return {}
    return await _upstream_fetch_records(
        self, consumer, active_partitions,  # type: ignore[arg-type]
        timeout=timeout, max_records=max_records,
    )


def applied() -> bool:
    return (
        Recovery.on_recovery_completed is _on_recovery_completed  # type: ignore[comparison-overlap]
        and AIOKafkaConsumerThread._fetch_records is _fetch_records  # type: ignore[comparison-overlap]
    )


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
    AIOKafkaConsumerThread._fetch_records = _fetch_records  # type: ignore[method-assign,assignment]
    log.info(
        "faust patched: faust-streaming#596 (stream partitions resume after the seek; "
        "fetches ask aiokafka for a copy of the active partitions)"
    )
    return True
