"""How a story event or a dead letter reads on a terminal: the downstream consumer's view.

Every piece of text from a message (headline, entities, ids, reasons, details, the preview)
goes through `printable`: rich markup, control characters, escape sequences and bidi controls
from the copy are shown as written and do nothing to the terminal."""

from schemas.deadletter import DeadLetterV1
from schemas.stories import StoryEventV2
from services.text_safety import printable

EVENT_STYLE = {
    "created": "green", "updated": "cyan", "closed": "dim", "merged": "magenta", "split": "yellow"
}


def story_line(story: StoryEventV2, max_entities: int = 6) -> str:
    """One rich-markup line: what happened, the story's size, headline and top entities."""
    style = EVENT_STYLE.get(story.event, "white")
    entities = ", ".join(
        f"{printable(entity.text)} ({entity.articles})"
        for entity in story.top_entities[:max_entities]
    )
    link = ""
    moved = [f"+{story.joined_count}"] if story.joined_count else []
    moved += [f"-{story.left_count}"] if story.left_count else []
    if story.merged_into:
        link = f" into {printable(story.merged_into)}"
    elif story.split_into:
        link = f", part moved to {printable(story.split_into)}"
    return (
        f"[{style}]{story.event:<7}[/{style}] story [bold]{printable(story.story_id)}[/bold] "
        f"v{story.version}{link} · {story.article_count} article(s)"
        + (f" ({'/'.join(moved)})" if moved else "")
        + f" from {story.source_count} source(s) · [bold]{printable(story.title)}[/bold]"
        + (f"\n          entities: {entities}" if entities else "")
    )


def dead_letter_line(letter: DeadLetterV1) -> str:
    preview = letter.original[:80].decode("utf-8", errors="replace")
    cut = f" (cut from {letter.original_length:,} bytes)" if letter.truncated else ""
    return (
        f"[red]dead letter[/red] stage={letter.stage} "
        f"reason=[bold]{printable(letter.reason)}[/bold]"
        f" from {printable(letter.topic)}[{letter.partition}]@{letter.offset}: "
        f"{printable(letter.detail)} · '{printable(preview)}'{cut}"
    )
