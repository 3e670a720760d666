"""Cluster: enriched articles in, in arrival order; story events out.

Single pass. Each article is compared with the live stories that share a name or a rare term
with it (an inverted index, so the cost grows with the few stories that could match, not with
all of them); a linear score over several signals (body and headline TF-IDF cosine against the
story's centroid, the article's lead against each of the story's first members, named entities
by who / where / which organisation and who leads, conflicting years of written dates, the
months of the days the copy writes out, event time) decides whether it joins the best story or
starts a new one; a second story scoring above the merge threshold is merged into it. A story
that grows past one of a few sizes is checked for holding two events of one kind
(`split_sides`) and, if it does, cut in two; stories a split parted are not merged again. The
weights and thresholds are fitted on ECB+ dev topics by `scripts/fit_cluster.py` and are
`ClusterConfig`'s defaults. Nothing is rejected: every article ends in a story (a redelivered
one changes nothing).

State: every live story is one JSON-serialisable dict in the `stories` mapping (a faust Table in
production), written only by assignment, one key per changed story per article. Document
frequencies (for IDF) are counted over the live stories' stored terms, so they, the inverted
index and every other in-memory structure derive from `stories`: a clusterer built anew on the
same mapping resumes exactly where the last one stopped. Vectors are stored IDF-weighted as the
live stories stood when each article joined, so scoring is dot products over stored numbers.

Shape of one stored story (`StoryClusterer.stories[story_id]`):
    {"id", "language", "version", "title", "title_terms": {term: w}, "article_ids": [...],
     "sources": [...], "duplicate_count", "first_seen", "last_seen" (ISO, UTC: ingest time),
     "event_first", "event_last" (ISO or None: published times only), "terms": {term: w}
     (sum of the articles' unit TF-IDF body vectors, top `story_terms`, heaviest first: see
     `_top`), "headline": {term: w} (the same for headlines), "entities": {key: [text, label,
     articles, weight, articles leading with it]} (top `story_entities`), "members":
     [{term: w}] (the first `story_members` articles' unit TF-IDF lead vectors, top
     `member_terms` each), "years": [year] (of full dates the articles write, latest
     `story_years`), "months": {month: articles writing a day of it}, "dated": articles
     writing a day of any month (both missing in stories stored before them), "apart":
     [story_id] (stories a split parted from it, latest `story_apart`; missing in stories
     stored before splits existed)}

`records` (a second mapping, a faust Table too) holds, per article of a multi-article story
no bigger than the last split size, the one-article story it started as: what a split rebuilds
both sides from.
"""

import hashlib
import heapq
import math
from collections import Counter
from collections.abc import Collection, Iterable, MutableMapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
from scipy.cluster.hierarchy import linkage
from scipy.spatial.distance import squareform

from schemas.articles import EnrichedArticleV1
from schemas.stories import StoryEventV1
from services.cluster.text import (
    LEAD_CHARS,
    TermFrequencies,
    article_entities,
    dated_months,
    dated_years,
    entity_key,
    name_probe,
    prominent_entities,
    searchable,
    sublinear_tf,
    terms_in,
)
from services.memo import Memo

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

# Fitted by scripts/fit_cluster.py on ECB+ dev (see docs in that script); regenerate, do not
# edit by hand.
FITTED_WEIGHTS: tuple[float, ...] = (
    -2.3817, 4.7618, -0.084, 1.6409, 0.435, -0.4278, -0.0522, -0.0159, -0.9876, -3.0686, 0.0,
    4.2321, 4.2427, -0.7808, -0.8999, 2.9998,
)
FITTED_JOIN_THRESHOLD = -1.75
FITTED_MERGE_THRESHOLD = -0.5
FITTED_SPLIT_THRESHOLD = 0.09


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


@dataclass(slots=True)
class _Live:
    """What the clusterer keeps in memory per live story, derived from its stored dict."""

    terms: dict[str, float]
    terms_norm: float
    headline: dict[str, float]
    headline_norm: float
    entities: dict[str, list[Any]]  # the stored entities: only their keys are compared
    prominent: dict[str, float]  # key -> share of articles naming it in headline or lead
    leads: dict[str, list[str]]  # group -> the keys at least half its articles lead with
    keys: frozenset[str]  # the story's inverted-index keys
    event_first: float | None
    event_last: float | None
    last_seen: float
    members: list[dict[str, float]]  # the kept members' lead vectors
    years: frozenset[int]  # years of the full dates its articles write
    months: dict[str, int]  # month -> its articles writing a day of it
    dated: int  # its articles writing a day of any month


@dataclass(slots=True)
class _Article:
    """An article's comparable form. Its term vectors are sublinear term frequencies with
    their lengths (`sublinear_tf`): they are only ever read IDF-weighted (`_weighted`), which
    scales them to unit length as it goes."""

    terms: TermFrequencies
    headline: TermFrequencies
    entities: dict[str, float]
    prominent: frozenset[str]
    leads: dict[str, list[str]]  # group ("who:", ...) -> its keys in `prominent`
    lead: TermFrequencies  # headline and the body's opening
    # The body past the compared slice (`body_chars`, as much as the NER reads), `searchable`:
    # a name the NER found in a story's lead still counts as named when the article's later
    # text writes it (see `_prominence`). Not the whole text: a search costs as it reads, and
    # over the whole text it cost twice as much for about the same held-out figures (README).
    text: str
    years: frozenset[int]
    months: frozenset[str]  # months of the days it writes out (`dated_months`)
    # What a story's title is chosen by (`_title_terms`): read when it starts a story, joins
    # one, and for its record.
    title_terms: dict[str, float]
    event_time: float | None
    # When storywire saw the copy (its ingest time): what first_seen / last_seen track and what
    # closes a story. Event time (published_at) is a similarity signal only: copy about old
    # events (a backfill, an archive feed) must not close today's stories, nor the reverse.
    seen: datetime


@dataclass(slots=True)
class _Query:
    """An article's vectors weighted by the live stories' IDF, with their lengths; `lead` is
    scaled to unit length, as the members' stored leads are."""

    body: dict[str, float]
    body_norm: float
    headline: dict[str, float]
    headline_norm: float
    lead: dict[str, float]
    # Per entity group ("who:", "where:", "org:"): the article's (key, weight x IDF) pairs.
    groups: dict[str, list[tuple[str, float]]] = field(default_factory=dict)
    prominent: list[tuple[str, float]] = field(default_factory=list)  # (key, IDF)


def _length(vector: dict[str, float]) -> float:
    return math.hypot(*vector.values())


def _unit(vector: dict[str, float], length: float | None = None) -> dict[str, float]:
    """The vector scaled to unit length; `length` is its `_length`, when already known."""
    norm = (_length(vector) if length is None else length) or 1.0
    return {k: w / norm for k, w in vector.items()}


def _summed(story: dict[str, float], article: dict[str, float]) -> dict[str, float]:
    """A story's vector plus an article's: the story's keys in their order, then the
    article's new ones in theirs (the order `_top` breaks ties by). The copy and the new
    keys are one C-level merge; only the shared keys are added up here."""
    summed = {**story, **article}
    for k in story.keys() & article.keys():
        summed[k] = story[k] + article[k]
    return summed


def _cosine(a: dict[str, float], a_norm: float, b: dict[str, float], b_norm: float) -> float:
    """Cosine of two vectors of known lengths, walking the shorter one."""
    if not a_norm or not b_norm:
        return 0.0
    if len(a) > len(b):
        a, b = b, a
    return _dot(a, b) / (a_norm * b_norm)


def _by_group(keys: Iterable[str]) -> dict[str, list[str]]:
    """Entity keys by their group ("who:moscow" under "who:")."""
    groups: dict[str, list[str]] = {}
    for key in keys:
        groups.setdefault(key[: key.index(":") + 1], []).append(key)
    return groups


def _iso(ts: datetime) -> str:
    return ts.astimezone(UTC).isoformat()


def _ts(iso: str | None) -> float | None:
    return None if iso is None else datetime.fromisoformat(iso).timestamp()


def _round5(weight: float) -> float:
    """`round(weight, 5)`, bit for bit, at about half the cost: `round` with digits goes
    through a decimal string (dtoa, then strtod). Scaled by 1e5, a weight's rounding is
    decided by its fraction, and the scaling's error (under 1e-7 for weights below 1e4) can
    flip it only within a hair of .5: those, and larger weights, take `round` itself. An
    integral value (< 2**53) divided by 1e5 is the double nearest to it times 1e-5, which
    is what `round` returns."""
    scaled = weight * 1e5
    fraction = scaled % 1.0
    if weight < 1e4:
        if fraction < 0.499999:
            return (scaled - fraction) / 1e5
        if fraction > 0.500001:
            return (scaled - fraction + 1.0) / 1e5
    return round(weight, 5)


def _top(
    weights: dict[str, float], n: int, changed: Collection[str] | None = None
) -> dict[str, float]:
    """The `n` heaviest entries, heaviest first, rounded so the stored JSON stays small and
    exact on replay (rounding keeps the order: sorted again by the rounded weights, the
    entries stay where they are). With `changed`, only those keys' weights are new: the
    rest were rounded already, and rounding a rounded weight again returns it unchanged, so
    they are kept as they are (rounding is the costliest step here, and most of a story's
    terms carry over)."""
    # Stable: equal weights keep their insertion order, which a replay reproduces.
    ranked = sorted(weights, key=weights.__getitem__, reverse=True)[:n]
    if changed is None:
        return {k: _round5(weights[k]) for k in ranked}
    return {k: _round5(weights[k]) if k in changed else weights[k] for k in ranked}


def _title_terms(headline: TermFrequencies) -> dict[str, float]:
    """What a story's title is chosen by: the headline's unit TF vector, top 20 terms."""
    terms, weights, length = headline
    return _top({t: w / length for t, w in zip(terms, weights, strict=True)}, 20)


def story_id_for(article_id: str) -> str:
    """A story's id, derived from its first article's id: stable across replays and restarts."""
    return "st-" + hashlib.blake2b(article_id.encode(), digest_size=8).hexdigest()


class StoryClusterer:
    """Assigns articles of one language shard to live stories and says what changed.

    `stories` may hold other shards' stories too (one table per worker): with `language` set,
    only that language's stories are live here, and only its articles may be added.
    """

    def __init__(
        self,
        stories: MutableMapping[str, Any],
        config: ClusterConfig,
        language: str | None = None,
        records: MutableMapping[str, Any] | None = None,
    ) -> None:
        self.stories = stories
        # Per article of a story that can still be split (at most the last `split_sizes`
        # articles), the one-article story it started as: what a split rebuilds both sides
        # from. A one-article story is its own record; written when it gains a second.
        self.records: MutableMapping[str, Any] = {} if records is None else records
        self.config = config
        self.language = language
        self._live: dict[str, _Live] = {}
        self._index: dict[str, set[str]] = {}
        self._term_df: Counter[str] = Counter()
        self._entity_df: Counter[str] = Counter()
        # (last_seen, story_id) per story, oldest first; stale entries are skipped on pop.
        self._by_last_seen: list[tuple[float, str]] = []
        # ln(df + 1) of every counted key, per df table: IDF = ln(live + 1) + 1 - ln(df + 1),
        # and a key no live story has is missing (0.0). Kept as the counts change (a changed
        # story recounts only its own keys), so an article's terms are weighted by one look-up
        # each, not a look-up then a count and a log.
        self._rarities: dict[int, dict[str, float]] = {
            id(self._term_df): {},
            id(self._entity_df): {},
        }
        self._idf_base = 1.0  # ln(live + 1) + 1
        # Stored ISO times as datetimes, for the emitted events and the live stories' last
        # seen: a story's first_seen recurs in each of its events, its last_seen is read for
        # its live form and its event alike, and parsing costs several times a look-up.
        self._datetimes: Memo = Memo(datetime.fromisoformat, 65_536)
        for story_id in sorted(stories):
            story = stories[story_id]
            if language is None or story["language"] == language:
                self._remember(story_id, story)

    @property
    def live_count(self) -> int:
        """How many stories are live (open) now."""
        return len(self._live)

    def latest_seen(self) -> datetime | None:
        """The ingest time of the newest copy in the live stories (None: no live story)."""
        if not self._live:
            return None
        latest = max(live.last_seen for live in self._live.values())
        return datetime.fromtimestamp(latest, UTC)

    # --- in-memory state derived from the stored stories ---------------------------------

    def _live_of(self, story: dict[str, Any]) -> _Live:
        # Index keys: the top terms (stored heaviest first) and every entity key. They share
        # one index: an entity key has a ":" after its group, which no term has.
        keys = frozenset([*list(story["terms"])[: self.config.index_terms], *story["entities"]])
        prominent = {
            k: v[4] / len(story["article_ids"])
            for k, v in story["entities"].items()
            if v[4] and not k.startswith("other:")
        }
        return _Live(
            terms=story["terms"],
            terms_norm=_length(story["terms"]),
            headline=story["headline"],
            headline_norm=_length(story["headline"]),
            entities=story["entities"],
            prominent=prominent,
            leads=_by_group([k for k, share in prominent.items() if share >= 0.5]),
            keys=keys,
            event_first=_ts(story["event_first"]),
            event_last=_ts(story["event_last"]),
            last_seen=self._datetimes[story["last_seen"]].timestamp(),
            members=story["members"],
            years=frozenset(story["years"]),
            months=story.get("months", {}),  # missing in stories stored before months were
            dated=story.get("dated", 0),
        )

    def _count(self, df: Counter[str], keys: Any, delta: int) -> None:
        """Add `delta` to each key's document frequency, and update its ln(df + 1)."""
        rarity = self._rarities[id(df)]
        log = math.log
        for key in keys:
            count = df.get(key, 0) + delta  # not df[key]: a Counter's miss is a Python call
            if count > 0:
                df[key] = count
                rarity[key] = log(count + 1.0)
            else:
                del df[key]
                del rarity[key]

    def _remember(self, story_id: str, story: dict[str, Any]) -> None:
        self._enter(story_id, self._live_of(story))

    def _enter(self, story_id: str, live: _Live, old: _Live | None = None) -> None:
        """Count a live story in the document frequencies and the index; when it replaces
        `old` (the same story before this article), only what changed is counted, as a
        story keeps most of its terms and names from one article to the next."""
        self._live[story_id] = live
        self._idf_base = math.log(len(self._live) + 1) + 1.0
        if old is None:  # every key is new: counted as it is, no set of differences built
            self._count(self._term_df, live.terms, 1)
            self._count(self._entity_df, live.entities, 1)
            new_keys, gone_keys = live.keys, frozenset[str]()
        else:
            terms, old_terms = live.terms.keys(), old.terms.keys()
            self._count(self._term_df, terms - old_terms, 1)
            self._count(self._term_df, old_terms - terms, -1)
            entities, old_entities = live.entities.keys(), old.entities.keys()
            self._count(self._entity_df, entities - old_entities, 1)
            self._count(self._entity_df, old_entities - entities, -1)
            new_keys, gone_keys = live.keys - old.keys, old.keys - live.keys
        index = self._index
        for key in new_keys:
            index.setdefault(key, set()).add(story_id)
        for key in gone_keys:
            postings = index[key]
            postings.discard(story_id)
            if not postings:
                del index[key]
        if old is None or old.last_seen != live.last_seen:
            heapq.heappush(self._by_last_seen, (live.last_seen, story_id))

    def _forget(self, story_id: str) -> None:
        live = self._live.pop(story_id)
        self._idf_base = math.log(len(self._live) + 1) + 1.0
        self._count(self._term_df, live.terms.keys(), -1)
        self._count(self._entity_df, live.entities.keys(), -1)
        for key in live.keys:
            postings = self._index[key]
            postings.discard(story_id)
            if not postings:
                del self._index[key]

    def _store(self, story_id: str, story: dict[str, Any]) -> None:
        """Write one story (by assignment, as a faust Table needs) and refresh its index."""
        self.stories[story_id] = story
        self._enter(story_id, self._live_of(story), self._live.get(story_id))

    def _drop(self, story_id: str) -> None:
        self._forget(story_id)
        del self.stories[story_id]

    # --- similarity -------------------------------------------------------------------------

    def _idf(self, df: Counter[str], key: str) -> float:
        """Smoothed IDF over the live stories: ln((live + 1) / (df + 1)) + 1."""
        return self._idf_base - self._rarities[id(df)].get(key, 0.0)

    def _weighted(
        self, keys: Iterable[str], weights: Iterable[float], length: float, df: Counter[str]
    ) -> dict[str, float]:
        """Each key with its weight (in turn) divided by `length` and times the key's IDF
        (`_idf`): `_weighted(*term_frequencies, df)` is a term vector scaled to unit length
        and IDF-weighted in one pass."""
        rarity = self._rarities[id(df)].get
        base = self._idf_base
        return {
            k: w / length * (base - rarity(k, 0.0))
            for k, w in zip(keys, weights, strict=True)
        }

    def _stored_vectors(self, article: _Article, query: _Query | None = None) -> _Query:
        """What a story adds up when `article` joins: its body, headline and lead vectors
        IDF-weighted as the live stories stand now, each of unit length (the lead cut to
        `member_terms`). Weighted once and stored, so scoring later is plain dot products
        over stored numbers, and a resumed clusterer reads exactly what the first one did.
        `query` (`_prepare`'s, same live stories) saves weighting the article again."""
        if query is None:
            query = self._query(article)
        body = _unit(query.body, query.body_norm)
        headline = _unit(query.headline, query.headline_norm)
        lead = _top(query.lead, self.config.member_terms)
        return _Query(body, 1.0, headline, 1.0, lead)

    @staticmethod
    def _group_match(query: _Query, live: _Live, group: str) -> float:
        """Share of the article's `group` entities (IDF-weighted) the story names."""
        weighted = query.groups.get(group)
        if not weighted:
            return 0.0
        names = live.entities
        total = shared = 0.0
        for key, weight in weighted:
            total += weight
            if key in names:
                shared += weight
        return shared / total if total else 0.0

    @staticmethod
    def _conflict(article: _Article, live: _Live, group: str, unnamed: set[str]) -> float:
        """1.0 when article and story both lead with `group` entities and neither names any
        the other leads with: "Hugh Jackman to host the Oscars" against a story leading with
        "Ellen DeGeneres" is another event of the same kind. `unnamed`: the story's lead names
        the article does not name (`_prominence`)."""
        article_lead = article.leads.get(group)
        story_lead = live.leads.get(group)
        if not article_lead or not story_lead:
            return 0.0
        if any(k in live.entities for k in article_lead):
            return 0.0
        if not unnamed.issuperset(story_lead):
            return 0.0
        return 1.0

    def _query(self, article: _Article) -> _Query:
        """The article weighted by the live stories' IDF (once per article)."""
        body = self._weighted(*article.terms, self._term_df)
        headline = self._weighted(*article.headline, self._term_df)
        lead = _unit(self._weighted(*article.lead, self._term_df))
        groups: dict[str, list[tuple[str, float]]] = {}
        names = article.entities
        for key, weight in self._weighted(names, names.values(), 1.0, self._entity_df).items():
            group = key[: key.index(":") + 1]
            groups.setdefault(group, []).append((key, weight))
        prominent = [(key, self._idf(self._entity_df, key)) for key in sorted(article.prominent)]
        return _Query(
            body, _length(body), headline, _length(headline), lead, groups, prominent
        )

    def _prepare(self, article: _Article) -> tuple[list[str], _Query]:
        """The article's candidate stories and its IDF-weighted form."""
        query = self._query(article)
        return self._candidates(article, query.body), query

    def features(self, article: _Article, live: _Live, query: _Query) -> list[float]:
        """The join score's inputs for one (article, story) pair, in `FEATURES` order; `norms`
        is the article's IDF-weighted form (`_prepare`, once per article)."""
        who = self._group_match(query, live, "who:")
        where = self._group_match(query, live, "where:")
        org = self._group_match(query, live, "org:")
        article_new, story_absent, unnamed = self._prominence(article, live, query)
        who_miss = self._conflict(article, live, "who:", unnamed)
        where_miss = self._conflict(article, live, "where:", unnamed)
        gap = self._gap_days(article, live)
        time_gap = 0.0 if gap is None else min(1.0, math.log1p(gap) / math.log(366.0))
        # Against each kept member, not only the centroid: a story that took in the first copy
        # of another event of the same kind has a blurred centroid, but its members stay apart.
        lead = query.lead
        member = [_dot(kept, lead) for kept in live.members]
        # Years of written dates differ: copy about another occurrence. Penalty only (see the
        # fit): in ECB+ dev one event per topic has dated copy, so "both dated" is an artefact.
        year_conflict = float(
            bool(article.years) and bool(live.years) and not (article.years & live.years)
        )
        # Days written out: a month in common is copy about the same day; none in common, about
        # another occurrence of the same kind. A penalty and a share (see the fit).
        month_conflict = month_match = 0.0
        if article.months and live.dated:
            shared = max(live.months.get(month, 0) for month in article.months)
            month_match = shared / live.dated
            month_conflict = float(shared == 0)
        return [
            1.0,
            _cosine(query.body, query.body_norm, live.terms, live.terms_norm),
            _cosine(query.headline, query.headline_norm, live.headline, live.headline_norm),
            who,
            where,
            org,
            who_miss,
            where_miss,
            article_new,
            story_absent,
            time_gap,
            max(member),
            sum(member) / len(member),
            year_conflict,
            month_conflict,
            month_match,
        ]

    def _prominence(
        self, article: _Article, live: _Live, query: _Query
    ) -> tuple[float, float, set[str]]:
        """(IDF-weighted share of the article's headline/lead names the story never names,
        share of the story's headline/lead names, weighted by how many of its articles lead
        with them, that the article never names, those names). Two events of one kind share
        background names (the team, the agency) but lead with different ones (the player, the
        town). The article names a name its NER found, or its body writes past the top of
        the copy the NER read (`_Article.text`)."""
        rarity = self._rarities[id(self._entity_df)].get
        base = self._idf_base
        total = missing = 0.0
        for key, w in query.prominent:
            total += w
            if key not in live.entities:
                missing += w
        article_new = missing / total if total else 0.0
        total = missing = 0.0
        names, text = article.entities, article.text
        unnamed: set[str] = set()
        for key, share in live.prominent.items():
            # `_idf`, read here: this runs for every name of every candidate.
            w = share * (base - rarity(key, 0.0))
            total += w
            if key not in names and name_probe(key) not in text:
                missing += w
                unnamed.add(key)
        return article_new, (missing / total if total else 0.0), unnamed

    @staticmethod
    def _gap_days(article: _Article, live: _Live) -> float | None:
        if article.event_time is None or live.event_first is None or live.event_last is None:
            return None
        gap = max(0.0, live.event_first - article.event_time, article.event_time - live.event_last)
        return gap / 86400.0

    def _score(self, features: list[float]) -> float:
        score = 0.0
        for weight, feature in zip(self.config.weights, features, strict=True):
            score += weight * feature
        return score

    def _candidates(self, article: _Article, weighted_terms: dict[str, float]) -> list[str]:
        """Live stories sharing an entity or a top term with the article, most votes first;
        `weighted_terms` is the article's TF-IDF vector (`_weighted`)."""
        cfg = self.config
        # Stable: equal weights keep the article's own term order.
        ranked_terms = sorted(weighted_terms, key=weighted_terms.__getitem__, reverse=True)
        terms = dict.fromkeys(ranked_terms[: cfg.query_terms])
        terms.update(dict.fromkeys(article.headline.terms))
        term_df, entity_df = self._term_df, self._entity_df
        lookups = [(t, term_df) for t in terms]
        lookups += [(key, entity_df) for key in article.entities]
        votes: dict[str, float] = {}
        get = votes.get
        index = self._index
        base = self._idf_base
        term_rarity, entity_rarity = self._rarities[id(term_df)], self._rarities[id(entity_df)]
        found = [(key, df, postings) for key, df in lookups if (postings := index.get(key))]
        budget = cfg.postings_budget
        if sum(len(postings) for _, _, postings in found) > budget:
            # The rarest keys vote, as many as the budget reads (the longest of equally long
            # ones, the later in the article's order first); they vote in the article's order.
            lengths = sorted([(len(postings), k) for k, (_, _, postings) in enumerate(found)])
            voting = set()
            for length, k in lengths:
                if length > budget:
                    break
                budget -= length
                voting.add(k)
            found = [entry for k, entry in enumerate(found) if k in voting]
        for key, df, postings in found:
            # `_idf`, read here: a key with postings is counted, so its rarity is there.
            vote = base - (term_rarity if df is term_df else entity_rarity)[key]
            for story_id in postings:
                votes[story_id] = get(story_id, 0.0) + vote
        # Enough of the best-voted to fill `max_candidates` after the time window's cut
        # (ties by story id: postings are sets, whose order differs from process to process).
        # Only stories voting at least the n-th best vote can be among the n best: the votes
        # alone sort fast (plain floats), and only those few stories are ranked by (vote, id).
        wanted = 4 * cfg.max_candidates
        floor = sorted(votes.values(), reverse=True)[wanted - 1] if len(votes) > wanted else 0.0
        ranked = sorted([(-v, s) for s, v in votes.items() if v >= floor])[:wanted]
        window = cfg.candidate_window_days
        chosen = []
        for _, story_id in ranked:
            gap = self._gap_days(article, self._live[story_id])
            if gap is not None and gap > window:
                continue
            chosen.append(story_id)
            if len(chosen) == cfg.max_candidates:
                break
        return chosen

    def scored_candidates(self, article: EnrichedArticleV1) -> list[tuple[str, list[float]]]:
        """Each candidate story with its features (for fitting the weights)."""
        comparable = self._comparable(article)
        candidates, query = self._prepare(comparable)
        return [(s, self.features(comparable, self._live[s], query)) for s in candidates]

    def _comparable(self, article: EnrichedArticleV1) -> _Article:
        published = article.published_at
        # Each stretch of text is tokenised once: the lead is headline + opening, the body
        # vector is the opening + the rest of the compared slice. Counting the joined term
        # lists gives the same counts, in the same first-seen order, as adding Counters.
        headline_terms = terms_in(article.headline)
        opening_terms = terms_in(article.body[:LEAD_CHARS])
        rest_terms = terms_in(article.body[LEAD_CHARS : self.config.body_chars])
        headline = Counter(headline_terms)
        body = Counter(opening_terms + rest_terms)
        lead = Counter(headline_terms + opening_terms)
        prominent = prominent_entities(article)
        compared = f"{article.headline}\n{article.body[: self.config.body_chars]}"
        headline_tf = sublinear_tf(headline)
        return _Article(
            terms=sublinear_tf(body),
            headline=headline_tf,
            entities=article_entities(article),
            prominent=prominent,
            leads=_by_group(prominent),
            lead=sublinear_tf(lead),
            text=searchable(article.body[self.config.body_chars :]),
            years=dated_years(compared),
            months=dated_months(compared),
            title_terms=_title_terms(headline_tf),
            event_time=published.timestamp() if published else None,
            seen=article.ingested_at,
        )

    # --- the public operations --------------------------------------------------------------

    def add(self, article: EnrichedArticleV1) -> list[StoryEventV1]:
        """Put one article into a story; return the events that says.

        One `created` (new story) or `updated` (joined) event for the article's story, then
        one `merged` event per story the article bridged into it. An article already in a
        live story (a redelivery) changes nothing and returns that story's current event.
        """
        if self.language is not None and article.language != self.language:
            raise ValueError(f"a {article.language} article in the {self.language} shard")
        comparable = self._comparable(article)
        candidates, query = self._prepare(comparable)
        scored = sorted(
            (
                (self._score(self.features(comparable, self._live[s], query)), s)
                for s in candidates
            ),
            key=lambda pair: (-pair[0], pair[1]),
        )
        for _, story_id in scored:
            if article.id in self.stories[story_id]["article_ids"]:
                # Already placed: the story as it stands, in case its event never went out.
                return [self.current_event(story_id)]
        if not scored or scored[0][0] < self.config.join_threshold:
            return self.place(article, None, comparable, query=query)
        story_id = scored[0][1]
        # Stories a split parted are not merged again by one bridging article: the split saw
        # all their articles, the bridge only itself.
        apart = set(self.stories[story_id].get("apart", ()))
        bridged = []
        for score, other_id in scored[1:]:
            if score >= self.config.merge_threshold and other_id not in apart:
                bridged.append(other_id)
                apart.update(self.stories[other_id].get("apart", ()))
        return self.place(article, story_id, comparable, merge=bridged, query=query)

    def current_event(self, story_id: str) -> StoryEventV1:
        """Live story `story_id` as it stands (its current version, nothing changed), for a
        redelivered article of it: published again, it brings out an event a crash may have
        kept from the broker, and a subscriber keeping the highest version sees nothing new."""
        story = self.stories[story_id]
        return self._event(story, "created" if story["version"] == 1 else "updated")

    def place(
        self,
        article: EnrichedArticleV1,
        story_id: str | None,
        comparable: _Article | None = None,
        merge: Sequence[str] = (),
        query: _Query | None = None,
    ) -> list[StoryEventV1]:
        """Put `article` into live story `story_id` (None: a new story), folding the `merge`
        stories into it, without deciding anything; `add` decides, then calls this. Replays
        of known assignments (fitting the weights) call it directly. `query` is `add`'s
        weighting of the article against the same live stories, if there is one."""
        comparable = comparable or self._comparable(article)
        vectors = self._stored_vectors(comparable, query)
        if story_id is None:
            story_id = story_id_for(article.id)
            story = self._new_story(story_id, article, comparable, vectors)
            self._store(story_id, story)
            return [self._event(story, "created")]
        before = self.stories[story_id]
        story = self._joined(before, article, comparable, vectors)
        parts = [before]
        merged_events: list[StoryEventV1] = []
        for other_id in merge:
            other = self.stories[other_id]
            parts.append(other)
            story = self._absorbed(story, other)
            gone = {**other, "version": other["version"] + 1}
            merged_events.append(self._event(gone, "merged", merged_into=story_id))
            self._drop(other_id)
        self._store(story_id, story)
        self._keep_records(story, parts, article, comparable, vectors)
        events = [self._event(story, "updated"), *merged_events]
        return events + self._split_check(story_id, len(before["article_ids"]))

    def _keep_records(
        self,
        story: dict[str, Any],
        parts: Sequence[dict[str, Any]],
        article: EnrichedArticleV1,
        comparable: _Article,
        vectors: _Query,
    ) -> None:
        """Keep `records` for the articles of `story`, which `article` has just joined and
        `parts` (the stories as they were) made up: while it can still be split, the joining
        article's one-article story, and each one-article part's own; past the last split size,
        none (dropped once, when it grows past)."""
        sizes = self.config.split_sizes
        last = sizes[-1] if sizes else 0
        if len(story["article_ids"]) > last:
            if any(len(part["article_ids"]) <= last for part in parts):
                self._drop_records(story["article_ids"])
            return
        for part in parts:
            if len(part["article_ids"]) == 1:
                self.records[part["article_ids"][0]] = part
        self.records[article.id] = self._new_story(
            story_id_for(article.id), article, comparable, vectors
        )

    def _drop_records(self, article_ids: Iterable[str]) -> None:
        """Delete these articles' records, those there are (a faust Table sees each `del`)."""
        for article_id in article_ids:
            if article_id in self.records:
                del self.records[article_id]

    def _split_check(self, story_id: str, before: int) -> list[StoryEventV1]:
        """When the story has just grown past one of `split_sizes` articles (from `before`),
        cut it in two if its articles fall into two sides that are two events (`split_sides`):
        both are rebuilt from their articles' records. The side with the story's first article
        keeps its id; the other becomes a new story. Returns the `split` event of the first
        and the `created` event of the second, or nothing."""
        story = self.stories[story_id]
        ids = story["article_ids"]
        cfg = self.config
        if not any(before < size <= len(ids) for size in cfg.split_sizes):
            return []
        if not all(article_id in self.records for article_id in ids):
            return []  # a story from before records were kept, or one not built by `place`
        records = [self.records[article_id] for article_id in ids]
        sides = split_sides(records, cfg)
        if sides is None:
            return []
        keep, move = [[records[k] for k in side] for side in sides]
        new_id = story_id_for(f"{story_id}/{move[0]['article_ids'][0]}")
        apart = story.get("apart", [])
        kept = self._rebuilt(story_id, keep, story["version"] + 1, _apart([*apart, new_id], cfg))
        moved = self._rebuilt(new_id, move, 1, _apart([*apart, story_id], cfg))
        self._store(story_id, kept)
        self._store(new_id, moved)
        return [self._event(kept, "split", split_into=new_id), self._event(moved, "created")]

    def _rebuilt(
        self, story_id: str, records: Sequence[dict[str, Any]], version: int, apart: list[str]
    ) -> dict[str, Any]:
        """A story made of these one-article stories (in arrival order), folded together as a
        merge folds two stories, with the headline closest to all of theirs as its title;
        `apart`: the stories it must not merge with (see `add`)."""
        story = {**records[0], "id": story_id}
        for record in records[1:]:
            story = self._absorbed(story, record)
        headlines = story["headline"]
        best = max(records, key=lambda record: _dot(record["title_terms"], headlines))
        return {
            **story,
            "version": version,
            "title": best["title"],
            "title_terms": best["title_terms"],
            "apart": apart,
        }

    def close_inactive(self, now: datetime) -> list[StoryEventV1]:
        """Close every story that got no copy for `window_hours` before `now` (ingest time, as
        `last_seen` is): emit `closed` and drop it from the live stories (and from the
        `stories` mapping, which so stays bounded by the stories of one window)."""
        cutoff = (now - timedelta(hours=self.config.window_hours)).timestamp()
        events = []
        while self._by_last_seen and self._by_last_seen[0][0] < cutoff:
            last_seen, story_id = heapq.heappop(self._by_last_seen)
            live = self._live.get(story_id)
            if live is None or live.last_seen != last_seen:
                continue  # an entry left behind by an update, merge or earlier close
            story = self.stories[story_id]
            events.append(self._event({**story, "version": story["version"] + 1}, "closed"))
            self._drop(story_id)
            if len(story["article_ids"]) > 1:  # a one-article story is its own record
                self._drop_records(story["article_ids"])
        return events

    # --- story state ------------------------------------------------------------------------

    def _new_story(
        self, story_id: str, article: EnrichedArticleV1, comparable: _Article, vectors: _Query
    ) -> dict[str, Any]:
        cfg = self.config
        event = _iso(article.published_at) if article.published_at else None
        seen = _iso(comparable.seen)
        return {
            "id": story_id,
            "language": article.language,
            "version": 1,
            "title": article.headline,
            "title_terms": comparable.title_terms,
            "article_ids": [article.id],
            "sources": [article.source],
            "duplicate_count": 1 if article.duplicate_of else 0,
            "first_seen": seen,
            "last_seen": seen,
            "event_first": event,
            "event_last": event,
            "terms": _top(vectors.body, cfg.story_terms),
            "headline": _top(vectors.headline, cfg.story_terms),
            "entities": self._entities_with(article, comparable, {}),
            "members": [vectors.lead],
            "years": sorted(comparable.years)[-cfg.story_years :],
            "months": dict.fromkeys(sorted(comparable.months), 1),
            "dated": 1 if comparable.months else 0,
        }

    def _entities_with(
        self, article: EnrichedArticleV1, comparable: _Article, entities: dict[str, list[Any]]
    ) -> dict[str, list[Any]]:
        merged = dict(entities)  # entries are replaced below, never changed in place
        prominent = comparable.prominent
        names: dict[str, tuple[str, str]] = {}
        for e in reversed(article.entities):  # the first entity with a key names it
            names[entity_key(e.text, e.label)] = (e.text, e.label)
        for key, weight in comparable.entities.items():
            entry = merged.get(key)
            lead = 1 if key in prominent else 0
            if entry is None:
                text, label = names[key]
                merged[key] = [text, label, 1, _round5(weight), lead]
            else:
                merged[key] = [
                    entry[0], entry[1], entry[2] + 1, _round5(entry[3] + weight), entry[4] + lead
                ]
        return _ranked_entities(merged, self.config.story_entities)

    def _joined(
        self,
        story: dict[str, Any],
        article: EnrichedArticleV1,
        comparable: _Article,
        vectors: _Query,
    ) -> dict[str, Any]:
        cfg = self.config
        seen = _iso(comparable.seen)
        terms = _summed(story["terms"], vectors.body)
        headline = _top(
            _summed(story["headline"], vectors.headline), cfg.story_terms, vectors.headline.keys()
        )
        title, title_terms = story["title"], story["title_terms"]
        # The representative headline is the one closest to all the story's headlines so far.
        candidate_terms = comparable.title_terms
        if _dot(candidate_terms, headline) > _dot(title_terms, headline):
            title, title_terms = article.headline, candidate_terms
        event_first, event_last = story["event_first"], story["event_last"]
        if article.published_at is not None:
            published = _iso(article.published_at)
            event_first = min(event_first or published, published)
            event_last = max(event_last or published, published)
        sources = story["sources"]
        if article.source not in sources:
            sources = [*sources, article.source]
        return {
            **story,
            "version": story["version"] + 1,
            "title": title,
            "title_terms": title_terms,
            "article_ids": [*story["article_ids"], article.id],
            "sources": sources,
            "duplicate_count": story["duplicate_count"] + (1 if article.duplicate_of else 0),
            "first_seen": min(story["first_seen"], seen),
            "last_seen": max(story["last_seen"], seen),
            "event_first": event_first,
            "event_last": event_last,
            "terms": _top(terms, cfg.story_terms, vectors.body.keys()),
            "headline": headline,
            "entities": self._entities_with(article, comparable, story["entities"]),
            "members": (
                story["members"]
                if len(story["members"]) >= cfg.story_members
                else [*story["members"], vectors.lead]
            ),
            "years": sorted(set(story["years"]) | comparable.years)[-cfg.story_years :],
            "months": _counted(story.get("months", {}), dict.fromkeys(comparable.months, 1)),
            "dated": story.get("dated", 0) + (1 if comparable.months else 0),
        }

    def _absorbed(self, story: dict[str, Any], other: dict[str, Any]) -> dict[str, Any]:
        """`story` with `other`'s articles, terms and entities folded in."""
        cfg = self.config
        terms = _summed(story["terms"], other["terms"])
        headline = _summed(story["headline"], other["headline"])
        entities = dict(story["entities"])  # entries are replaced below, never changed in place
        for k, v in other["entities"].items():
            e = entities.get(k)
            if e is None:
                entities[k] = list(v)
            else:
                entities[k] = [e[0], e[1], e[2] + v[2], _round5(e[3] + v[3]), e[4] + v[4]]
        firsts = [e for e in (story["event_first"], other["event_first"]) if e]
        lasts = [e for e in (story["event_last"], other["event_last"]) if e]
        return {
            **story,
            "article_ids": story["article_ids"] + other["article_ids"],
            "sources": story["sources"]
            + [s for s in other["sources"] if s not in story["sources"]],
            "duplicate_count": story["duplicate_count"] + other["duplicate_count"],
            "first_seen": min(story["first_seen"], other["first_seen"]),
            "last_seen": max(story["last_seen"], other["last_seen"]),
            "event_first": min(firsts) if firsts else None,
            "event_last": max(lasts) if lasts else None,
            "terms": _top(terms, cfg.story_terms, other["terms"].keys()),
            "headline": _top(headline, cfg.story_terms, other["headline"].keys()),
            "entities": _ranked_entities(entities, cfg.story_entities),
            "members": (story["members"] + other["members"])[: cfg.story_members],
            "years": sorted(set(story["years"]) | set(other["years"]))[-cfg.story_years :],
            "months": _counted(story.get("months", {}), other.get("months", {})),
            "dated": story.get("dated", 0) + other.get("dated", 0),
            "apart": _apart(story.get("apart", []) + other.get("apart", []), cfg),
        }

    def _event(
        self,
        story: dict[str, Any],
        event: str,
        merged_into: str | None = None,
        split_into: str | None = None,
    ) -> StoryEventV1:
        cfg = self.config
        # `model_validate` on a dict builds the same model as keyword arguments, for less (no
        # Python-level `__init__`). Plain dicts for the entities too: pydantic builds their
        # models in its validator, which costs less than one `StoryEntityV1(...)` call each.
        return StoryEventV1.model_validate(
            {
                "story_id": story["id"],
                "version": story["version"],
                "event": event,
                "language": story["language"],
                "title": story["title"],
                "article_ids": tuple(story["article_ids"]),
                "sources": tuple(story["sources"]),
                "top_entities": _top_entities(story["entities"], cfg.top_entities),
                # Stored terms are heaviest first (see `_top`).
                "keywords": tuple(list(story["terms"])[: cfg.top_keywords]),
                "article_count": len(story["article_ids"]),
                "duplicate_count": story["duplicate_count"],
                "first_seen": self._datetimes[story["first_seen"]],
                "last_seen": self._datetimes[story["last_seen"]],
                "merged_into": merged_into,
                "split_into": split_into,
            }
        )


def _top_entities(entities: dict[str, list[Any]], n: int) -> list[dict[str, Any]]:
    """The first `n` stored entities (most articles first) as the event lists them, one per
    name: the NER can label one name two ways ("Staunton" a place in one article and an
    organisation in the next), and a reader of the story should see it once, under the label
    most of its articles gave it (the entry that comes first)."""
    top: list[dict[str, Any]] = []
    seen: set[str] = set()
    for text, label, articles, *_ in entities.values():
        if text.casefold() in seen:
            continue
        seen.add(text.casefold())
        top.append({"text": text, "label": label, "articles": articles})
        if len(top) == n:
            break
    return top


def _ranked_entities(entities: dict[str, list[Any]], n: int) -> dict[str, list[Any]]:
    """A story's `n` first entities: most articles first, then most weight, then by key (the
    sort keys are built in one comprehension, cheaper than a key function per entity)."""
    ranked = sorted([(-e[2], -e[3], key) for key, e in entities.items()])
    return {key: entities[key] for _, _, key in ranked[:n]}


def _counted(counts: dict[str, int], more: dict[str, int]) -> dict[str, int]:
    """Two month counts added up, months in calendar-name order (a replay writes the same)."""
    return {k: counts.get(k, 0) + more.get(k, 0) for k in sorted(counts.keys() | more.keys())}


def _apart(story_ids: list[str], config: ClusterConfig) -> list[str]:
    """A story's `apart` list: each id once, the latest `story_apart`."""
    return list(dict.fromkeys(reversed(story_ids)))[: config.story_apart][::-1]


def split_sides(
    records: Sequence[dict[str, Any]], config: ClusterConfig
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
    scripts/fit_cluster.py)."""
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


def _dot(a: dict[str, float], b: dict[str, float]) -> float:
    """The dot product, walking `a`: `in` then an index for the few shared keys costs less
    than a `get` call per key."""
    dot = 0.0
    for t in a:
        if t in b:
            dot += a[t] * b[t]
    return dot
