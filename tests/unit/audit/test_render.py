"""The audit table shows text from messages as written: "[/x]" in a key is not markup."""

from rich.console import Console

from services.audit.core import AuditReport, DoubledArticle, MalformedLetter, MissingArticle
from services.audit.render import render_report


def test_text_from_messages_is_printed_as_written() -> None:
    report = AuditReport(
        raw_messages=3, article_keys=3,
        lost=[MissingArticle(1, 7, "xinhua/k[/x]", 900.0)],
        doubled=[DoubledArticle("sana/[bold]a", ["s-[/1]", "s-2"])],
        dead_letters=1, dead_letter_reasons={"[red]odd": 1},
        malformed_letters=[MalformedLetter("dlq.clean", 0, 4, "message: [/oops]")],
    )
    console = Console(record=True, width=200)
    render_report(report, console)
    text = console.export_text()
    for written in ("xinhua/k[/x]", "sana/[bold]a", "s-[/1], s-2", "[red]odd 1",
                    "dlq.clean[0]@4: message: [/oops]", "FAILED"):
        assert written in text, written
