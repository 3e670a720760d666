"""The story board in real headless Chromium, fed through the real broker.

Story events (StoryEventV2) and member records (StoryMemberV1) are written to fresh topics as
the cluster stage writes them; a real `storywire board` process reads them. The page is
opened first, and stories then appear and change on it without a reload; a story page lists
its articles with their outlets; copy with markup shows as text and runs nothing; a restarted
board shows the same stories.
"""

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.common.by import By

from lab.board import BoardProcess, publish
from schemas.stories import StoryEntityV1, StoryEventV2, StoryMemberV1, StorySourceV2
from services.settings import Settings
from tests.integration.board_browser import browser_fixture, eventually
from tests.integration.conftest import fresh_settings

pytestmark = pytest.mark.integration

HOSTILE = '<img src=x onerror="window.__ran=1">'
NOW = datetime.now(UTC).replace(microsecond=0)
OUTLETS = ("rt.com", "tass.com", "xinhua", "sana", "usnews")


def event(story_id: str, version: int, title: str, outlets: tuple[str, ...],
          kind: str = "updated") -> StoryEventV2:
    return StoryEventV2(
        story_id=story_id, version=version, event=kind,  # type: ignore[arg-type]
        language="en", title=title, article_count=len(outlets), source_count=len(set(outlets)),
        sources=tuple(StorySourceV2(source=o, articles=outlets.count(o)) for o in set(outlets)),
        top_entities=(StoryEntityV1(text="Vladimir Putin", label="PERSON", articles=2),
                      StoryEntityV1(text="Syria", label="GPE", articles=2)),
        keywords=("kerry", "syria"), first_seen=NOW - timedelta(minutes=10), last_seen=NOW,
    )


def article(
    n: int, story_id: str, outlet: str, headline: str, version: int, url: str | None = None
) -> StoryMemberV1:
    return StoryMemberV1(
        article_id=f"{outlet}/{n}", story_id=story_id, story_version=version, source=outlet,
        headline=headline, url=url or f"https://{outlet}/news/{n}", language="en",
        published_at=NOW - timedelta(minutes=10 - n), ingested_at=NOW,
    )


@pytest.fixture(scope="module")
def settings(broker: Settings) -> Settings:
    settings = fresh_settings(broker)
    # A story already on the topics before the board starts: read from the beginning.
    publish(settings, [event("st-earlier", 1, "Earthquake hits Chile", ("reuters",), "created")],
            [article(0, "st-earlier", "reuters", "Earthquake hits Chile", 1)])
    return settings


@pytest.fixture(scope="module")
def board(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[BoardProcess]:
    with BoardProcess(settings, tmp_path_factory.mktemp("board") / "board.log") as process:
        yield process


@pytest.fixture(scope="module")
def browser() -> Iterator[webdriver.Chrome]:
    yield from browser_fixture()


def card_text(browser: webdriver.Chrome, story_id: str) -> str | None:
    cards = browser.find_elements(By.CSS_SELECTOR, f'li.story[data-id="{story_id}"]')
    return cards[0].text if cards else None


def test_stories_appear_and_update_on_an_open_page_without_a_reload(
    settings: Settings, board: BoardProcess, browser: webdriver.Chrome
) -> None:
    browser.get(board.url + "/")
    assert "Earthquake hits Chile" in (card_text(browser, "st-earlier") or "")
    eventually(lambda: browser.find_element(By.ID, "live-state").text == "live", 15,
               "the page's event stream did not open")
    browser.execute_script("window.__sameDocument = true;")

    publish(settings, [event("st-kerry", 1, "Putin meets Kerry in Moscow", OUTLETS[:1], "created")],
            [article(1, "st-kerry", OUTLETS[0], "Putin holds meeting with Kerry", 1)])
    eventually(lambda: "1 article" in (card_text(browser, "st-kerry") or ""), 20,
               "the new story did not appear on the open page")
    publish(settings, [event("st-kerry", 2, "Putin meets Kerry in Moscow", OUTLETS[:3])],
            [article(n, "st-kerry", OUTLETS[n - 1], f"Kerry in Moscow, take {n}", 2)
             for n in (2, 3)])
    def updated() -> str | None:
        text = card_text(browser, "st-kerry")
        return text if text and "3 articles" in text else None

    text = eventually(updated, 20, "the story's card did not update")
    assert "3 outlets" in text and "tass.com" in text and "Vladimir Putin" in text
    # Most active first: the 3-article story moved above the 1-article one.
    order = [c.get_attribute("data-id") for c in browser.find_elements(By.CSS_SELECTOR, "li.story")]
    assert order.index("st-kerry") < order.index("st-earlier")
    assert browser.execute_script("return window.__sameDocument === true;"), "the page reloaded"


def test_copy_with_markup_arriving_live_is_shown_as_text_and_runs_nothing(
    settings: Settings, board: BoardProcess, browser: webdriver.Chrome
) -> None:
    browser.get(board.url + "/")
    eventually(lambda: browser.find_element(By.ID, "live-state").text == "live", 15,
               "the page's event stream did not open")
    publish(settings, [event("st-hostile", 1, HOSTILE, ("evil.example",), "created")],
            [article(9, "st-hostile", "evil.example", HOSTILE, 1)])
    title = eventually(
        lambda: browser.find_element(By.CSS_SELECTOR, 'li.story[data-id="st-hostile"] .title'),
        20, "the story with a hostile title did not appear",
    )
    assert title.text == HOSTILE
    assert browser.find_elements(By.TAG_NAME, "img") == []
    assert browser.execute_script("return window.__ran === undefined;")
    browser.get(board.url + "/stories/st-hostile")  # and rendered by the server
    assert browser.find_element(By.ID, "story-title").text == HOSTILE
    assert browser.find_element(By.CSS_SELECTOR, "#articles .headline").text == HOSTILE
    assert browser.find_elements(By.TAG_NAME, "img") == []
    assert browser.execute_script("return window.__ran === undefined;")

    # A link that would run script is no link: neither rendered by the server, nor inserted
    # live by the page's script.
    evil_link = "javascript:window.__ran=1"
    eventually(lambda: browser.find_element(By.ID, "live-state").text == "live", 15,
               "the story page's event stream did not open")
    publish(settings, [event("st-hostile", 2, HOSTILE, ("evil.example",) * 2)],
            [article(10, "st-hostile", "evil.example", "Click me", 2, url=evil_link)])

    def live_row() -> str | None:
        rows = browser.find_elements(By.CSS_SELECTOR, '#articles li[data-id="evil.example/10"]')
        return rows[0].find_element(By.CSS_SELECTOR, ".headline").tag_name if rows else None

    assert eventually(live_row, 20, "the new article did not appear on the story page") == "span"
    browser.get(board.url + "/stories/st-hostile")
    assert live_row() == "span"
    assert not [a for a in browser.find_elements(By.TAG_NAME, "a")
                if (a.get_attribute("href") or "").startswith("javascript:")]
    assert browser.execute_script("return window.__ran === undefined;")


def test_a_story_page_lists_its_articles_with_outlets_and_takes_new_ones_live(
    settings: Settings, board: BoardProcess, browser: webdriver.Chrome
) -> None:
    eventually(lambda: len(board.get("/api/stories/st-kerry")["articles"]) == 3, 20,
               "the board did not list the story's three articles")
    browser.get(board.url + "/stories/st-kerry")
    eventually(lambda: browser.find_element(By.ID, "live-state").text == "live", 15,
               "the story page's event stream did not open")
    browser.execute_script("window.__sameDocument = true;")
    publish(settings, [event("st-kerry", 3, "Putin meets Kerry in Moscow", OUTLETS)],
            [article(n, "st-kerry", OUTLETS[n - 1], f"Kerry in Moscow, take {n}", 3)
             for n in (4, 5)])

    def rows() -> list[tuple[str, str]] | None:
        items = browser.find_elements(By.CSS_SELECTOR, "#articles li.article")
        found = [(i.find_element(By.CSS_SELECTOR, ".outlet").text,
                  i.find_element(By.CSS_SELECTOR, ".headline").text) for i in items]
        return found if len(found) == 5 else None

    listed = eventually(rows, 20, "the story page did not list all five articles")
    assert [outlet for outlet, _ in listed] == list(OUTLETS)  # in publication order
    assert listed[0][1] == "Putin holds meeting with Kerry"
    assert "5 articles" in browser.find_element(By.ID, "story-size").text
    assert browser.execute_script("return window.__sameDocument === true;"), "the page reloaded"
    link = browser.find_element(By.CSS_SELECTOR, "#articles li.article a.headline")
    assert link.get_attribute("href") == "https://rt.com/news/1"


def test_filters_narrow_the_front_page(board: BoardProcess, browser: webdriver.Chrome) -> None:
    browser.get(board.url + "/?outlet=tass.com")
    ids = [c.get_attribute("data-id") for c in browser.find_elements(By.CSS_SELECTOR, "li.story")]
    assert ids == ["st-kerry"]
    browser.get(board.url + "/?q=earthquake")
    ids = [c.get_attribute("data-id") for c in browser.find_elements(By.CSS_SELECTOR, "li.story")]
    assert ids == ["st-earlier"]


def test_a_restarted_board_shows_the_same_stories(
    settings: Settings, board: BoardProcess, tmp_path: Path
) -> None:
    before = board.get("/api/stories?limit=1000")
    detail = board.get("/api/stories/st-kerry")
    with BoardProcess(settings, tmp_path / "board-again.log") as again:
        assert again.get("/api/stories?limit=1000") == before
        assert again.get("/api/stories/st-kerry")["articles"] == detail["articles"]
    assert {s["id"] for s in before["stories"]} >= {"st-earlier", "st-kerry", "st-hostile"}
