"""Headless Chromium through selenium: Debian's chromium and chromedriver, nothing fetched.

selenium is pointed at /usr/bin/chromedriver and /usr/bin/chromium (`make browser-install`),
and SE_OFFLINE keeps its driver manager from ever looking for a browser or driver to download.
Used by the board's browser tests and its screenshots (`python -m lab.board_shots`).
"""

import os
from pathlib import Path

from selenium import webdriver
from selenium.webdriver.chrome.service import Service

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")


class BrowserMissing(RuntimeError):
    """Debian's chromium or chromium-driver is not installed."""


def chromium(width: int = 1100, height: int = 1400) -> webdriver.Chrome:
    if not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
        raise BrowserMissing(
            "Debian's chromium and chromium-driver are missing: run `make browser-install`"
        )
    os.environ["SE_OFFLINE"] = "true"
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
                     "--disable-gpu", f"--window-size={width},{height}",
                     "--no-first-run", "--disable-extensions", "--hide-scrollbars"):
        options.add_argument(argument)
    return webdriver.Chrome(service=Service(executable_path=str(CHROMEDRIVER)), options=options)
