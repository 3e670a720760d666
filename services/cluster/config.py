"""The cluster core's settings: the signals its join score weighs (`FEATURES`) and
`ClusterConfig`, whose defaults are the fitted numbers (`services.cluster.fitted`)."""

from dataclasses import dataclass

from services.cluster.fitted import (
    FITTED_JOIN_THRESHOLD,
    FITTED_MERGE_THRESHOLD,
    FITTED_SPLIT_THRESHOLD,
    FITTED_WEIGHTS,
)

# The signals the join score weighs, in the order of `ClusterConfig.weights`.
FEATURES: tuple[str, ...] = (
    "bias",
    "body",  # TF-IDF cosine, article body vs story centroid
    "headline",  # TF-IDF cosine, article headline vs story headlines
    "who",  # share of the article's people (IDF-weighted) the story names
    "where",  # same for places
    "org",  # same for organisations
    "who_miss",  # both lead with people: none the article leads with is in the story, and
    # none the story leads with is in the article
    "where_miss",  # the same for places
    "article_new",  # share of the article's headline/lead names the story never names
    "story_absent",  # share of the story's usual headline/lead names the article lacks
    "time_gap",  # both have event times: ln(1 + days apart) / ln(366), else 0
    "member_max",  # best TF-IDF cosine of the article's lead with one member's lead
    "member_mean",  # mean of those cosines over the story's kept members
    "year_conflict",  # both write full dates, and no year is common to the two
    "month_conflict",  # both write days of months ("March 24"), and no month is common
    "month_match",  # share of the story's articles writing a day of the month the article does
)


@dataclass(frozen=True)
class ClusterConfig:
    """The join score's weights and thresholds, the split check's, and the story window.

    An article joins the best-scoring candidate story when its score (weights . features) is
    at least `join_threshold`; otherwise it starts a story. When another candidate also scores
    at least `merge_threshold`, the article bridges two stories and they merge. When a story
    grows past one of `split_sizes` articles, it is cut in two if its articles fall into two
    sides (`split_sides`) that look less alike than `split_threshold`.
    """

    weights: tuple[float, ...] = FITTED_WEIGHTS
    join_threshold: float = FITTED_JOIN_THRESHOLD
    merge_threshold: float = FITTED_MERGE_THRESHOLD
    window_hours: float = 72.0  # a story closes after this long without new copy
    candidate_window_days: float = 3650.0  # skip stories whose event time is further off
    max_candidates: int = 4  # stories scored per article, best index votes first
    # Postings read per article at most, from its rarest index keys up: a key naming too many
    # live stories to fit is too common to vote (the cost per article stays bounded).
    postings_budget: int = 400
    query_terms: int = 12  # the article's top TF-IDF terms looked up in the index
    index_terms: int = 20  # a story's top terms entered in the index
    story_terms: int = 40  # terms kept in a story's centroid
    body_chars: int = 1000  # body characters compared: the top of the copy carries the event
    story_entities: int = 40
    story_members: int = 8  # member leads kept per story (the first ones)
    member_terms: int = 25  # terms kept per member lead
    story_years: int = 6  # written-date years kept per story
    top_entities: int = 10  # in the emitted story event
    top_keywords: int = 10
    # Story sizes at which a story is checked for two events; past the last, its per-article
    # records are dropped and it is never split again (the check is quadratic in the size).
    split_sizes: tuple[int, ...] = (10, 20, 40, 80)
    split_threshold: float = FITTED_SPLIT_THRESHOLD  # mean cross-side similarity below: split
    split_min: int = 3  # articles on the smaller side, at least...
    split_share: float = 0.2  # ...and at least this share of the story's
    story_apart: int = 8  # stories a split parted from this one, kept so they do not re-merge

    def __post_init__(self) -> None:
        if len(self.weights) != len(FEATURES):
            raise ValueError(f"weights needs {len(FEATURES)} values, one per FEATURES")
