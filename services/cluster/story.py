"""The stored story: what the cluster stage keeps per live story (a faust Table's JSON value),
its typed definition, and how one is built, joined, merged and told as a `StoryEventV2`.

A stored story is bounded whatever its size or age: counts, the first and the latest few
article ids, counts by outlet, and the bounded vectors the clusterer compares by. The full
member list is kept outside it (`services.cluster.roster`), so a join rewrites a story of the
same size at 20 articles as at 20,000.

A stored story is a plain dict (`StoredStory`, a TypedDict): the table writes it as JSON and
reads it back as a dict, so the changelog holds exactly these keys. Its `format` says which
definition wrote it: a change to the keys or their meaning is a new `STORY_FORMAT` and a
migration in `load_story`, not a default at every read.

Its vectors are stored IDF-weighted as the live stories stood when each article joined (see
`services.cluster.core`), rounded by `heaviest`, so a replay writes the same numbers.
"""

import hashlib
from collections.abc import Mapping
from typing import Any, TypedDict, cast

from schemas.articles import EnrichedArticleV1
from schemas.stories import (
    CHANGED_IDS,
    FIRST_IDS,
    LATEST_IDS,
    LISTED_SOURCES,
    StoryEventV2,
)
from services.cluster.config import ClusterConfig
from services.cluster.features import Article, Query
from services.cluster.text import entity_key
from services.cluster.vectors import dot, heaviest, iso, round5, summed
from services.memo import Memo

# The stored story's format, written in every story (`StoredStory.format`).
# 1: every article id and every source listed in the story (`article_ids`, `sources`);
# 2: counts, first and latest ids, counts by outlet (`load_story` reads 1 as 2).
STORY_FORMAT = 2

# One named entity of a story: [text, label, articles naming it, summed weight, articles
# leading with it] (a list, as JSON stores it; `entity_key` names it).
StoredEntity = list[Any]


class StoredStory(TypedDict):
    """One live story as stored (`StoryClusterer.stories[story_id]`), and one article's
    one-article story as a split rebuilds from it (`StoryClusterer.records[article_id]`)."""

    format: int  # STORY_FORMAT when written
    id: str
    language: str
    version: int  # of the story's events: 1 when created, +1 per event after
    title: str  # the headline closest to all the story's headlines
    title_terms: dict[str, float]  # what `title` was chosen by (`title_terms_of`)
    article_count: int
    first_ids: list[str]  # the first `FIRST_IDS` article ids, in arrival order
    latest_ids: list[str]  # the latest `LATEST_IDS`, newest last
    source_counts: dict[str, int]  # outlet -> its articles in the story, by outlet name
    duplicate_count: int
    first_seen: str  # ISO, UTC: ingest time of the first copy
    last_seen: str  # ... and of the latest (what closes the story)
    event_first: str | None  # ISO, UTC: published times only (None: none had one)
    event_last: str | None
    # The sum of the articles' unit TF-IDF body vectors, top `story_terms`, heaviest first.
    terms: dict[str, float]
    headline: dict[str, float]  # the same for headlines
    entities: dict[str, StoredEntity]  # by key, top `story_entities` (`ranked_entities`)
    # The first `story_members` articles' unit TF-IDF lead vectors, top `member_terms` each.
    members: list[dict[str, float]]
    years: list[int]  # of the full dates the articles write, the latest `story_years`
    months: dict[str, int]  # month -> articles writing a day of it
    dated: int  # articles writing a day of any month
    apart: list[str]  # stories a split parted from it, the latest `story_apart`


def load_story(raw: Mapping[str, Any]) -> StoredStory:
    """A stored story as read from the table, in the current format; a story of a format
    this code does not know is an error (a newer release wrote it), never guessed at."""
    story_format = raw.get("format")
    if story_format == STORY_FORMAT:
        return cast(StoredStory, raw)
    if story_format in (None, 1):
        return from_format_1(raw)
    raise ValueError(
        f"stored story {raw.get('id')!r} has format {story_format!r}; this release reads"
        f" format {STORY_FORMAT} (a newer release wrote it: run that, or migrate the table)"
    )


def from_format_1(raw: Mapping[str, Any]) -> StoredStory:
    """A format-1 story (every id and source listed) in format 2. Format 1 listed each outlet
    once, so each counts one article here (a lower bound; the story's next articles count
    exactly). Releases before the `format` key wrote format 1 without saying so, and the
    oldest of those stories lack `months` and `dated` or `apart`: read as they were then.
    The ids themselves go to the story's roster (`StoryClusterer` writes it on loading)."""
    ids: list[str] = list(raw["article_ids"])
    story = {k: v for k, v in raw.items() if k not in ("article_ids", "sources")}
    return cast(
        StoredStory,
        {
            **story,
            "format": STORY_FORMAT,
            "article_count": len(ids),
            "first_ids": ids[:FIRST_IDS],
            "latest_ids": ids[-LATEST_IDS:],
            "source_counts": dict.fromkeys(sorted(raw["sources"]), 1),
            "months": raw.get("months", {}),
            "dated": raw.get("dated", 0),
            "apart": raw.get("apart", []),
        },
    )


def story_id_for(article_id: str, revision: int | None = None) -> str:
    """A story's id, derived from its first article's id: stable across replays and restarts.
    A corrected copy (`revision`) that starts a story anew, its first copy's story having closed,
    gets an id of its own: reusing the closed story's id would restart it at version 1, and a
    subscriber keeping each story's highest version would never see it."""
    seed = article_id if not revision else f"{article_id}@{revision}"
    return "st-" + hashlib.blake2b(seed.encode(), digest_size=8).hexdigest()


def new_story(
    story_id: str,
    article: EnrichedArticleV1,
    comparable: Article,
    vectors: Query,
    config: ClusterConfig,
) -> StoredStory:
    """The one-article story `article` starts (its comparable form and stored vectors)."""
    cfg = config
    event = iso(article.published_at) if article.published_at else None
    seen = iso(comparable.seen)
    return {
        "format": STORY_FORMAT,
        "id": story_id,
        "language": article.language,
        "version": 1,
        "title": article.headline,
        "title_terms": comparable.title_terms,
        "article_count": 1,
        "first_ids": [article.id],
        "latest_ids": [article.id],
        "source_counts": {article.source: 1},
        "duplicate_count": 1 if article.duplicate_of else 0,
        "first_seen": seen,
        "last_seen": seen,
        "event_first": event,
        "event_last": event,
        "terms": heaviest(vectors.body, cfg.story_terms),
        "headline": heaviest(vectors.headline, cfg.story_terms),
        "entities": entities_with(article, comparable, {}, cfg),
        "members": [vectors.lead],
        "years": sorted(comparable.years)[-cfg.story_years :],
        "months": dict.fromkeys(sorted(comparable.months), 1),
        "dated": 1 if comparable.months else 0,
        "apart": [],
    }


def entities_with(
    article: EnrichedArticleV1,
    comparable: Article,
    entities: dict[str, StoredEntity],
    config: ClusterConfig,
) -> dict[str, StoredEntity]:
    """A story's `entities` with `article`'s named entities counted in."""
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
            merged[key] = [text, label, 1, round5(weight), lead]
        else:
            merged[key] = [
                entry[0], entry[1], entry[2] + 1, round5(entry[3] + weight), entry[4] + lead
            ]
    return ranked_entities(merged, config.story_entities)


def joined(
    story: StoredStory,
    article: EnrichedArticleV1,
    comparable: Article,
    vectors: Query,
    config: ClusterConfig,
) -> StoredStory:
    """`story` with `article` (its comparable form and stored vectors) joined."""
    cfg = config
    seen = iso(comparable.seen)
    terms = summed(story["terms"], vectors.body)
    headline = heaviest(
        summed(story["headline"], vectors.headline), cfg.story_terms, vectors.headline.keys()
    )
    title, title_terms = story["title"], story["title_terms"]
    # The representative headline is the one closest to all the story's headlines so far.
    candidate_terms = comparable.title_terms
    if dot(candidate_terms, headline) > dot(title_terms, headline):
        title, title_terms = article.headline, candidate_terms
    event_first, event_last = story["event_first"], story["event_last"]
    if article.published_at is not None:
        published = iso(article.published_at)
        event_first = min(event_first or published, published)
        event_last = max(event_last or published, published)
    first_ids = story["first_ids"]
    if len(first_ids) < FIRST_IDS:
        first_ids = [*first_ids, article.id]
    return {
        **story,
        "version": story["version"] + 1,
        "title": title,
        "title_terms": title_terms,
        "article_count": story["article_count"] + 1,
        "first_ids": first_ids,
        "latest_ids": [*story["latest_ids"], article.id][-LATEST_IDS:],
        "source_counts": counted(story["source_counts"], {article.source: 1}),
        "duplicate_count": story["duplicate_count"] + (1 if article.duplicate_of else 0),
        "first_seen": min(story["first_seen"], seen),
        "last_seen": max(story["last_seen"], seen),
        "event_first": event_first,
        "event_last": event_last,
        "terms": heaviest(terms, cfg.story_terms, vectors.body.keys()),
        "headline": headline,
        "entities": entities_with(article, comparable, story["entities"], cfg),
        "members": (
            story["members"]
            if len(story["members"]) >= cfg.story_members
            else [*story["members"], vectors.lead]
        ),
        "years": sorted(set(story["years"]) | comparable.years)[-cfg.story_years :],
        "months": counted(story["months"], dict.fromkeys(comparable.months, 1)),
        "dated": story["dated"] + (1 if comparable.months else 0),
    }


def absorbed(story: StoredStory, other: StoredStory, config: ClusterConfig) -> StoredStory:
    """`story` with `other`'s articles, terms and entities folded in."""
    cfg = config
    terms = summed(story["terms"], other["terms"])
    headline = summed(story["headline"], other["headline"])
    entities = dict(story["entities"])  # entries are replaced below, never changed in place
    for k, v in other["entities"].items():
        e = entities.get(k)
        if e is None:
            entities[k] = list(v)
        else:
            entities[k] = [e[0], e[1], e[2] + v[2], round5(e[3] + v[3]), e[4] + v[4]]
    firsts = [e for e in (story["event_first"], other["event_first"]) if e]
    lasts = [e for e in (story["event_last"], other["event_last"]) if e]
    return {
        **story,
        "article_count": story["article_count"] + other["article_count"],
        "first_ids": (story["first_ids"] + other["first_ids"])[:FIRST_IDS],
        "latest_ids": (story["latest_ids"] + other["latest_ids"])[-LATEST_IDS:],
        "source_counts": counted(story["source_counts"], other["source_counts"]),
        "duplicate_count": story["duplicate_count"] + other["duplicate_count"],
        "first_seen": min(story["first_seen"], other["first_seen"]),
        "last_seen": max(story["last_seen"], other["last_seen"]),
        "event_first": min(firsts) if firsts else None,
        "event_last": max(lasts) if lasts else None,
        "terms": heaviest(terms, cfg.story_terms, other["terms"].keys()),
        "headline": heaviest(headline, cfg.story_terms, other["headline"].keys()),
        "entities": ranked_entities(entities, cfg.story_entities),
        "members": (story["members"] + other["members"])[: cfg.story_members],
        "years": sorted(set(story["years"]) | set(other["years"]))[-cfg.story_years :],
        "months": counted(story["months"], other["months"]),
        "dated": story["dated"] + other["dated"],
        "apart": apart_ids(story["apart"] + other["apart"], cfg),
    }


def without(
    story: StoredStory,
    rest: list[str],
    listing: Mapping[str, Any] | None,
    record: StoredStory | None,
    config: ClusterConfig,
) -> StoredStory:
    """`story` (of more than one article) less one article, one version on: `rest` is its
    article ids left, in order; `listing` what the article's member entry lists it by (its
    outlet, whether a syndicated copy; None: an entry of an older release, which has none);
    `record` its one-article story when kept (stories of at most the last split size).

    Exact within what is kept: counts, ids and outlets always; the summed vectors, entities,
    months and member leads when the record is there (one article of a bigger story is under
    1/80 of its sums, and what it added is not kept); its years, title and times stay."""
    cfg = config
    source_counts = dict(story["source_counts"])
    duplicates = story["duplicate_count"]
    if listing is not None:
        source = listing["source"]
        if source_counts.get(source, 0) > 1:
            source_counts[source] -= 1
        else:
            source_counts.pop(source, None)
        duplicates -= 1 if listing.get("duplicate_of") and duplicates else 0
    changed: StoredStory = {
        **story,
        "version": story["version"] + 1,
        "article_count": len(rest),
        "first_ids": rest[:FIRST_IDS],
        "latest_ids": rest[-LATEST_IDS:],
        "source_counts": source_counts,
        "duplicate_count": duplicates,
    }
    if record is None:
        return changed
    entities = dict(story["entities"])
    for key, e in record["entities"].items():
        entry = entities.get(key)
        if entry is None:
            continue
        if entry[2] <= e[2]:
            del entities[key]
        else:
            entities[key] = [
                entry[0], entry[1], entry[2] - e[2], round5(entry[3] - e[3]), entry[4] - e[4]
            ]
    members = list(story["members"])
    if record["members"] and record["members"][0] in members:
        members.remove(record["members"][0])
    return {
        **changed,
        "terms": less(story["terms"], record["terms"], cfg.story_terms),
        "headline": less(story["headline"], record["headline"], cfg.story_terms),
        "entities": ranked_entities(entities, cfg.story_entities),
        "members": members,
        "months": {
            k: n for k, n in counted(story["months"], {
                m: -c for m, c in record["months"].items()
            }).items() if n > 0
        },
        "dated": max(story["dated"] - record["dated"], 0),
    }


def less(vector: dict[str, float], part: dict[str, float], n: int) -> dict[str, float]:
    """A summed vector less one of its parts, heaviest first, what is left of zero dropped."""
    left = {k: round5(w - part.get(k, 0.0)) for k, w in vector.items()}
    return heaviest({k: w for k, w in left.items() if w > 1e-5}, n)


def story_event(
    story: StoredStory,
    event: str,
    config: ClusterConfig,
    datetimes: Memo,
    merged_into: str | None = None,
    split_into: str | None = None,
    joined: tuple[list[str], int] = ([], 0),
    left: tuple[list[str], int] = ([], 0),
) -> StoryEventV2:
    """The `event` ("created", "updated", ...) that tells `story` as it is now; `datetimes`
    parses its stored times (a memo: a story's first_seen recurs in every event of it).
    `joined` and `left`: the articles this event moved in and out (the first `CHANGED_IDS`
    of them are listed) and how many it moved. A `merged` story holds no article any more."""
    cfg = config
    gone = event == "merged"
    counts = {} if gone else story["source_counts"]
    ranked = sorted([(-n, source) for source, n in counts.items()])[:LISTED_SOURCES]
    # `model_validate` on a dict builds the same model as keyword arguments, for less (no
    # Python-level `__init__`). Plain dicts for the nested models too: pydantic builds them
    # in its validator, which costs less than one model call each.
    return StoryEventV2.model_validate(
        {
            "story_id": story["id"],
            "version": story["version"],
            "event": event,
            "language": story["language"],
            "title": story["title"],
            "article_count": 0 if gone else story["article_count"],
            "duplicate_count": 0 if gone else story["duplicate_count"],
            "source_count": len(counts),
            "sources": [{"source": source, "articles": -n} for n, source in ranked],
            "first_article_ids": () if gone else tuple(story["first_ids"]),
            "latest_article_ids": () if gone else tuple(story["latest_ids"]),
            "joined_ids": tuple(joined[0][:CHANGED_IDS]),
            "joined_count": joined[1],
            "left_ids": tuple(left[0][:CHANGED_IDS]),
            "left_count": left[1],
            "top_entities": top_entities(story["entities"], cfg.top_entities),
            # Stored terms are heaviest first (see `heaviest`).
            "keywords": tuple(list(story["terms"])[: cfg.top_keywords]),
            "first_seen": datetimes[story["first_seen"]],
            "last_seen": datetimes[story["last_seen"]],
            "merged_into": merged_into,
            "split_into": split_into,
        }
    )


def top_entities(entities: dict[str, StoredEntity], n: int) -> list[dict[str, Any]]:
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


def ranked_entities(entities: dict[str, StoredEntity], n: int) -> dict[str, StoredEntity]:
    """A story's `n` first entities: most articles first, then most weight, then by key (the
    sort keys are built in one comprehension, cheaper than a key function per entity)."""
    ranked = sorted([(-e[2], -e[3], key) for key, e in entities.items()])
    return {key: entities[key] for _, _, key in ranked[:n]}


def counted(counts: dict[str, int], more: dict[str, int]) -> dict[str, int]:
    """Two counts (by month, by outlet) added up, keys in name order (a replay writes the
    same)."""
    return {k: counts.get(k, 0) + more.get(k, 0) for k in sorted(counts.keys() | more.keys())}


def apart_ids(story_ids: list[str], config: ClusterConfig) -> list[str]:
    """A story's `apart` list: each id once, the latest `story_apart`."""
    return list(dict.fromkeys(reversed(story_ids)))[: config.story_apart][::-1]


