"""Fitting and cross-validating the line model of `services.clean.lines` on the benchmark.

Each page of the extraction benchmark becomes its lines' feature rows (`lines.page_rows`, the
runtime's own code) and labels: a line is the article's when most of its 4-token shingles (for a
short line: its words in a row) are in the true body. A logistic regression (scikit-learn, a dev
dependency only) is fitted with each page weighing the same and each line by its words, since
the page score counts shingles; its strength `C` and the keep threshold are chosen by
cross-validation over sites (pages of one site never on both sides of a split), by the mean page
F1 of the bodies the model keeps.
"""

import gzip
import json
import math
import random
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol
from urllib.parse import urlparse

import numpy as np
from sklearn.linear_model import LogisticRegression

from lab.clean.scoring import page_score, shingles
from services.clean import core, facts, text
from services.clean import lines as article_lines

C_GRID = (0.01, 0.03, 0.1, 0.3)
THRESHOLD_GRID = (0.4, 0.5, 0.6)
OUTSIDE_GRID = (0.8, 0.9, 1.0)
_TOKEN_SHINGLE = 4
_LABEL_SHARE = 0.5
LOW_F1 = 0.3


@dataclass
class Page:
    id: str
    site: str
    lines: list[str]
    rows: list[list[float]]
    labels: list[int]
    gold: str
    title: str | None = None  # the first line, when it may be the title (as the core takes it)


def site_of(url: str | None) -> str:
    host = (urlparse(url).hostname or "") if url else ""
    return host.removeprefix("www.") or "unknown"


def read_copy(directory: Path, page_id: str, kind: str) -> str:
    if kind == "text":
        return (directory / "text" / f"{page_id}.txt").read_bytes().decode("utf-8", "replace")
    data = gzip.decompress((directory / "html" / f"{page_id}.html.gz").read_bytes())
    return data.decode("utf-8", "replace")


def line_label(line: str, gold_shingles: set[tuple[str, ...]], gold_joined: str) -> int:
    tokens = text.words(line.lower())
    if not tokens:
        return 0
    if len(tokens) < _TOKEN_SHINGLE:
        return int(f" {' '.join(tokens)} " in gold_joined)
    own = shingles(line)
    return int(len(own & gold_shingles) >= _LABEL_SHARE * len(own))


def load_pages(directory: Path) -> list[Page]:
    """The benchmark's plain-text pages as feature rows and labels."""
    truth = json.loads((directory / "ground-truth.json").read_text())
    core.warm_up()
    pages = []
    for page_id in sorted(truth):
        gold = truth[page_id]["articleBody"]
        lines = text.split_page(read_copy(directory, page_id, "text"))
        language, _ = core.page_language(lines)
        url = truth[page_id].get("url")
        first = lines[0] if lines else ""
        site = facts.site_name(urlparse(url).hostname if url else None)
        title = (
            first if facts.not_a_headline(article_lines.title_part(first), site) is None else None
        )
        rows, _rules, _words = article_lines.page_rows(lines, language or "en", (), title)
        gold_shingles = shingles(gold)
        gold_joined = f" {' '.join(text.words(gold.lower()))} "
        labels = [line_label(line, gold_shingles, gold_joined) for line in lines]
        pages.append(Page(page_id, site_of(url), lines, rows, labels, gold, title))
    return pages


class _Sited(Protocol):
    @property
    def site(self) -> str: ...


def site_folds(pages: Sequence[_Sited], k: int, seed: int) -> list[list[int]]:
    """Page indices in `k` folds, every site's pages in one fold."""
    sites = sorted({page.site for page in pages})
    random.Random(seed).shuffle(sites)
    fold_of = {site: i % k for i, site in enumerate(sites)}
    folds: list[list[int]] = [[] for _ in range(k)]
    for i, page in enumerate(pages):
        folds[fold_of[page.site]].append(i)
    return folds


def fit(pages: Sequence[Page], c: float) -> LogisticRegression:
    x, y, w = [], [], []
    for page in pages:
        sizes = [max(1, len(line.split())) for line in page.lines]
        total = sum(sizes) or 1
        x += page.rows
        y += page.labels
        w += [size / total * 100 for size in sizes]
    model = LogisticRegression(C=c, max_iter=2000)
    if len(set(y)) < 2:  # a degenerate training set: keep every line
        model.fit([[0.0] * len(article_lines.FEATURES)] * 2, [0, 1])
        return model
    model.fit(np.array(x), np.array(y), sample_weight=np.array(w))
    return model


def kept_f1(page: Page, model: article_lines.Model, probs: Sequence[float]) -> float:
    """The page's F1 when `model` keeps its lines (joined as the core joins them)."""
    kept = article_lines.choose(model, page.lines, page.rows, probs, page.title)
    return page_score(page.gold, "\n\n".join(page.lines[i] for i in kept))[2]


def to_runtime(
    model: LogisticRegression, threshold: float, outside_threshold: float
) -> article_lines.Model:
    """The fitted regression as the runtime's pure-Python model (coefficients rounded)."""
    return article_lines.Model(
        [round(float(v), 5) for v in model.coef_[0]],
        round(float(model.intercept_[0]), 5),
        threshold,
        outside_threshold,
    )


Setting = tuple[float, float, float]  # C, threshold, outside threshold


def choose(pages: Sequence[Page], k: int = 3, seed: int = 1) -> Setting:
    """The setting with the best mean page F1 in `k`-fold site cross-validation on `pages`."""
    folds = site_folds(pages, k, seed)
    settings = [(c, t, o) for c in C_GRID for t in THRESHOLD_GRID for o in OUTSIDE_GRID]
    totals = dict.fromkeys(settings, 0.0)
    for fold in folds:
        held = set(fold)
        train = [page for i, page in enumerate(pages) if i not in held]
        for c in C_GRID:
            regression = fit(train, c)
            base = to_runtime(regression, 0.5, 1.0)
            for i in fold:
                probs = base.probabilities(pages[i].rows)
                for t in THRESHOLD_GRID:
                    for o in OUTSIDE_GRID:
                        model = article_lines.Model(base.coefficients, base.intercept, t, o)
                        totals[c, t, o] += kept_f1(pages[i], model, probs)
    return max(settings, key=lambda setting: (round(totals[setting], 9), -setting[0]))


def fit_chosen(pages: Sequence[Page]) -> tuple[article_lines.Model, Setting]:
    """The runtime model fitted on `pages`, its setting chosen by inner cross-validation."""
    c, threshold, outside = choose(pages)
    return to_runtime(fit(pages, c), threshold, outside), (c, threshold, outside)


def page_f1s_to_summary(f1s: Sequence[float]) -> tuple[float, int]:
    return (sum(f1s) / len(f1s) if f1s else math.nan), sum(f1 < 0.3 for f1 in f1s)
