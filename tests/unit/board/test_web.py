"""The board's pages and API over a board filled in the test (aiohttp's test server, no broker)."""

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import orjson
from aiohttp.test_utils import TestClient, TestServer

from services.board.core import Board
from services.board.reader import ReaderStatus
from services.board.web import HUB, make_app, safe_href
from tests.unit.board.test_core import member, story

HOSTILE = '<img src=x onerror=alert(1)><script>alert(2)</script>'


def run(check: Callable[[TestClient, Board], Awaitable[Any]]) -> Any:
    async def go() -> Any:
        board = Board()
        status = ReaderStatus()
        status.ready.set()
        async with TestClient(TestServer(make_app(board, status))) as client:
            return await check(client, board)

    return asyncio.run(go())


def filled(board: Board) -> None:
    board.apply_story(story("st-kerry", count=2, sources=("xinhua", "tass")))
    board.apply_story(story("st-evil", title=HOSTILE, entities=(HOSTILE,), sources=(HOSTILE,)))
    board.apply_member(member("a/1", "st-kerry", headline="Kerry arrives in Moscow"))
    board.apply_member(member("a/2", "st-kerry", source="tass", headline=HOSTILE, minutes=5))


def test_copy_with_markup_is_escaped_on_both_pages_and_sent_with_a_strict_policy() -> None:
    async def check(client: TestClient, board: Board) -> None:
        filled(board)
        for path in ("/", "/stories/st-kerry", "/stories/st-evil"):
            response = await client.get(path)
            assert response.status == 200, path
            body = await response.text()
            assert "<img src=x" not in body and "<script>alert" not in body, path
            assert "script-src 'self'" in response.headers["Content-Security-Policy"]
        front = await (await client.get("/")).text()
        assert "&lt;img src=x onerror=alert(1)&gt;" in front
        page = await (await client.get("/stories/st-kerry")).text()
        assert "Kerry arrives in Moscow" in page and "&lt;img src=x onerror=alert(1)&gt;" in page
        assert 'href="https://example.org/a/1"' in page

    run(check)


def test_only_http_addresses_become_links() -> None:
    assert safe_href("https://example.org/x") == "https://example.org/x"
    assert safe_href(" http://example.org/ ") == "http://example.org/"
    assert safe_href("javascript:alert(1)") is None
    assert safe_href("JaVaScRiPt:alert(1)") is None
    assert safe_href("data:text/html,<b>") is None
    assert safe_href(None) is None


def test_the_api_lists_filters_and_details_stories() -> None:
    async def check(client: TestClient, board: Board) -> None:
        filled(board)
        listing = await (await client.get("/api/stories")).json()
        assert listing["total"] == 2
        assert [s["id"] for s in listing["stories"]] == ["st-kerry", "st-evil"]
        assert listing["stories"][1]["title"] == HOSTILE  # JSON carries the copy as it is
        only = await (await client.get("/api/stories", params={"outlet": "TASS"})).json()
        assert [s["id"] for s in only["stories"]] == ["st-kerry"]
        paged = await (await client.get("/api/stories", params={"offset": 1, "limit": 1})).json()
        assert [s["id"] for s in paged["stories"]] == ["st-evil"]
        assert (await client.get("/api/stories", params={"limit": "many"})).status == 400
        detail = await (await client.get("/api/stories/st-kerry")).json()
        assert [(a["source"], a["headline"]) for a in detail["articles"]] == [
            ("xinhua", "Kerry arrives in Moscow"), ("tass", HOSTILE)]
        assert (await client.get("/api/stories/st-none")).status == 404
        assert (await client.get("/stories/st-none")).status == 404
        spec = await (await client.get("/api/openapi.json")).json()
        assert "/api/stream" in spec["paths"]

    run(check)


def test_the_stream_sends_matching_changes_and_says_when_a_story_stops_matching() -> None:
    async def check(client: TestClient, board: Board) -> None:
        filled(board)
        response = await client.get("/api/stream", params={"outlet": "tass"})
        assert response.headers["Content-Type"].startswith("text/event-stream")
        assert isinstance(client.server, TestServer)
        hub = client.server.app[HUB]
        for _ in range(100):  # the handler registers its subscriber once it has started
            if hub.subscribers:
                break
            await asyncio.sleep(0.01)
        board.apply_story(story("st-kerry", 2, event="updated", count=3, sources=("tass",)))
        hub.publish({"st-kerry", "st-evil"})
        board.apply_story(story("st-kerry", 3, event="closed", count=3, sources=("tass",)))
        hub.publish({"st-kerry"})
        seen: list[tuple[str, dict[str, Any]]] = []
        event = ""
        while len(seen) < 3:
            line = (await asyncio.wait_for(response.content.readline(), 5)).decode().strip()
            if line.startswith("event: "):
                event = line[7:]
            elif line.startswith("data: "):
                seen.append((event, orjson.loads(line[6:])))
        response.close()
        assert seen[0] == ("gone", {"id": "st-evil"})  # never matched the filter
        assert seen[1][0] == "story" and seen[1][1]["article_count"] == 3
        assert seen[2] == ("gone", {"id": "st-kerry"})  # closed: off the live list

    run(check)


def test_the_front_page_pages_by_fifty_and_can_show_ended_stories() -> None:
    async def check(client: TestClient, board: Board) -> None:
        for n in range(60):
            board.apply_story(story(f"st-{n:02d}", count=n + 1))
        board.apply_story(story("st-closed", event="closed", count=500))
        first = await (await client.get("/")).text()
        assert first.count('class="story"') == 50 and "st-closed" not in first
        assert 'href="/?offset=50">more stories</a>' in first
        second = await (await client.get("/", params={"offset": "50"})).text()
        assert second.count('class="story"') == 10 and "more stories" not in second
        assert 'data-id="st-00"' in second  # the smallest story comes last
        ended = await (await client.get("/", params={"ended": "1", "offset": "50"})).text()
        assert "<span id=\"total\">61</span> stories," in ended
        # Ended stories after every live one, however big.
        assert ended.index('data-id="st-00"') < ended.index('data-id="st-closed"')

    run(check)


def test_a_page_opened_while_the_board_reads_is_told_when_it_has_caught_up() -> None:
    async def check(client: TestClient, board: Board) -> None:
        response = await client.get("/api/stream")
        assert isinstance(client.server, TestServer)
        hub = client.server.app[HUB]
        for _ in range(100):
            if hub.subscribers:
                break
            await asyncio.sleep(0.01)
        hub.ready()
        lines = []
        while "event: ready" not in lines:
            lines.append((await asyncio.wait_for(response.content.readline(), 5)).decode().strip())
        response.close()

    run(check)
