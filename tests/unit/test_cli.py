"""`storywire --help` and each command's: their prose reads as paragraphs in a terminal."""

import json
import re
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from services.cli import app
from tests.unit.text_hostile import HOSTILE, assert_harmless

WIDTH = 80
COMMANDS = [
    [], ["ingest"], ["feed"], ["worker"], ["demo"], ["bench", "pipeline"], ["eval", "clustering"],
    ["audit"], ["board"],
]


def _prose(args: list[str]) -> list[list[str]]:
    """The help's description paragraphs (the text between the usage line and the first
    panel), each as its rendered lines."""
    result = CliRunner().invoke(app, [*args, "--help"], env={"COLUMNS": str(WIDTH)})
    assert result.exit_code == 0, result.output
    text = result.output.split("Usage:", 1)[1].split("\n", 1)[1]
    text = re.split(r"^\W*(?:Arguments|Options|Commands)\W", text, maxsplit=1, flags=re.M)[0]
    paragraphs: list[list[str]] = [[]]
    for line in text.splitlines():
        if line.strip():
            paragraphs[-1].append(line.rstrip())
        elif paragraphs[-1]:
            paragraphs.append([])
    return [p for p in paragraphs if p]


@pytest.mark.parametrize("args", COMMANDS, ids=lambda args: " ".join(args) or "storywire")
def test_help_paragraphs_fill_the_terminal_width(args: list[str]) -> None:
    paragraphs = _prose(args)
    assert paragraphs, "no description"
    for paragraph in paragraphs:
        # Every line but a paragraph's last is filled to near the width: a docstring's own line
        # breaks kept in the output leave short lines followed by a longer one.
        for line in paragraph[:-1]:
            assert len(line) > WIDTH - 20, paragraph


LAB_COMMANDS = [
    ["demo"],
    ["eval", "cleaning", "."],
    ["eval", "clustering", "gold.jsonl"],
    ["eval", "clustering", "gold.jsonl", "--through-kafka"],
    ["bench", "cluster"],
    ["bench", "pipeline"],
    ["bench", "board"],
]


@pytest.mark.parametrize("args", LAB_COMMANDS, ids=" ".join)
def test_lab_commands_say_the_lab_is_missing_where_it_is(
    args: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """As in the Docker image, which ships services/ but no lab/."""
    for name in [name for name in sys.modules if name == "lab" or name.startswith("lab.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "lab", None)  # `import lab...` now fails as if absent
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2, result.output
    assert "need the lab package of a source checkout" in " ".join(result.output.split())


@pytest.mark.parametrize("copy", HOSTILE)
def test_error_messages_print_copy_as_text(copy: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from services.ingest import producer

    # A path that does not exist: the error quotes it.
    result = CliRunner().invoke(app, ["ingest", f"/nonexistent/{copy}"])
    assert result.exit_code == 2 and "no such file or directory" in result.output
    assert_harmless(result.output)

    # A send the broker refused: "not sent" quotes where the copy came from and the error.
    def refused(*args: object, **kwargs: object) -> producer.IngestReport:
        return producer.IngestReport(failed=[(f"feed.jsonl:{copy}", f"KafkaError: {copy}")])

    monkeypatch.setattr(producer, "ingest", refused)
    result = CliRunner().invoke(app, ["ingest", "/"])
    assert result.exit_code == 1 and "not sent" in result.output
    assert_harmless(result.output)


@pytest.mark.parametrize("as_json", [False, True])
@pytest.mark.parametrize("copy", HOSTILE)
def test_tail_prints_copy_as_text(
    copy: str, as_json: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    import base64
    from datetime import UTC, datetime
    from types import SimpleNamespace

    from schemas.deadletter import DeadLetterV1
    from schemas.stories import StoryEntityV1, StoryEventV2, StorySourceV2
    from services.tail import consumer

    seen = datetime(2016, 3, 24, 12, tzinfo=UTC)
    story = StoryEventV2(
        story_id=f"s-{copy}", version=1, event="created", language="en", title=copy,
        article_count=1, source_count=1, sources=(StorySourceV2(source=copy, articles=1),),
        first_article_ids=(copy,), latest_article_ids=(copy,), joined_ids=(copy,),
        joined_count=1, first_seen=seen, last_seen=seen,
        top_entities=(StoryEntityV1(text=copy, label="ORG", articles=1),),
    )
    letter = DeadLetterV1(
        stage="clean", reason=copy, detail=copy, topic="articles.raw", partition=0, offset=1,
        original=base64.b64encode(copy.encode()), failed_at=seen,
    )
    records = [
        SimpleNamespace(topic="stories", partition=0, offset=0, value=story.model_dump_json()),
        SimpleNamespace(topic="dlq.clean", partition=0, offset=0, value=letter.model_dump_json()),
        SimpleNamespace(topic="stories", partition=0, offset=1, value=copy.encode()),
    ]
    monkeypatch.setattr(consumer, "read_topics", lambda *args, **kwargs: iter(records))
    result = CliRunner().invoke(app, ["tail", "--dlq", *(["--json"] if as_json else [])])
    assert result.exit_code == 0, result.output
    assert_harmless(result.output)
    assert "unreadable message" in result.output
    if as_json:
        stories = [line for line in result.stdout.splitlines() if line.startswith("{")]
        assert [json.loads(line)["title"] for line in stories[:1]] == [copy]


def test_feed_without_feeds_or_with_a_bad_feeds_file_exits_2(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["feed", "--once"])
    assert result.exit_code == 2 and "no feeds" in result.output
    result = CliRunner().invoke(app, ["feed", "example.org/rss", "--once"])
    assert result.exit_code == 2 and "example.org/rss: url" in result.output
    feeds = tmp_path / "feeds.toml"
    feeds.write_text('[[feed]]\nurl = "gopher://old.example/"\n')
    result = CliRunner().invoke(app, ["feed", "--feeds", str(feeds), "--once"])
    assert result.exit_code == 2
    assert "feeds.toml: feed 1: url" in " ".join(result.output.split())
