"""What the join score compares: an article's comparable form (`Article`, `comparable`), a
live story's in-memory form (`LiveStory`), the article weighted by the live stories' IDF
(`Query`), and the score's features over one (article, story) pair (`features`, in
`config.FEATURES` order).
"""

import math
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from schemas.articles import EnrichedArticleV1
from services.cluster.config import ClusterConfig
from services.cluster.text import (
    LEAD_CHARS,
    TermFrequencies,
    article_entities,
    dated_months,
    dated_years,
    name_probe,
    prominent_entities,
    searchable,
    sublinear_tf,
    terms_in,
)
from services.cluster.vectors import by_group, cosine, dot, heaviest


@dataclass(slots=True)
class LiveStory:
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
class Article:
    """An article's comparable form. Its term vectors are sublinear term frequencies with
    their lengths (`sublinear_tf`): they are only ever read IDF-weighted
    (`StoryIndex.weighted`), which scales them to unit length as it goes."""

    terms: TermFrequencies
    headline: TermFrequencies
    entities: dict[str, float]
    prominent: frozenset[str]
    leads: dict[str, list[str]]  # group ("who:", ...) -> its keys in `prominent`
    lead: TermFrequencies  # headline and the body's opening
    # The body past the compared slice (`body_chars`, as much as the NER reads), `searchable`:
    # a name the NER found in a story's lead still counts as named when the article's later
    # text writes it (see `prominence`). Not the whole text: a search costs as it reads, and
    # over the whole text it cost twice as much for about the same held-out figures (README).
    text: str
    years: frozenset[int]
    months: frozenset[str]  # months of the days it writes out (`dated_months`)
    # What a story's title is chosen by (`title_terms_of`): read when it starts a story, joins
    # one, and for its record.
    title_terms: dict[str, float]
    event_time: float | None
    # When storywire saw the copy (its ingest time): what first_seen / last_seen track and what
    # closes a story. Event time (published_at) is a similarity signal only: copy about old
    # events (a backfill, an archive feed) must not close today's stories, nor the reverse.
    seen: datetime


@dataclass(slots=True)
class Query:
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


def title_terms_of(headline: TermFrequencies) -> dict[str, float]:
    """What a story's title is chosen by: the headline's unit TF vector, top 20 terms."""
    terms, weights, length = headline
    return heaviest({t: w / length for t, w in zip(terms, weights, strict=True)}, 20)


def comparable(article: EnrichedArticleV1, config: ClusterConfig) -> Article:
    """The article's comparable form: what every story it meets is compared with."""
    published = article.published_at
    # Each stretch of text is tokenised once: the lead is headline + opening, the body
    # vector is the opening + the rest of the compared slice. Counting the joined term
    # lists gives the same counts, in the same first-seen order, as adding Counters.
    headline_terms = terms_in(article.headline)
    opening_terms = terms_in(article.body[:LEAD_CHARS])
    rest_terms = terms_in(article.body[LEAD_CHARS : config.body_chars])
    headline = Counter(headline_terms)
    body = Counter(opening_terms + rest_terms)
    lead = Counter(headline_terms + opening_terms)
    prominent = prominent_entities(article)
    compared = f"{article.headline}\n{article.body[: config.body_chars]}"
    headline_tf = sublinear_tf(headline)
    return Article(
        terms=sublinear_tf(body),
        headline=headline_tf,
        entities=article_entities(article),
        prominent=prominent,
        leads=by_group(prominent),
        lead=sublinear_tf(lead),
        text=searchable(article.body[config.body_chars :]),
        years=dated_years(compared),
        months=dated_months(compared),
        title_terms=title_terms_of(headline_tf),
        event_time=published.timestamp() if published else None,
        seen=article.ingested_at,
    )


def group_match(query: Query, live: LiveStory, group: str) -> float:
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


def conflict(article: Article, live: LiveStory, group: str, unnamed: set[str]) -> float:
    """1.0 when article and story both lead with `group` entities and neither names any
    the other leads with: "Hugh Jackman to host the Oscars" against a story leading with
    "Ellen DeGeneres" is another event of the same kind. `unnamed`: the story's lead names
    the article does not name (`prominence`)."""
    article_lead = article.leads.get(group)
    story_lead = live.leads.get(group)
    if not article_lead or not story_lead:
        return 0.0
    if any(k in live.entities for k in article_lead):
        return 0.0
    if not unnamed.issuperset(story_lead):
        return 0.0
    return 1.0


def features(
    article: Article,
    live: LiveStory,
    query: Query,
    entity_rarity: dict[str, float],
    idf_base: float,
) -> list[float]:
    """The join score's inputs for one (article, story) pair, in `FEATURES` order; `query`
    is the article's IDF-weighted form (once per article), `entity_rarity` and `idf_base`
    the live stories' entity IDF (`StoryIndex`)."""
    who = group_match(query, live, "who:")
    where = group_match(query, live, "where:")
    org = group_match(query, live, "org:")
    article_new, story_absent, unnamed = prominence(article, live, query, entity_rarity, idf_base)
    who_miss = conflict(article, live, "who:", unnamed)
    where_miss = conflict(article, live, "where:", unnamed)
    gap = gap_days(article, live)
    time_gap = 0.0 if gap is None else min(1.0, math.log1p(gap) / math.log(366.0))
    # Against each kept member, not only the centroid: a story that took in the first copy
    # of another event of the same kind has a blurred centroid, but its members stay apart.
    lead = query.lead
    member = [dot(kept, lead) for kept in live.members]
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
        cosine(query.body, query.body_norm, live.terms, live.terms_norm),
        cosine(query.headline, query.headline_norm, live.headline, live.headline_norm),
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


def prominence(
    article: Article,
    live: LiveStory,
    query: Query,
    entity_rarity: dict[str, float],
    idf_base: float,
) -> tuple[float, float, set[str]]:
    """(IDF-weighted share of the article's headline/lead names the story never names,
    share of the story's headline/lead names, weighted by how many of its articles lead
    with them, that the article never names, those names). Two events of one kind share
    background names (the team, the agency) but lead with different ones (the player, the
    town). The article names a name its NER found, or its body writes past the top of
    the copy the NER read (`Article.text`)."""
    rarity = entity_rarity.get
    base = idf_base
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
        # The entity IDF (`StoryIndex.idf`), read here: this runs for every name of every
        # candidate.
        w = share * (base - rarity(key, 0.0))
        total += w
        if key not in names and name_probe(key) not in text:
            missing += w
            unnamed.add(key)
    return article_new, (missing / total if total else 0.0), unnamed


def gap_days(article: Article, live: LiveStory) -> float | None:
    if article.event_time is None or live.event_first is None or live.event_last is None:
        return None
    gap = max(0.0, live.event_first - article.event_time, article.event_time - live.event_last)
    return gap / 86400.0


def score(weights: tuple[float, ...], features: list[float]) -> float:
    """The join score: `weights` . `features`."""
    score = 0.0
    for weight, feature in zip(weights, features, strict=True):
        score += weight * feature
    return score
