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
from collections.abc import Collection, Iterable, Sequence
from enum import Enum
from functools import lru_cache

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
# Line ends are tested with `str.endswith` on these tuples, not a `[...]$` pattern: a search for
# an end-anchored pattern walks the whole line, and these tests run on every line of a page.
_SENTENCE_ENDS = tuple(".!?。！？…:;\"')]»")
# How a short line that is a whole sentence ends: a full stop, question or exclamation mark, or
# one followed by a closing quote (not a colon, nor a bare quote or bracket, which captions and
# labels end with).
_SENTENCE_LINE_ENDS = (
    ".", "!", "?", "。", "！", "？", '."', ".”", '?"', "?”", '!"', "!”", ".'", ".’", ".»",
)
SENTENCE_LINE_ENDS = _SENTENCE_LINE_ENDS
_TEASER_ENDS = ("…", "...", "[…]", "[...]")
_URL_ONLY = re.compile(r"^(?:https?://|www\.)\S+$", re.IGNORECASE)
_BULLET = re.compile(r"^(?:[-•·*▪►»>|]|\d{1,2}[.)])\s+")
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
_FURNITURE_PHRASE_LIST = (
    "sign (?:in|up)", "log (?:in|out)", "rights reserved", "read (?:more|next)", "more from",
    "most (?:popular|read|viewed|shared)", "support us", "follow us", "click here", "skip to",
    "home page", "posted by", "written by", "filed under", "back to top", "check also",
    "see also", "also read", "you may also like", "about us", "site map", "all rights",
    "powered by", "editor's picks", "top (?:news|stories)", "latest news", "more stories",
)
_FURNITURE_PHRASES = re.compile(r"\b(?:" + "|".join(_FURNITURE_PHRASE_LIST) + r")\b|©|\|")
# Each phrase's first word: a line whose words include none of them (most lines) cannot
# match, and a set test costs far less than scanning the line with the alternation.
_PHRASE_FIRST_WORDS = frozenset(
    re.split(r"\W", phrase, maxsplit=1)[0] for phrase in _FURNITURE_PHRASE_LIST
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
_COMMENT_VERBS = ("says", "said", "wrote", "writes", "replied", "commented")
# How a signature line ends, trailing blanks aside: a verb's last letter or the colon after it.
_COMMENT_LAST_CHARS = frozenset(":" + "".join(v[-1] + v[-1].upper() for v in _COMMENT_VERBS))
_COMMENT_AUTHOR = re.compile(
    rf"^\S.{{0,80}}\b(?:{'|'.join(_COMMENT_VERBS)})\s*:?$", re.IGNORECASE
)
_COMMENT_AUTHORS_TO_CUT = 2
_COMMENT_AUTHOR_MAX_CHARS = 100
# The page's legal footer ("© 2019 CBS Interactive Inc. All Rights Reserved."): once body has
# been seen, nothing after it is the article (the other stories and comments lists come after
# it). A copyright with a year or an owner's "by", not a bare "©": photo credits inside the
# article carry "© Getty Images".
_FOOTER_LINE = re.compile(
    r"rights reserved|(?:©|\(c\)|copyright)\s*(?:\d{4}|by)\b", re.IGNORECASE
)
_FOOTER_MAX_CHARS = 200  # a longer line is a paragraph that mentions copyright
# What the lower-cased line must hold for `_FOOTER_LINE` to match: "©", or these pieces of its
# words, made of letters that (under IGNORECASE) match only characters `str.lower` turns into
# them (i and s are left out: they also match "ı", "İ" and "ſ"; a unit test checks the
# letters over all of Unicode). Three substring tests spare most lines the pattern, which
# with IGNORECASE has no prefix to skip ahead by and is tried at every position of the line.
_FOOTER_HINTS = ("erved", "copyr", "(c)")
_OPENER_MAX_WORDS = 5
_OPENER_MAX_CHARS = 60
# Body seen before a comments heading or a footer line for it to end the article (a comment
# counter or a copyright above the article must not cut it).
_BODY_BEFORE_COMMENTS = 500

_LONG_CHARS = 110  # jusText uses 200 for HTML paragraphs; flattened lines are shorter
_SHORT_CHARS = 40
_SENTENCE_MIN_WORDS = 4  # fewer is a button or a label ("Read more.", "Thank you!")
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


# Module-level aliases: compared by identity on every line.
_GOOD, _NEAR_GOOD, _SHORT, _BAD = (
    LineClass.GOOD, LineClass.NEAR_GOOD, LineClass.SHORT, LineClass.BAD
)


@lru_cache(maxsize=64)
def stoplist(language: str) -> frozenset[str]:
    """jusText's stopword list for an ISO 639-1 code; empty when it has none."""
    name = _STOPLIST_NAMES.get(language)
    if name is None:
        return frozenset()
    return frozenset(justext.get_stoplist(name))


def warm_up() -> None:
    """Read every stoplist now, at start-up, rather than on the first page in each language."""
    for language in _STOPLIST_NAMES:
        stoplist(language)


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
        return len(line) * 3, 0.35 if line.endswith(_SENTENCE_ENDS) else 0.1
    return len(line), 0.35 if line.endswith(_SENTENCE_ENDS) and len(words) > 8 else 0.1


def _headline_like(line: str, length: int) -> bool:
    """A title: no sentence-final punctuation and mostly Capitalised Words, not too long."""
    if length >= _TITLE_MAX_CHARS or line.endswith(_SENTENCE_ENDS):
        return False
    words = [word for word in line.split() if word[:1].isalpha()]
    if len(words) < 3:
        return False
    capitalised = sum(word[0].isupper() for word in words)
    return capitalised / len(words) >= _TITLE_CASE_SHARE or length < _LONG_CHARS


def split_page(text: str) -> list[str]:
    """A flattened page's non-blank lines, blanks collapsed: the unit everything here judges."""
    # Nearly every line has nothing to collapse: no blank but single spaces between words. A
    # printable line has no blank but the plain space (every other one, tab or no-break space,
    # is a control or separator character, which `isprintable` refuses; a unit test checks
    # this over all of Unicode), so three scans in C tell it, sparing the split and the join.
    return [
        line
        if line.isprintable() and "  " not in line and line[0] != " " and line[-1] != " "
        else " ".join(line.split())
        for line in text.splitlines()
        if line and not line.isspace()
    ]


def words(lower: str) -> list[str]:
    """A lower-cased line's words, in order: what the classifier weighs and what duplicate
    fingerprints are made of."""
    return _WORD.findall(lower)


def line_key(line: str) -> str:
    """A short stable key for a line, as remembered in a source's template."""
    return line_keys((line,))[0]


def line_keys(lines: Iterable[str]) -> list[str]:
    """`line_key` of each line, the one place the key is made (in one comprehension: this runs
    on every line of every page)."""
    blake2b = hashlib.blake2b
    return [blake2b(line.lower().encode(), digest_size=8).hexdigest() for line in lines]


def is_furniture(line: str) -> bool:
    """A short line that reads like a menu item, a button or a credit."""
    lower = line.lower()
    return len(line) < _LONG_CHARS and _furniture(lower, _WORD.findall(lower))


def is_notice(line: str) -> bool:
    """An appeal to donate or subscribe, a cookie or legal notice: however long, not the
    article's words (nor its language)."""
    lower = line.lower()
    return _strong_furniture(lower, _WORD.findall(lower))


# `words` below is the line's word list as found, not a set of it: `frozenset.isdisjoint` gives
# the same answer for a list, and building a set for every weighed line cost more than the few
# membership tests it would speed up.


def _furniture(lower: str, words: Collection[str]) -> bool:
    return (
        not _FURNITURE_WORDS.isdisjoint(words)
        or "©" in lower
        or "|" in lower
        or (not _PHRASE_FIRST_WORDS.isdisjoint(words) and bool(_FURNITURE_PHRASES.search(lower)))
    )


def _strong_furniture(lower: str, words: Collection[str]) -> bool:
    """An appeal, a legal notice: one strong phrase in a line of ordinary length, two in a long
    one (a long body paragraph may mention a newsletter once; an appeal repeats itself)."""
    if "©" in lower:
        return True
    if _STRONG_TRIGGERS.isdisjoint(words):
        return False
    if len(lower) < _STRONG_FURNITURE_MAX_CHARS:
        return _STRONG_FURNITURE.search(lower) is not None
    return len(set(_STRONG_FURNITURE.findall(lower))) >= 2


def _doubled(line: str) -> bool:
    """ "Search the BBC Search the BBC": a caption or label printed twice on one line."""
    half, rest = divmod(len(line), 2)
    return rest == 1 and len(line) > 8 and line[:half] == line[half + 1 :]


def find_body(
    lines: Sequence[str], language: str, template_indices: Collection[int] = ()
) -> list[int]:
    """Indices of the article's lines among a page's `lines` (from `split_page`).

    `template_indices`: which of `lines` the source repeats across its articles (their
    `line_key` is in the source's template, from `SourceMemory`); they are bad wherever they
    appear.
    """
    return find_body_and_words(lines, language, template_indices)[0]


def find_body_and_words(
    lines: Sequence[str], language: str, template_indices: Collection[int] = ()
) -> tuple[list[int], list[list[str] | None]]:
    """`find_body`, and each line's `words` of its lower case where the classifier found them
    (None where a cheaper test judged the line first): the body's lines always have theirs, and
    the duplicate check would otherwise find them all again."""
    verdicts, line_words = _classify(lines, language, template_indices)
    return select_body(lines, verdicts), line_words


def classify_lines(
    lines: Sequence[str], language: str, template_indices: Collection[int] = ()
) -> list[LineClass]:
    """Judge each line of a page (blank lines already removed): one class per line."""
    return _classify(lines, language, template_indices)[0]


def _classify(
    lines: Sequence[str], language: str, template_indices: Collection[int]
) -> tuple[list[LineClass], list[list[str] | None]]:
    """(`classify_lines`, the words of each line it weighed, None for the others)."""
    verdicts, line_words = judge_lines(lines, language, template_indices)
    return _revise(verdicts), line_words


def revise(verdicts: list[LineClass]) -> list[LineClass]:
    """Each line's class once its neighbours are heard (jusText's context revision)."""
    return _revise(verdicts)


def judge_lines(
    lines: Sequence[str], language: str, template_indices: Collection[int]
) -> tuple[list[LineClass], list[list[str] | None]]:
    """Each line's class on its own, before its neighbours are heard, and the words of each
    line it weighed (None for the others).

    The tests run cheapest first and each line's words are found once, only for the lines the
    cheap tests leave undecided: a page is mostly short furniture, and this runs on every line.
    """
    stopwords = stoplist(language)
    # Below this many characters a line that is not bad is short whatever its words say (see
    # `_measure`: unspaced scripts count 3 per character), so its words need not be weighed.
    short_below = _SHORT_CHARS / 3 if not stopwords and language in _UNSPACED_LANGUAGES else (
        _SHORT_CHARS
    )
    counts = Counter(lines)
    last = len(lines) - 1
    seen: set[str] = set()
    verdicts: list[LineClass] = []
    line_words: list[list[str] | None] = [None] * len(lines)
    for index, line in enumerate(lines):
        length = len(line)
        repeated_here = counts[line] > 1
        if repeated_here:
            if (
                # Elsewhere a repeat is a caption, pull quote or menu: keep at most the first.
                length < _LONG_CHARS
                or line in seen
                # A line printed twice in a row is a caption (or a menu echo); both copies go.
                or (index > 0 and lines[index - 1] == line)
                or (index < last and lines[index + 1] == line)
            ):
                seen.add(line)
                verdicts.append(_BAD)
                continue
            seen.add(line)
        # Most lines open with a letter, which no URL but "http"/"www" does and no bullet or
        # letterless line can: the first character spares most lines three pattern matches.
        first = line[:1]
        letter_first = first.isalpha()
        if (
            index in template_indices
            or (first in "hHwW" and _URL_ONLY.match(line))
            or _doubled(line)
            or (not letter_first and _NUMERIC.match(line))
            # A teaser cut short ("...urged the UN ...") belongs to another story.
            or (line.endswith(_TEASER_ENDS) and length < 4 * _LONG_CHARS)
            or (not letter_first and _BULLET.match(line) and not line.endswith(_SENTENCE_ENDS))
        ):
            verdicts.append(_BAD)
            continue
        lower = line.lower()
        words = line_words[index] = _WORD.findall(lower)
        if _strong_furniture(lower, words) or (
            length < _LONG_CHARS and _furniture(lower, words)
        ):
            verdicts.append(_BAD)
            continue
        # A short line that ends like a sentence is a one-sentence paragraph (a quote, a
        # verdict, a reply in an interview), not a menu item or another story's headline: body
        # when body is next to it, as a near-good line is.
        sentence = len(words) >= _SENTENCE_MIN_WORDS and line.endswith(_SENTENCE_LINE_ENDS)
        if len(lower) < short_below:
            verdicts.append(_NEAR_GOOD if sentence else _SHORT)
            continue
        length, density = _measure(lower, words, language, stopwords)
        if sentence and length < _LONG_CHARS:
            verdicts.append(_NEAR_GOOD)
        elif _headline_like(line, length):
            # Other stories' headlines (related lists) read like titles, not like sentences.
            verdicts.append(_SHORT)
        elif length >= _LONG_CHARS and density >= _STOPWORDS_HIGH:
            verdicts.append(_GOOD)
        elif length >= _LONG_CHARS and density >= _STOPWORDS_LOW:
            verdicts.append(_NEAR_GOOD)
        elif length < _SHORT_CHARS or density < _STOPWORDS_LOW:
            verdicts.append(_SHORT)
        else:
            verdicts.append(_NEAR_GOOD)
    return verdicts, line_words


def _undecided_runs(
    verdicts: Sequence[LineClass],
) -> list[tuple[int, int, LineClass, LineClass]]:
    """(start, end, class before, class after) of each run of lines that are neither GOOD nor
    BAD, with the nearest GOOD/BAD line on each side (BAD past the page's edges): one walk over
    the page instead of one per line."""
    runs: list[tuple[int, int, LineClass, LineClass]] = []
    start = -1
    before = _BAD
    for i, verdict in enumerate(verdicts):
        if verdict is _GOOD or verdict is _BAD:
            if start >= 0:
                runs.append((start, i, before, verdict))
                start = -1
            before = verdict
        elif start < 0:
            start = i
    if start >= 0:
        runs.append((start, len(verdicts), before, _BAD))
    return runs


def _revise(verdicts: list[LineClass]) -> list[LineClass]:
    """jusText's context revision: near-good lines next to body become body; short lines become
    body only when body is on both sides (a subheading, a one-line quote), else junk."""
    revised = list(verdicts)
    for start, end, before, after in _undecided_runs(verdicts):
        near_good = _GOOD if _GOOD in (before, after) else _BAD
        for i in range(start, end):
            if revised[i] is _NEAR_GOOD:
                revised[i] = near_good
    for start, end, before, after in _undecided_runs(revised):
        # Only SHORT lines are left undecided now.
        revised[start:end] = [_GOOD if before is _GOOD and after is _GOOD else _BAD] * (
            end - start
        )
    return revised


def _comment_author(line: str) -> bool:
    """A comment's signature line ("jbaxt says:"). The cheap test of how the line ends comes
    first: the pattern's `.{0,80}` backtracks through every line it is tried on."""
    last = line[-1:]
    if len(line) >= _COMMENT_AUTHOR_MAX_CHARS or (
        last not in _COMMENT_LAST_CHARS and not last.isspace()
    ):
        return False
    ending = line.rstrip().removesuffix(":").rstrip()[-9:].casefold()
    return ending.endswith(_COMMENT_VERBS) and _COMMENT_AUTHOR.match(line) is not None


def _footer_line(line: str) -> bool:
    """The page's legal footer ("© 2019 CBS Interactive Inc. All Rights Reserved.")."""
    if len(line) >= _FOOTER_MAX_CHARS:
        return False
    if "©" not in line and not any(map(line.lower().__contains__, _FOOTER_HINTS)):
        return False
    return _FOOTER_LINE.search(line) is not None


def _opener_sized(line: str) -> bool:
    """Short enough to be a heading that opens a tail or the comments."""
    return len(line) < _OPENER_MAX_CHARS and len(line.split()) <= _OPENER_MAX_WORDS


def _tail_cut(lines: Sequence[str], verdicts: Sequence[LineClass]) -> list[LineClass]:
    """Mark everything from a "Check also"/"Related" opener to the next big body block bad, and
    everything from the comments' heading or the legal footer on."""
    out = list(verdicts)
    in_tail = False
    body_chars = 0
    # Signature lines are only looked for once enough body is behind (and not at all on a page
    # with too little body): before that they could not end the article anyway.
    comment_starts: set[int] | None = None
    for i, line in enumerate(lines):
        if body_chars >= _BODY_BEFORE_COMMENTS:
            if comment_starts is None:
                authors = [j for j in range(i, len(lines)) if _comment_author(lines[j])]
                # Comments may begin at any signature with enough others from it on.
                comment_starts = set(authors[: max(0, len(authors) - _COMMENT_AUTHORS_TO_CUT + 1)])
            if (
                i in comment_starts
                or ((_opener_sized(line) or line[0].isdigit()) and _COMMENTS_OPENER.match(line))
                or _footer_line(line)
            ):
                out[i:] = [_BAD] * (len(out) - i)
                return out
        # The pattern first: it fails on the first letters of most lines, cheaper than a split.
        if len(line) < _OPENER_MAX_CHARS and _TAIL_OPENER.match(line) and _opener_sized(line):
            in_tail = True
            out[i] = _BAD
            continue
        if in_tail:
            # A teaser is one line; two body lines in a row (or one long one) are body again.
            next_good = i + 1 < len(verdicts) and verdicts[i + 1] is _GOOD
            if verdicts[i] is _GOOD and (next_good or len(line) >= 300):
                in_tail = False
            else:
                out[i] = _BAD
                continue
        if verdicts[i] is _GOOD:
            body_chars += len(line)
    return out


def best_run(weights: Iterable[float]) -> tuple[int, int]:
    """(first, last) index of the contiguous run of lines whose weights sum highest (the
    earliest such run on a tie), or (0, -1) when no run sums above 0: the maximum subarray."""
    best, span = 0.0, (0, -1)
    running, start = 0.0, 0
    for i, weight in enumerate(weights):
        if running <= 0:
            running, start = weight, i
        else:
            running += weight
        if running > best:
            best, span = running, (start, i)
    return span


def select_body(lines: Sequence[str], verdicts: Sequence[LineClass]) -> list[int]:
    """Indices of the article's lines, given each line's class: the best-scoring run of body
    lines (maximum subarray, bad lines cost a fixed bridge penalty), plus other body blocks big
    enough to be the article's own."""
    verdicts = _tail_cut(lines, verdicts)
    first, last = best_run(
        len(lines[i]) if verdict is _GOOD else -_BAD_LINE_PENALTY
        for i, verdict in enumerate(verdicts)
    )
    kept = [i for i in range(first, last + 1) if verdicts[i] is _GOOD]
    # Blocks outside the main run: contiguous good lines, kept when large.
    block: list[int] = []
    extras: list[int] = []
    for i in [*range(first), -1, *range(last + 1, len(verdicts)), -1]:
        if i >= 0 and verdicts[i] is _GOOD:
            block.append(i)
            continue
        if block:  # (most lines outside the run are bad lines with no block behind them)
            if sum(len(lines[b]) for b in block) >= _EXTRA_BLOCK_CHARS:
                extras.extend(block)
            block = []
    return sorted([*kept, *extras])
