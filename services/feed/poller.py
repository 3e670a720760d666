"""`storywire feed`: poll RSS/Atom feeds, fetch each new entry's page, send it to `articles.raw`.

Each feed has its own loop and interval. One round of a feed: conditional GET (a 304 ends the
round), parse, keep the entries not yet settled (`FeedState`), fetch their pages politely
(`PoliteClient`), send each page's HTML as a `RawArticleV1` keyed by its outlet (acks=all),
and remember an entry only once the broker has acknowledged it.

Nothing a feed or a site does stops the poller: a broken feed, an unreachable host, a slow,
oversized or non-HTML page is logged and counted (`storywire_feed_polls_total{outcome}`,
`storywire_feed_pages_failed_total{reason}`), and the round goes on. A failure that may pass
(a timeout, a 5xx, the broker away) leaves the entry unsettled, so the next round tries it
again; one that will not (a 404, a page over the size limit) settles it as refused, with its
reason in the state file.
"""

import asyncio
import logging
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Protocol

import aiohttp
from pydantic import ValidationError

from schemas.articles import RawArticleV1
from schemas.topics import Topic
from services import metrics
from services.feed.core import (
    BrokenFeed,
    FeedEntry,
    FeedSpec,
    new_entries,
    outlet_name,
    parse_feed,
    raw_article,
)
from services.feed.fetch import FetchFailed, PoliteClient, Politeness
from services.feed.state import FeedState
from services.ingest.producer import make_producer
from services.kafka import create_topics
from services.settings import Settings
from services.text_safety import printable

log = logging.getLogger("storywire.feed")

STAGE = "feed"  # its label on the shared send-failure metric
SEND_TIMEOUT_SECONDS = 30.0
RECORD_OVERHEAD_BYTES = 1_000  # a record batch's framing, generously


class Sender(Protocol):
    async def send(self, article: RawArticleV1) -> None:
        """Return once the broker has acknowledged the article; raise if it did not."""


class TooLarge(Exception):
    pass


class KafkaSender:
    """The ingest producer (kafka-python, acks=all, idempotent), keyed by source."""

    def __init__(self, settings: Settings) -> None:
        create_topics(settings)  # the broker does not create topics on first use
        self.settings = settings
        self.topic = settings.topic(Topic.RAW)
        self.producer = make_producer(settings)

    async def send(self, article: RawArticleV1) -> None:
        value = article.model_dump_json().encode()
        key = article.source.encode()
        # The producer counts the key and the record's framing against the limit too: a message
        # it refuses for its size would be fetched and refused again every round.
        if len(value) + len(key) + RECORD_OVERHEAD_BYTES > self.settings.max_message_bytes:
            raise TooLarge(f"{len(value):,} bytes as a message; the limit is "
                           f"{self.settings.max_message_bytes:,} (STORYWIRE_MAX_MESSAGE_BYTES)")
        future = self.producer.send(self.topic, key=key, value=value)
        # kafka-python's future blocks: wait for the ack off the event loop.
        await asyncio.to_thread(future.get, SEND_TIMEOUT_SECONDS)

    def close(self) -> None:
        self.producer.close(timeout=10)


@dataclass
class RoundReport:
    """One round of one feed: how the feed answered and what became of its new entries."""

    feed: str
    outcome: str  # fetched, not_modified, or why the feed could not be read
    sent: list[str] = field(default_factory=list)  # article ids the broker acknowledged
    refused: list[tuple[str, str]] = field(default_factory=list)  # (entry id, reason): for good
    deferred: list[tuple[str, str]] = field(default_factory=list)  # (entry id, reason): retried


class FeedPoller:
    def __init__(
        self,
        feeds: list[FeedSpec],
        client: PoliteClient,
        state: FeedState,
        sender: Sender,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        forget_after: timedelta = timedelta(days=30),
    ) -> None:
        self.feeds = feeds
        self.client = client
        self.state = state
        self.sender = sender
        self.clock = clock
        self.forget_after = forget_after

    async def run_once(self) -> list[RoundReport]:
        """One round of every feed, all feeds at once (hosts still take turns)."""
        return list(await asyncio.gather(*(self.guarded_round(spec) for spec in self.feeds)))

    async def run_forever(self) -> None:
        await asyncio.gather(*(self._every(spec) for spec in self.feeds))

    async def _every(self, spec: FeedSpec) -> None:
        while True:
            started = time.monotonic()
            await self.guarded_round(spec)
            await asyncio.sleep(max(0.0, spec.interval_seconds - (time.monotonic() - started)))

    async def guarded_round(self, spec: FeedSpec) -> RoundReport:
        """A round that cannot stop the poller. Expected failures are handled inside `round`;
        this catches a bug, which loses nothing (what was not acknowledged stays unsettled and
        is tried next round) but is logged with its traceback and counted."""
        try:
            return await self.round(spec)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - a bug: counted, logged, retried next round
            metrics.FEED_POLLS.labels(outcome="unexpected").inc()
            log.exception("feed %s: unexpected error", printable(spec.url))
            return RoundReport(spec.url, f"unexpected_{type(exc).__name__}")

    async def round(self, spec: FeedSpec) -> RoundReport:
        etag, last_modified = self.state.validators(spec.url)
        try:
            document = await self.client.feed(spec.url, etag, last_modified)
        except FetchFailed as failure:
            return self._feed_failed(spec, failure.reason, failure.detail)
        if document is None:
            metrics.FEED_POLLS.labels(outcome="not_modified").inc()
            return RoundReport(spec.url, "not_modified")
        try:
            parsed = parse_feed(document.body, content_type=document.content_type,
                                base_url=document.url)
        except BrokenFeed as broken:
            return self._feed_failed(spec, broken.reason, broken.detail)
        metrics.FEED_POLLS.labels(outcome="fetched").inc()
        outlet = outlet_name(spec, parsed.title)
        report = RoundReport(spec.url, "fetched")
        settled = self.state.settled(spec.url, (entry.entry_id for entry in parsed.entries))
        todo = new_entries(parsed.entries, settled)
        self.state.forget(spec.url, (entry.entry_id for entry in parsed.entries),
                          self.clock() - self.forget_after)
        await asyncio.gather(*(self._entry(spec, outlet, entry, report) for entry in todo))
        if not report.deferred:
            # Every entry of this version of the feed is settled: a 304 may now stand for it.
            self.state.remember_validators(spec.url, document.etag, document.last_modified)
        log.info("feed %s (%s): %d new, %d sent, %d refused, %d deferred", printable(spec.url),
                 printable(outlet), len(todo), len(report.sent), len(report.refused),
                 len(report.deferred))
        return report

    def _feed_failed(self, spec: FeedSpec, reason: str, detail: str) -> RoundReport:
        metrics.FEED_POLLS.labels(outcome=reason).inc()
        log.warning("feed %s: %s (%s)", printable(spec.url), reason, printable(detail))
        return RoundReport(spec.url, reason)

    async def _entry(
        self, spec: FeedSpec, outlet: str, entry: FeedEntry, report: RoundReport
    ) -> None:
        if entry.link is None:
            self._refuse(spec, entry, "no_link", "the entry links to no page", report)
            return
        try:
            page = await self.client.page(entry.link)
        except FetchFailed as failure:
            if failure.transient:
                self._defer(spec, entry, failure.reason, failure.detail, report)
            else:
                self._refuse(spec, entry, failure.reason, failure.detail, report)
            return
        try:
            article = raw_article(entry, outlet, page.html, page.url, self.clock())
        except ValidationError as exc:
            self._refuse(spec, entry, "empty_page", str(exc.errors()[0]["msg"]), report)
            return
        try:
            await self.sender.send(article)
        except TooLarge as exc:
            self._refuse(spec, entry, "too_large", str(exc), report)
            return
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - any send failure: counted, tried next round
            metrics.SEND_FAILURES.labels(stage=STAGE).inc()
            self._defer(spec, entry, "send_failed", f"{type(exc).__name__}: {exc}", report)
            return
        self.state.settle(spec.url, entry.entry_id, "sent")  # only now: the broker has it
        metrics.FEED_ENTRIES_SENT.inc()
        report.sent.append(entry.entry_id)

    def _refuse(self, spec: FeedSpec, entry: FeedEntry, reason: str, detail: str,
                report: RoundReport) -> None:
        metrics.FEED_PAGES_FAILED.labels(reason=reason).inc()
        log.warning("feed %s: entry %s refused: %s (%s)", printable(spec.url),
                    printable(entry.entry_id), reason, printable(detail))
        self.state.settle(spec.url, entry.entry_id, "refused", f"{reason}: {detail}")
        report.refused.append((entry.entry_id, reason))

    def _defer(self, spec: FeedSpec, entry: FeedEntry, reason: str, detail: str,
               report: RoundReport) -> None:
        metrics.FEED_PAGES_FAILED.labels(reason=reason).inc()
        log.warning("feed %s: entry %s not sent, tried again next round: %s (%s)",
                    printable(spec.url), printable(entry.entry_id), reason, printable(detail))
        report.deferred.append((entry.entry_id, reason))


def politeness(settings: Settings) -> Politeness:
    return Politeness(
        timeout_seconds=settings.feed_timeout_seconds,
        max_bytes=settings.feed_max_page_bytes,
        max_redirects=settings.feed_max_redirects,
        per_host_concurrency=settings.feed_host_concurrency,
        per_host_delay_seconds=settings.feed_host_delay_seconds,
        user_agent=settings.feed_user_agent,
        obey_robots=settings.feed_obey_robots,
    )


async def poll_feeds(
    feeds: list[FeedSpec], settings: Settings, *, once: bool
) -> list[RoundReport]:
    """Poll `feeds` into `articles.raw`: one round each (`once`), or until cancelled.

    Raises `BrokerUnavailable` before polling when no broker answers.
    """
    sender = KafkaSender(settings)
    state = FeedState(Path(settings.feed_state_dir))
    try:
        async with aiohttp.ClientSession() as session:
            poller = FeedPoller(
                feeds, PoliteClient(session, politeness(settings)), state, sender,
                forget_after=timedelta(days=settings.feed_forget_after_days),
            )
            if once:
                return await poller.run_once()
            # SIGTERM or Ctrl-C: stop between sends. An entry whose send was cut short is not
            # remembered, so the next start sends it.
            loop = asyncio.get_running_loop()
            main = asyncio.current_task()
            assert main is not None
            for signum in (signal.SIGTERM, signal.SIGINT):
                loop.add_signal_handler(signum, main.cancel)
            try:
                await poller.run_forever()
            except asyncio.CancelledError:
                log.info("feed poller stopped")
            return []
    finally:
        state.close()
        await asyncio.to_thread(sender.close)
