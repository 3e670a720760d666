"""Choose the plain-text line classifier's four thresholds, with a 2-fold held-out check.

Usage: .venv/bin/python scripts/fit_cleaner.py /work/shared/data/extraction

Grid-searches `services.clean.text`'s bridge penalty, long-line length, extra-block size and
stopword density over the benchmark, and prints the best setting on each half of the pages
with its score on the other half (the honest figure), and the best setting on all pages (the
one committed, whose in-sample score is optimistic).
"""

import argparse
import contextlib
import io
import itertools
import json
from pathlib import Path

from services.clean import evaluate, text
from services.clean.scoring import score_pages

GRID = {
    "_BAD_LINE_PENALTY": [40, 60, 100, 150],
    "_LONG_CHARS": [70, 90, 110],
    "_EXTRA_BLOCK_CHARS": [300, 400, 800],
    "_STOPWORDS_HIGH": [0.25, 0.30],
}


def main(directory: Path) -> None:
    truth = json.loads((directory / "ground-truth.json").read_text())
    gold = {page_id: item["articleBody"] for page_id, item in truth.items()}
    ids = sorted(gold)
    halves = (set(ids[::2]), set(ids[1::2]))
    out = Path("/tmp/fit_cleaner_predictions.json")
    results = []
    for values in itertools.product(*GRID.values()):
        for name, value in zip(GRID, values, strict=True):
            setattr(text, name, value)
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            evaluate.evaluate_cleaning(directory, "text", out)
        predicted = json.loads(out.read_text())
        f1 = [score_pages({k: gold[k] for k in half}, predicted).f1 for half in halves]
        results.append((dict(zip(GRID, values, strict=True)), f1[0], f1[1]))
    held_out = []
    for fit, test in ((1, 2), (2, 1)):
        best = max(results, key=lambda result: result[fit])
        held_out.append(best[test])
        print(f"fit on half {fit}: {best[0]} -> held-out half {test} f1={best[test]:.3f}")
    print(f"2-fold held-out f1: {sum(held_out) / 2:.3f}")
    best = max(results, key=lambda result: result[1] + result[2])
    print(f"best on all pages: {best[0]} f1={(best[1] + best[2]) / 2:.3f} (in-sample)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n", 1)[0],
        epilog=__doc__.split("\n\n", 2)[2],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("directory", type=Path, help="the extraction benchmark's folder")
    main(parser.parse_args().directory)
