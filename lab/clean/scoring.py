"""Extraction scoring: 4-gram shingle precision/recall/F1 per page, averaged over pages.

The same measure as the project's referee (`shared/eval/score_extraction.py`), reimplemented so
the evaluate command never imports from outside the package: tokens are lower-cased runs of word
characters; a page compares the sets of its 4-token shingles; both empty scores 1, one empty 0.
"""

import re
from collections.abc import Mapping
from dataclasses import dataclass

_TOKEN = re.compile(r"\w+", re.UNICODE)


@dataclass(frozen=True)
class ExtractionScore:
    """Scores averaged over `pages` pages."""

    pages: int
    precision: float
    recall: float
    f1: float


def shingles(text: str, n: int = 4) -> set[tuple[str, ...]]:
    """The set of `n`-token shingles of `text`; a text shorter than `n` tokens is one shingle."""
    tokens = _TOKEN.findall(text.lower())
    if len(tokens) < n:
        return {tuple(tokens)} if tokens else set()
    return {tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1)}


def page_score(gold: str, predicted: str) -> tuple[float, float, float]:
    """(precision, recall, f1) of one page's predicted body against its true body."""
    gold_shingles, predicted_shingles = shingles(gold), shingles(predicted)
    if not gold_shingles and not predicted_shingles:
        return 1.0, 1.0, 1.0
    if not gold_shingles or not predicted_shingles:
        return 0.0, 0.0, 0.0
    hits = len(gold_shingles & predicted_shingles)
    precision, recall = hits / len(predicted_shingles), hits / len(gold_shingles)
    f1 = 2 * precision * recall / (precision + recall) if hits else 0.0
    return precision, recall, f1


def score_pages(gold: Mapping[str, str], predicted: Mapping[str, str]) -> ExtractionScore:
    """Average page scores over every page of `gold`; a page missing from `predicted` is empty."""
    totals = [0.0, 0.0, 0.0]
    for page_id, gold_body in gold.items():
        for i, value in enumerate(page_score(gold_body, predicted.get(page_id, "") or "")):
            totals[i] += value
    pages = len(gold)
    if not pages:
        return ExtractionScore(0, 0.0, 0.0, 0.0)
    return ExtractionScore(pages, totals[0] / pages, totals[1] / pages, totals[2] / pages)
