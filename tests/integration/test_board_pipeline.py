"""End to end: the seeds go through the whole pipeline while the board's page is open.

Three real workers and a real `storywire board` process on fresh topics, the page in headless
Chromium. The first seed is fed alone: the Kerry-Putin story appears on the open page; the
other four follow and the same story's card grows to five articles from five outlets, with
no reload. Its story page then lists all five articles with their outlets. A story whose
headline carries markup, fed through the same pipeline, is shown as text and runs nothing.
"""

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.common.by import By

from lab.board import BoardProcess
from lab.pipeline import LocalPipeline, free_port_block
from lab.seeds import lay_out_by_outlet
from services.ingest.producer import ingest
from services.settings import Settings
from tests.integration.board_browser import browser_fixture, eventually
from tests.integration.conftest import fresh_settings

pytestmark = pytest.mark.integration

HOSTILE_HEADLINE = '<img src=x onerror="window.__ran=1"> Storm floods coastal towns in Chile'
HOSTILE_RECORD = {
    "id": "storm-markup-1",
    "source": "hostile.example",
    "title": HOSTILE_HEADLINE,
    "url": "https://hostile.example/storm",
    "text": (
        "VALPARAISO, Chile — A winter storm flooded coastal towns across central Chile on "
        "Tuesday, forcing hundreds of families from their homes as rivers broke their banks.\n\n"
        "Emergency services said roads into several fishing villages were cut off and power "
        "was out for tens of thousands of households along the coast.\n\n"
        "The national weather office warned that more heavy rain was expected overnight and "
        "urged residents of low-lying areas to move to higher ground."
    ),
}


@pytest.fixture(scope="module")
def browser() -> Iterator[webdriver.Chrome]:
    yield from browser_fixture()


def cards(browser: webdriver.Chrome) -> dict[str, str]:
    return {
        card.get_attribute("data-id") or "": card.text
        for card in browser.find_elements(By.CSS_SELECTOR, "li.story")
    }


def test_the_seeds_story_appears_grows_and_lists_its_articles_on_an_open_page(
    broker: Settings, shared: Path, tmp_path: Path, browser: webdriver.Chrome
) -> None:
    settings = fresh_settings(broker)
    # One folder per outlet, as the demo feeds them: a seed's source is its outlet.
    seeds = sorted(lay_out_by_outlet(shared / "seeds", tmp_path / "seeds").glob("*/*.txt"),
                   key=lambda path: path.name)
    assert len(seeds) == 5
    hostile = tmp_path / "hostile.jsonl"
    hostile.write_text(json.dumps(HOSTILE_RECORD) + "\n")
    with BoardProcess(settings, tmp_path / "board.log") as board, \
            LocalPipeline(settings, tmp_path / "logs",
                          metrics_base_port=free_port_block()) as pipeline:
        browser.get(board.url + "/")
        assert cards(browser) == {}
        eventually(lambda: browser.find_element(By.ID, "live-state").text == "live", 15,
                   "the page's event stream did not open")
        browser.execute_script("window.__sameDocument = true;")
        pipeline.wait_until_ready()

        first = ingest(seeds[:1], settings, show_progress=False)
        assert len(first.sent) == 1

        def one_story() -> str | None:
            pipeline.check()
            shown = cards(browser)
            return next(iter(shown)) if len(shown) == 1 else None

        story_id = eventually(one_story, 300, "the first seed's story did not appear")
        assert "1 article" in cards(browser)[story_id]

        rest = ingest([*seeds[1:], hostile], settings, show_progress=False)
        assert len(rest.sent) == 5 and not rest.rejected and not rest.failed

        def grown() -> str | None:
            pipeline.check()
            text = cards(browser).get(story_id, "")
            return text if "5 articles" in text else None

        card = eventually(grown, 300, "the seeds' story did not grow to five articles")
        assert "5 outlets" in card
        assert "Vladimir Putin" in card and "John Kerry" in card
        assert browser.execute_script("return window.__sameDocument === true;"), "reloaded"

        # The story with markup in its headline, inserted live by the page's script.
        def hostile_title() -> str | None:
            pipeline.check()
            titles = [t.text for t in browser.find_elements(By.CSS_SELECTOR, "li.story .title")]
            return next((t for t in titles if "Storm floods" in t), None)

        assert eventually(hostile_title, 300, "the storm story did not appear") == \
            HOSTILE_HEADLINE
        assert browser.find_elements(By.TAG_NAME, "img") == []
        assert browser.execute_script("return window.__ran === undefined;")

        # The story page: all five seeds, each with its outlet (the folder it was fed from),
        # in time order.
        browser.get(f"{board.url}/stories/{story_id}")
        listed = [
            (row.find_element(By.CSS_SELECTOR, ".outlet").text,
             row.find_element(By.CSS_SELECTOR, ".headline").text)
            for row in browser.find_elements(By.CSS_SELECTOR, "#articles li.article")
        ]
        assert sorted(outlet for outlet, _ in listed) == sorted(seed.parent.name for seed in seeds)
        assert all(headline for _, headline in listed)
        assert any("Kerry" in headline for _, headline in listed)
        detail = board.get(f"/api/stories/{story_id}")
        assert detail["article_count"] == 5 and detail["source_count"] == 5
        assert {a["article_id"] for a in detail["articles"]} == set(first.sent) | (
            set(rest.sent) - {k for k in rest.sent if k.startswith("hostile.example/")}
        )
