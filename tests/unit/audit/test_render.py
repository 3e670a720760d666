"""The audit table shows text from messages as written: "[/x]" in a key is not markup."""

from io import StringIO

import pytest
from rich.console import Console

from services.audit.core import AuditReport, DoubledArticle, MalformedLetter, MissingArticle
from services.audit.render import render_report
from tests.unit.text_hostile import HOSTILE, assert_harmless


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


@pytest.mark.parametrize("copy", HOSTILE)
def test_hostile_copy_in_the_report_is_printed_as_text(copy: str) -> None:
    report = AuditReport(
        raw_messages=2, article_keys=2,
        lost=[MissingArticle(1, 7, f"xinhua/{copy}", 900.0)],
        in_flight=[MissingArticle(0, 3, f"sana/{copy}", 2.0)],
        doubled=[DoubledArticle(f"sana/{copy}", [f"s-{copy}", "s-2"])],
        dead_letters=1, dead_letter_reasons={copy: 1},
        malformed_letters=[MalformedLetter(f"dlq.{copy}", 0, 4, copy)],
    )
    output = rendered_report(report)
    assert_harmless(output)
    assert "FAILED" in output


def rendered_report(report: AuditReport) -> str:
    buffer = StringIO()
    console = Console(file=buffer, width=10_000, color_system=None, force_terminal=False)
    render_report(report, console)
    return buffer.getvalue()
