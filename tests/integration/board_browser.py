"""Headless Chromium for the board's tests: Debian's chromium and chromedriver, nothing fetched.

selenium is pointed at /usr/bin/chromedriver and /usr/bin/chromium (`make browser-install`),
and SE_OFFLINE keeps its driver manager from ever looking for a browser or driver to download.
"""

import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")

T = TypeVar("T")


def chromium(width: int = 1100, height: int = 1400) -> webdriver.Chrome:
    if not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
        pytest.fail("Debian's chromium and chromium-driver are missing: run `make browser-install`")
    os.environ["SE_OFFLINE"] = "true"
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
                     "--disable-gpu", f"--window-size={width},{height}",
                     "--no-first-run", "--disable-extensions"):
        options.add_argument(argument)
    return webdriver.Chrome(service=Service(executable_path=str(CHROMEDRIVER)), options=options)


def browser_fixture() -> Iterator[webdriver.Chrome]:
    driver = chromium()
    try:
        yield driver
    finally:
        driver.quit()


def eventually(probe: Callable[[], T | None], timeout_s: float, what: str) -> T:
    """`probe()`'s first truthy value within `timeout_s`, else fail saying `what` never came."""
    deadline = time.monotonic() + timeout_s
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        try:
            value = probe()
            if value:
                return value
        except Exception as exc:  # noqa: BLE001 - a stale element between polls: poll again
            last_error = exc
        time.sleep(0.2)
    raise AssertionError(f"{what} within {timeout_s}s (last error: {last_error!r})")
