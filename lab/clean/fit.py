"""Fit the clean stage's line model (`services.clean.lines`) and write it into the runtime.

Usage: .venv/bin/python -m lab.clean.fit ../shared/data/extraction [--folds 5 --repeats 3]
       [--write]

Prints the nested site-fold cross-validated page F1 of the whole fitting procedure (for each
outer fold: the setting chosen by an inner site cross-validation on the other folds, fitted
there, scored on the fold's unseen sites), over `--repeats` shuffles of the sites, then fits on
every page. `--write` writes that fit into services/clean/fitted.py, which the runtime
evaluates in pure Python. The figures here score the kept lines joined; `storywire eval
cleaning` scores the whole clean stage.
"""

import argparse
import statistics
from pathlib import Path

from lab.clean import linefit
from services.clean import lines as article_lines

FITTED_PATH = Path(__file__).resolve().parents[2] / "services" / "clean" / "fitted.py"
FITTED_HEADER = '''# written by `python -m lab.clean.fit --write`; do not edit by hand
"""The line model's fitted numbers: its coefficients (in `lines.FEATURES` order), intercept,
keep threshold and outside-the-run threshold, fitted on the extraction benchmark's pages."""
'''


def fitted_module(model: article_lines.Model) -> str:
    """The text of services/clean/fitted.py holding `model`."""
    numbers = ", ".join(map(repr, model.coefficients)) + ","
    wrapped = []
    while numbers:
        cut = numbers[:92].rfind(", ") + 1 if len(numbers) > 92 else len(numbers)
        wrapped.append("    " + numbers[:cut].strip())
        numbers = numbers[cut:]
    return "\n".join([
        FITTED_HEADER,
        "COEFFICIENTS: tuple[float, ...] = (",
        *wrapped,
        ")",
        f"INTERCEPT = {model.intercept!r}",
        f"THRESHOLD = {model.threshold!r}",
        f"OUTSIDE_THRESHOLD = {model.outside_threshold!r}",
    ]) + "\n"


def nested_cv(pages: list[linefit.Page], folds: int, seed: int) -> tuple[list[float], list[float]]:
    """(every page's held-out F1, each outer fold's mean) of the whole fitting procedure."""
    f1s: list[float] = []
    means: list[float] = []
    for fold in linefit.site_folds(pages, folds, seed):
        held = set(fold)
        model, setting = linefit.fit_chosen([p for i, p in enumerate(pages) if i not in held])
        scores = [linefit.kept_f1(pages[i], model, model.probabilities(pages[i].rows))
                  for i in fold]
        print(f"  seed {seed} fold: setting (C, threshold, outside)={setting}"
              f" f1={statistics.mean(scores):.3f} ({len(scores)} pages)")
        f1s += scores
        means.append(statistics.mean(scores))
    return f1s, means


def main(directory: Path, folds: int, repeats: int, write: bool) -> None:
    pages = linefit.load_pages(directory)
    print(f"{len(pages)} pages, {len({p.site for p in pages})} sites,"
          f" {sum(len(p.rows) for p in pages)} lines")
    rules = [linefit.kept_f1(p, article_lines.Model(_rules_only(), -5.0, 0.5, 1.0),
                             [float(row[4]) for row in p.rows]) for p in pages]
    print(f"rules alone (no fit): f1={statistics.mean(rules):.3f}"
          f" pages<0.3={sum(f < linefit.LOW_F1 for f in rules)}")
    for seed in range(repeats):
        f1s, means = nested_cv(pages, folds, seed)
        print(f"nested {folds}-fold site CV, seed {seed}: f1={statistics.mean(f1s):.3f}"
              f" worst fold={min(means):.3f} pages<0.3={sum(f < linefit.LOW_F1 for f in f1s)}")
    model, setting = linefit.fit_chosen(pages)
    in_sample = [linefit.kept_f1(p, model, model.probabilities(p.rows)) for p in pages]
    print(f"fit on all pages: setting={setting} f1={statistics.mean(in_sample):.3f} (in-sample)")
    if write:
        FITTED_PATH.write_text(fitted_module(model), encoding="utf-8")
        print(f"wrote {FITTED_PATH}")


def _rules_only() -> list[float]:
    return [10.0 if name == "rules_body" else 0.0 for name in article_lines.FEATURES]


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n", 1)[0],
        epilog=__doc__.split("\n\n", 1)[1],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("directory", type=Path, help="the extraction benchmark's folder")
    parser.add_argument("--folds", type=int, default=5, help="outer site folds (5)")
    parser.add_argument("--repeats", type=int, default=1, help="shuffles of the sites (1)")
    parser.add_argument("--write", action="store_true",
                        help="write the fit on all pages into services/clean/fitted.py")
    arguments = parser.parse_args()
    main(arguments.directory, arguments.folds, arguments.repeats, arguments.write)
