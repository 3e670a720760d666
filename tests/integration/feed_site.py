"""A local news site for the feed tests: an RSS and an Atom feed and their pages, on 127.0.0.1.

The RSS feed answers If-None-Match (ETag), the Atom feed If-Modified-Since (Last-Modified),
both with 304 when unchanged. Besides plain pages it serves a redirect, a slow page, an
oversized page, an endless redirect, a page robots.txt disallows, a busy page and a broken
feed, and it records every request (path, status, time, how many were in flight on the host
at once) so tests can check the poller.
"""

import email.utils
import hashlib
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from xml.sax.saxutils import escape


@dataclass
class Story:
    slug: str
    title: str
    html: str
    published: datetime
    link_path: str | None = None  # default /pages/<slug>.html


@dataclass
class Hit:
    path: str
    status: int
    started: float
    in_flight: int


@dataclass
class Site:
    rss_title: str = "Example Wire"
    rss: list[Story] = field(default_factory=list)
    atom: list[Story] = field(default_factory=list)
    slow_seconds: float = 3.0
    slow_html: str = "<html><body><p>late</p></body></html>"
    big_bytes: int = 300_000
    hits: list[Hit] = field(default_factory=list)
    atom_modified: datetime = field(default_factory=lambda: datetime(2026, 12, 1, tzinfo=UTC))
    lock: threading.Lock = field(default_factory=threading.Lock)
    in_flight: int = 0
    max_in_flight: int = 0

    def link(self, story: Story) -> str:
        return story.link_path or f"/pages/{story.slug}.html"

    def rss_document(self, base: str) -> bytes:
        items = "".join(
            f"<item><title>{escape(s.title)}</title><link>{base}{self.link(s)}</link>"
            f"<guid isPermaLink=\"false\">rss-{s.slug}</guid>"
            f"<pubDate>{email.utils.format_datetime(s.published)}</pubDate></item>"
            for s in reversed(self.rss)  # newest first, as feeds list them
        )
        return (f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
                f"<title>{escape(self.rss_title)}</title><link>{base}/</link>"
                f"<description>wire</description>{items}</channel></rss>").encode()

    def atom_document(self, base: str) -> bytes:
        entries = "".join(
            f"<entry><title>{escape(s.title)}</title><link href=\"{base}{self.link(s)}\"/>"
            f"<id>urn:atom:{s.slug}</id><updated>{s.published.isoformat()}</updated></entry>"
            for s in reversed(self.atom)
        )
        return (f'<?xml version="1.0" encoding="utf-8"?>'
                f'<feed xmlns="http://www.w3.org/2005/Atom"><title>Atom Daily feed</title>'
                f"<id>urn:atom:feed</id><updated>{self.atom_modified.isoformat()}</updated>"
                f"{entries}</feed>").encode()

    def page(self, slug: str) -> str | None:
        for story in self.rss + self.atom:
            if story.slug == slug:
                return story.html
        return None

    def statuses(self, path: str) -> list[int]:
        return [hit.status for hit in self.hits if hit.path == path]


def serve(site: Site) -> tuple[ThreadingHTTPServer, str]:
    """Start the site on a free port of 127.0.0.1; returns the server and its base URL."""

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:  # quiet: the tests read `site.hits`
            pass

        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            with site.lock:
                site.in_flight += 1
                site.max_in_flight = max(site.max_in_flight, site.in_flight)
                hit = Hit(self.path, 0, time.monotonic(), site.in_flight)
            try:
                hit.status = self.answer()
            finally:
                with site.lock:
                    site.in_flight -= 1
                    site.hits.append(hit)

        def send(self, status: int, body: bytes, content_type: str,
                 headers: dict[str, str] | None = None) -> int:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)
            return status

        def answer(self) -> int:
            base = f"http://127.0.0.1:{server.server_address[1]}"
            if self.path == "/rss.xml":
                document = site.rss_document(base)
                etag = '"' + hashlib.sha256(document).hexdigest()[:16] + '"'
                if self.headers.get("If-None-Match") == etag:
                    return self.send(304, b"", "application/rss+xml", {"ETag": etag})
                return self.send(200, document, "application/rss+xml", {"ETag": etag})
            if self.path == "/atom.xml":
                modified = email.utils.format_datetime(site.atom_modified, usegmt=True)
                if self.headers.get("If-Modified-Since") == modified:
                    return self.send(304, b"", "application/atom+xml")
                return self.send(200, site.atom_document(base), "application/atom+xml",
                                 {"Last-Modified": modified})
            if self.path == "/broken.xml":
                return self.send(200, b"<html><body>502 Bad Gateway</body>", "text/html")
            if self.path == "/robots.txt":
                return self.send(200, b"User-agent: *\nDisallow: /private/\n", "text/plain")
            if self.path == "/busy.html":  # come back in a second
                return self.send(503, b"busy", "text/plain", {"Retry-After": "1"})
            if self.path == "/loop.html":  # redirects to itself, for ever
                return self.send(302, b"", "text/plain", {"Location": "/loop.html"})
            if self.path.startswith("/redirect/"):
                slug = self.path.removeprefix("/redirect/")
                return self.send(302, b"", "text/plain", {"Location": f"/pages/{slug}.html"})
            if self.path == "/slow.html":
                time.sleep(site.slow_seconds)
                return self.send(200, site.slow_html.encode(), "text/html; charset=utf-8")
            if self.path == "/big.html":
                filler = b"<p>" + b"x" * 1000 + b"</p>"
                body = b"<html><body>" + filler * (site.big_bytes // len(filler) + 1)
                return self.send(200, body + b"</body></html>", "text/html; charset=utf-8")
            if self.path.startswith("/pages/"):
                page = site.page(self.path.removeprefix("/pages/").removesuffix(".html"))
                if page is not None:
                    return self.send(200, page.encode(), "text/html; charset=utf-8")
            return self.send(404, b"not here", "text/plain")

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"
