"""Hostile text is text: what storywire prints from copy cannot steer the terminal.

A headline, entity name, id or dead letter comes from whoever wrote the copy. Printed as it is,
"[/x]" breaks rich markup, ESC starts a terminal escape sequence (colours, cursor moves, a
retitled window, a hyperlink), "\\r" overwrites what the line said, and a bidi override makes
"txt.exe" read as "exe.txt". `printable` is the one function every renderer passes copy through.
"""

import json
import unicodedata

from rich.markup import escape

# Bidi embeddings, overrides and isolates (U+202A-202E, U+2066-2069) and the marks that can
# reorder neighbouring text (ALM, LRM, RLM). Other format characters stay: ZWJ and ZWNJ are
# part of emoji and of Persian, Hindi and other scripts' spelling.
BIDI_CONTROLS = frozenset(
    ["\u061c", "\u200e", "\u200f"]
    + [chr(code) for code in (*range(0x202A, 0x202F), *range(0x2066, 0x206A))]
)


def _visible(char: str) -> str:
    """The escaped form of one unsafe character: `\\x1b`, `\\u202e`, as Python writes them."""
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def _unsafe(char: str) -> bool:
    # Cc: C0 controls (ESC, CR, LF, TAB, BEL, ...), DEL and the C1 controls (CSI U+009B starts
    # an escape sequence on its own); Zl/Zp: line and paragraph separators some terminals break on.
    return char in BIDI_CONTROLS or unicodedata.category(char) in ("Cc", "Zl", "Zp")


def printable(text: str) -> str:
    """`text` as rich markup that prints it as written, on one line and with no effect.

    Control characters, escape sequences' ESC, line breaks and bidi controls become visible
    `\\xNN`/`\\uNNNN` forms; "[" is escaped so no part of it is read as rich markup.
    """
    return escape("".join(_visible(char) if _unsafe(char) else char for char in text))


def json_line(value: bytes) -> str | None:
    """A message's JSON on one line that cannot steer a terminal, or None if it is not JSON.

    The same JSON value: re-serialised compactly, with the characters `printable` shows
    escaped as JSON's `\\uNNNN` (json.dumps escapes only those below U+0020 itself), so a
    pipe reads what the broker holds and a terminal shows it inert.
    """
    try:
        parsed = json.loads(value)
    except (ValueError, RecursionError):  # UnicodeDecodeError is a ValueError
        return None
    try:
        dumped = json.dumps(parsed, ensure_ascii=False, separators=(",", ":"))
    except RecursionError:
        return None
    return "".join(f"\\u{ord(char):04x}" if _unsafe(char) else char for char in dumped)
