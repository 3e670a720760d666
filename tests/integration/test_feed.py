"""`storywire feed` against a local news site and the real broker, through the whole pipeline.

One run serves the module's tests: round 1 in this process (so its metrics can be read), then
three more rounds as separate `storywire feed --once` processes, each a restart of the poller
on the same state directory. Between them the slow page recovers and both feeds gain an entry.
Every entry must reach `articles.raw` exactly once and then exactly one story.
"""

import asyncio
import gzip
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import pytest

from lab.pipeline import LocalPipeline, free_port_block, settings_env
from lab.story_view import StoryBoard
from schemas.articles import RawArticleV1
from schemas.topics import Topic
from services.feed.core import read_feeds_file
from services.feed.fetch import FetchFailed, PoliteClient, Politeness
from services.feed.poller import RoundReport, poll_feeds
from services.identity import article_key
from services.metrics import REGISTRY
from services.settings import Settings
from tests.integration.conftest import fresh_settings, read_all
from tests.integration.feed_site import Site, Story, serve

pytestmark = pytest.mark.integration

HOST_DELAY = 0.2


@dataclass
class FeedRun:
    settings: Settings
    site: Site
    base: str
    first: list[RoundReport]
    metric_deltas: dict[str, float]
    cli: list[subprocess.CompletedProcess[str]]
    raw: list[RawArticleV1]
    board: StoryBoard
    expected: dict[str, tuple[str, str]] = field(default_factory=dict)  # slug -> (source, id)


def _pages(shared: Path, count: int) -> list[str]:
    files = sorted((shared / "data" / "extraction" / "html").glob("*.html.gz"))[:count]
    return [gzip.decompress(path.read_bytes()).decode("utf-8", errors="replace") for path in files]


def _metric(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


WATCHED = {
    "sent": ("storywire_feed_entries_sent_total", {}),
    "timeout": ("storywire_feed_pages_failed_total", {"reason": "timeout"}),
    "too_large": ("storywire_feed_pages_failed_total", {"reason": "too_large"}),
    "redirects": ("storywire_feed_pages_failed_total", {"reason": "too_many_redirects"}),
    "robots": ("storywire_feed_pages_failed_total", {"reason": "robots_disallowed"}),
    "broken": ("storywire_feed_polls_total", {"outcome": "not_a_feed"}),
    "fetched": ("storywire_feed_polls_total", {"outcome": "fetched"}),
}


def _cli_round(settings: Settings, feeds_file: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "services.cli", "feed", "--feeds", str(feeds_file), "--once"],
        env={**os.environ, **settings_env(settings)}, capture_output=True, text=True,
        timeout=120,
    )


@pytest.fixture(scope="module")
def run(broker: Settings, shared: Path, tmp_path_factory: pytest.TempPathFactory
        ) -> Iterator[FeedRun]:
    tmp = tmp_path_factory.mktemp("feed")
    settings = fresh_settings(
        broker, feed_state_dir=str(tmp / "state"), feed_timeout_seconds=1.0,
        feed_max_page_bytes=800_000, feed_host_concurrency=2,
        feed_host_delay_seconds=HOST_DELAY,
    )
    pages = _pages(shared, 7)
    now = datetime.now(UTC).replace(microsecond=0)
    site = Site(slow_html=pages[6], big_bytes=900_000)
    site.rss = [
        Story("r1", "First wire story", pages[0], now - timedelta(hours=3)),
        Story("r2", "Moved story", pages[1], now - timedelta(hours=2), link_path="/redirect/r2"),
        Story("slow", "Slow story", "", now - timedelta(hours=2), link_path="/slow.html"),
        Story("big", "Huge story", "", now - timedelta(hours=1), link_path="/big.html"),
        Story("loop", "Lost story", "", now - timedelta(hours=1), link_path="/loop.html"),
        Story("private", "Private story", pages[0], now - timedelta(hours=1),
              link_path="/private/p.html"),
    ]
    site.atom = [
        Story("a1", "Atom one", pages[2], now - timedelta(hours=3)),
        Story("a2", "Atom two", pages[3], now - timedelta(hours=2)),
    ]
    server, base = serve(site)
    feeds_file = tmp / "feeds.toml"
    feeds_file.write_text(
        f'[[feed]]\nurl = "{base}/rss.xml"\n\n'
        f'[[feed]]\nurl = "{base}/atom.xml"\nname = "Atom Daily"\n\n'
        f'[[feed]]\nurl = "{base}/broken.xml"\n'
    )
    with LocalPipeline(settings, tmp / "logs", metrics_base_port=free_port_block()) as pipeline:
        pipeline.wait_until_ready()
        before = {key: _metric(name, **labels) for key, (name, labels) in WATCHED.items()}
        # Round 1, in process: the slow page times out, the big one is refused, the broken
        # feed is counted.
        first = asyncio.run(poll_feeds(read_feeds_file(feeds_file, 60.0), settings, once=True))
        deltas = {key: _metric(name, **labels) - before[key]
                  for key, (name, labels) in WATCHED.items()}
        # Round 2, a restarted poller: the slow page has recovered; nothing else is new.
        site.slow_seconds = 0.05
        cli = [_cli_round(settings, feeds_file)]
        # Round 3: each feed has a new entry.
        site.rss.append(Story("r3", "Third wire story", pages[4], now - timedelta(minutes=30)))
        site.atom.append(Story("a3", "Atom three", pages[5], now - timedelta(minutes=20)))
        site.atom_modified = now
        cli.append(_cli_round(settings, feeds_file))
        # Round 4: nothing changed; both feeds answer 304.
        cli.append(_cli_round(settings, feeds_file))
        raw = read_all(settings, Topic.RAW, RawArticleV1)
        expected = {slug: ("Example Wire", f"rss-{slug}") for slug in ("r1", "r2", "slow", "r3")}
        expected |= {slug: ("Atom Daily", f"urn:atom:{slug}") for slug in ("a1", "a2", "a3")}
        board = StoryBoard(settings)
        keys = [article_key(source, entry_id) for source, entry_id in expected.values()]
        board.wait(lambda: board.accounts_for(keys), pipeline.check, timeout_s=300)
        yield FeedRun(settings, site, base, first, deltas, cli, raw, board, expected)
        board.close()
    server.shutdown()


def test_every_entry_reaches_articles_raw_exactly_once_across_restarts(run: FeedRun) -> None:
    for result in run.cli:
        assert result.returncode == 0, result.stderr[-2000:]
    sent = Counter((article.source, article.id) for article in run.raw)
    assert sent == Counter(run.expected.values())


def test_the_raw_article_carries_the_page_and_the_entry(run: FeedRun) -> None:
    by_id = {article.id: article for article in run.raw}
    moved = by_id["rss-r2"]
    assert moved.url == f"{run.base}/pages/r2.html"  # the redirect was followed
    assert moved.title == "Moved story"
    assert moved.html is not None and moved.html == run.site.page("r2")
    story = next(s for s in run.site.rss if s.slug == "r2")
    assert moved.published_at == story.published
    assert by_id["urn:atom:a1"].source == "Atom Daily"  # the name given beats the feed title


def test_broken_slow_and_oversized_are_counted_and_never_fatal(run: FeedRun) -> None:
    outcomes = {report.feed.rsplit("/", 1)[1]: report for report in run.first}
    assert outcomes["broken.xml"].outcome == "not_a_feed"
    rss = outcomes["rss.xml"]
    assert sorted(rss.sent) == ["rss-r1", "rss-r2"]
    assert rss.deferred == [("rss-slow", "timeout")]
    assert sorted(rss.refused) == [("rss-big", "too_large"), ("rss-loop", "too_many_redirects"),
                                   ("rss-private", "robots_disallowed")]
    assert run.metric_deltas == {
        "sent": 4, "timeout": 1, "too_large": 1, "redirects": 1, "robots": 1, "broken": 1,
        "fetched": 2,
    }
    # Refused for good: fetched in round 1 only (the loop as often as redirects are followed).
    assert run.site.statuses("/big.html") == [200]
    assert run.site.statuses("/loop.html") == [302] * (run.settings.feed_max_redirects + 1)
    # robots.txt: read once per poller process that fetched pages, the disallowed page never.
    assert run.site.statuses("/robots.txt") == [200, 200, 200]
    assert run.site.statuses("/private/p.html") == []


def test_unchanged_feeds_answer_304_and_send_nothing(run: FeedRun) -> None:
    # RSS: 200 in rounds 1-3 (round 1 left the slow entry unsent, so its ETag was not kept;
    # round 3 changed the feed), 304 in round 4. Atom: 200, 304, 200, 304.
    assert run.site.statuses("/rss.xml") == [200, 200, 200, 304]
    assert run.site.statuses("/atom.xml") == [200, 304, 200, 304]
    assert "sent=0" in run.cli[2].stderr
    assert "sent=1" in run.cli[0].stderr and "sent=2" in run.cli[1].stderr


def test_requests_to_one_host_are_spaced_and_bounded(run: FeedRun) -> None:
    assert run.site.max_in_flight <= 2
    starts = sorted(hit.started for hit in run.site.hits)
    gaps = [later - earlier for earlier, later in zip(starts, starts[1:], strict=False)]
    assert min(gaps) >= HOST_DELAY * 0.75, gaps


def test_every_feed_entry_is_in_exactly_one_story(run: FeedRun) -> None:
    # An article's story is its latest member record; that story must still stand.
    standing = {story.story_id for story in run.board.latest()}
    placed = run.board.assignments()
    for source, entry_id in run.expected.values():
        assert placed.get(article_key(source, entry_id)) in standing, (source, entry_id)


def test_without_once_each_feed_is_polled_on_its_own_interval_until_stopped(
    broker: Settings, shared: Path, tmp_path: Path
) -> None:
    settings = fresh_settings(broker, feed_state_dir=str(tmp_path / "state"),
                              feed_host_delay_seconds=0.0)
    now = datetime.now(UTC).replace(microsecond=0)
    (page,) = _pages(shared, 1)
    site = Site(rss=[Story("r1", "First", page, now)], atom=[Story("a1", "Second", page, now)])
    server, base = serve(site)
    feeds_file = tmp_path / "feeds.toml"
    feeds_file.write_text(f'[[feed]]\nurl = "{base}/rss.xml"\ninterval = 1\n\n'
                          f'[[feed]]\nurl = "{base}/atom.xml"\ninterval = 4\n')
    port = free_port_block(1)
    poller = subprocess.Popen(
        [sys.executable, "-m", "services.cli", "feed", "--feeds", str(feeds_file)],
        env={**os.environ, **settings_env(settings), "STORYWIRE_METRICS_PORT": str(port)},
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 60
        while len(site.statuses("/rss.xml")) < 6 and time.monotonic() < deadline:
            assert poller.poll() is None, poller.communicate()[0]
            time.sleep(0.2)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as answer:
            metrics_text = answer.read().decode()
        poller.send_signal(signal.SIGTERM)
        output, _ = poller.communicate(timeout=30)
    finally:
        if poller.poll() is None:
            poller.kill()
        server.shutdown()
    assert poller.returncode == 0, output
    rss, atom = site.statuses("/rss.xml"), site.statuses("/atom.xml")
    assert rss[0] == 200 and set(rss[1:]) == {304}
    assert 1 <= len(atom) <= 3 and atom[0] == 200  # every 4 s against the RSS feed's 1 s
    assert 'storywire_feed_polls_total{outcome="not_modified"}' in metrics_text
    assert re.search(r"^storywire_feed_entries_sent_total 2\.0$", metrics_text, re.M)
    raw = read_all(settings, Topic.RAW, RawArticleV1)
    assert Counter((a.source, a.id) for a in raw) == Counter(
        {("Example Wire", "rss-r1"): 1, ("Atom Daily feed", "urn:atom:a1"): 1}
    )


def test_a_busy_host_is_left_alone_as_long_as_it_asks(tmp_path: Path) -> None:
    site = Site()
    server, base = serve(site)

    async def busy_then_feed() -> float:
        async with aiohttp.ClientSession() as session:
            client = PoliteClient(session, Politeness(
                timeout_seconds=5, max_bytes=100_000, max_redirects=0, per_host_concurrency=2,
                per_host_delay_seconds=0.0, user_agent="storywire-test", obey_robots=False))
            with pytest.raises(FetchFailed) as busy:
                await client.page(f"{base}/busy.html")
            assert busy.value.reason == "http_5xx" and busy.value.transient
            asked = time.monotonic()
            await client.feed(f"{base}/rss.xml", None, None)
            return time.monotonic() - asked

    try:
        waited = asyncio.run(busy_then_feed())
    finally:
        server.shutdown()
    assert waited >= 0.9  # Retry-After: 1
    assert [hit.path for hit in site.hits] == ["/busy.html", "/rss.xml"]
