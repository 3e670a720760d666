"""Hostile text is text: markup, control characters, escape sequences and bidi controls from
copy are printed as visible, inert characters."""

import json

import pytest

from services.text_safety import json_line, printable
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


@pytest.mark.parametrize("copy", HOSTILE)
def test_json_lines_are_the_same_json_and_harmless(copy: str) -> None:
    message = json.dumps({"title": copy, copy: [1, 2.5, None, True]}, ensure_ascii=False)
    line = json_line(message.encode())
    assert line is not None
    assert json.loads(line) == json.loads(message)
    assert_harmless(line)
    assert "\n" not in line


def test_json_lines_keep_readable_non_ascii_and_refuse_what_is_not_json() -> None:
    assert json_line('{"title": "Zürich, 習近平"}'.encode()) == '{"title":"Zürich, 習近平"}'
    assert json_line(b"not json") is None
    assert json_line(b"\xff\xfe") is None
    assert json_line(b"[" * 100_000) is None
