"""Plain-text junk removal: which lines of a flattened page are the article.

A scraper's flattened page is one line per block of the page: menus, share buttons, captions,
the article's paragraphs, lists of other headlines, footers. With no markup left, each line is
judged by how it reads (a la jusText's paragraph classifier): long lines made of ordinary
sentences (many stopwords) are body, short lines and lines that read like page furniture
(boilerplate phrases, repeated captions, teasers, the source's template) are not, and the short
lines in between are decided by their neighbours. The article is then the densest run of body
lines, plus any other large body blocks the page splits it into.
"""

import hashlib
import re
from collections import Counter
from collections.abc import Collection, Sequence
from enum import Enum
from functools import lru_cache
from typing import NamedTuple

import justext

# py3langid code -> jusText stoplist name, for the languages news copy mostly comes in.
_STOPLIST_NAMES = {
    "af": "Afrikaans", "ar": "Arabic", "bg": "Bulgarian", "ca": "Catalan", "cs": "Czech",
    "da": "Danish", "de": "German", "el": "Greek", "en": "English", "es": "Spanish",
    "et": "Estonian", "fa": "Persian", "fi": "Finnish", "fr": "French", "he": "Hebrew",
    "hi": "Hindi", "hr": "Croatian", "hu": "Hungarian", "id": "Indonesian", "it": "Italian",
    "ko": "Korean", "lt": "Lithuanian", "lv": "Latvian", "ms": "Malay", "nl": "Dutch",
    "no": "Norwegian_Bokmal", "pl": "Polish", "pt": "Portuguese", "ro": "Romanian",
    "ru": "Russian", "sk": "Slovak", "sl": "Slovenian", "sr": "Serbian", "sv": "Swedish",
    "sw": "Swahili", "tl": "Tagalog", "tr": "Turkish", "uk": "Ukrainian", "ur": "Urdu",
    "vi": "Vietnamese",
}
# Scripts written without spaces: length is counted in characters, not words.
_UNSPACED_LANGUAGES = frozenset({"ja", "zh", "th", "lo", "km", "my"})

_WORD = re.compile(r"\w+", re.UNICODE)
_SENTENCE_END = re.compile(r"[.!?。！？…:;\"')\]»]$")
_URL_ONLY = re.compile(r"^(?:https?://|www\.)\S+$", re.IGNORECASE)
_BULLET = re.compile(r"^(?:[-•·*▪►»>|]|\d{1,2}[.)])\s+")
_TEASER_END = re.compile(r"(?:…|\.\.\.|\[…\]|\[\.\.\.\])$")
_NUMERIC = re.compile(r"^[\W\d_]*$", re.UNICODE)

# Phrases of page furniture, matched against the lower-cased line (an IGNORECASE alternation
# this size costs ~5x more, and this runs on every line). A short line (a menu item, a button, a
# credit) containing one is not body; a long line needs a strong one (an appeal to donate or
# subscribe, cookie or legal text).
_FURNITURE_WORDS = frozenset(
    {
        "share", "shares", "shared", "tweet", "facebook", "twitter", "whatsapp", "pinterest",
        "linkedin", "reddit", "telegram", "instagram", "youtube", "email", "print", "subscribe",
        "subscription", "subscribers", "subscriber", "signin", "signup", "login", "logout",
        "register", "newsletter", "newsletters", "cookie", "cookies", "privacy", "terms",
        "copyright", "advertisement", "advertising", "advertise", "sponsored", "promoted",
        "related", "recommended", "trending", "popular", "comment", "comments", "replies", "reply",
        "donate", "donation", "photo", "photos", "image", "images", "video", "videos", "gallery",
        "credit", "credits", "getty", "shutterstock", "menu", "search", "homepage", "tag", "tags",
        "category", "categories", "previous", "next", "listen", "download", "app", "feed", "rss",
        "loading", "javascript", "browser", "updated", "published", "contact", "careers",
        "sitemap", "watch", "close", "open"
    }
)
_FURNITURE_PHRASES = re.compile(
    r"\b(?:sign (?:in|up)|log (?:in|out)|rights reserved|read (?:more|next)|more from|"
    r"most (?:popular|read|viewed|shared)|support us|follow us|click here|skip to|home page|"
    r"posted by|written by|filed under|back to top|check also|see also|also read|"
    r"you may also like|about us|site map|all rights|powered by|editor's picks|"
    r"top (?:news|stories)|latest news|more stories)\b|©|\|"
)
# Words without which no `_STRONG_FURNITURE` phrase can match: checked first, as a set lookup.
_STRONG_TRIGGERS = frozenset(
    {
        "donate", "donation", "donations", "donating", "support", "become", "subscribe", "sign",
        "newsletter", "cookies", "cookie", "privacy", "terms", "reserved", "click", "comment",
        "comments", "article", "story", "reproduction", "published", "reproduced", "redistributed",
        "javascript", "ad", "adblocker", "whitelist"
    }
)
_STRONG_FURNITURE = re.compile(
    r"\b(?:donat(?:e|ion|ions|ing)|support (?:us|our journalism)|become a (?:member|patron|"
    r"subscriber)|subscribe (?:to|now|today)|sign up (?:for|to|now)|newsletter|"
    r"(?:use|uses|using) cookies|cookie policy|privacy policy|terms of (?:use|service)|"
    r"all rights reserved|click here|(?:leave|post|add) a comment|comments? (?:are|is) "
    r"(?:closed|moderated)|this (?:article|story) (?:was|has been) (?:updated|corrected)"
    r" to|reproduction in whole or in part|may not be (?:published|reproduced|"
    r"redistributed)|enable javascript|turn off your ad ?blocker|whitelist)\b|©"
)
# Lines that open a tail of other stories: what follows them up to the next long body block is
# not the article.
_TAIL_OPENER = re.compile(
    r"^(?:check also|see also|also read|read also|read more|related(?: (?:articles?|stories|"
    r"posts|news|coverage|content))?|more (?:stories|news|from)|you may also like|"
    r"recommended(?: for you)?|most (?:popular|read|viewed|shared)|editor's picks|"
    r"trending(?: now)?|latest (?:news|stories)|top (?:news|stories))\b",
    re.IGNORECASE,
)
# Headings that open the readers' comments: everything after them is other people's words.
_COMMENTS_OPENER = re.compile(
    r"^(?:\d+ )?(?:comments?|responses?|replies|reader comments|discussion|"
    r"leave a (?:reply|comment)|join the (?:discussion|conversation)|add (?:a|your) comment|"
    r"what do you think\??)\W*$"
    r"|^\d+ (?:thoughts?|responses?|comments?|replies) (?:on|to) ",
    re.IGNORECASE,
)
# A comment's signature line: "jbaxt says:", "Catherine (GiveWell) on September 13, 2018 at
# 5:23 pm said:". Several of them after the article mean the readers' comments have begun.
_COMMENT_AUTHOR = re.compile(
    r"^\S.{0,80}\b(?:says|said|wrote|writes|replied|commented)\s*:?$", re.IGNORECASE
)
_COMMENT_AUTHORS_TO_CUT = 2
_COMMENT_AUTHOR_MAX_CHARS = 100
_OPENER_MAX_WORDS = 5
_OPENER_MAX_CHARS = 60
# Body seen before a comments heading for it to end the article (a comment counter above the
# article must not cut it).
_BODY_BEFORE_COMMENTS = 500

_LONG_CHARS = 110  # jusText uses 200 for HTML paragraphs; flattened lines are shorter
_SHORT_CHARS = 40
_TITLE_MAX_CHARS = 160
_TITLE_CASE_SHARE = 0.6
_STOPWORDS_HIGH = 0.25
_STOPWORDS_LOW = 0.20
_STRONG_FURNITURE_MAX_CHARS = 400  # longer lines are body that merely mentions a newsletter
# A run of bad lines costs this much (in characters of body) to bridge when finding the article.
_BAD_LINE_PENALTY = 100
# A body block outside the main run is kept if at least this long (a page split by a box).
_EXTRA_BLOCK_CHARS = 800


class LineClass(Enum):
    GOOD = "good"
    NEAR_GOOD = "near_good"
    SHORT = "short"
    BAD = "bad"


class PageLine(NamedTuple):
    """One non-blank line of a flattened page and how it was judged (a tuple: pages have
    hundreds of lines and this is built several times per line)."""

    index: int
    text: str
    verdict: LineClass


@lru_cache(maxsize=64)
def stoplist(language: str) -> frozenset[str]:
    """jusText's stopword list for an ISO 639-1 code; empty when it has none."""
    name = _STOPLIST_NAMES.get(language)
    if name is None:
        return frozenset()
    return frozenset(justext.get_stoplist(name))


def _measure(
    line: str, words: Sequence[str], language: str, stopwords: Collection[str]
) -> tuple[int, float]:
    """(length, stopword density) of a lower-cased line and its words. Length is in
    characters; languages without a stoplist get a density from sentence punctuation."""
    if not words:
        return len(line), 0.0
    if stopwords:
        return len(line), sum(map(stopwords.__contains__, words)) / len(words)
    if language in _UNSPACED_LANGUAGES:
        # Characters carry ~2-3x the information of Latin ones; scale so thresholds carry over.
        return len(line) * 3, 0.35 if _SENTENCE_END.search(line) else 0.1
    return len(line), 0.35 if _SENTENCE_END.search(line) and len(words) > 8 else 0.1


def _headline_like(line: str, length: int) -> bool:
    """A title: no sentence-final punctuation and mostly Capitalised Words, not too long."""
    if length >= _TITLE_MAX_CHARS or _SENTENCE_END.search(line):
        return False
    words = [word for word in line.split() if word[:1].isalpha()]
    if len(words) < 3:
        return False
    capitalised = sum(word[0].isupper() for word in words)
    return capitalised / len(words) >= _TITLE_CASE_SHARE or length < _LONG_CHARS


def split_page(text: str) -> list[str]:
    """A flattened page's non-blank lines, blanks collapsed: the unit everything here judges."""
    return [" ".join(line.split()) for line in text.splitlines() if line and not line.isspace()]


def line_key(line: str) -> str:
    """A short stable key for a line, as remembered in a source's template."""
    return hashlib.blake2b(line.lower().encode(), digest_size=8).hexdigest()


def is_furniture(line: str) -> bool:
    """A short line that reads like a menu item, a button or a credit."""
    lower = line.lower()
    return len(line) < _LONG_CHARS and _furniture(lower, set(_WORD.findall(lower)))


def _furniture(lower: str, words: set[str]) -> bool:
    return not _FURNITURE_WORDS.isdisjoint(words) or bool(_FURNITURE_PHRASES.search(lower))


def _strong_furniture(lower: str, words: set[str]) -> bool:
    """An appeal, a legal notice: one strong phrase in a line of ordinary length, two in a long
    one (a long body paragraph may mention a newsletter once; an appeal repeats itself)."""
    if "©" in lower:
        return True
    if _STRONG_TRIGGERS.isdisjoint(words):
        return False
    hits = len(set(_STRONG_FURNITURE.findall(lower)))
    return hits >= (1 if len(lower) < _STRONG_FURNITURE_MAX_CHARS else 2)


def _doubled(line: str) -> bool:
    """ "Search the BBC Search the BBC": a caption or label printed twice on one line."""
    half, rest = divmod(len(line), 2)
    return rest == 1 and len(line) > 8 and line[:half] == line[half + 1 :]


def find_body(lines: Sequence[str], language: str, template: Collection[str] = ()) -> list[int]:
    """Indices of the article's lines among a page's `lines` (from `split_page`)."""
    return [line.index for line in select_body(classify_lines(lines, language, template))]


def classify_lines(
    lines: Sequence[str], language: str, template: Collection[str] = ()
) -> list[PageLine]:
    """Judge each line of a page (blank lines already removed).

    `template` holds keys (`line_key`) of lines the source repeats across its articles (from
    `SourceMemory`); they are bad wherever they appear.
    """
    stopwords = stoplist(language)
    counts = Counter(lines)
    seen: set[str] = set()
    judged: list[PageLine] = []
    for index, line in enumerate(lines):
        lower = line.lower()
        length = len(line)
        words = _WORD.findall(lower)
        word_set = set(words)
        repeated_here = counts[line] > 1
        adjacent_copy = (index > 0 and lines[index - 1] == line) or (
            index + 1 < len(lines) and lines[index + 1] == line
        )
        if (
            (template and line_key(line) in template)
            or _URL_ONLY.match(line)
            or _doubled(line)
            or _NUMERIC.match(line)
            # A line printed twice in a row is a caption (or a menu echo); both copies go.
            or adjacent_copy
            # Elsewhere a repeat is a caption, pull quote or menu: keep at most the first one.
            or (repeated_here and (line in seen or length < _LONG_CHARS))
            # A teaser cut short ("...urged the UN ...") belongs to another story.
            or (_TEASER_END.search(line) and length < 4 * _LONG_CHARS)
            or _strong_furniture(lower, word_set)
            or (length < _LONG_CHARS and _furniture(lower, word_set))
            or (_BULLET.match(line) and not _SENTENCE_END.search(line))
        ):
            seen.add(line)
            judged.append(PageLine(index, line, LineClass.BAD))
            continue
        length, density = _measure(lower, words, language, stopwords)
        if _headline_like(line, length):
            # Other stories' headlines (related lists) read like titles, not like sentences.
            verdict = LineClass.SHORT
        elif length >= _LONG_CHARS and density >= _STOPWORDS_HIGH:
            verdict = LineClass.GOOD
        elif length >= _LONG_CHARS and density >= _STOPWORDS_LOW:
            verdict = LineClass.NEAR_GOOD
        elif length < _SHORT_CHARS or density < _STOPWORDS_LOW:
            verdict = LineClass.SHORT
        else:
            verdict = LineClass.NEAR_GOOD
        seen.add(line)
        judged.append(PageLine(index, line, verdict))
    return _revise(judged)


def _nearest_decided(judged: Sequence[PageLine]) -> tuple[list[LineClass], list[LineClass]]:
    """For each line, the class of the nearest GOOD/BAD line before it and after it (BAD past
    the page's edges): one pass each way instead of a walk per line."""
    before: list[LineClass] = []
    last = LineClass.BAD
    for line in judged:
        before.append(last)
        if line.verdict in (LineClass.GOOD, LineClass.BAD):
            last = line.verdict
    after: list[LineClass] = [LineClass.BAD] * len(judged)
    last = LineClass.BAD
    for i in range(len(judged) - 1, -1, -1):
        after[i] = last
        if judged[i].verdict in (LineClass.GOOD, LineClass.BAD):
            last = judged[i].verdict
    return before, after


def _revise(judged: list[PageLine]) -> list[PageLine]:
    """jusText's context revision: near-good lines next to body become body; short lines become
    body only when body is on both sides (a subheading, a one-line quote), else junk."""
    before, after = _nearest_decided(judged)
    revised = [
        line._replace(
            verdict=LineClass.GOOD
            if LineClass.GOOD in (before[i], after[i])
            else LineClass.BAD
        )
        if line.verdict is LineClass.NEAR_GOOD
        else line
        for i, line in enumerate(judged)
    ]
    before, after = _nearest_decided(revised)
    return [
        line._replace(
            verdict=LineClass.GOOD
            if before[i] is LineClass.GOOD and after[i] is LineClass.GOOD
            else LineClass.BAD
        )
        if line.verdict is LineClass.SHORT
        else line
        for i, line in enumerate(revised)
    ]


def _tail_cut(judged: Sequence[PageLine]) -> list[PageLine]:
    """Mark everything from a "Check also"/"Related" opener to the next big body block bad."""
    out = list(judged)
    in_tail = False
    body_chars = 0
    authors = [
        i
        for i, line in enumerate(judged)
        if len(line.text) < _COMMENT_AUTHOR_MAX_CHARS and _COMMENT_AUTHOR.match(line.text)
    ]
    # Comments may begin at any signature with enough others from it on.
    comment_starts = set(authors[: max(0, len(authors) - _COMMENT_AUTHORS_TO_CUT + 1)])
    for i, line in enumerate(judged):
        short = len(line.text) < _OPENER_MAX_CHARS and len(line.text.split()) <= _OPENER_MAX_WORDS
        opener = (short or line.text[0].isdigit()) and _COMMENTS_OPENER.match(line.text)
        comments_follow = i in comment_starts
        if body_chars >= _BODY_BEFORE_COMMENTS and (opener or comments_follow):
            out[i:] = [PageLine(rest.index, rest.text, LineClass.BAD) for rest in judged[i:]]
            return out
        if short and _TAIL_OPENER.match(line.text):
            in_tail = True
            out[i] = PageLine(i, line.text, LineClass.BAD)
            continue
        if in_tail:
            # A teaser is one line; two body lines in a row (or one long one) are body again.
            next_good = i + 1 < len(judged) and judged[i + 1].verdict is LineClass.GOOD
            if line.verdict is LineClass.GOOD and (next_good or len(line.text) >= 300):
                in_tail = False
            else:
                out[i] = PageLine(i, line.text, LineClass.BAD)
                continue
        if line.verdict is LineClass.GOOD:
            body_chars += len(line.text)
    return out


def select_body(judged: Sequence[PageLine]) -> list[PageLine]:
    """The article's lines: the best-scoring run of body lines (maximum subarray, bad lines cost
    a fixed bridge penalty), plus other body blocks big enough to be the article's own."""
    judged = _tail_cut(judged)
    weights = [
        len(line.text) if line.verdict is LineClass.GOOD else -_BAD_LINE_PENALTY
        for line in judged
    ]
    best_sum, best_span = 0, (0, -1)
    running, start = 0, 0
    for i, weight in enumerate(weights):
        if running <= 0:
            running, start = weight, i
        else:
            running += weight
        if running > best_sum:
            best_sum, best_span = running, (start, i)
    first, last = best_span
    kept = [line for line in judged[first : last + 1] if line.verdict is LineClass.GOOD]
    # Blocks outside the main run: contiguous good lines, kept when large.
    block: list[PageLine] = []
    extras: list[PageLine] = []
    for line in [*judged[:first], None, *judged[last + 1 :], None]:
        if line is not None and line.verdict is LineClass.GOOD:
            block.append(line)
            continue
        if sum(len(b.text) for b in block) >= _EXTRA_BLOCK_CHARS:
            extras.extend(block)
        block = []
    return sorted([*kept, *extras], key=lambda line: line.index)
