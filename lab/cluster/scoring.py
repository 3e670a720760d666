"""Story clustering scores: B-cubed and pairwise precision, recall and F1.

The same definitions as the shared referee (`shared/eval/score_clusters.py`), so figures printed
by `lab.cluster.evaluate` can be quoted against it: an article the predictions miss counts
as a story of its own; pairwise precision (recall) is 1.0 when there are no predicted (gold)
pairs, and F1 is 0.0 when no pair is right.
"""

from collections import defaultdict
from collections.abc import Mapping
from typing import NamedTuple


class Scores(NamedTuple):
    precision: float
    recall: float
    f1: float


def _groups(labels: Mapping[str, str]) -> dict[str, set[str]]:
    groups: dict[str, set[str]] = defaultdict(set)
    for article_id, label in labels.items():
        groups[label].add(article_id)
    return groups


def complete(gold: Mapping[str, str], predicted: Mapping[str, str]) -> dict[str, str]:
    """Predictions for exactly the gold articles; a missing one is a story of its own."""
    return {i: predicted.get(i, f"__alone__{i}") for i in gold}


def bcubed(gold: Mapping[str, str], predicted: Mapping[str, str]) -> Scores:
    """B-cubed: per article, how much of its predicted story is its event (precision) and how
    much of its event is in its predicted story (recall), averaged over articles."""
    predicted = complete(gold, predicted)
    gold_groups, predicted_groups = _groups(gold), _groups(predicted)
    precision = recall = 0.0
    for article_id, event in gold.items():
        story = predicted_groups[predicted[article_id]]
        shared = len(gold_groups[event] & story)
        precision += shared / len(story)
        recall += shared / len(gold_groups[event])
    precision, recall = precision / len(gold), recall / len(gold)
    return Scores(precision, recall, 2 * precision * recall / (precision + recall))


def _pair_count(groups: dict[str, set[str]]) -> int:
    return sum(len(g) * (len(g) - 1) // 2 for g in groups.values())


def pairwise(gold: Mapping[str, str], predicted: Mapping[str, str]) -> Scores:
    """Pairwise: of the article pairs put in one story, how many share an event (precision);
    of the pairs sharing an event, how many were put in one story (recall)."""
    predicted = complete(gold, predicted)
    gold_groups, predicted_groups = _groups(gold), _groups(predicted)
    # Pairs in both = pairs inside each (event, story) intersection: no need to list pairs.
    both: dict[tuple[str, str], int] = defaultdict(int)
    for article_id, event in gold.items():
        both[event, predicted[article_id]] += 1
    true_pairs = sum(n * (n - 1) // 2 for n in both.values())
    predicted_pairs, gold_pairs = _pair_count(predicted_groups), _pair_count(gold_groups)
    precision = true_pairs / predicted_pairs if predicted_pairs else 1.0
    recall = true_pairs / gold_pairs if gold_pairs else 1.0
    f1 = 2 * precision * recall / (precision + recall) if true_pairs else 0.0
    return Scores(precision, recall, f1)
