"""Which lines of a flattened page are the article: a small logistic model over evidence that
holds across sites.

The rule-based classifier of `text.py` (jusText's way: length, stopword density, furniture
phrases, context revision, the densest run of body lines) gives each line its verdicts; this
model weighs them together with the line's own shape, its neighbours' verdicts and the page's
shape (how much of the page the rules call body, how far the line is from it), and keeps the
lines whose probability of being the article's clears a threshold. Its coefficients are fitted
by `python -m lab.clean.fit` (logistic regression, each page weighing the same, chosen by
cross-validation over sites) and written into `fitted.py`; here they are evaluated in pure
Python, so the runtime needs no fitting library.
"""

import math
import operator
import re
from collections import Counter
from collections.abc import Collection, Sequence
from operator import itemgetter

from services.clean import fitted, text
from services.clean.text import LineClass

_GOOD, _NEAR_GOOD, _SHORT, _BAD = (
    LineClass.GOOD, LineClass.NEAR_GOOD, LineClass.SHORT, LineClass.BAD
)
_WINDOW = 3  # lines either side whose verdicts a line's neighbourhood is made of
_LOG_SCALE = 6.0  # log1p(characters) over this: a 400-character line is about 1
_MAX_LOGIT = 30.0  # below this log-odds a line's probability is 0 (and exp() cannot overflow)
_MIN_WEIGHT_CHARS = 20  # a short line still weighs in the run as this many characters
# The wrong-block fallback (`about`, `wider`): chosen on the benchmark by site-fold
# cross-validation (docs/cleaning.md): a longer choice is judged on its own merits.
FALLBACK_MAX_CHARS = 2000
_TITLE_MIN_WORDS = 2
_SHORT_WORD_CHARS = 3
_TITLE_PARTS = re.compile(r"\s+[|\-–—·:]\s+")

# The features, in the order of `fitted.COEFFICIENTS`.
FEATURES = (
    "raw_good", "raw_near_good", "raw_short", "revised_good", "rules_body", "log_length",
    "stopword_density", "sentence_end", "prev_body", "next_body", "prev_log_length",
    "next_log_length", "window_body", "position", "log_distance_to_body", "length_vs_longest",
    "page_body_share", "page_log_body_chars", "capitalised_share", "digit_share",
    "body_x_log_length", "body_x_page_share", "in_longest_block", "title_share",
    "body_cohesion",
)


class Model:
    """A logistic model, P(article line) = sigmoid(intercept + coefficients . features), and
    how its probabilities choose the article: the run of lines with the most evidence (each
    line weighs (P - threshold) x its length, as in a maximum subarray), its lines at or above
    `threshold`, plus lines anywhere at or above `outside_threshold`."""

    def __init__(
        self,
        coefficients: Sequence[float],
        intercept: float,
        threshold: float,
        outside_threshold: float,
    ) -> None:
        if len(coefficients) != len(FEATURES):
            raise ValueError(f"{len(coefficients)} coefficients for {len(FEATURES)} features")
        self.coefficients = tuple(coefficients)
        self.intercept = intercept
        self.threshold = threshold
        self.outside_threshold = outside_threshold

    def probabilities(self, rows: Sequence[Sequence[float]]) -> list[float]:
        out = []
        coefficients, intercept = self.coefficients, self.intercept
        for row in rows:
            score = intercept + sum(map(operator.mul, coefficients, row))
            out.append(1 / (1 + math.exp(-score)) if score > -_MAX_LOGIT else 0.0)
        return out

    def select(self, lengths: Sequence[int], probabilities: Sequence[float]) -> list[int]:
        """The article's line indices, given each line's length and probability."""
        threshold = self.threshold
        first, last = text.best_run(
            (p - threshold) * max(lengths[i], _MIN_WEIGHT_CHARS)
            for i, p in enumerate(probabilities)
        )
        outside = self.outside_threshold
        return [
            i for i, p in enumerate(probabilities)
            if (first <= i <= last and p >= threshold) or p >= outside
        ]


FITTED = Model(
    fitted.COEFFICIENTS, fitted.INTERCEPT, fitted.THRESHOLD, fitted.OUTSIDE_THRESHOLD
)
# What `find_body` uses; the lab swaps in each fold's model to cross-validate.
model: Model | None = FITTED


def page_rows(
    lines: Sequence[str],
    language: str,
    template_indices: Collection[int] = (),
    title: str | None = None,
) -> tuple[list[list[float]], list[int], list[list[str] | None]]:
    """(each line's features in `FEATURES` order, the rules' body indices, each line's words
    where the rules found them). `title`: the feed's or the page's title, if known."""
    raw, line_words = text.judge_lines(lines, language, template_indices)
    revised = text.revise(raw)
    rules = text.select_body(lines, revised)
    n = len(lines)
    if n == 0:
        return [], rules, line_words
    stopwords = text.stoplist(language)
    body = [False] * n
    for i in rules:
        body[i] = True
    lengths = [len(line) for line in lines]
    logs = [math.log1p(length) / _LOG_SCALE for length in lengths]
    total_chars = sum(lengths) or 1
    body_chars = sum(lengths[i] for i in rules)
    page_share = body_chars / total_chars
    page_log_body = math.log1p(body_chars) / (2 * _LOG_SCALE)
    longest = max(lengths) or 1
    # Distance to the nearest rules' body line, both ways, in two walks.
    distance = [n] * n
    last = -n
    for i in range(n):
        if body[i]:
            last = i
        distance[i] = i - last
    last = 2 * n
    for i in range(n - 1, -1, -1):
        if body[i]:
            last = i
        distance[i] = min(distance[i], last - i)
    # Running count of body lines, for each window's share.
    prefix = [0] * (n + 1)
    for i in range(n):
        prefix[i + 1] = prefix[i] + body[i]
    # The contiguous block of lines (GOOD after revision) around the page's longest GOOD line.
    block = [False] * n
    goods = [i for i in range(n) if revised[i] is _GOOD]
    if goods:
        top = max(goods, key=lengths.__getitem__)
        lo = top
        while lo > 0 and revised[lo - 1] is _GOOD:
            lo -= 1
        hi = top
        while hi < n - 1 and revised[hi + 1] is _GOOD:
            hi += 1
        for i in range(lo, hi + 1):
            block[i] = True
    # How many of the rules' body lines each content word is in: a line of the article shares
    # its vocabulary with the rest of it (and with its title); a teaser for another story
    # does not.
    vocabulary: Counter[str] = Counter()
    for i in rules:
        words = line_words[i]
        if words:
            vocabulary.update({word for word in words if len(word) > _SHORT_WORD_CHARS})
    in_one = set(vocabulary)  # words of the body: another line's, for a line not in it
    in_two = {word for word, count in vocabulary.items() if count > 1}  # for a body line
    headline = title_words(title) if title else set()
    rows: list[list[float]] = []
    for i, line in enumerate(lines):
        verdict = raw[i]
        words = line_words[i]
        density = 0.0
        if words and stopwords:
            density = sum(map(stopwords.__contains__, words)) / len(words)
        # The line's letters are only looked at where the rules weighed its words (the others
        # the rules dismissed at a glance: a menu, a URL, a repeat, the template).
        capitalised = digits = title_share = cohesion = 0.0
        if words:
            content = {word for word in words if len(word) > _SHORT_WORD_CHARS}
            if content:
                cohesion = len(content & (in_two if body[i] else in_one)) / len(content)
                if headline:
                    title_share = len(content & headline) / len(headline)
            tokens = line.split()
            capitalised = sum(map(str.isupper, map(itemgetter(0), tokens))) / len(tokens)
            digits = sum(map(str.isdigit, line)) / lengths[i]
        lo, hi = max(0, i - _WINDOW), min(n, i + _WINDOW + 1)
        in_body = 1.0 if body[i] else 0.0
        rows.append([
            1.0 if verdict is _GOOD else 0.0,
            1.0 if verdict is _NEAR_GOOD else 0.0,
            1.0 if verdict is _SHORT else 0.0,
            1.0 if revised[i] is _GOOD else 0.0,
            in_body,
            logs[i],
            density,
            1.0 if line.endswith(text.SENTENCE_LINE_ENDS) else 0.0,
            1.0 if i > 0 and body[i - 1] else 0.0,
            1.0 if i < n - 1 and body[i + 1] else 0.0,
            logs[i - 1] if i > 0 else 0.0,
            logs[i + 1] if i < n - 1 else 0.0,
            (prefix[hi] - prefix[lo] - in_body) / max(1, hi - lo - 1),
            i / n,
            math.log1p(min(distance[i], n)) / _LOG_SCALE,
            lengths[i] / longest,
            page_share,
            page_log_body,
            capitalised,
            min(digits, 1.0),
            in_body * logs[i],
            in_body * page_share,
            1.0 if block[i] else 0.0,
            title_share,
            cohesion,
        ])
    return rows, rules, line_words


def find_body_and_words(
    lines: Sequence[str],
    language: str,
    template_indices: Collection[int] = (),
    title: str | None = None,
) -> tuple[list[int], list[list[str] | None]]:
    """Indices of the article's lines among `lines` (from `text.split_page`), by the fitted
    model (the rules' choice when no model is set), and each line's words where the rules
    found them.

    `title` is the page's or the feed's title: when the lines chosen are short and share not
    one word with it, they are probably the wrong block (a teaser list, a notice, another
    story), and every line the rules did not dismiss as furniture is kept with them (`wider`).
    """
    if model is None:
        return text.find_body_and_words(lines, language, template_indices)
    rows, _rules, line_words = page_rows(lines, language, template_indices, title)
    kept = choose(model, lines, rows, model.probabilities(rows), title)
    if template_indices:
        # The source's template is never the article, whatever the line's neighbours say.
        kept = [i for i in kept if i not in template_indices]
    return kept, line_words


def choose(
    model: Model,
    lines: Sequence[str],
    rows: Sequence[Sequence[float]],
    probabilities: Sequence[float],
    title: str | None,
) -> list[int]:
    """The lines `model` keeps, widened when they are unlikely to be the article."""
    kept = model.select([len(line) for line in lines], probabilities)
    if title and not about(title, [lines[i] for i in kept]):
        return wider(rows, kept)
    return kept


def title_part(title: str) -> str:
    """A page title's first part: the headline of "Headline | Site | Section"."""
    return _TITLE_PARTS.split(title.strip(), maxsplit=1)[0]


def title_words(title: str) -> set[str]:
    """The content words of a page title's first part."""
    return {
        word for word in text.words(title_part(title).lower()) if len(word) > _SHORT_WORD_CHARS
    }


def about(title: str, kept: Sequence[str]) -> bool:
    """Whether the `kept` lines can be the article titled `title`: they are long enough to be
    judged on their own, or share a word with the title; True when the title has too few
    words to tell (one word, or a script written without spaces)."""
    words = title_words(title)
    if len(words) < _TITLE_MIN_WORDS or sum(map(len, kept)) >= FALLBACK_MAX_CHARS:
        return True
    return any(not words.isdisjoint(text.words(line.lower())) for line in kept)


def wider(rows: Sequence[Sequence[float]], kept: Collection[int]) -> list[int]:
    """The safer choice: `kept` and every line the rules did not dismiss as furniture."""
    raw = (FEATURES.index("raw_good"), FEATURES.index("raw_near_good"),
           FEATURES.index("raw_short"))
    return sorted(set(kept) | {i for i, row in enumerate(rows) if any(row[j] for j in raw)})
