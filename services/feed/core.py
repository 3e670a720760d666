"""Feeds as copy: what a feed says, which of its entries are new, and the raw article each makes.

In: a feed document's bytes (RSS 0.9x-2.0, RSS 1.0, Atom 0.3/1.0: whatever feedparser reads),
the ids of the entries already sent, and later an entry's page. Out: `FeedEntry`s, then one
`RawArticleV1` per new entry, its `html` the page the entry links to.

- A document feedparser cannot read as a feed (no feed version, no entries: an HTML error
  page, truncated XML) raises `BrokenFeed`; a feed with small flaws that still has entries
  (feedparser's "bozo" flag) is read, as every feed reader does.
- An entry is identified by its `id` (RSS guid, Atom id), else its link, else its title and
  date: stable across polls, so the same entry is the same article (`entry_article_id`).
- `source` is the outlet: the name given for the feed, else the feed's own title, else the
  feed's host. Never the feed's URL path or a file name.

Pure: no network, no Kafka, no clock (the caller passes `now`).
"""

import calendar
import email.utils
import hashlib
import re
import time
import tomllib
from collections.abc import Container, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import feedparser
from pydantic import BaseModel, ConfigDict, Field, HttpUrl, ValidationError

from schemas.articles import RawArticleV1

# RawArticleV1.id and .source are at most this long; longer ids are hashed, names cut.
MAX_ID_CHARS = 200
MAX_SOURCE_CHARS = 200


class BrokenFeed(Exception):
    """A feed document that holds no feed; `reason` is a short fixed metric label."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


class FeedsFileError(ValueError):
    """A feeds file that cannot be read; the message names the file and the place."""


@dataclass(frozen=True)
class FeedSpec:
    """One feed to follow: where, under which outlet name (None: the feed's title), how often."""

    url: str
    name: str | None
    interval_seconds: float


@dataclass(frozen=True)
class FeedEntry:
    entry_id: str  # the article id it is sent under: stable across polls
    link: str | None
    title: str | None
    published_at: datetime | None


@dataclass(frozen=True)
class ParsedFeed:
    title: str | None
    entries: list[FeedEntry]  # oldest first: the order they are sent in


def parse_feed(
    document: bytes, *, content_type: str | None = None, base_url: str | None = None
) -> ParsedFeed:
    """Read a feed document; raise `BrokenFeed` when it holds no feed. Relative links are
    resolved against `base_url` (where the feed was fetched from)."""
    # No base URL for feedparser itself: it would resolve an RSS guid such as "1234" into
    # "<base>/1234", and the entry's identity would then change with the feed's address.
    headers = {"content-type": content_type} if content_type else {}
    parsed = feedparser.parse(document, response_headers=headers)
    if not parsed.get("version") and not parsed.entries:
        problem = parsed.get("bozo_exception")
        detail = f"{type(problem).__name__}: {problem}" if problem else "no RSS or Atom in it"
        raise BrokenFeed("not_a_feed", detail[:500])
    entries = [_entry(raw, base_url) for raw in parsed.entries]
    # Feeds list the newest first; copy goes in the order it was published.
    entries.reverse()
    title = (parsed.feed.get("title") or "").strip() or None
    return ParsedFeed(title=title, entries=_unique(entries))


def _unique(entries: Iterable[FeedEntry]) -> list[FeedEntry]:
    """Each entry id once (a feed listing one item twice sends it once)."""
    seen: dict[str, FeedEntry] = {}
    for entry in entries:
        seen.setdefault(entry.entry_id, entry)
    return list(seen.values())


def _entry(raw: Any, base_url: str | None) -> FeedEntry:
    link = (raw.get("link") or "").strip() or None
    if link and base_url:
        link = urljoin(base_url, link)
    title = (raw.get("title") or "").strip() or None
    published = _utc(raw.get("published_parsed") or raw.get("updated_parsed"))
    identity = (raw.get("id") or "").strip() or link
    if not identity:
        identity = "untitled:" + hashlib.sha256(
            f"{title}\n{published}".encode()
        ).hexdigest()[:32]
    return FeedEntry(entry_id=entry_article_id(identity), link=link, title=title,
                     published_at=published)


def entry_article_id(identity: str) -> str:
    """The article id of an entry whose guid/id/link is `identity`: itself when it fits the
    contract, else a digest of it (the same identity always gives the same id)."""
    if len(identity) <= MAX_ID_CHARS:
        return identity
    return "sha256:" + hashlib.sha256(identity.encode()).hexdigest()


def _utc(parsed: time.struct_time | None) -> datetime | None:
    # feedparser normalises every date it reads to a UTC struct_time.
    if parsed is None:
        return None
    try:
        return datetime.fromtimestamp(calendar.timegm(parsed), tz=UTC)
    except (OverflowError, ValueError, OSError):
        return None


def outlet_name(spec: FeedSpec, feed_title: str | None) -> str:
    """The `source` of a feed's copy: the given name, the feed's title, or its host."""
    name = spec.name or feed_title or urlsplit(spec.url).hostname or spec.url
    return " ".join(name.split())[:MAX_SOURCE_CHARS]


def new_entries(entries: Iterable[FeedEntry], settled: Container[str]) -> list[FeedEntry]:
    """The entries not yet settled (sent, or refused for good), in feed order."""
    return [entry for entry in entries if entry.entry_id not in settled]


_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.I)


def decode_page(body: bytes, header_charset: str | None) -> str:
    """A page's text: the HTTP header's charset, else the page's own <meta> charset, else
    UTF-8; undecodable bytes become U+FFFD rather than refusing the page."""
    for charset in (header_charset, _meta_charset(body), "utf-8"):
        if not charset:
            continue
        try:
            return body.decode(charset, errors="replace")
        except LookupError:  # a charset name Python does not know: try the next
            continue
    return body.decode("utf-8", errors="replace")


def _meta_charset(body: bytes) -> str | None:
    found = _META_CHARSET.search(body[:4096])
    return found.group(1).decode("ascii") if found else None


def raw_article(
    entry: FeedEntry, outlet: str, page_html: str, page_url: str, now: datetime
) -> RawArticleV1:
    """The raw article of one feed entry: the linked page's HTML, the entry's title and date.

    Raises pydantic's ValidationError when the page has no content at all (an empty body).
    """
    return RawArticleV1(
        id=entry.entry_id,
        source=outlet,
        url=page_url,
        title=entry.title,
        html=page_html,
        published_at=entry.published_at,
        ingested_at=now,
    )


class _FeedLine(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    url: HttpUrl
    name: str | None = Field(default=None, min_length=1, max_length=MAX_SOURCE_CHARS)
    interval: float | None = Field(default=None, ge=1, description="seconds between polls")


def read_feeds_file(path: Path, default_interval: float) -> list[FeedSpec]:
    """The feeds listed in a TOML file, each as

        [[feed]]
        url = "https://example.org/rss"
        name = "Example Times"   # optional: the outlet (default: the feed's title)
        interval = 300           # optional: seconds between polls (default: the setting)
    """
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise FeedsFileError(f"{path}: {exc}") from exc
    unknown = set(document) - {"feed"}
    if unknown:
        raise FeedsFileError(f"{path}: unknown table(s) {sorted(unknown)}; list feeds as [[feed]]")
    lines = document.get("feed", [])
    if not isinstance(lines, list) or not lines:
        raise FeedsFileError(f"{path}: no [[feed]] entries")
    specs = []
    for number, line in enumerate(lines, start=1):
        try:
            feed = _FeedLine.model_validate(line)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(part) for part in first["loc"])
            raise FeedsFileError(f"{path}: feed {number}: {where}: {first['msg']}") from exc
        specs.append(FeedSpec(url=str(feed.url), name=feed.name,
                              interval_seconds=feed.interval or default_interval))
    return specs


def command_line_feed(url: str, name: str | None, interval: float) -> FeedSpec:
    """A feed given on the command line, checked like a feeds file's (http or https URL)."""
    try:
        feed = _FeedLine(url=url, name=name, interval=interval)  # type: ignore[arg-type]  # pydantic parses the str
    except ValidationError as exc:
        first = exc.errors()[0]
        raise FeedsFileError(f"{url}: {first['loc'][0]}: {first['msg']}") from exc
    return FeedSpec(url=str(feed.url), name=feed.name, interval_seconds=interval)


# The longest a Retry-After is honoured for: a site asking for a day would otherwise stop the
# poller's whole traffic to that host for a day on one answer.
MAX_RETRY_AFTER_SECONDS = 3600.0


def retry_after_seconds(value: str | None, now: datetime) -> float | None:
    """How long a 429/503 answer's Retry-After asks us to wait (seconds or an HTTP date),
    at most MAX_RETRY_AFTER_SECONDS; None when there is no usable value."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return min(float(value), MAX_RETRY_AFTER_SECONDS)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:  # an HTTP date is GMT by definition
        when = when.replace(tzinfo=UTC)
    return min(max((when - now).total_seconds(), 0.0), MAX_RETRY_AFTER_SECONDS)
