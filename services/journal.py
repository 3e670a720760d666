"""Tables written a batch at a time: all of a batch's writes land, or none of them.

A faust table sends each write to its changelog on its own. A worker killed while a batch's
writes are on their way leaves the changelogs holding some of them (a story counted with an
article its member list or the article's placement does not have), and the restarted worker,
handling the batch again from that state, places its copy twice or fails on it. So a stage's
tables are written through a journal (a write-ahead log of one batch per partition):

1. `BatchWrites`: the writes of a batch are held; reads see them; each key is written once at
   the end, its last value, on the partition of the event that made it.
2. `Journal.commit`: per partition, the batch's writes go into the journal table (in parts of
   bounded size, then a record naming the batch and how many parts it has), and the worker
   waits until the broker has them; only then are they written to the tables.
   `Journal.landed` waits until the broker has the table writes too, before the batch's input
   is acked (and before the next batch's journal replaces this one).
3. `Journal.recover`: before a worker handles the first event of a partition it (re)gets, it
   replays that partition's journal: every key the tables do not hold as the last batch left
   it is written again. A journal whose record or parts did not all land is of a batch whose
   table writes had not started (the tables hold none of it), and is left alone.
"""

import asyncio
import json
import os
import uuid
from collections.abc import Awaitable, Iterable, Iterator, MutableMapping, Sequence
from typing import Any, Protocol

from faust.streams import current_event

from services.stage import halt

# How long a changelog or journal write may take to be confirmed before the worker halts (the
# producer retries within it; the batch is not acked, so the restarted worker does it again).
LANDING_SECONDS = 120.0

# The most bytes of writes one journal message carries: a batch's writes go in as many parts
# as they need, so no journal message is bigger than the tables' own largest values (a story,
# a roster chunk: a few KiB) by more than this.
PART_BYTES = 48 * 1024

# Fault injection for the fault suite (tests/integration/faults), which cannot time a SIGKILL
# into the few milliseconds between a batch's first and last table write: a worker started with
# STORYWIRE_FAULT_STOP_IN_COMMIT=N stops dead (os._exit, no clean shutdown, as a SIGKILL would)
# in its N-th batch with writes, once the journal is confirmed and the first half of the table
# writes have reached the broker. Unset, as everywhere outside that suite, it does nothing.
FAULT_ENV = "STORYWIRE_FAULT_STOP_IN_COMMIT"
FAULT_STATUS = 86


class Changelogged(Protocol):
    """What a journal needs of a faust table: its local store, and a changelog write to a
    given partition whose future is done once the broker has it."""

    @property
    def data(self) -> MutableMapping[Any, Any]: ...

    def send_changelog(
        self, partition: int | None, key: Any, value: Any, key_serializer: Any = None,
        value_serializer: Any = None,
    ) -> Awaitable[Any]: ...


_GONE = object()  # a key deleted in the batch


def _write(
    table: Changelogged, partition: int, key: str, value: Any, value_serializer: Any = None
) -> Awaitable[Any]:
    """Write `value` (`_GONE`: delete the key) to `table`'s store and to its changelog's
    `partition`, as a faust table's own write does, but to a given partition and with the
    future of the changelog record returned."""
    store = table.data
    if value is _GONE:
        if key in store:
            del store[key]
        return table.send_changelog(partition, key, None, value_serializer="raw")
    store[key] = value
    return table.send_changelog(partition, key, value, value_serializer=value_serializer)


def _event_partition() -> int:
    event = current_event()
    if event is None:
        raise RuntimeError("a table is written only while an event is handled")
    return int(event.message.partition)


class BatchWrites(MutableMapping[str, Any]):
    """A table whose writes in a batch are held here until the batch's `Journal.commit`.

    A key written ten times in a batch (a story ten of its articles joined) puts one value on
    the changelog instead of ten, the last. Reads see the held writes, so whoever handles the
    batch sees the table as if each write had gone through. Each write remembers the partition
    of the event being handled when it was made: its changelog record goes there, as a faust
    table's would.
    """

    def __init__(self, name: str, table: Any) -> None:
        self.name = name
        self.table = table
        self._held: dict[str, tuple[Any, int]] = {}  # key -> (value or _GONE, partition)

    def __getitem__(self, key: str) -> Any:
        held = self._held.get(key)
        if held is None:
            return self.table[key]
        if held[0] is _GONE:
            raise KeyError(key)
        return held[0]

    def __setitem__(self, key: str, value: Any) -> None:
        self._held[key] = (value, _event_partition())

    def __delitem__(self, key: str) -> None:
        if key not in self:
            raise KeyError(key)
        self._held[key] = (_GONE, _event_partition())

    def __contains__(self, key: object) -> bool:
        held = self._held.get(key) if isinstance(key, str) else None
        return key in self.table if held is None else held[0] is not _GONE

    def __iter__(self) -> Iterator[str]:
        for key in self.table:
            if key not in self._held:
                yield key
        for key, (value, _partition) in self._held.items():
            if value is not _GONE:
                yield key

    def __len__(self) -> int:
        return sum(1 for _ in self)

    def mark(self) -> dict[str, tuple[Any, int]]:
        """The held writes as they stand, for `undo`."""
        return dict(self._held)

    def undo(self, mark: dict[str, tuple[Any, int]]) -> bool:
        """Drop the writes held since `mark`; returns whether there were any."""
        changed = self._held != mark
        self._held = dict(mark)
        return changed

    def take(self) -> dict[str, tuple[Any, int]]:
        """The held writes (key -> value, or the deleted marker, and partition), no longer held."""
        held, self._held = self._held, {}
        return held

    def write(self, partition: int, key: str, value: Any) -> Awaitable[Any]:
        """Write `value` (the deleted marker: delete the key) to the table and to its changelog's
        `partition`."""
        return _write(self.table, partition, key, value)


class Journal:
    """The write-ahead journal of a stage's `BatchWrites` tables (see the module's text).

    `journal` is a table of raw bytes under str keys: per partition p, "p" holds the last
    batch's record ({"batch": id, "parts": n}) and "p#i" its i-th part ({"batch": id,
    "writes": [[table, key, value] or [table, key] for a delete, ...]}).
    """

    def __init__(
        self, stage: str, journal: Changelogged, tables: Sequence[BatchWrites], part_bytes: int
    ) -> None:
        self.stage = stage
        self.journal = journal
        self.tables = {table.name: table for table in tables}
        self.part_bytes = part_bytes
        self._recovered: set[int] = set()
        self._unlanded: list[Awaitable[Any]] = []
        self._stop_in = int(os.environ.get(FAULT_ENV) or 0)

    def mark(self) -> dict[str, dict[str, tuple[Any, int]]]:
        """Where the batch's held writes stand now, for `undo`."""
        return {name: table.mark() for name, table in self.tables.items()}

    def undo(self, mark: dict[str, dict[str, tuple[Any, int]]]) -> bool:
        """Drop every write held since `mark` (a message that failed part way leaves none of
        its writes behind); returns whether there were any."""
        undone = [table.undo(mark[name]) for name, table in self.tables.items()]
        return any(undone)

    def forget(self) -> None:
        """The worker's partitions changed: replay each partition's journal again before its
        first event is handled."""
        self._recovered.clear()

    async def recover(self, partitions: Iterable[int]) -> int:
        """Replay the journal of each of `partitions` not replayed since the worker got it;
        returns how many table writes were made again (0 when the tables held them all)."""
        replayed = 0
        for partition in sorted(set(partitions) - self._recovered):
            for name, key, value in self._last_batch(partition):
                table = self.tables.get(name)
                if table is None:
                    continue  # a table this release no longer keeps
                store = table.table.data
                if value is _GONE:
                    if key not in store:
                        continue
                elif store.get(key, _GONE) == value:
                    continue
                self._unlanded.append(table.write(partition, key, value))
                replayed += 1
            self._recovered.add(partition)
        await self.landed()
        return replayed

    def _last_batch(self, partition: int) -> list[tuple[str, str, Any]]:
        """The writes of the partition's last journaled batch, or none if its record or one
        of its parts is missing or of another batch."""
        record = self._read(str(partition))
        if record is None:
            return []
        writes: list[tuple[str, str, Any]] = []
        for index in range(record["parts"]):
            part = self._read(f"{partition}#{index}")
            if part is None or part["batch"] != record["batch"]:
                return []
            for write in part["writes"]:
                writes.append((write[0], write[1], write[2] if len(write) == 3 else _GONE))
        return writes

    def _read(self, key: str) -> Any:
        value = self.journal.data.get(key)
        # Written as JSON bytes; a table recovered from its changelog holds them decoded.
        return json.loads(value) if isinstance(value, bytes | str) else value

    async def commit(self) -> int:
        """Journal the batch's held writes and wait until the broker has the journal, then
        write them to the tables. Returns how many table writes were made."""
        by_partition: dict[int, list[bytes]] = {}
        writes: list[tuple[BatchWrites, int, str, Any]] = []
        for table in self.tables.values():
            for key, (value, partition) in table.take().items():
                if value is _GONE and key not in table.table.data:
                    continue  # made and deleted in the batch: never written
                item = [table.name, key] if value is _GONE else [table.name, key, value]
                by_partition.setdefault(partition, []).append(
                    json.dumps(item, separators=(",", ":")).encode()
                )
                writes.append((table, partition, key, value))
        if not writes:
            return 0
        batch = uuid.uuid4().hex
        sent = [
            send
            for partition, items in by_partition.items()
            for send in self._journal(partition, batch, items)
        ]
        await self._await(sent, "journal")
        if self._stop_in:
            self._stop_in -= 1
            if not self._stop_in:
                half = writes[: len(writes) // 2]
                await self._await([table.write(p, k, v) for table, p, k, v in half], "table")
                os._exit(FAULT_STATUS)
        self._unlanded += [table.write(p, key, value) for table, p, key, value in writes]
        return len(writes)

    def _journal(self, partition: int, batch: str, items: list[bytes]) -> list[Awaitable[Any]]:
        head = b'{"batch":"' + batch.encode() + b'","writes":['
        parts: list[list[bytes]] = [[]]
        size = 0
        for item in items:
            if parts[-1] and size + len(item) + 1 > self.part_bytes:
                parts.append([])
                size = 0
            parts[-1].append(item)
            size += len(item) + 1
        previous = self._read(str(partition))
        sends = [
            self._put(partition, f"{partition}#{index}", head + b",".join(part) + b"]}")
            for index, part in enumerate(parts)
        ]
        for index in range(len(parts), previous["parts"] if previous else 0):
            stale = f"{partition}#{index}"
            if stale in self.journal.data:  # a longer batch's part: dropped, not left behind
                sends.append(_write(self.journal, partition, stale, _GONE))
        record = json.dumps({"batch": batch, "parts": len(parts)}).encode()
        sends.append(self._put(partition, str(partition), record))
        return sends

    def _put(self, partition: int, key: str, value: bytes) -> Awaitable[Any]:
        return _write(self.journal, partition, key, value, value_serializer="raw")

    async def landed(self) -> None:
        """Wait until the broker has the table writes made so far."""
        unlanded, self._unlanded = self._unlanded, []
        await self._await(unlanded, "table")

    async def _await(self, sends: list[Awaitable[Any]], what: str) -> None:
        if not sends:
            return
        try:
            await asyncio.wait_for(asyncio.gather(*sends), LANDING_SECONDS)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - the batch is not acked: done again on restart
            halt(self.stage, f"a {what} write was not confirmed: {type(exc).__name__}: {exc}")
