"""The worker logs at the level asked for: faust's spinner does not set the root to DEBUG."""

import logging

import faust
import pytest

from services.worker import make_worker


@pytest.mark.parametrize("level", ["warning", "error"])
def test_root_logger_stays_at_the_asked_level(level: str) -> None:
    app = faust.App("storywire-test-worker", autodiscover=False, web_enabled=False)
    worker = make_worker(app, level)
    root = logging.Logger("test-root", logging.WARNING)
    root.addHandler(logging.StreamHandler())
    # What faust calls when it sets up the root logger at the worker's level.
    worker.on_setup_root_logger(root, logging.getLevelName(level.upper()))
    assert root.level == logging.WARNING
    assert not root.isEnabledFor(logging.DEBUG)
