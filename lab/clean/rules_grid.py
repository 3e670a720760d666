"""Choose the plain-text line classifier's thresholds, with a held-out check.

The rules alone, as they were chosen before the line model (`lab.clean.fit`) took their verdicts
as evidence: the line model is switched off while the grid runs.

Usage: .venv/bin/python -m lab.clean.rules_grid ../shared/data/extraction [--folds K --repeats R]

Grid-searches `services.clean.text`'s bridge penalty, long-line length, extra-block size and
stopword density over the benchmark. Each setting cleans every page once and keeps each page's
F1, so any split of the pages can be scored without cleaning again.

Without options it prints the 2-fold figure on the fixed even/odd split (the best setting on
each half, scored on the other half). With --folds K --repeats R it also shuffles the pages R
times into K folds, picks the best setting on the other K-1 folds and scores it on the held-out
fold, and prints the mean held-out F1 over the R repeats and the worst repeat: one even/odd split
of 123 pages moves by a point or more with which pages land where, so a change is judged on
many splits. Last, the best setting on all pages (the one committed, whose in-sample score is
optimistic).
"""

import argparse
import contextlib
import io
import itertools
import json
import random
import statistics
from pathlib import Path

from lab.clean import evaluate
from lab.clean.scoring import page_score
from services.clean import lines, text

GRID: dict[str, list[float]] = {
    "_BAD_LINE_PENALTY": [40, 60, 100, 150],
    "_LONG_CHARS": [70, 90, 110],
    "_EXTRA_BLOCK_CHARS": [300, 400, 800],
    "_STOPWORDS_HIGH": [0.25, 0.30],
}

# (setting, {page id: f1})
Result = tuple[dict[str, float], dict[str, float]]


def _score_grid(directory: Path, gold: dict[str, str]) -> list[Result]:
    out = Path("/tmp/fit_cleaner_predictions.json")
    results: list[Result] = []
    for values in itertools.product(*GRID.values()):
        setting = dict(zip(GRID, values, strict=True))
        for name, value in setting.items():
            setattr(text, name, value)
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            # One pass: only the bodies count here, and passes clean identically.
            evaluate.evaluate_cleaning(directory, "text", out, passes=1)
        predicted = json.loads(out.read_text())
        f1 = {page_id: page_score(body, predicted.get(page_id) or "")[2]
              for page_id, body in gold.items()}
        results.append((setting, f1))
    return results


def _mean_f1(result: Result, pages: list[str]) -> float:
    return sum(result[1][page_id] for page_id in pages) / len(pages)


def _held_out(results: list[Result], folds: list[list[str]]) -> float:
    """Mean over the pages of each fold's F1 under the setting best on the other folds."""
    total = 0.0
    for k, test in enumerate(folds):
        train = [page_id for j, fold in enumerate(folds) if j != k for page_id in fold]
        best = max(results, key=lambda result: _mean_f1(result, train))
        total += _mean_f1(best, test) * len(test)
    return total / sum(map(len, folds))


def main(directory: Path, folds: int, repeats: int, seed: int) -> None:
    lines.model = None  # the rules alone
    truth = json.loads((directory / "ground-truth.json").read_text())
    gold = {page_id: item["articleBody"] for page_id, item in truth.items()}
    ids = sorted(gold)
    results = _score_grid(directory, gold)
    halves = (ids[::2], ids[1::2])
    for fit, test in ((0, 1), (1, 0)):
        best = max(results, key=lambda result: _mean_f1(result, halves[fit]))
        print(f"fit on half {fit + 1}: {best[0]} -> held-out half {test + 1}"
              f" f1={_mean_f1(best, halves[test]):.3f}")
    print(f"2-fold held-out f1: {_held_out(results, list(halves)):.3f}")
    if repeats:
        shuffler = random.Random(seed)
        figures = []
        for _ in range(repeats):
            shuffled = ids[:]
            shuffler.shuffle(shuffled)
            figures.append(_held_out(results, [shuffled[k::folds] for k in range(folds)]))
        print(f"{folds}-fold held-out f1 over {repeats} random splits:"
              f" mean={statistics.mean(figures):.3f} worst={min(figures):.3f}"
              f" best={max(figures):.3f}")
    best = max(results, key=lambda result: _mean_f1(result, ids))
    print(f"best on all pages: {best[0]} f1={_mean_f1(best, ids):.3f} (in-sample)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n", 1)[0],
        epilog=__doc__.split("\n\n", 2)[2],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("directory", type=Path, help="the extraction benchmark's folder")
    parser.add_argument("--folds", type=int, default=2, help="folds per random split (2)")
    parser.add_argument("--repeats", type=int, default=0,
                        help="random splits to average over (0: only the even/odd split)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the random splits")
    arguments = parser.parse_args()
    main(arguments.directory, arguments.folds, arguments.repeats, arguments.seed)
