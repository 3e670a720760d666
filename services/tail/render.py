"""How a story event or a dead letter reads on a terminal: the downstream consumer's view."""

from rich.markup import escape

from schemas.deadletter import DeadLetterV1
from schemas.stories import StoryEventV1

EVENT_STYLE = {
    "created": "green", "updated": "cyan", "closed": "dim", "merged": "magenta", "split": "yellow"
}


def story_line(story: StoryEventV1, max_entities: int = 6) -> str:
    """One rich-markup line: what happened, the story's size, headline and top entities."""
    style = EVENT_STYLE.get(story.event, "white")
    entities = ", ".join(
        f"{escape(entity.text)} ({entity.articles})" for entity in story.top_entities[:max_entities]
    )
    link = ""
    if story.merged_into:
        link = f" into {escape(story.merged_into)}"
    elif story.split_into:
        link = f", part moved to {escape(story.split_into)}"
    return (
        f"[{style}]{story.event:<7}[/{style}] story [bold]{escape(story.story_id)}[/bold] "
        f"v{story.version}{link} · {story.article_count} article(s) from "
        f"{len(story.sources)} source(s) · [bold]{escape(story.title)}[/bold]"
        + (f"\n          entities: {entities}" if entities else "")
    )


def dead_letter_line(letter: DeadLetterV1) -> str:
    preview = letter.original[:80].decode("utf-8", errors="replace").replace("\n", " ")
    cut = f" (cut from {letter.original_length:,} bytes)" if letter.truncated else ""
    return (
        f"[red]dead letter[/red] stage={letter.stage} reason=[bold]{escape(letter.reason)}[/bold]"
        f" from {escape(letter.topic)}[{letter.partition}]@{letter.offset}: "
        f"{escape(letter.detail)} · {escape(repr(preview))}{cut}"
    )
