"""Hostile text is text: markup, control characters, escape sequences and bidi controls from
copy are printed as visible, inert characters."""

import pytest

from services.text_safety import printable
from tests.unit.text_hostile import HOSTILE, assert_harmless, rendered


@pytest.mark.parametrize("copy", HOSTILE)
def test_hostile_copy_prints_harmless_on_one_line(copy: str) -> None:
    output = rendered(printable(copy))
    assert_harmless(output)
    assert output.count("\n") == 1  # rich's own line end: the copy's breaks are shown, not made


def test_what_was_written_stays_readable() -> None:
    assert rendered(printable("[/x] closes nothing [bold]")) == "[/x] closes nothing [bold]\n"
    assert rendered(printable("\x1b[31mred")) == "\\x1b[31mred\n"
    assert rendered(printable("a\rb\nc\td")) == "a\\x0db\\x0ac\\x09d\n"
    assert rendered(printable("invoice\u202etxt.exe")) == "invoice\\u202etxt.exe\n"
    # A trailing backslash does not escape the tag that follows it.
    ends_in_backslash = printable("ends in \\")
    assert rendered(f"[bold]{ends_in_backslash}[/bold]") == "ends in \\\n"


def test_ordinary_copy_is_unchanged() -> None:
    copy = "Путин, 習近平 and محمد بن سلمان meet in Zürich 👩‍👩‍👧 (a ZWJ emoji), Persian می‌خواهم"
    assert printable(copy) == copy
