"""The story board's web server (aiohttp): HTML pages, the JSON API and its SSE stream.

Pages are rendered on the server by jinja2 with autoescaping on, so every headline, name and
outlet (untrusted copy) is text, never markup; a link goes out only to an http(s) address. The
little JavaScript (static/board.js) inserts live updates with `textContent`, never as HTML,
and the Content-Security-Policy allows no inline script, no other origin and no fonts, so even
a missed escape could not run anything. Nothing is loaded from another host: the board works
offline.
"""

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

import orjson
from aiohttp import web
from jinja2 import Environment, FileSystemLoader

from services.board.core import Board, StoryFilter
from services.board.openapi import OPENAPI
from services.board.reader import ReaderStatus

log = logging.getLogger("storywire.board")

HERE = Path(__file__).parent
PAGE_SIZE = 50
SUBSCRIBER_QUEUE = 512  # events a slow stream may fall behind by before it is closed
KEEPALIVE_SECONDS = 15.0
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
        "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


def safe_href(url: str | None) -> str | None:
    """`url` if it is an http(s) address, else None: copy cannot make a `javascript:` link."""
    if not url:
        return None
    try:
        scheme = urlsplit(url.strip()).scheme.lower()
    except ValueError:
        return None
    return url.strip() if scheme in ("http", "https") else None


def when(iso: str | None) -> str:
    """An ISO timestamp as a reader reads it, in UTC: 2016-03-24 10:15 UTC."""
    if not iso:
        return ""
    moment = datetime.fromisoformat(iso).astimezone(UTC)
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def templates() -> Environment:
    env = Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=True)
    env.filters["href"] = safe_href
    env.filters["when"] = when
    env.filters["query"] = lambda pairs: urlencode(pairs)
    return env


@dataclass(eq=False)  # one per open stream, kept in a set by identity
class Subscriber:
    wanted: StoryFilter
    queue: asyncio.Queue[bytes] = field(
        default_factory=lambda: asyncio.Queue(maxsize=SUBSCRIBER_QUEUE)
    )
    overflowed: bool = False


@dataclass
class Hub:
    """Fans each changed story out to the open streams whose filter it matches."""

    board: Board
    subscribers: set[Subscriber] = field(default_factory=set)

    def ready(self) -> None:
        """The board has caught up with its topics: open pages reload what they show."""
        for subscriber in list(self.subscribers):
            self._send(subscriber, b"event: ready\ndata: {}\n\n")

    def _send(self, subscriber: Subscriber, message: bytes) -> None:
        try:
            subscriber.queue.put_nowait(message)
        except asyncio.QueueFull:
            # Too slow to keep up: closed; the browser reconnects and reloads the list.
            subscriber.overflowed = True
            self.subscribers.discard(subscriber)

    def publish(self, story_ids: set[str]) -> None:
        for story_id in sorted(story_ids):
            state = self.board.stories.get(story_id)
            for subscriber in list(self.subscribers):
                if state is not None and self.board.matches(state, subscriber.wanted):
                    message = b"event: story\ndata: " + state.summary_json + b"\n\n"
                else:  # gone, or no longer matching: a page showing it drops it
                    message = b"event: gone\ndata: " + orjson.dumps({"id": story_id}) + b"\n\n"
                self._send(subscriber, message)


BOARD = web.AppKey("board", Board)
HUB = web.AppKey("hub", Hub)
STATUS = web.AppKey("status", ReaderStatus)
TEMPLATES = web.AppKey("templates", Environment)


def _filter(request: web.Request) -> StoryFilter:
    return StoryFilter.of(dict(request.query))


def _int(request: web.Request, name: str, default: int, top: int) -> int:
    try:
        value = int(request.query.get(name, default))
    except ValueError as exc:
        raise web.HTTPBadRequest(text=f"{name} must be a whole number") from exc
    return max(0, min(value, top))


def _html(request: web.Request, template: str, status: int = 200, **context: Any) -> web.Response:
    body = request.app[TEMPLATES].get_template(template).render(**context)
    return web.Response(text=body, status=status, content_type="text/html", charset="utf-8")


async def front_page(request: web.Request) -> web.Response:
    board = request.app[BOARD]
    wanted = _filter(request)
    offset = _int(request, "offset", 0, 10**9)
    total, page = board.select(wanted, datetime.now(UTC), offset, PAGE_SIZE)
    query = wanted.query()
    return _html(
        request, "index.html",
        stories=[state.summary for state in page], total=total, offset=offset,
        page_size=PAGE_SIZE, wanted=wanted, query=query,
        stream="/api/stream" + ("?" + urlencode(query) if query else ""),
        outlets=board.outlets(), languages=board.languages(),
        ready=request.app[STATUS].ready.is_set(),
    )


async def story_page(request: web.Request) -> web.Response:
    board = request.app[BOARD]
    story_id = request.match_info["story_id"]
    detail = board.detail(story_id)
    if detail is None:
        return _html(request, "missing.html", status=404, story_id=story_id)
    return _html(
        request, "story.html", story=detail,
        stream="/api/stream?" + urlencode({"story": story_id}),
    )


async def api_stories(request: web.Request) -> web.Response:
    board = request.app[BOARD]
    body = board.page_json(
        _filter(request), datetime.now(UTC),
        _int(request, "offset", 0, 10**9), _int(request, "limit", PAGE_SIZE, 1000),
    )
    return web.Response(body=body, content_type="application/json")


async def api_story(request: web.Request) -> web.Response:
    detail = request.app[BOARD].detail(request.match_info["story_id"])
    if detail is None:
        return web.json_response({"error": "no such story"}, status=404)
    return web.Response(body=orjson.dumps(detail), content_type="application/json")


async def api_status(request: web.Request) -> web.Response:
    status = request.app[STATUS]
    board = request.app[BOARD]
    return web.json_response({
        "ready": status.ready.is_set(), "stories": len(board.stories),
        "stories_read": status.stories_read, "members_read": status.members_read,
        "unreadable": status.unreadable, "streams": len(request.app[HUB].subscribers),
    })


async def api_stream(request: web.Request) -> web.StreamResponse:
    hub = request.app[HUB]
    subscriber = Subscriber(_filter(request))
    response = web.StreamResponse(headers={
        "Content-Type": "text/event-stream", "Cache-Control": "no-cache",
        "X-Accel-Buffering": "no",
    })
    hub.subscribers.add(subscriber)
    try:
        await response.prepare(request)
        await response.write(b"retry: 2000\n: connected\n\n")
        while not subscriber.overflowed:
            try:
                message = await asyncio.wait_for(subscriber.queue.get(), KEEPALIVE_SECONDS)
            except TimeoutError:
                message = b": keepalive\n\n"
            await response.write(message)
    except (ConnectionResetError, asyncio.CancelledError):
        pass
    finally:
        hub.subscribers.discard(subscriber)
    return response


async def openapi(request: web.Request) -> web.Response:
    return web.json_response(OPENAPI)


@web.middleware
async def security_headers(request: web.Request, handler: Any) -> web.StreamResponse:
    response: web.StreamResponse = await handler(request)
    if not response.prepared:
        response.headers.update(SECURITY_HEADERS)
    return response


def make_app(board: Board, status: ReaderStatus) -> web.Application:
    """The board's routes over `board`; the caller feeds it (services.board.server)."""
    app = web.Application(middlewares=[security_headers])
    app[BOARD] = board
    app[HUB] = Hub(board)
    app[STATUS] = status
    app[TEMPLATES] = templates()
    app.add_routes([
        web.get("/", front_page),
        web.get("/stories/{story_id}", story_page),
        web.get("/api/stories", api_stories),
        web.get("/api/stories/{story_id}", api_story),
        web.get("/api/stream", api_stream),
        web.get("/api/status", api_status),
        web.get("/api/openapi.json", openapi),
        web.static("/static", HERE / "static"),
    ])
    app.on_shutdown.append(_close_streams)
    return app


async def _close_streams(app: web.Application) -> None:
    # Open SSE streams would hold the shutdown for their whole grace period.
    for subscriber in list(app[HUB].subscribers):
        subscriber.overflowed = True
        with contextlib.suppress(asyncio.QueueFull):
            subscriber.queue.put_nowait(b": bye\n\n")
