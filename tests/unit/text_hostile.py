"""Hostile copy for the renderers' tests, and the check that a rendering of it is harmless."""

import unicodedata
from io import StringIO

from rich.console import Console

from services.text_safety import BIDI_CONTROLS

# What a writer of copy can put in a headline, an entity, an id, a file name or a reason.
HOSTILE = (
    "[/x] closes nothing [bold]and opens [red]",
    "\x1b[31mred\x1b[0m \x1b]0;new window title\x07 \x1b]8;;http://a.example\x1b\\link\x1b]8;;\x1b\\",
    "one\rover, two\nlines, \x08back, \x9b2J (C1 CSI), \x7f",
    "invoice\u202etxt.exe \u2066isolated\u2069 \u202amark\u202c \u200fRLM",
    "trailing backslash \\",
)


def rendered(markup: str) -> str:
    """What a terminal is sent for `markup`: rich raises MarkupError if it is not valid."""
    buffer = StringIO()
    Console(file=buffer, width=10_000, color_system=None, force_terminal=False).print(markup)
    return buffer.getvalue()


def assert_harmless(output: str) -> None:
    """No control character but the line breaks rich writes, no bidi control."""
    for char in output:
        assert char == "\n" or unicodedata.category(char) not in ("Cc", "Zl", "Zp"), repr(char)
        assert char not in BIDI_CONTROLS, repr(char)
