"""Screenshots of a running story board: its front page and the founding story's page.

Usage: python -m lab.board_shots URL [--out docs] [--search Kerry]
(after `make demo`, URL is the address it printed). The founding story is the story with the
most articles among those whose title matches `--search`. Writes board-front.png,
board-story.png and board-phone.png (the front page 390 pixels wide) into `--out`.
"""

import argparse
import json
import time
import urllib.parse
import urllib.request
from pathlib import Path

from lab.browser import chromium


def founding_story(url: str, search: str) -> str:
    query = urllib.parse.urlencode({"q": search, "limit": 100})
    with urllib.request.urlopen(f"{url}/api/stories?{query}", timeout=10) as response:
        stories = json.loads(response.read())["stories"]
    if not stories:
        raise SystemExit(f"no story on {url} matches {search!r}")
    return str(max(stories, key=lambda s: s["article_count"])["id"])


def take(url: str, out: Path, search: str) -> list[Path]:
    url = url.rstrip("/")
    story_id = founding_story(url, search)
    out.mkdir(parents=True, exist_ok=True)
    browser = chromium(width=1000, height=1300)
    written = []
    try:
        for path, name in (("/", "board-front.png"),
                           (f"/stories/{urllib.parse.quote(story_id)}", "board-story.png")):
            browser.get(url + path)
            time.sleep(1.5)  # the stream connects and the highlight of fresh cards fades
            target = out / name
            browser.save_screenshot(str(target))
            written.append(target)
    finally:
        browser.quit()
    phone = chromium(width=500, height=900)
    try:
        # A phone's screen (390 x 844 CSS pixels, as an iPhone 14): narrower than a desktop
        # window may be, so through the device metrics.
        phone.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
            "width": 390, "height": 844, "deviceScaleFactor": 1, "mobile": True,
        })
        phone.get(url + "/")
        time.sleep(1.5)
        target = out / "board-phone.png"
        phone.save_screenshot(str(target))
        written.append(target)
    finally:
        phone.quit()
    return written


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url")
    parser.add_argument("--out", type=Path, default=Path("docs"))
    parser.add_argument("--search", default="Kerry")
    arguments = parser.parse_args()
    for written in take(arguments.url, arguments.out, arguments.search):
        print(f"wrote {written}")
