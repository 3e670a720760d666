"""What a downstream reader sees of a story event and a dead letter."""

import base64
from datetime import UTC, datetime

from schemas.deadletter import DeadLetterV1
from schemas.stories import StoryEntityV1, StoryEventV1
from services.tail.render import dead_letter_line, story_line

SEEN = datetime(2016, 3, 24, 12, tzinfo=UTC)


def test_story_line_names_event_size_headline_and_entities() -> None:
    story = StoryEventV1(
        story_id="s-1", version=3, event="updated", language="en",
        title="Putin hopes Kerry's visit would narrow gaps", article_ids=("a", "b"),
        sources=("xinhua", "sana"), article_count=2, first_seen=SEEN, last_seen=SEEN,
        top_entities=(StoryEntityV1(text="Vladimir Putin", label="PERSON", articles=2),),
    )
    line = story_line(story)
    assert "updated" in line and "s-1" in line and "v3" in line
    assert "2 article(s) from 2 source(s)" in line
    assert "Vladimir Putin (2)" in line


def test_dead_letter_line_gives_stage_reason_and_where() -> None:
    letter = DeadLetterV1(
        stage="clean", reason="invalid_json", detail="line 1", topic="articles.raw",
        partition=1, offset=42, original=base64.b64encode(b"{oops"), failed_at=SEEN,
    )
    line = dead_letter_line(letter)
    assert "reason=[bold]invalid_json" in line and "articles.raw[1]@42" in line
    assert "{oops" in line
