"""What a downstream reader sees of a story event and a dead letter."""

import base64
from datetime import UTC, datetime

import pytest

from schemas.deadletter import DeadLetterV1
from schemas.stories import StoryEntityV1, StoryEventV2, StorySourceV2
from services.tail.render import dead_letter_line, story_line
from tests.unit.text_hostile import HOSTILE, assert_harmless, rendered

SEEN = datetime(2016, 3, 24, 12, tzinfo=UTC)


def test_story_line_names_event_size_headline_and_entities() -> None:
    story = StoryEventV2(
        story_id="s-1", version=3, event="updated", language="en",
        title="Putin hopes Kerry's visit would narrow gaps", article_count=2, source_count=2,
        sources=(StorySourceV2(source="xinhua", articles=1),
                 StorySourceV2(source="sana", articles=1)),
        first_article_ids=("a", "b"), latest_article_ids=("a", "b"), joined_ids=("b",),
        joined_count=1, first_seen=SEEN, last_seen=SEEN,
        top_entities=(StoryEntityV1(text="Vladimir Putin", label="PERSON", articles=2),),
    )
    line = story_line(story)
    assert "updated" in line and "s-1" in line and "v3" in line
    assert "2 article(s) (+1) from 2 source(s)" in line
    assert "Vladimir Putin (2)" in line


def test_dead_letter_line_gives_stage_reason_and_where() -> None:
    letter = DeadLetterV1(
        stage="clean", reason="invalid_json", detail="line 1", topic="articles.raw",
        partition=1, offset=42, original=base64.b64encode(b"{oops"), failed_at=SEEN,
    )
    line = dead_letter_line(letter)
    assert "reason=[bold]invalid_json" in line and "articles.raw[1]@42" in line
    assert "{oops" in line


@pytest.mark.parametrize("copy", HOSTILE)
def test_hostile_copy_in_a_story_is_printed_as_text(copy: str) -> None:
    story = StoryEventV2(
        story_id=f"s-{copy}", version=1, event="merged", language="en", title=copy,
        article_count=0, source_count=0, left_ids=(copy,), left_count=1, first_seen=SEEN,
        last_seen=SEEN,
        merged_into=f"s-2{copy}",
        top_entities=(StoryEntityV1(text=copy, label="ORG", articles=1),),
    )
    output = rendered(story_line(story))
    assert_harmless(output)
    assert output.count("\n") == 2  # the story's line and its entities' line, no more


@pytest.mark.parametrize("copy", HOSTILE)
def test_hostile_copy_in_a_dead_letter_is_printed_as_text(copy: str) -> None:
    letter = DeadLetterV1(
        stage="clean", reason=copy, detail=copy, topic=f"articles.raw{copy}", partition=0,
        offset=1, original=base64.b64encode(copy.encode()), failed_at=SEEN,
    )
    output = rendered(dead_letter_line(letter))
    assert_harmless(output)
    assert output.count("\n") == 1
    assert "[/x] closes nothing" in output or "[/x]" not in copy
