"""Terms and entity keys the clusterer compares articles and stories by."""

import functools
import math
import re
from collections import Counter
from collections.abc import Collection
from typing import NamedTuple

from schemas.articles import EnrichedArticleV1
from services.memo import Memo
from services.words import ENGLISH_STOP_WORDS, NEWS_WORDS, singular, without_possessive

STOPWORDS = ENGLISH_STOP_WORDS | NEWS_WORDS

# Words and numbers in one pass over the text; a token starting with a digit is a number
# not preceded by a digit, "." or ",". No capture groups (findall then builds one string per
# token, not a tuple of two), and the number's lookbehind comes after its first digit, so
# it is tried only where a digit is.
TOKEN = re.compile(r"[A-Za-z][A-Za-z'’\-]*[A-Za-z]|\d(?<![\d.,]\d)\d*(?:\.\d+)?(?![\d,])")
# "19xx" / "20xx" not inside a longer number. The "no digit before" check comes after the
# literal prefix (the lookbehind spans the prefix and the char before it) so the regex engine
# can skip to the next "1" or "2" instead of trying a lookbehind at every position.
_YEAR = re.compile(r"(?:19|20)(?<!\d{3})\d\d(?!\d)")
# The months by their first three letters: what every spelling of one starts with.
_MONTH_STARTS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_MONTH = rf"(?:{'|'.join(_MONTH_STARTS)})[a-z]*\.?"
# What comes right before the year of a calendar date written out: "March 24, ", "24 March ",
# "24/03/". A bare year ("since 1999") is background as often as not; a full date is when
# something was reported or happened.
_DATE_BEFORE_YEAR = re.compile(
    rf"(?i)(?:\b{_MONTH}\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+"
    rf"|\b\d{{1,2}}(?:st|nd|rd|th)?\s+{_MONTH},?\s+"
    r"|\b\d{1,2}[/.-]\d{1,2}[/.-])$"
)
# A day of a month written out: "March 24", "Dec. 11th", "24 March", "11th of December". The
# month is what is kept: copy about one event writes the day it happened, copy about another
# event of the same kind (the earlier quake, last year's patch) writes another month. Found
# from each month name's first three letters (`str.find` over the lower-cased text, a fast
# scan), then these, anchored there: a regex over every position cost 10x as much.
_LETTERS = re.compile(r"[a-z]*")
_DAY_AFTER = re.compile(r"\.?\s+\d{1,2}(?:st|nd|rd|th)?(?![\d:])")
_DAY_BEFORE = re.compile(r"(?<!\w)\d{1,2}(?:st|nd|rd|th)?\s+(?:of\s+)?$")
_WORD_BEFORE = re.compile(r"([A-Za-z]+)\s+$")
_WEEKDAYS = frozenset(
    ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
)
MONTH_NAMES = frozenset([
    "january", "february", "march", "april", "may", "june", "july", "august", "september",
    "october", "november", "december",
    "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec",
])
# The lead: headline plus the body's opening, where wire copy says who, where and what.
LEAD_CHARS = 400

# Entity labels grouped by the question they answer: the features compare who with who and
# where with where, because two events of the same kind differ mostly in one of them.
ENTITY_GROUP = {
    "PERSON": "who",
    "GPE": "where",
    "LOC": "where",
    "FAC": "where",
    "ORG": "org",
    "NORP": "other",
    "EVENT": "other",
    "PRODUCT": "other",
    "WORK_OF_ART": "other",
    "LAW": "other",
}


def term(word: str) -> str | None:
    """A word's comparable form: lower case, possessive and simple plural stripped."""
    return _term_of_plain(without_possessive(word))


def _term_of_plain(word: str) -> str | None:
    """`term` of a lower-case word with no apostrophe."""
    if len(word) < 3 or word in STOPWORDS:
        return None
    return singular(word)


def _token_term(token: str) -> str | None:
    """The term of one `TOKEN` match: a word's `term`, or "#" and the number."""
    return "#" + token if token[0].isdigit() else term(token)


_token_terms = Memo(_token_term, 262_144)


def _word_terms(word: str) -> tuple[str, ...]:
    """The terms of one whitespace-separated word ("Quake's" -> ("quake",), "the" -> ())."""
    if word.isascii() and word.isalpha():
        # Most words are plain letters: one token, the word itself (a one-letter word is no
        # token, and `term` drops it too). This skips the regex, whose set-up per call costs
        # several times what matching a word does.
        found = _term_of_plain(word.lower())
        return (found,) if found else ()
    # map/filter keep the per-token work in C; only tokens never seen before reach `term`.
    return tuple(filter(None, map(_token_terms.__getitem__, TOKEN.findall(word))))


_word_terms_memo = Memo(_word_terms, 262_144)


def terms_in(text: str) -> list[str]:
    """The text's terms in order, one per occurrence. Numbers count as terms ("#26", "#5.2"):
    a death toll, a magnitude or an age tells two events of one kind apart."""
    # No `TOKEN` match contains whitespace, and its look-arounds treat whitespace as they
    # treat the start or end of the text, so the text's terms are its words' terms in turn.
    # Copy repeats its words (punctuation and all): each is looked up in a memo, and only
    # words never seen before are matched by the regex, which costs far more per word. A
    # plain loop: compiled (`services/cluster/compiled.py`) it is a C loop of dict look-ups.
    memo = _word_terms_memo
    found: list[str] = []
    for word in text.split():
        terms = memo.get(word)
        found.extend(memo[word] if terms is None else terms)
    return found


def term_counts(text: str) -> Counter[str]:
    """How often each term occurs in a text (see `terms_in`), in order of first occurrence."""
    return Counter(terms_in(text))


def dated_years(text: str) -> frozenset[int]:
    """The years of the full calendar dates the text writes ("March 24, 2016" -> 2016)."""
    if "19" not in text and "20" not in text:  # no year at all, as in much copy: no regex
        return frozenset()
    return frozenset(
        int(year.group())
        for year in _YEAR.finditer(text)
        if _DATE_BEFORE_YEAR.search(text, max(0, year.start() - 24), year.start())
    )


def dated_months(text: str) -> frozenset[str]:
    """The months of the days the text writes out ("on March 24" -> "mar"), year or not; a
    month name on its own ("in March") or a word that only starts like one ("Mayor 5") is not
    a date, nor is a name's "May" ("Theresa May 10 times": a capitalised word before it that
    is no weekday)."""
    lowered = text.lower()
    if len(lowered) != len(text):  # a letter whose lower case is longer ("İ"): keep positions
        lowered = "".join(c if len(c.lower()) != 1 else c.lower() for c in text)
    months = set()
    for month in _MONTH_STARTS:
        start = lowered.find(month)
        while start != -1:
            if start and (lowered[start - 1].isalnum() or lowered[start - 1] == "_"):
                start = lowered.find(month, start + 3)
                continue  # inside a word
            letters = _LETTERS.match(lowered, start + 3)  # [a-z]*: always a match
            end = letters.end() if letters else start + 3
            if lowered[start:end] in MONTH_NAMES and (
                _DAY_BEFORE.search(lowered, max(0, start - 16), start)
                or (_DAY_AFTER.match(lowered, end) and not _named_may(text, month, start))
            ):
                months.add(month)
                break
            start = lowered.find(month, end)
    return frozenset(months)


def _named_may(text: str, month: str, start: int) -> bool:
    """Whether "May" at `start`, before a number, is a name's ("Theresa May 10 times"): a
    capitalised word right before it that is no weekday."""
    if month != "may":
        return False
    before = _WORD_BEFORE.search(text, max(0, start - 40), start)
    return bool(before and before.group(1)[0].isupper() and before.group(1) not in _WEEKDAYS)


def _sublinear(count: float) -> float:
    return 1.0 + math.log(count)


_sublinears = Memo(_sublinear, 1024)


class TermFrequencies(NamedTuple):
    """A text's sublinear term frequencies (1 + ln tf): `weights[i]` is the i-th of `terms`
    (in first-seen order), and each weight divided by `length` is its unit-vector weight."""

    terms: Collection[str]
    weights: list[float]
    length: float


def sublinear_tf(counts: Counter[str] | dict[str, float]) -> TermFrequencies:
    """The term counts' sublinear frequencies, with their vector's length (1.0 for none).
    Neither scaled to unit length nor keyed by term here: the caller walks terms and weights
    anyway (IDF weighting) and divides as it goes, so no dict is built for them."""
    # Most counts are 1 or 2: their weights come from the memo, read by map in C (three
    # times per article).
    try:
        weights = list(map(_sublinears.__getitem__, counts.values()))
    except ValueError:  # the log of a count of 0 or less: those terms are left out
        counts = {t: n for t, n in counts.items() if n > 0}
        weights = list(map(_sublinears.__getitem__, counts.values()))
    return TermFrequencies(counts, weights, math.hypot(*weights) or 1.0)


@functools.lru_cache(maxsize=65_536)  # the same names recur from article to article
def entity_key(text: str, label: str) -> str:
    """An entity's key: its question group and lower-case name ("where:moscow").

    A person is keyed by surname ("who:putin"): enrichment joins name variants within an
    article, but across articles one outlet writes "Vincent Jackson", another "WR Jackson"."""
    group = ENTITY_GROUP.get(label, "other")
    name = text.lower()
    if group == "who":
        name = name.split()[-1].strip(".,'’") or name
    return f"{group}:{name}"


def name_probe(key: str) -> str:
    """What a `searchable` text must contain to name an entity key: its name as a word start
    (" gulf of aden" for "where:gulf of aden", " reid" also finds "reid's")."""
    return f" {key[key.index(':') + 1 :]}"


def searchable(text: str) -> str:
    """Text to look up `name_probe`s in: lower case, each line start a word start. Built for
    every article (the clusterer passes the body past the slice the NER read), so plain string
    methods (C) only, no tokenising."""
    return f" {text.lower()}".replace("\n", " ")


def prominent_entities(article: EnrichedArticleV1) -> frozenset[str]:
    """Keys of the who / where / which-organisation entities the headline or lead names: what
    the article is about, as opposed to background it mentions."""
    return frozenset(
        entity_key(e.text, e.label)
        for e in article.entities
        if (e.in_headline or e.in_lead) and ENTITY_GROUP.get(e.label) in ("who", "where", "org")
    )


def article_entities(article: EnrichedArticleV1) -> dict[str, float]:
    """An article's entity weights: more mentions and a place in the headline or lead weigh
    more, because that is where wire copy names who and where the story is about."""
    weights: dict[str, float] = {}
    for entity in article.entities:
        w = 1.0 + math.log(entity.count)
        if entity.in_headline:
            w += 1.0
        if entity.in_lead:
            w += 0.5
        key = entity_key(entity.text, entity.label)
        weights[key] = weights.get(key, 0.0) + w
    return weights
