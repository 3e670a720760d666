"""The poller's bookkeeping: what is remembered, what is tried again, when validators are kept.

A site of literal documents and a sender that acknowledges or refuses stand in for the
network and the broker (both are exercised for real in tests/integration/test_feed.py).
"""

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

from kafka.errors import KafkaTimeoutError

from schemas.articles import RawArticleV1
from services.feed.core import FeedSpec
from services.feed.fetch import FeedDocument, FetchFailed, Page
from services.feed.poller import FeedPoller, TooLarge
from services.feed.state import FeedState

FEED = "https://news.example/rss.xml"
RSS = b"""<rss version="2.0"><channel><title>Example Wire</title>
<item><title>Two</title><link>https://news.example/2</link><guid>g-2</guid></item>
<item><title>One</title><link>https://news.example/1</link><guid>g-1</guid></item>
</channel></rss>"""
NOW = datetime(2026, 12, 6, tzinfo=UTC)


class Site:
    def __init__(self, pages: dict[str, str | FetchFailed]) -> None:
        self.pages = pages
        self.asked: list[tuple[str | None, str | None]] = []

    async def feed(self, url: str, etag: str | None, last_modified: str | None
                   ) -> FeedDocument | None:
        self.asked.append((etag, last_modified))
        if etag == '"v1"':
            return None
        return FeedDocument(url=url, body=RSS, content_type="application/rss+xml",
                            etag='"v1"', last_modified=None)

    async def page(self, url: str) -> Page:
        found = self.pages[url]
        if isinstance(found, FetchFailed):
            raise found
        return Page(url=url, html=found)


class Broker:
    def __init__(self, refuse: set[str] | None = None, too_large: set[str] | None = None) -> None:
        self.acked: list[RawArticleV1] = []
        self.refuse = refuse or set()
        self.too_large = too_large or set()

    async def send(self, article: RawArticleV1) -> None:
        if article.id in self.too_large:
            raise TooLarge("1,200,000 bytes as a message")
        if article.id in self.refuse:
            raise KafkaTimeoutError("no ack")
        self.acked.append(article)


def _round(tmp_path: Path, site: Site, broker: Broker) -> tuple[list[str], list[str]]:
    state = FeedState(tmp_path)
    poller = FeedPoller([FeedSpec(FEED, None, 60)], site, state, broker,  # type: ignore[arg-type]  # a stand-in client
                        clock=lambda: NOW)
    report = asyncio.run(poller.round(poller.feeds[0]))
    state.close()
    return report.sent, [entry_id for entry_id, _ in report.deferred]


def test_an_unacknowledged_entry_is_not_remembered_and_goes_next_round(tmp_path: Path) -> None:
    site = Site({"https://news.example/1": "<p>One</p>", "https://news.example/2": "<p>Two</p>"})
    assert _round(tmp_path, site, Broker(refuse={"g-2"})) == (["g-1"], ["g-2"])
    # The feed's ETag was not kept (an entry is owed), so the next round reads it in full and
    # sends only what is still owed.
    broker = Broker()
    assert _round(tmp_path, site, broker) == (["g-2"], [])
    assert site.asked == [(None, None), (None, None)]
    assert [article.id for article in broker.acked] == ["g-2"]
    # Everything settled: now the ETag stands and the feed answers 304.
    assert _round(tmp_path, site, Broker()) == ([], [])
    assert site.asked[-1] == ('"v1"', None)


def test_refused_entries_are_settled_and_transient_failures_are_not(tmp_path: Path) -> None:
    site = Site({
        "https://news.example/1": FetchFailed("http_4xx", "HTTP 404", transient=False),
        "https://news.example/2": FetchFailed("timeout", "no full answer", transient=True),
    })
    assert _round(tmp_path, site, Broker()) == ([], ["g-2"])
    state = FeedState(tmp_path)
    assert state.outcomes(FEED) == {"g-1": "refused"}
    state.close()


def test_a_page_too_big_as_a_message_is_refused_for_good(tmp_path: Path) -> None:
    site = Site({"https://news.example/1": "<p>One</p>", "https://news.example/2": "<p>Two</p>"})
    assert _round(tmp_path, site, Broker(too_large={"g-1"})) == (["g-2"], [])
    state = FeedState(tmp_path)
    assert state.outcomes(FEED) == {"g-1": "refused", "g-2": "sent"}
    state.close()


def test_the_article_is_the_entry_s_page_under_the_feed_s_title(tmp_path: Path) -> None:
    site = Site({"https://news.example/1": "<p>One</p>", "https://news.example/2": "<p>Two</p>"})
    broker = Broker()
    _round(tmp_path, site, broker)
    first = broker.acked[0]
    assert (first.id, first.source, first.title, first.html, first.url, first.ingested_at) == (
        "g-1", "Example Wire", "One", "<p>One</p>", "https://news.example/1", NOW
    )


def test_a_month_after_an_entry_left_the_feed_it_is_forgotten(tmp_path: Path) -> None:
    state = FeedState(tmp_path)
    state.settle(FEED, "g-old", "sent")  # sent earlier; the feed no longer lists it
    month_on = datetime.now(UTC) + timedelta(days=31)
    poller = FeedPoller([FeedSpec(FEED, None, 60)], Site({  # type: ignore[arg-type]  # a stand-in client
        "https://news.example/1": "<p>One</p>", "https://news.example/2": "<p>Two</p>",
    }), state, Broker(), clock=lambda: month_on)
    asyncio.run(poller.round(poller.feeds[0]))
    assert state.outcomes(FEED) == {"g-1": "sent", "g-2": "sent"}
    state.close()
