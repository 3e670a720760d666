"""The split check: whether a story's articles are two events of one kind, and the two
stories it is cut into when they are.

A story is checked when it grows past one of `ClusterConfig.split_sizes` articles, from its
articles' records (the one-article story each started as, `StoryClusterer.records`): the
sides are found by average linkage (scipy) over their cosines (`split_sides`), and each side
is rebuilt from its records as a merge folds stories (`rebuilt`).
"""

from collections.abc import Sequence

import numpy as np
from scipy.cluster.hierarchy import linkage
from scipy.spatial.distance import squareform

from services.cluster.config import ClusterConfig
from services.cluster.story import StoredStory, absorbed
from services.cluster.vectors import dot


def split_sides(
    records: Sequence[StoredStory], config: ClusterConfig
) -> tuple[list[int], list[int]] | None:
    """Whether a story's articles (their one-article stories, in arrival order) are two
    events: the positions of the side holding the first article and of the other, or None.

    Two events of one kind share the story's common words and names (the earthquake, the
    island), so they are compared by what only some of the story's articles have: each
    article is the set of its top terms, headline terms (counted twice when also a top term)
    and entity names, weighted by IDF over the story's own articles, leaving out the keys only
    one of them has (they make every pair less alike, whichever events they are). The keys all
    of them have weigh little, but keep articles that share nothing else (copies of one text)
    alike. Average linkage over those cosines cuts the articles in two; the story splits when
    the smaller side holds at least `split_min` articles and `split_share` of them, and the
    two sides' mean cross similarity is below `split_threshold` (fitted by
    python -m lab.cluster.fit)."""
    n = len(records)
    if n < 2 * config.split_min:
        return None
    # Every article's keys in one array: a term in both its top terms and its headline is
    # there twice and so counts twice; entity keys ("group:name") never equal a term.
    keys: list[str] = []
    rows: list[int] = []
    for row, record in enumerate(records):
        before = len(keys)
        keys += record["terms"]
        keys += record["headline"]
        keys += record["entities"]
        rows += [row] * (len(keys) - before)
    column = {key: k for k, key in enumerate(dict.fromkeys(keys))}
    # Counted with bincount over the flat positions (`np.add.at` counts the same, slower).
    flat = np.array(rows) * len(column) + np.array(list(map(column.__getitem__, keys)))
    matrix = np.bincount(flat, minlength=n * len(column)).reshape(n, len(column)).astype(float)
    df = np.count_nonzero(matrix, axis=0)
    idf = np.where(df > 1, np.log((n + 1) / (df + 0.5)), 0.0)
    weighted = matrix * idf
    norms = np.linalg.norm(weighted, axis=1)
    unit = weighted / np.where(norms > 0, norms, 1.0)[:, None]
    # einsum, not `@`: a BLAS product of matrices this small costs more in thread start-ups
    # (CPU time on every core) than the sums themselves.
    similarity = np.einsum("ik,jk->ij", unit, unit)
    distance = np.clip(1.0 - similarity, 0.0, None)
    np.fill_diagonal(distance, 0.0)
    tree = linkage(squareform(distance, checks=False), "average")
    # The last merge joined the two sides: its two clusters' leaves (cluster c >= n is the
    # one made by row c - n of the tree).
    first, other = [_leaves(tree, int(tree[-1, k]), n) for k in (0, 1)]
    if first[0] != 0:
        first, other = other, first
    if min(len(first), len(other)) < max(config.split_min, config.split_share * n):
        return None
    if similarity[np.ix_(first, other)].mean() >= config.split_threshold:
        return None
    return first, other


def _leaves(tree: np.ndarray, node: int, n: int) -> list[int]:
    """The articles (leaves, 0 to n-1) under `node` of a scipy linkage `tree`, in order."""
    stack, leaves = [node], []
    while stack:
        cluster = stack.pop()
        if cluster < n:
            leaves.append(cluster)
        else:
            stack += [int(tree[cluster - n, 0]), int(tree[cluster - n, 1])]
    return sorted(leaves)


def rebuilt(
    story_id: str,
    records: Sequence[StoredStory],
    version: int,
    apart: list[str],
    config: ClusterConfig,
) -> StoredStory:
    """A story made of these one-article stories (in arrival order), folded together as a
    merge folds two stories, with the headline closest to all of theirs as its title;
    `apart`: the stories it must not merge with (see `StoryClusterer.add`)."""
    story: StoredStory = {**records[0], "id": story_id}
    for record in records[1:]:
        story = absorbed(story, record, config)
    headlines = story["headline"]
    best = max(records, key=lambda record: dot(record["title_terms"], headlines))
    return {
        **story,
        "version": version,
        "title": best["title"],
        "title_terms": best["title_terms"],
        "apart": apart,
    }
