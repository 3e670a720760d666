"""Polite HTTP for the feed poller (aiohttp's client, which faust's stack already brings).

- Conditional GET of feeds: the last ETag / Last-Modified go back as If-None-Match /
  If-Modified-Since; a 304 is `None`, nothing to read.
- Per host: at most `per_host_concurrency` requests at once and `per_host_delay_seconds`
  between the starts of two requests, so a feed with fifty new entries does not hit its
  outlet's site fifty times at once. A 429 or 503 with Retry-After holds the host's next
  request back as asked (up to an hour).
- A page is fetched only if the site's robots.txt allows the User-Agent (read once a day per
  site; the feeds themselves were chosen by the operator and are always fetched).
- Every request has a total timeout; redirects are followed up to `max_redirects`; a body is
  read in chunks and abandoned as soon as it passes `max_bytes` (a Content-Length over the
  limit is refused before reading).
- Every failure is a `FetchFailed` with a short fixed `reason` (a metric label) and whether it
  is worth trying again later (`transient`: timeouts, 5xx, 429, connection errors).
"""

import asyncio
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlsplit
from urllib.robotparser import RobotFileParser

import aiohttp
from yarl import URL

from services.feed.core import decode_page, retry_after_seconds

HTML_TYPES = ("text/html", "application/xhtml+xml")
REDIRECTS = (301, 302, 303, 307, 308)
ROBOTS_SECONDS = 86_400.0  # a site's robots.txt is read again after a day


class FetchFailed(Exception):
    def __init__(self, reason: str, detail: str, *, transient: bool) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail
        self.transient = transient


@dataclass(frozen=True)
class Politeness:
    timeout_seconds: float
    max_bytes: int
    max_redirects: int
    per_host_concurrency: int
    per_host_delay_seconds: float
    user_agent: str
    obey_robots: bool = True


@dataclass(frozen=True)
class FeedDocument:
    url: str  # where the redirects ended: relative links in the feed are relative to it
    body: bytes
    content_type: str | None
    etag: str | None
    last_modified: str | None


@dataclass(frozen=True)
class Page:
    url: str  # where the redirects ended
    html: str


class _Host:
    """One host's share of politeness: a semaphore and the time its next request may start."""

    def __init__(self, concurrency: int) -> None:
        self.slots = asyncio.Semaphore(concurrency)
        self.lock = asyncio.Lock()
        self.next_start = 0.0


class PoliteClient:
    def __init__(self, session: aiohttp.ClientSession, politeness: Politeness) -> None:
        self.session = session
        self.politeness = politeness
        self._hosts: dict[str, _Host] = {}
        # Each site's robots.txt, read once per ROBOTS_SECONDS (a task, so that the entries
        # of one feed waiting on the same site share one read).
        self._robots: dict[str, tuple[float, asyncio.Task[RobotFileParser]]] = {}

    async def _turn(self, host: _Host) -> None:
        async with host.lock:
            wait = host.next_start - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            host.next_start = time.monotonic() + self.politeness.per_host_delay_seconds

    async def _get(
        self, url: str, headers: dict[str, str]
    ) -> tuple[int, bytes, aiohttp.ClientResponse]:
        """The answer at `url` after redirects, each hop taking its host's turn (a redirect
        to another site is polite to that site too)."""
        for _ in range(self.politeness.max_redirects + 1):
            status, body, response = await self._hop(url, headers)
            location = response.headers.get("Location")
            if status not in REDIRECTS or not location:
                return status, body, response
            url = str(response.url.join(URL(location)))
            if urlsplit(url).scheme not in ("http", "https"):
                raise FetchFailed("bad_url", f"redirected to {url[:300]}", transient=False)
        raise FetchFailed("too_many_redirects", f"more than {self.politeness.max_redirects}",
                          transient=False)

    async def _hop(
        self, url: str, headers: dict[str, str]
    ) -> tuple[int, bytes, aiohttp.ClientResponse]:
        policy = self.politeness
        netloc = urlsplit(url).netloc.lower()
        host = self._hosts.setdefault(netloc, _Host(policy.per_host_concurrency))
        async with host.slots:
            await self._turn(host)
            try:
                async with self.session.get(
                    url,
                    headers={"User-Agent": policy.user_agent, **headers},
                    allow_redirects=False,
                    timeout=aiohttp.ClientTimeout(total=policy.timeout_seconds),
                ) as response:
                    if response.status in (429, 503):
                        self._back_off(host, response.headers.get("Retry-After"))
                    if response.status in REDIRECTS or response.status == 304 \
                            or response.status >= 400:
                        return response.status, b"", response
                    return response.status, await self._read(response), response
            except TimeoutError as exc:
                raise FetchFailed("timeout", f"no full answer within "
                                  f"{policy.timeout_seconds:g} s", transient=True) from exc
            except (aiohttp.InvalidURL, ValueError) as exc:
                raise FetchFailed("bad_url", str(exc)[:300], transient=False) from exc
            except aiohttp.ClientError as exc:
                raise FetchFailed("unreachable", f"{type(exc).__name__}: {exc}"[:300],
                                  transient=True) from exc

    @staticmethod
    def _back_off(host: _Host, retry_after: str | None) -> None:
        """A host that says it is busy (429, 503 with Retry-After) gets no request from us
        until the time it asked for has passed."""
        wait = retry_after_seconds(retry_after, datetime.now(UTC))
        if wait:
            host.next_start = max(host.next_start, time.monotonic() + wait)

    async def _read(self, response: aiohttp.ClientResponse) -> bytes:
        limit = self.politeness.max_bytes
        if response.content_length is not None and response.content_length > limit:
            raise FetchFailed("too_large", f"{response.content_length:,} bytes announced; the "
                              f"limit is {limit:,}", transient=False)
        body = bytearray()
        async for chunk in response.content.iter_chunked(65_536):
            body += chunk
            if len(body) > limit:
                raise FetchFailed("too_large", f"more than {limit:,} bytes", transient=False)
        return bytes(body)

    async def feed(
        self, url: str, etag: str | None, last_modified: str | None
    ) -> FeedDocument | None:
        """The feed document, or None when the server says it has not changed (304)."""
        conditions = {}
        if etag:
            conditions["If-None-Match"] = etag
        if last_modified:
            conditions["If-Modified-Since"] = last_modified
        status, body, response = await self._get(url, conditions)
        if status == 304:
            return None
        _raise_for(status)
        return FeedDocument(
            url=str(response.url),
            body=body,
            content_type=response.headers.get("Content-Type"),
            etag=response.headers.get("ETag"),
            last_modified=response.headers.get("Last-Modified"),
        )

    async def page(self, url: str) -> Page:
        """An entry's page as HTML text (any other content type is refused), if the site's
        robots.txt lets our User-Agent fetch it."""
        if self.politeness.obey_robots and not await self._robots_allow(url):
            raise FetchFailed("robots_disallowed", "the site's robots.txt disallows it",
                              transient=False)
        status, body, response = await self._get(url, {"Accept": "text/html,application/xhtml+xml"})
        _raise_for(status)
        media_type = (response.content_type or "").lower()
        if media_type not in HTML_TYPES:
            raise FetchFailed("not_html", f"the page is {media_type or 'untyped'}",
                              transient=False)
        return Page(url=str(response.url), html=decode_page(body, response.charset))


    async def _robots_allow(self, url: str) -> bool:
        parts = urlsplit(url)
        site = f"{parts.scheme}://{parts.netloc}"
        known = self._robots.get(site)
        if known is None or time.monotonic() - known[0] > ROBOTS_SECONDS or (
            known[1].done() and known[1].exception() is not None
        ):
            known = (time.monotonic(), asyncio.ensure_future(self._read_robots(site)))
            self._robots[site] = known
        rules = await asyncio.shield(known[1])
        return rules.can_fetch(self.politeness.user_agent, url)

    async def _read_robots(self, site: str) -> RobotFileParser:
        """A site's rules, as RFC 9309 says: a 4xx means no rules (all allowed); an answer that
        may pass (5xx, timeout) raises FetchFailed, so the page waits for the next round."""
        rules = RobotFileParser()
        status, body, _ = await self._get(f"{site}/robots.txt", {})
        if status >= 500:
            raise FetchFailed("robots_unavailable", f"robots.txt: HTTP {status}", transient=True)
        lines = [] if status >= 400 else body.decode("utf-8", errors="replace").splitlines()
        rules.parse(lines)  # no lines: no rules, everything allowed
        return rules


def _raise_for(status: int) -> None:
    if status < 400:
        return
    # 408, 425, 429 and 5xx may pass; any other 4xx says the page is not there for us.
    transient = status >= 500 or status in (408, 425, 429)
    raise FetchFailed(f"http_{status // 100}xx", f"HTTP {status}", transient=transient)
