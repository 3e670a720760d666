"""What `storywire ingest` prints about copy it skips or could not send: hostile text is text."""

import json
from io import StringIO
from pathlib import Path

import pytest
from rich.console import Console

from services.ingest import producer
from services.settings import Settings
from tests.unit.text_hostile import HOSTILE, assert_harmless


class SentFuture:
    def __init__(self, error: Exception | None) -> None:
        self.error = error

    def get(self, timeout: float) -> None:
        if self.error is not None:
            raise self.error


class FakeProducer:
    """Acknowledges every send, or fails each with `error`: no broker in a unit test."""

    def __init__(self, error: Exception | None = None) -> None:
        self.error = error

    def send(self, topic: str, key: bytes, value: bytes) -> SentFuture:
        return SentFuture(self.error)

    def flush(self) -> None:
        pass

    def close(self, timeout: float) -> None:
        pass


def fake_broker(monkeypatch: pytest.MonkeyPatch, error: Exception | None = None) -> None:
    monkeypatch.setattr(producer, "create_topics", lambda settings: [])
    monkeypatch.setattr(producer, "make_producer", lambda settings: FakeProducer(error))


def hostile_feed(folder: Path, copy: str) -> Path:
    # The file's name is copy too: a feed from elsewhere names its own files.
    name = copy.replace("/", "_").replace("\\", "_").replace("\x00", "_")[:100]
    feed = folder / f"{name}.jsonl"
    feed.write_text(
        json.dumps({"id": copy, "source": copy}) + "\n"  # no text: skipped
        + json.dumps({"id": "a1", "title": copy, "text": copy, "source": "wire"}) + "\n"
    )
    return feed


@pytest.mark.parametrize("copy", HOSTILE)
def test_skipped_copy_is_reported_as_text(
    copy: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_broker(monkeypatch)
    buffer = StringIO()
    console = Console(file=buffer, width=10_000, color_system=None, force_terminal=False)
    report = producer.ingest(
        [hostile_feed(tmp_path, copy)], Settings(), console=console, show_progress=False
    )
    assert len(report.rejected) == 1 and len(report.sent) == 1
    output = buffer.getvalue()
    assert "skipped" in output
    assert_harmless(output)


def test_send_errors_keep_their_words_for_the_cli(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_broker(monkeypatch, error=RuntimeError("broker said \x1b[2J[/x]"))
    report = producer.ingest(
        [hostile_feed(tmp_path, "wire")], Settings(), console=Console(file=StringIO()),
        show_progress=False,
    )
    assert [why for _, why in report.failed] == ["RuntimeError: broker said \x1b[2J[/x]"]

