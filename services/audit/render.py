"""The audit report on a terminal. Text from messages (keys, story ids, reasons) goes through
`printable`: an id holding "[/x]", an escape sequence or a bidi override is shown as written,
never read as rich markup nor acted on by the terminal."""

from rich.console import Console
from rich.table import Table

from services.audit.core import AuditReport, MissingArticle
from services.text_safety import printable

SHOWN = 20  # longest list printed; --json has them all


def _where(article: MissingArticle) -> str:
    age = "age unknown" if article.age_seconds is None else f"{article.age_seconds:,.0f} s old"
    key = "(not a raw article)" if article.key is None else article.key
    return printable(f"partition {article.partition} offset {article.offset} {key} ({age})")


def render_report(report: AuditReport, console: Console) -> None:
    table = Table(title="storywire audit", show_header=False)
    table.add_column("", style="bold")
    table.add_column("", justify="right")
    rows: list[tuple[str, int, str]] = [
        ("raw messages", report.raw_messages, ""),
        ("  articles (distinct keys)", report.article_keys, ""),
        ("  not a raw article", report.unparseable_raw, ""),
        ("  redelivered copies", report.redelivered, ""),
        ("in exactly one story", report.in_one_story, "green"),
        ("withdrawn (in no story)", report.withdrawn, ""),
        ("dead-lettered", report.dead_lettered, ""),
        ("in flight (younger than grace)", len(report.in_flight), ""),
        ("lost", len(report.lost), "red" if report.lost else ""),
        ("in more than one story", len(report.doubled), "red" if report.doubled else ""),
        ("in a story and dead-lettered", report.in_story_and_dead_lettered, ""),
        ("stories", report.stories, ""),
        ("  merged stories", report.merged_stories, ""),
        ("  unreadable story events", report.unparseable_story_events, ""),
        ("  counting other than their members", len(report.miscounted_stories), ""),
        ("  unreadable member records", report.unparseable_members, ""),
        ("dead letters", report.dead_letters, ""),
        ("  naming no raw message read", report.unmatched_dead_letters, ""),
        ("  unreadable dead letters", len(report.malformed_letters), ""),
    ]
    for label, count, style in rows:
        table.add_row(label, f"[{style}]{count:,}[/{style}]" if style else f"{count:,}")
    console.print(table)
    if not report.namespaced_ids and report.article_keys:
        console.print("matched by raw id: the stories hold un-namespaced article ids")
    if report.dead_letter_reasons:
        top = list(report.dead_letter_reasons.items())[:5]
        console.print("top dead-letter reasons: " + ", ".join(
            f"{printable(reason)} {count:,}" for reason, count in top
        ))
    for title, articles in (("lost", report.lost), ("in flight", report.in_flight)):
        if articles and (title == "lost" or len(articles) <= SHOWN):
            console.print(f"[bold]{title}[/bold]:")
            for article in articles[:SHOWN]:
                console.print(f"  {_where(article)}")
            if len(articles) > SHOWN:
                console.print(f"  ... and {len(articles) - SHOWN:,} more (--json lists all)")
    if report.doubled:
        console.print("[bold]in more than one story[/bold]:")
        for doubled in report.doubled[:SHOWN]:
            stories = printable(", ".join(doubled.story_ids))
            console.print(f"  {printable(doubled.key)}: {stories}")
    for letter in report.malformed_letters[:SHOWN]:
        console.print("unreadable dead letter " + printable(
            f"{letter.topic}[{letter.partition}]@{letter.offset}: {letter.error}"
        ))
    if report.ok:
        console.print("[green]ok[/green]: every article is in one story, a dead letter, or in "
                      f"flight (younger than {report.grace_seconds:g} s)")
    else:
        console.print("[red]FAILED[/red]: articles lost or in more than one story")
