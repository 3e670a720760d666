"""The feed core: reading RSS and Atom, entry identity, what is new, raw articles, feeds files."""

from datetime import UTC, datetime
from pathlib import Path

import pytest
from pydantic import ValidationError

from services.feed.core import (
    MAX_ID_CHARS,
    BrokenFeed,
    FeedEntry,
    FeedsFileError,
    FeedSpec,
    decode_page,
    entry_article_id,
    new_entries,
    outlet_name,
    parse_feed,
    raw_article,
    read_feeds_file,
    retry_after_seconds,
)

RSS = b"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>  The Daily
 Wire </title><link>https://example.org/</link><description>d</description>
<item><title>Newer</title><link>https://example.org/2</link><guid>g-2</guid>
<pubDate>Tue, 01 Dec 2026 10:00:00 +0100</pubDate></item>
<item><title>Older</title><link>https://example.org/1</link><guid>g-1</guid>
<pubDate>Mon, 30 Nov 2026 08:00:00 GMT</pubDate></item>
<item><title>Older</title><link>https://example.org/1</link><guid>g-1</guid></item>
<item><title>No guid</title><link>https://example.org/3</link></item>
</channel></rss>"""

ATOM = b"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>Atom News</title><id>urn:feed</id>
<updated>2026-12-01T00:00:00Z</updated>
<entry><title>Only</title><link href="https://atom.example/a"/><id>urn:entry:a</id>
<updated>2026-12-01T09:30:00+02:00</updated></entry>
</feed>"""


def test_rss_entries_come_oldest_first_with_utc_dates_and_stable_ids() -> None:
    feed = parse_feed(RSS, content_type="application/rss+xml")
    assert feed.title == "The Daily\n Wire"
    ids = [entry.entry_id for entry in feed.entries]
    # The listing's second copy of g-1 is dropped; an item without a guid goes by its link.
    assert ids == ["https://example.org/3", "g-1", "g-2"]
    newer = feed.entries[-1]
    assert newer.title == "Newer" and newer.link == "https://example.org/2"
    assert newer.published_at == datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def test_atom_entries_are_read() -> None:
    feed = parse_feed(ATOM)
    assert feed.title == "Atom News"
    (entry,) = feed.entries
    assert entry.entry_id == "urn:entry:a"
    assert entry.link == "https://atom.example/a"
    assert entry.published_at == datetime(2026, 12, 1, 7, 30, tzinfo=UTC)


@pytest.mark.parametrize("document", [
    b"<html><body>502 Bad Gateway</body></html>",
    b"",
    b"not xml at all {",
])
def test_a_document_that_is_no_feed_is_broken(document: bytes) -> None:
    with pytest.raises(BrokenFeed) as raised:
        parse_feed(document)
    assert raised.value.reason == "not_a_feed"


def test_a_flawed_feed_with_entries_is_still_read() -> None:
    # An undefined entity makes the XML ill-formed; feedparser reads it loosely, as readers do.
    flawed = RSS.replace(b"<title>Newer</title>", b"<title>Newer &bogus;</title>")
    assert len(parse_feed(flawed).entries) == 3


def test_long_identities_are_digested_and_stable() -> None:
    long_id = "https://example.org/" + "x" * 300
    first = entry_article_id(long_id)
    assert first == entry_article_id(long_id) and len(first) <= MAX_ID_CHARS
    assert first != entry_article_id(long_id + "y")
    assert entry_article_id("short") == "short"


def test_entry_without_id_or_link_is_identified_by_title_and_date() -> None:
    rss = (b'<rss version="2.0"><channel><title>t</title><item><title>Bare</title>'
           b"<pubDate>Mon, 30 Nov 2026 08:00:00 GMT</pubDate></item></channel></rss>")
    (entry,) = parse_feed(rss).entries
    assert entry.entry_id.startswith("untitled:") and entry.link is None
    assert parse_feed(rss).entries[0].entry_id == entry.entry_id


def test_new_entries_are_the_unsettled_ones() -> None:
    feed = parse_feed(RSS)
    assert [e.entry_id for e in new_entries(feed.entries, {"g-1"})] == [
        "https://example.org/3", "g-2"
    ]


def test_the_outlet_is_the_given_name_then_the_feed_title_then_the_host() -> None:
    spec = FeedSpec("https://news.example/feeds/all.xml", None, 60)
    assert outlet_name(spec, "  Example   Times ") == "Example Times"
    assert outlet_name(spec, None) == "news.example"
    named = FeedSpec(spec.url, "Example Post", 60)
    assert outlet_name(named, "Example Times") == "Example Post"


def test_raw_article_takes_the_page_and_the_entry() -> None:
    entry = FeedEntry("g-9", "https://e.org/9", "Headline", datetime(2026, 12, 1, tzinfo=UTC))
    now = datetime(2026, 12, 2, tzinfo=UTC)
    article = raw_article(entry, "Example Times", "<p>Body</p>", "https://e.org/final/9", now)
    assert (article.id, article.source, article.url, article.title) == (
        "g-9", "Example Times", "https://e.org/final/9", "Headline"
    )
    assert article.html == "<p>Body</p>" and article.text is None
    assert article.published_at == entry.published_at and article.ingested_at == now
    with pytest.raises(ValidationError):
        raw_article(entry, "Example Times", "   ", "https://e.org/9", now)


def test_a_page_is_decoded_by_header_then_meta_then_utf8() -> None:
    latin = "<meta charset=\"iso-8859-1\"><p>Caf\u00e9</p>".encode("latin-1")
    assert "Caf\u00e9" in decode_page(latin, None)
    assert "Caf\u00e9" in decode_page("<p>Caf\u00e9</p>".encode(), None)
    assert "Caf\u00e9" in decode_page("<p>Caf\u00e9</p>".encode("cp1252"), "windows-1252")
    assert decode_page(b"<p>\xff</p>", "no-such-charset") == "<p>\ufffd</p>"


def test_feeds_file(tmp_path: Path) -> None:
    path = tmp_path / "feeds.toml"
    path.write_text('[[feed]]\nurl = "https://a.example/rss"\nname = "A Post"\ninterval = 120\n'
                    '[[feed]]\nurl = "https://b.example/atom"\n')
    first, second = read_feeds_file(path, 300.0)
    assert (first.url, first.name, first.interval_seconds) == (
        "https://a.example/rss", "A Post", 120.0
    )
    assert (second.name, second.interval_seconds) == (None, 300.0)


@pytest.mark.parametrize(("text", "says"), [
    ('[[feed]]\nurl = "ftp://x.example/f"\n', "feed 1: url"),
    ('[[feed]]\nurl = "https://x.example/f"\ninterval = 0\n', "feed 1: interval"),
    ('[[feed]]\nurl = "https://x.example/f"\ncolour = "red"\n', "feed 1: colour"),
    ('[feeds]\nurl = "https://x.example/f"\n', "unknown table"),
    ("", "no [[feed]]"),
    ("[[feed]\n", "feeds.toml"),
])
def test_a_bad_feeds_file_says_where(tmp_path: Path, text: str, says: str) -> None:
    path = tmp_path / "feeds.toml"
    path.write_text(text)
    with pytest.raises(FeedsFileError, match=None) as raised:
        read_feeds_file(path, 300.0)
    assert says in str(raised.value)


def test_relative_links_are_resolved_against_where_the_feed_was_fetched() -> None:
    rss = (b'<rss version="2.0"><channel><title>t</title><item><title>Rel</title>'
           b"<link>/world/story-1.html</link><guid>rel-1</guid></item></channel></rss>")
    (entry,) = parse_feed(rss, base_url="https://news.example/feeds/world.xml").entries
    assert entry.link == "https://news.example/world/story-1.html"


def test_retry_after_in_seconds_or_as_a_date_and_bounded() -> None:
    now = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)
    assert retry_after_seconds("120", now) == 120.0
    assert retry_after_seconds("Sun, 06 Dec 2026 12:05:00 GMT", now) == 300.0
    assert retry_after_seconds("Sun, 06 Dec 2026 11:00:00 GMT", now) == 0.0
    assert retry_after_seconds("999999", now) == 3600.0
    assert retry_after_seconds("soon", now) is None
    assert retry_after_seconds(None, now) is None
