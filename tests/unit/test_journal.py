"""A batch's table writes land all or none: held per batch, journaled, replayed after a kill."""

import asyncio
import itertools
import json
from dataclasses import dataclass, field
from typing import Any

import pytest

from services import journal, stage
from services.journal import BatchWrites, Journal


@dataclass
class Message:
    partition: int


@dataclass
class Event:
    message: Message


HANDLED: list[Event] = []  # faust holds the events of a batch (as_current keeps a weakref)


def on(partition: int) -> None:
    """Handle an event of `partition` now (what the agent does for each event of a batch)."""
    HANDLED.append(Event(Message(partition)))
    stage.as_current(HANDLED[-1])


@dataclass
class Broker:
    """The changelog records sent, in order: (table, partition, key, value or None)."""

    log: list[tuple[str, int, str, Any]] = field(default_factory=list)
    refuse: set[str] = field(default_factory=set)  # tables whose writes the broker refuses


class Table:
    """A faust table as a journal uses it: a local store and changelog sends to a partition,
    each a future done once the broker has it."""

    def __init__(self, name: str, broker: Broker, data: dict[str, Any] | None = None) -> None:
        self.name = name
        self.broker = broker
        self.data: dict[str, Any] = dict(data or {})

    def __getitem__(self, key: str) -> Any:
        return self.data[key]

    def __contains__(self, key: object) -> bool:
        return key in self.data

    def __iter__(self) -> Any:
        return iter(self.data)

    def send_changelog(
        self, partition: int | None, key: Any, value: Any, key_serializer: Any = None,
        value_serializer: Any = None,
    ) -> asyncio.Future[None]:
        assert partition is not None
        sent: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        if self.name in self.broker.refuse:
            sent.set_exception(RuntimeError("broker refused the write"))
            return sent
        if value is not None and value_serializer != "raw":
            value = json.loads(json.dumps(value))  # what a recovered table reads back
        self.broker.log.append((self.name, partition, key, value))
        sent.set_result(None)
        return sent


NAMES = ("stories", "rosters", "placements")


class Worker:
    """A cluster worker's tables and journal, recovered from what reached the broker."""

    def __init__(self, broker: Broker, part_bytes: int = 10_000) -> None:
        self.broker = broker
        self.raw = {name: Table(name, broker) for name in (*NAMES, "journal")}
        self.held = {name: BatchWrites(name, self.raw[name]) for name in NAMES}
        self.journal = Journal("cluster", self.raw["journal"], list(self.held.values()),
                               part_bytes)

    @classmethod
    def recovered(cls, records: list[tuple[str, int, str, Any]], **kwargs: Any) -> "Worker":
        worker = cls(Broker(), **kwargs)
        for name, _partition, key, value in records:
            data = worker.raw[name].data
            if value is None:
                data.pop(key, None)
            else:  # faust decodes a recovered changelog value, the journal's JSON bytes too
                data[key] = json.loads(value) if name == "journal" else value
        return worker

    def state(self) -> dict[str, dict[str, Any]]:
        return {name: dict(self.raw[name].data) for name in NAMES}


def commit(worker: Worker) -> int:
    """End a batch as the agent does: commit, (send the output,) wait for the table writes."""
    async def end() -> int:
        written = await worker.journal.commit()
        await worker.journal.landed()
        return written
    return asyncio.run(end())


def first_batch(worker: Worker) -> None:
    on(0)
    worker.held["stories"]["s1"] = {"articles": 1}
    worker.held["rosters"]["s1#0"] = ["a"]
    worker.held["placements"]["a"] = ["s1"]
    on(1)
    worker.held["placements"]["old"] = ["s0"]
    worker.held["stories"]["s0"] = {"articles": 1}


def second_batch(worker: Worker) -> None:
    on(0)  # b joins s1
    worker.held["stories"]["s1"] = {"articles": 2}
    worker.held["rosters"]["s1#0"] = ["a", "b"]
    worker.held["placements"]["b"] = ["s1"]
    on(1)  # c starts s2; s0 closes
    worker.held["stories"]["s2"] = {"articles": 1}
    worker.held["rosters"]["s2#0"] = ["c"]
    worker.held["placements"]["c"] = ["s2"]
    del worker.held["stories"]["s0"]
    del worker.held["placements"]["old"]


def test_a_batchs_writes_reach_the_table_once_per_key_each_on_its_own_partition() -> None:
    worker = Worker(Broker())
    worker.raw["stories"].data.update({"old": {"articles": 1}, "closed": {"articles": 2}})
    held = worker.held["stories"]
    on(0)
    held["story"] = {"articles": 1}
    held["story"] = {"articles": 2}
    del held["closed"]
    held["brief"] = {"articles": 1}  # a story that closes in the same batch
    on(1)
    held["other"] = {"articles": 1}
    del held["brief"]
    # Whoever handles the batch reads its writes as if made.
    assert held["story"] == {"articles": 2} and "closed" not in held and "brief" not in held
    assert sorted(held) == ["old", "other", "story"] and len(held) == 3
    with pytest.raises(KeyError):
        del held["brief"]
    assert worker.broker.log == []  # nothing before the batch ends
    assert commit(worker) == 3
    assert worker.raw["stories"].data == {
        "old": {"articles": 1}, "story": {"articles": 2}, "other": {"articles": 1}
    }
    # The journal first, then one write per key, the last value, on the partition of the event
    # that made it; a key made and deleted in the batch never reaches the table.
    tables = [record for record in worker.broker.log if record[0] != "journal"]
    assert worker.broker.log[: -len(tables)] == [
        record for record in worker.broker.log if record[0] == "journal"
    ]
    assert sorted(tables) == [
        ("stories", 0, "closed", None), ("stories", 0, "story", {"articles": 2}),
        ("stories", 1, "other", {"articles": 1}),
    ]
    assert commit(worker) == 0  # nothing held: nothing sent
    on(1)
    held["story"] = {"articles": 3}  # the next batch starts from what was written
    commit(worker)
    assert worker.broker.log[-1] == ("stories", 1, "story", {"articles": 3})


def expected(before: dict[str, dict[str, Any]], after: dict[str, dict[str, Any]],
             partitions: set[int]) -> dict[str, dict[str, Any]]:
    """The tables with the second batch's writes of `partitions` only (keys of partition 0
    are s1 and its roster and b; the rest are partition 1's)."""
    def of(key: str) -> int:
        return 0 if key.startswith("s1") or key in ("a", "b") else 1
    return {
        name: {
            key: value
            for key in sorted(set(before[name]) | set(after[name]))
            if (value := (after if of(key) in partitions else before)[name].get(key)) is not None
        }
        for name in NAMES
    }


def test_a_killed_workers_tables_hold_all_of_each_partitions_batch_or_none_of_it() -> None:
    broker = Broker()
    worker = Worker(broker)
    first_batch(worker)
    commit(worker)
    landed_before = list(broker.log)
    before = Worker.recovered(landed_before).state()
    second_batch(worker)
    commit(worker)
    after = worker.state()
    sent = broker.log[len(landed_before):]
    journaled = [record for record in sent if record[0] == "journal"]
    table_writes = [record for record in sent if record[0] != "journal"]
    assert sent == journaled + table_writes and len(table_writes) == 8
    cases = 0
    # The journal is awaited before any table write is sent: a kill before it was confirmed
    # leaves any part of it, and no table write.
    for k in range(len(journaled) + 1):
        for landed in itertools.combinations(journaled, k):
            restarted = Worker.recovered(landed_before + list(landed))
            asyncio.run(restarted.journal.recover([0, 1]))
            complete = {
                partition for partition in (0, 1)
                if all(record in landed for record in journaled if record[1] == partition)
            }
            assert restarted.state() == expected(before, after, complete), landed
            cases += 1
    # Once the journal is confirmed, the table writes land in any order, any of them.
    for k in range(len(table_writes) + 1):
        for landed in itertools.combinations(table_writes, k):
            restarted = Worker.recovered(landed_before + journaled + list(landed))
            replayed = asyncio.run(restarted.journal.recover([1, 0]))
            assert restarted.state() == after and replayed == len(table_writes) - k
            cases += 1
    assert cases == 2 ** len(journaled) + 2 ** len(table_writes)


def test_a_batch_too_big_for_one_message_is_journaled_in_parts_and_replayed_whole() -> None:
    broker = Broker()
    worker = Worker(broker, part_bytes=40)  # one write a part
    on(0)
    for n in range(5):
        worker.held["placements"][f"a{n}"] = ["s1"]
    commit(worker)
    assert sorted(worker.raw["journal"].data) == ["0", "0#0", "0#1", "0#2", "0#3", "0#4"]
    landed_before = len(broker.log)
    on(0)
    worker.held["stories"]["s1"] = {"articles": 5}
    worker.held["rosters"]["s1#0"] = ["a0", "a1", "a2", "a3", "a4"]
    commit(worker)
    # The shorter batch's parts replace the first ones; the first batch's other parts go.
    assert sorted(worker.raw["journal"].data) == ["0", "0#0", "0#1"]
    assert json.loads(worker.raw["journal"].data["0"])["parts"] == 2
    # Killed with the journal confirmed and no table write landed: replayed whole.
    journaled = [record for record in broker.log[landed_before:] if record[0] == "journal"]
    restarted = Worker.recovered(broker.log[:landed_before] + journaled, part_bytes=40)
    assert asyncio.run(restarted.journal.recover([0])) == 2
    assert restarted.state() == worker.state()


def test_a_partitions_journal_is_replayed_once_each_time_the_worker_gets_it() -> None:
    broker = Broker()
    worker = Worker(broker)
    first_batch(worker)
    commit(worker)
    journaled = [record for record in broker.log if record[0] == "journal"]
    restarted = Worker.recovered(journaled)  # no table write landed
    assert asyncio.run(restarted.journal.recover([0])) == 3
    assert asyncio.run(restarted.journal.recover([0, 1])) == 2  # 0 is done already
    restarted.raw["stories"].data.clear()  # as if another worker had had the partition
    assert asyncio.run(restarted.journal.recover([0, 1])) == 0  # until it is got again
    restarted.journal.forget()
    assert asyncio.run(restarted.journal.recover([0, 1])) == 2
    assert restarted.state() == worker.state()
    worker.journal.forget()  # the worker that wrote the journal holds it as written
    assert asyncio.run(worker.journal.recover([0, 1])) == 0


def test_a_journal_the_broker_refuses_halts_the_worker_before_any_table_is_written(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    class Halted(Exception):
        pass

    def halt(stage: str, why: str) -> None:
        raise Halted(why)

    monkeypatch.setattr(journal, "halt", halt)
    broker = Broker(refuse={"journal"})
    worker = Worker(broker)
    first_batch(worker)
    with pytest.raises(Halted, match="journal write was not confirmed"):
        commit(worker)
    assert broker.log == [] and worker.state() == {name: {} for name in NAMES}


def test_a_message_that_fails_part_way_leaves_none_of_its_writes() -> None:
    worker = Worker(Broker())
    worker.raw["placements"].data["a"] = ["s0"]
    on(0)
    worker.held["stories"]["s1"] = {"articles": 1}  # the message before: kept
    mark = worker.journal.mark()
    assert not worker.journal.undo(mark)  # nothing written since: nothing undone
    worker.held["stories"]["s1"] = {"articles": 2}  # the failing message's writes
    worker.held["placements"]["b"] = ["s1"]
    del worker.held["placements"]["a"]
    assert worker.journal.undo(mark)
    assert worker.held["stories"]["s1"] == {"articles": 1}
    assert sorted(worker.held["placements"]) == ["a"]
    assert commit(worker) == 1
    assert worker.state() == {
        "stories": {"s1": {"articles": 1}}, "rosters": {}, "placements": {"a": ["s0"]}
    }
