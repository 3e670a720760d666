"""Nested site-fold cross-validation of the HTML vote (`services/clean/vote.py`).

`python -m lab.clean.htmlvote ../shared/data/extraction --seeds 0 1 2`

For each shuffle of the sites into `--folds` outer folds: the line model (one of the voters) is
fitted on the other folds' plain-text pages, as `lab.clean.fit` does; the vote's setting is
chosen among `GRID` on the other folds' pages (best mean F1, ties to the best worst inner
fold); both are scored on the fold's pages, from sites neither has seen. Printed per shuffle:
trafilatura's defaults, trafilatura in precision mode as the stage runs it without the vote
(with its fallbacks), the vote with the setting chosen per fold, and the shipped setting
(`vote.SHIPPED`, chosen on every page, so only its line model is out of sample): the mean over
pages, the worst fold's mean and the pages under F1 0.3. The figures score the extracted
paragraphs joined; `storywire eval cleaning --input html` scores the whole clean stage.
"""

import argparse
import gzip
import itertools
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import trafilatura
from rich.console import Console
from trafilatura.utils import load_html

from lab.clean import linefit
from lab.clean.scoring import page_score
from services.clean import html, vote
from services.clean import lines as article_lines
from services.clean.core import warm_up

GRID = tuple(
    vote.VoteSetting(
        min_votes=min_votes, guard_share=0.5, add_readability=add_min is not None,
        declared_votes=declared, match_share=match, edges_only=edges,
        add_min_chars=add_min or 0,
    )
    for min_votes, add_min, declared, match, edges in itertools.product(
        (1, 2), (None, 0, 30, 60), (False, True), (0.5, 0.8), (False, True)
    )
)
LOW_F1 = 0.3
INNER_FOLDS = 4
IN_SAMPLE_SHOWN = 6  # of the grid's settings, best first


@dataclass(frozen=True)
class FixedReadings:
    """A page's readings computed beforehand, so every setting is voted on the same ones."""

    readability: vote.Reading | None
    justext: vote.Reading | None
    line_model: vote.Reading
    declared: vote.Reading


@dataclass
class HtmlPage:
    """One benchmark page: its true body, the baselines' texts, and what the vote needs."""

    id: str
    site: str
    gold: str
    defaults: str  # trafilatura.extract() with its defaults
    alone: str  # the stage without the vote: precision mode and its fallbacks
    unvoted: str  # the stage with the vote, on a page it does not vote on (its fallbacks)
    paragraphs: list[str] | None  # trafilatura's, when the vote runs on this page
    voters: vote.Voters | None


def load(directory: Path, fit_pages: Sequence[linefit.Page]) -> list[HtmlPage]:
    """Every page of `fit_pages` (the line model's, same ids) read as HTML, its readings
    that do not depend on the line model computed now."""
    pages = []
    saved = vote.setting
    try:
        for fit_page in fit_pages:
            source = gzip.decompress(
                (directory / "html" / f"{fit_page.id}.html.gz").read_bytes()
            ).decode("utf-8", errors="replace")
            vote.setting = None
            extract = html.extract(source)
            alone = "\n".join(extract.lines if extract.flattened is None else extract.flattened)
            tree = load_html(source)
            document = trafilatura.bare_extraction(
                source if tree is None else tree,
                include_comments=False, favor_precision=True, with_metadata=True, fast=True,
            )
            text = getattr(document, "text", None) or ""
            lines = [line for line in text.splitlines() if line.strip()]
            paragraphs: list[str] | None = None
            voters = None
            unvoted = alone
            if sum(map(len, lines)) >= html.TOO_LITTLE_CHARS:
                paragraphs = lines
                voters = html.voters(source, tree, text, getattr(document, "title", None))
                _ = voters.readability, voters.justext, voters.declared, voters.flattened
            else:  # the stage's fallbacks, as it runs them with the vote on
                vote.setting = vote.SHIPPED
                extract = html.extract(source)
                unvoted = "\n".join(
                    extract.lines if extract.flattened is None else extract.flattened
                )
            pages.append(HtmlPage(
                id=fit_page.id, site=fit_page.site, gold=fit_page.gold,
                defaults=trafilatura.extract(source) or "", alone=alone, unvoted=unvoted,
                paragraphs=paragraphs, voters=voters,
            ))
    finally:
        vote.setting = saved
    return pages


def line_readings(pages: Sequence[HtmlPage]) -> list[vote.Reading | None]:
    """Each page's line-model reading under the model `article_lines.model` holds now."""
    out: list[vote.Reading | None] = []
    for page in pages:
        if page.voters is None:
            out.append(None)
            continue
        flat = page.voters.flattened
        kept, _ = article_lines.find_body_and_words(
            flat, page.voters.language, (), page.voters.title
        )
        out.append(vote.Reading([flat[i] for i in kept]))
    return out


def voted_f1(page: HtmlPage, lines: vote.Reading | None, setting: vote.VoteSetting) -> float:
    if page.voters is None or page.paragraphs is None or lines is None:
        return page_score(page.gold, page.unvoted)[2]
    readings = FixedReadings(
        page.voters.readability, page.voters.justext, lines, page.voters.declared
    )
    return page_score(page.gold, "\n".join(vote.vote(page.paragraphs, readings, setting)))[2]


def choose(
    pages: Sequence[HtmlPage], lines: Sequence[vote.Reading | None], seed: int
) -> vote.VoteSetting:
    """The setting of `GRID` with the best mean F1 over `pages`, ties to the best worst inner
    site fold (the vote fits nothing itself, so the inner folds' mean is the pages' mean)."""
    folds = linefit.site_folds(pages, INNER_FOLDS, seed)

    def merit(setting: vote.VoteSetting) -> tuple[float, float]:
        f1s = [voted_f1(page, line, setting) for page, line in zip(pages, lines, strict=True)]
        worst = min(statistics.mean(f1s[i] for i in fold) for fold in folds if fold)
        return round(statistics.mean(f1s), 4), worst

    return max(GRID, key=merit)


def shuffle(
    pages: list[HtmlPage], fit_pages: list[linefit.Page], folds: int, seed: int
) -> dict[str, list[list[float]]]:
    """Per method, the page F1s of each outer fold of one shuffle of the sites."""
    methods: dict[str, list[list[float]]] = {
        "trafilatura defaults": [], "trafilatura precision (the stage without the vote)": [],
        "vote, setting chosen per fold": [], "vote, shipped setting": [],
    }
    saved = article_lines.model
    try:
        for fold in linefit.site_folds(fit_pages, folds, seed):
            held = set(fold)
            article_lines.model, _ = linefit.fit_chosen(
                [page for i, page in enumerate(fit_pages) if i not in held]
            )
            lines = line_readings(pages)
            train = [i for i in range(len(pages)) if i not in held]
            chosen = choose([pages[i] for i in train], [lines[i] for i in train], seed)
            print(f"  fold {len(methods['vote, shipped setting']) + 1}: chose {chosen}")
            scored = [
                [page_score(pages[i].gold, pages[i].defaults)[2] for i in fold],
                [page_score(pages[i].gold, pages[i].alone)[2] for i in fold],
                [voted_f1(pages[i], lines[i], chosen) for i in fold],
                [voted_f1(pages[i], lines[i], vote.SHIPPED) for i in fold],
            ]
            for name, f1s in zip(methods, scored, strict=True):
                methods[name].append(f1s)
    finally:
        article_lines.model = saved
    return methods


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("directory", type=Path)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--folds", type=int, default=5)
    arguments = parser.parse_args(argv)
    warm_up()
    fit_pages = linefit.load_pages(arguments.directory)
    pages = load(arguments.directory, fit_pages)
    console = Console()
    in_sample = {
        setting: statistics.mean(
            voted_f1(page, line, setting)
            for page, line in zip(pages, line_readings(pages), strict=True)
        )
        for setting in GRID
    }
    console.print("in-sample (every page, the shipped line model), for orientation only:")
    for setting, f1 in sorted(in_sample.items(), key=lambda item: -item[1])[:IN_SAMPLE_SHOWN]:
        console.print(f"  {f1:.4f} {setting}", soft_wrap=True)
    for seed in arguments.seeds:
        console.print(f"shuffle {seed} ({arguments.folds} site folds):")
        for name, by_fold in shuffle(pages, fit_pages, arguments.folds, seed).items():
            f1s = [f1 for fold in by_fold for f1 in fold]
            worst = min(statistics.mean(fold) for fold in by_fold if fold)
            console.print(
                f"  {name}: F1 {statistics.mean(f1s):.3f} (worst fold {worst:.3f});"
                f" pages < {LOW_F1}: {sum(f1 < LOW_F1 for f1 in f1s)}",
                soft_wrap=True,
            )


if __name__ == "__main__":
    main()
