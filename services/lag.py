"""Consumer lag of a stage, per input partition, as `storywire_consumer_lag_messages`.

Lag is what a stage still has to read: the end of each input partition (its highwater, the
offset the next message will get) minus the group's committed offset there. Only the stage's
input topics count, not the changelog topics faust reads to rebuild its tables, so the gauge
says how far the stage's work is behind its input and nothing else.
"""

import logging
from collections.abc import Mapping

import faust
from aiokafka.errors import ConsumerStoppedError, KafkaError
from faust.exceptions import ConsumerNotStarted
from faust.transport.consumer import Consumer
from faust.types import TP

from services import metrics

log = logging.getLogger("storywire")


def partition_lag(highwater: int, committed: int | None, earliest: int) -> int:
    """Messages between the group's position in a partition and its end.

    `committed` is None when the group has no commit there yet (faust also reports a commit
    at offset 0 as None): the stage then starts at the partition's first retained offset
    (the app resets to earliest), so everything from there on is still to be read.
    """
    position = committed if committed is not None else earliest
    return max(highwater - position, 0)


def input_topics(app: faust.App) -> set[str]:
    # The topics the stage's agents subscribe to; changelog topics are not among them, and
    # are excluded again in case an agent ever reads a table's changelog directly.
    topics = {name for agent in app.agents.values() for name in agent.get_topic_names()}
    return topics - app.tables.changelog_topics


def register_lag_timer(app: faust.App, stage: str, interval_s: float = 5.0) -> None:
    """Set the lag gauge for every input partition assigned to this worker every `interval_s`.

    Each worker reports the partitions it holds and removes the series of partitions a
    rebalance took away, so summed over workers each partition is counted once (for one
    interval after a rebalance both its old and its new holder may report it).
    """
    # Label sets this worker has set, so it can remove the ones it no longer holds.
    reported: set[tuple[str, str]] = set()

    @app.timer(interval_s, name=f"{stage}-consumer-lag")
    async def report_consumer_lag() -> None:
        consumer = app.consumer
        # faust keeps the offsets it last committed on its Consumer, with no public accessor;
        # every faust transport's consumer derives from this class.
        assert isinstance(consumer, Consumer), type(consumer)
        inputs = input_topics(app)
        try:
            partitions = [tp for tp in consumer.assignment() if tp.topic in inputs]
            if partitions:
                highwaters: Mapping[TP, int] = await consumer.highwaters(*partitions)
                earliest: Mapping[TP, int] = await consumer.earliest_offsets(*partitions)
            else:
                highwaters = earliest = {}
        except (ConsumerNotStarted, ConsumerStoppedError):
            return  # the worker is starting or stopping: nothing to measure
        except KafkaError as exc:
            # A metadata or leadership change while the offsets were asked for (a rebalance,
            # a broker restart): the gauge keeps its last values and the next tick asks again.
            # Nothing is processed here, so nothing is lost by waiting.
            log.info("consumer lag not measured this time: stage=%s error=%r", stage, exc)
            return
        current: set[tuple[str, str]] = set()
        for tp in partitions:
            if tp not in highwaters:
                continue
            labels = (tp.topic, str(tp.partition))
            current.add(labels)
            lag = partition_lag(
                highwaters[tp], consumer._committed_offset.get(tp), earliest.get(tp, 0)
            )
            metrics.CONSUMER_LAG.labels(stage, *labels).set(lag)
        for topic, partition in reported - current:
            metrics.CONSUMER_LAG.remove(stage, topic, partition)
        reported.clear()
        reported.update(current)
