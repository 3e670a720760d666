"""Headless Chromium for the board's tests (lab.browser: Debian's chromium, nothing fetched)."""

import time
from collections.abc import Callable, Iterator
from typing import TypeVar

import pytest
from selenium import webdriver

from lab.browser import BrowserMissing, chromium

T = TypeVar("T")


def browser_fixture() -> Iterator[webdriver.Chrome]:
    try:
        driver = chromium()
    except BrowserMissing as exc:
        pytest.fail(str(exc))
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
