"""Text repairs: mojibake, quotes, invisible characters, whitespace, sentences glued together.

Every function here takes and returns plain `str`; nothing decides what is article and what is
junk (that is `text.py`'s job).
"""

import html
import re
import unicodedata

import ftfy

# ftfy's encoding repair is the slow part of cleaning (several ms per page on long lines), and
# almost all copy has no mojibake; so only lines showing the byte patterns that UTF-8 read as
# Latin-1/Windows-1252 leaves behind go through it, the rest takes the cheap path below.
_MOJIBAKE = re.compile(
    "[\u00c2\u00c3\u00c5\u00ce\u00cf\u00d0\u00d1\u00e2\u00ef][\u0080-\u00bf\u0152\u0153\u0160"
    "\u0161\u0178\u017d\u017e\u0192\u02c6\u02dc\u2013\u2014\u2018-\u201e\u2020-\u2022\u2026"
    "\u2030\u2039\u203a\u20ac\u2122]"
)
_QUOTES = {
    "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'",
    "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u201f": '"', "\u2033": '"',
    "\u00ab": '"', "\u00bb": '"',
    # Invisible characters that break words apart for every later stage.
    "\u200b": "", "\u200c": "", "\u200d": "", "\u2060": "", "\ufeff": "", "\u00ad": "",
    "\u00a0": " ", "\u2007": " ", "\u202f": " ", "\u2009": " ", "\u3000": " ",
}
# Replaced by a search for the characters above rather than `str.translate`: translate looks
# every character of a non-ASCII line up in the table (~6x slower on body paragraphs), while
# a line holds at most a few quotes.
_QUOTE_CHARS = re.compile("[" + "".join(_QUOTES) + "]")
# C0/C1 control characters other than tab and newline: binary junk or broken decoding.
_CONTROL = re.compile("[\u0000-\u0008\u000b-\u001f\u007f-\u009f]")
_JUNK = re.compile("[\ufffd\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\ud800-\uf8ff]")
_HTML_ENTITY = re.compile(r"&(?:#\d{2,6}|#x[0-9a-fA-F]{2,5}|[a-zA-Z]{2,8});")
_SPACES = re.compile(r"[ \t\r\f\v]+")
# Blanks `_SPACES` would change: tested with `in` first, since most lines have single spaces
# only and substituting each of them by itself is the costliest step of repairing a line.
_IRREGULAR_BLANKS = ("  ", "\t", "\r", "\f", "\v")

# Sentence glue: "Syria.Speaking", "added.At". The letter before the stop must be lower case
# so "U.S.Army" style abbreviations and decimals ("3.7") are left alone, and the next word must
# look like a word (capital then lower case), which spares "Node.JS" and URLs ("example.com").
_GLUED_STOP = re.compile(r"(?<=[a-z\d%)\]])([.!?]+'?)(?=[A-Z][a-z])")
# A double quote wedged between punctuation and a capital: 'Syria."The' or 'said,"We'. Whether
# it opens or closes decides where the space goes; see `_space_quote`.
_GLUED_QUOTE = re.compile(r'(?<=[.!?,;:])"(?=[A-Z][a-z])')
# "Obama,Putin said" / "Moscow :Russian" -> a space after the comma or colon.
_GLUED_COMMA = re.compile(r"(?<=[A-Za-z)\]'])([,;])(?=[A-Z][a-z])")
_GLUED_COLON = re.compile(r"(?<=[A-Za-z]) ?:(?=[A-Z][a-z])")
# A drop cap split from its word at the start of a paragraph: "T he Davis Cup" ("A" and "I" are
# words on their own, so they are left alone).
_DROP_CAP = re.compile(r"^([B-HJ-Z]) (?=[a-z]{1,12}\b)")
# Cheap pre-check: every repair below needs one of these; most lines have none. (Three tests,
# not one alternation: a pattern opening with a character class is scanned far faster.)
_MAYBE_GLUED_PUNCTUATION = re.compile(r"[.!?,;:][\"']?[A-Z]")
_MAYBE_SPACED_COMMA = (" ,", " ;")
_MAYBE_DROP_CAP = re.compile(r"[A-Z] [a-z]")
# A space before a comma ("a success , where").
_SPACE_BEFORE_COMMA = re.compile(r"(?<=\w) +(?=[,;](?:\s|$))")


def _space_quote(line: str) -> str:
    """Split '..."The' by quote parity: after an even number of quotes this one opens a quote
    (space before it), after an odd number it closes one (space after it). Scrapers often curl
    such quotes the wrong way, so the glyph itself cannot be trusted."""
    pieces: list[str] = []
    start = 0
    for match in _GLUED_QUOTE.finditer(line):
        opens = line.count('"', 0, match.start()) % 2 == 0
        pieces.append(line[start : match.start()])
        pieces.append(' "' if opens else '" ')
        start = match.end()
    pieces.append(line[start:])
    return "".join(pieces)


def _plain_quote(match: re.Match[str]) -> str:
    return _QUOTES[match.group()]


def fix_unicode(line: str) -> str:
    """Undo mojibake (ftfy, only where it is suspected), entities, quotes, invisible chars."""
    # Mojibake, curly quotes and invisible characters are all outside ASCII.
    if not line.isascii() and _MOJIBAKE.search(line):
        line = ftfy.fix_text(line, uncurl_quotes=False, normalization=None)
    if "&" in line and _HTML_ENTITY.search(line):
        line = html.unescape(line)
    # Control characters are unprintable (a unit test checks it): a printable line, as nearly
    # all are, is spared the pattern's walk.
    if line.isascii():  # also NFC already: only control characters can be left to remove
        return line if line.isprintable() else _CONTROL.sub("", line)
    line = _QUOTE_CHARS.sub(_plain_quote, line)
    if not line.isprintable():
        line = _CONTROL.sub("", line)
    if unicodedata.is_normalized("NFC", line):
        return line
    return unicodedata.normalize("NFC", line)


def fix_spacing(line: str) -> str:
    """Collapse runs of blanks, and put back the space between glued sentences and clauses."""
    if any(blanks in line for blanks in _IRREGULAR_BLANKS):
        line = _SPACES.sub(" ", line)
    line = line.strip()
    if not (
        _MAYBE_GLUED_PUNCTUATION.search(line)
        or any(spaced in line for spaced in _MAYBE_SPACED_COMMA)
        or _MAYBE_DROP_CAP.match(line)
    ):
        return line
    line = _DROP_CAP.sub(r"\1", line)
    line = _GLUED_STOP.sub(r"\1 ", line)
    if '"' in line:
        line = _space_quote(line)
    line = _GLUED_COMMA.sub(r"\1 ", line)
    line = _GLUED_COLON.sub(": ", line)
    return _SPACE_BEFORE_COMMA.sub("", line)


def repair_line(line: str) -> str:
    """One line of copy, repaired: unicode first (so the glue patterns see plain quotes)."""
    return fix_spacing(fix_unicode(line))


def junk_ratio(text: str) -> float:
    """Share of characters that are replacement marks, control codes, surrogates or private-use:
    what binary data or a wrong codec leaves in decoded copy."""
    if not text:
        return 0.0
    sample = text[:20_000]
    # Nearly all copy has none, and this scans every page. Every junk character but U+FFFD is
    # unprintable (a unit test checks this over all of Unicode), so a sample that is printable
    # once its line ends and tabs are set aside, and holds no U+FFFD, has none: a few scans in C
    # instead of the pattern's walk.
    if "\ufffd" not in sample and (
        sample.replace("\n", "").replace("\r", "").replace("\t", "").isprintable()
    ):
        return 0.0
    return len(_JUNK.findall(sample)) / len(sample)
