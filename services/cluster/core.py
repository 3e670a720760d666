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
weights and thresholds are fitted on ECB+ dev topics (`services.cluster.fitted`) and are
`ClusterConfig`'s defaults. Nothing is rejected: every article ends in a story (a redelivered
one changes nothing).

State: every live story is one JSON-serialisable dict in the `stories` mapping (a faust Table in
production), written only by assignment, one key per changed story per article. Document
frequencies (for IDF) are counted over the live stories' stored terms, so they, the inverted
index and every other in-memory structure derive from `stories`: a clusterer built anew on the
same mapping resumes exactly where the last one stopped. Vectors are stored IDF-weighted as the
live stories stood when each article joined, so scoring is dot products over stored numbers.

Shape of one stored story (`StoryClusterer.stories[story_id]`): `story.StoredStory`.

`records` (a second mapping, a faust Table too) holds, per article of a multi-article story
no bigger than the last split size, the one-article story it started as: what a split rebuilds
both sides from. `members` (a third) holds each article's story, `[story_id, *payload]`
(the payload is the caller's: the agent keeps what it publishes of the article there), and
`rosters` each live story's full member list in chunks (`services.cluster.roster`): a stored
story is bounded, and a join writes the story, one member entry and one roster chunk, whatever
the story's size. `moved` says which articles the last operation placed or moved, for the
agent to publish on `stories.members`.

The parts, one module each: `config` (the settings), `fitted` (the fitted numbers), `story`
(the stored story and how it changes), `features` (what the score compares), `index` (the
inverted index and IDF), `split` (the split check); this module wires them.
"""

import heapq
from collections.abc import Iterable, MutableMapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from schemas.articles import EnrichedArticleV1
from schemas.stories import StoryEventV2
from services.cluster import roster
from services.cluster.config import FEATURES, ClusterConfig
from services.cluster.features import Article, LiveStory, Query, comparable
from services.cluster.features import features as pair_features
from services.cluster.features import score as join_score
from services.cluster.fitted import (
    FITTED_JOIN_THRESHOLD,
    FITTED_MERGE_THRESHOLD,
    FITTED_SPLIT_THRESHOLD,
    FITTED_WEIGHTS,
)
from services.cluster.index import StoryIndex
from services.cluster.split import rebuilt, split_sides
from services.cluster.story import (
    STORY_FORMAT,
    StoredStory,
    absorbed,
    apart_ids,
    joined,
    load_story,
    new_story,
    story_event,
    story_id_for,
    without,
)
from services.cluster.vectors import heaviest, round5, unit
from services.memo import Memo

# Importable from here, where the stage's other code, the fitting scripts and the tests import
# them (with `_Article` and `_round5` below).
__all__ = [
    "FEATURES",
    "FITTED_JOIN_THRESHOLD",
    "FITTED_MERGE_THRESHOLD",
    "FITTED_SPLIT_THRESHOLD",
    "FITTED_WEIGHTS",
    "STORY_FORMAT",
    "ClusterConfig",
    "StoredStory",
    "StoryClusterer",
    "split_sides",
    "story_id_for",
]
_Article = Article  # the name the fitting script imports
_round5 = round5  # the name the unit tests import


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
        members: MutableMapping[str, Any] | None = None,
        rosters: MutableMapping[str, Any] | None = None,
    ) -> None:
        self.stories = stories
        # Each placed article's story, `[story_id, *payload]`, for the articles of the live
        # stories (a closed story's are dropped with it).
        self.members: MutableMapping[str, Any] = {} if members is None else members
        # Each live story's article ids in chunks (`services.cluster.roster`).
        self.rosters: MutableMapping[str, Any] = {} if rosters is None else rosters
        # (article id, its story, the story event's version) of each article the last `add`
        # or `close_inactive` placed or moved; the story is None for none.
        self.moved: list[tuple[str, str | None, int]] = []
        # Per article of a story that can still be split (at most the last `split_sizes`
        # articles), the one-article story it started as: what a split rebuilds both sides
        # from. A one-article story is its own record; written when it gains a second.
        self.records: MutableMapping[str, Any] = {} if records is None else records
        self.config = config
        self.language = language
        # Stored ISO times as datetimes, for the emitted events and the live stories' last
        # seen: a story's first_seen recurs in each of its events, its last_seen is read for
        # its live form and its event alike, and parsing costs several times a look-up.
        self._datetimes: Memo = Memo(datetime.fromisoformat, 65_536)
        self._index = StoryIndex(config, self._datetimes)
        self._live = self._index.live  # the same dict: read by the fitting scripts too
        for story_id in sorted(stories):
            raw = stories[story_id]
            if language is not None and raw["language"] != language:
                continue
            story = load_story(raw)
            if raw.get("format") != STORY_FORMAT:
                # A story of an earlier format lists its ids: they move to its roster (written
                # from the first chunk, so a load cut short and done again writes the same).
                roster.append(self.rosters, story_id, 0, list(raw["article_ids"]))
                self.stories[story_id] = story
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

    def _story(self, story_id: str) -> StoredStory:
        """A live story as stored (`load_story` checks its format)."""
        return load_story(self.stories[story_id])

    def _record(self, article_id: str) -> StoredStory:
        """An article's record: its one-article story, stored as every story is."""
        return load_story(self.records[article_id])

    def _remember(self, story_id: str, story: StoredStory) -> None:
        self._index.enter(story_id, self._index.live_of(story))

    def _store(self, story_id: str, story: StoredStory) -> None:
        """Write one story (by assignment, as a faust Table needs) and refresh its index."""
        self.stories[story_id] = story
        self._index.enter(story_id, self._index.live_of(story), self._live.get(story_id))

    def _drop(self, story_id: str) -> None:
        self._index.forget(story_id)
        del self.stories[story_id]

    # --- similarity -------------------------------------------------------------------------

    def _stored_vectors(self, article: Article, query: Query | None = None) -> Query:
        """What a story adds up when `article` joins: its body, headline and lead vectors
        IDF-weighted as the live stories stand now, each of unit length (the lead cut to
        `member_terms`). Weighted once and stored, so scoring later is plain dot products
        over stored numbers, and a resumed clusterer reads exactly what the first one did.
        `query` (`_prepare`'s, same live stories) saves weighting the article again."""
        if query is None:
            query = self._query(article)
        body = unit(query.body, query.body_norm)
        headline = unit(query.headline, query.headline_norm)
        lead = heaviest(query.lead, self.config.member_terms)
        return Query(body, 1.0, headline, 1.0, lead)

    def _query(self, article: Article) -> Query:
        """The article weighted by the live stories' IDF (once per article)."""
        return self._index.query(article)

    def _prepare(self, article: Article) -> tuple[list[str], Query]:
        """The article's candidate stories and its IDF-weighted form."""
        query = self._index.query(article)
        return self._index.candidates(article, query.body), query

    def features(self, article: Article, live: LiveStory, query: Query) -> list[float]:
        """The join score's inputs for one (article, story) pair, in `FEATURES` order; `query`
        is the article's IDF-weighted form (`_prepare`, once per article)."""
        index = self._index
        return pair_features(article, live, query, index.entity_rarity, index.idf_base)

    def scored_candidates(self, article: EnrichedArticleV1) -> list[tuple[str, list[float]]]:
        """Each candidate story with its features (for fitting the weights)."""
        comparable = self._comparable(article)
        candidates, query = self._prepare(comparable)
        return [(s, self.features(comparable, self._live[s], query)) for s in candidates]

    def _comparable(self, article: EnrichedArticleV1) -> Article:
        return comparable(article, self.config)

    # --- the public operations --------------------------------------------------------------

    def add(self, article: EnrichedArticleV1, payload: Sequence[Any] = ()) -> list[StoryEventV2]:
        """Put one article into a story; return the events that says.

        One `created` (new story) or `updated` (joined) event for the article's story, then
        one `merged` event per story the article bridged into it. An article already in a
        live story (a redelivery) changes nothing and returns that story's current event.
        `payload` is kept with the article's member entry (`members`).
        """
        if self.language is not None and article.language != self.language:
            raise ValueError(f"a {article.language} article in the {self.language} shard")
        self.moved = []
        placed = self.members.get(article.id)
        if placed is not None and placed[0] in self._live:
            # Already placed: the story as it stands, in case its event never went out.
            return [self.current_event(placed[0])]
        comparable = self._comparable(article)
        candidates, query = self._prepare(comparable)
        weights = self.config.weights
        scored = sorted(
            (
                (join_score(weights, self.features(comparable, self._live[s], query)), s)
                for s in candidates
            ),
            key=lambda pair: (-pair[0], pair[1]),
        )
        if not scored or scored[0][0] < self.config.join_threshold:
            return self.place(article, None, comparable, query=query, payload=payload)
        story_id = scored[0][1]
        # Stories a split parted are not merged again by one bridging article: the split saw
        # all their articles, the bridge only itself.
        apart = set(self._story(story_id)["apart"])
        bridged = []
        for score, other_id in scored[1:]:
            if score >= self.config.merge_threshold and other_id not in apart:
                bridged.append(other_id)
                apart.update(self._story(other_id)["apart"])
        return self.place(
            article, story_id, comparable, merge=bridged, query=query, payload=payload
        )

    def current_event(self, story_id: str) -> StoryEventV2:
        """Live story `story_id` as it stands (its current version, nothing listed as moved),
        for a redelivered article of it: published again, it brings out an event a crash may
        have kept from the broker, and a subscriber keeping the highest version sees nothing
        new."""
        story = self._story(story_id)
        return self._event(story, "created" if story["version"] == 1 else "updated")

    def place(
        self,
        article: EnrichedArticleV1,
        story_id: str | None,
        comparable: Article | None = None,
        merge: Sequence[str] = (),
        query: Query | None = None,
        payload: Sequence[Any] = (),
    ) -> list[StoryEventV2]:
        """Put `article` into live story `story_id` (None: a new story), folding the `merge`
        stories into it, without deciding anything; `add` decides, then calls this. Replays
        of known assignments (fitting the weights) call it directly. `query` is `add`'s
        weighting of the article against the same live stories, if there is one; `payload`
        is kept with its member entry."""
        self.moved = []
        comparable = comparable or self._comparable(article)
        vectors = self._stored_vectors(comparable, query)
        if story_id is None:
            story_id = story_id_for(article.id, article.revision)
            story = self._new_story(story_id, article, comparable, vectors)
            self._store(story_id, story)
            roster.append(self.rosters, story_id, 0, [article.id])
            self._member(article.id, story_id, 1, [story_id, *payload])
            return [self._event(story, "created", joined=([article.id], 1))]
        before = self._story(story_id)
        story = joined(before, article, comparable, vectors, self.config)
        version = story["version"]
        roster.append(self.rosters, story_id, before["article_count"], [article.id])
        self._member(article.id, story_id, version, [story_id, *payload])
        parts = [before]
        merged_events: list[StoryEventV2] = []
        moved_in = [article.id]
        for other_id in merge:
            other = self._story(other_id)
            parts.append(other)
            # The absorbed story's articles move to this one: its roster after this one's,
            # each member entry pointed here (the cost of a merge grows with the absorbed
            # story, once per merge, not with each later join).
            count = other["article_count"]
            ids = roster.members(self.rosters, other_id, count)
            roster.drop(self.rosters, other_id, count)
            roster.append(self.rosters, story_id, story["article_count"], ids)
            for moved_id in ids:
                entry = self.members.get(moved_id)
                if entry is not None:
                    self._member(moved_id, story_id, version, [story_id, *entry[1:]])
            moved_in += ids
            story = absorbed(story, other, self.config)
            gone: StoredStory = {**other, "version": other["version"] + 1}
            merged_events.append(
                self._event(gone, "merged", merged_into=story_id, left=(ids, count))
            )
            self._drop(other_id)
        self._store(story_id, story)
        self._keep_records(story, parts, article, comparable, vectors)
        events = [
            self._event(story, "updated", joined=(moved_in, len(moved_in))),
            *merged_events,
        ]
        return events + self._split_check(story_id, before["article_count"])

    def _member(self, article_id: str, story_id: str, version: int, entry: list[Any]) -> None:
        """Write one article's member entry (`members`) and say it moved (`moved`)."""
        self.members[article_id] = entry
        self.moved.append((article_id, story_id, version))

    def _keep_records(
        self,
        story: StoredStory,
        parts: Sequence[StoredStory],
        article: EnrichedArticleV1,
        comparable: Article,
        vectors: Query,
    ) -> None:
        """Keep `records` for the articles of `story`, which `article` has just joined and
        `parts` (the stories as they were) made up: while it can still be split, the joining
        article's one-article story, and each one-article part's own; past the last split size,
        none (dropped once, when it grows past)."""
        sizes = self.config.split_sizes
        last = sizes[-1] if sizes else 0
        if story["article_count"] > last:
            # Only the parts no bigger than the last split size have records. Their ids are in
            # this story's roster now, in order: the story as it was, the article, each part.
            start = 0
            for k, part in enumerate(parts):
                count = part["article_count"]
                if count <= last:
                    ids = roster.between(self.rosters, story["id"], start, start + count)
                    self._drop_records(ids)
                start += count + (1 if k == 0 else 0)
            return
        for part in parts:
            if part["article_count"] == 1:
                self.records[part["first_ids"][0]] = part
        self.records[article.id] = self._new_story(
            story_id_for(article.id), article, comparable, vectors
        )

    def _drop_records(self, article_ids: Iterable[str]) -> None:
        """Delete these articles' records, those there are (a faust Table sees each `del`)."""
        for article_id in article_ids:
            if article_id in self.records:
                del self.records[article_id]

    def _split_check(self, story_id: str, before: int) -> list[StoryEventV2]:
        """When the story has just grown past one of `split_sizes` articles (from `before`),
        cut it in two if its articles fall into two sides that are two events (`split_sides`):
        both are rebuilt from their articles' records. The side with the story's first article
        keeps its id; the other becomes a new story. Returns the `split` event of the first
        and the `created` event of the second, or nothing."""
        story = self._story(story_id)
        count = story["article_count"]
        cfg = self.config
        if not any(before < size <= count for size in cfg.split_sizes):
            return []
        ids = roster.members(self.rosters, story_id, count)
        if not all(article_id in self.records for article_id in ids):
            return []  # a story from before records were kept, or one not built by `place`
        records = [self._record(article_id) for article_id in ids]
        sides = split_sides(records, cfg)
        if sides is None:
            return []
        keep, move = [[records[k] for k in side] for side in sides]
        # The split's version in the new id: a story split off, merged back and split off again
        # is a new story each time, never an old id restarting at version 1.
        new_id = story_id_for(f"{story_id}/{story['version'] + 1}/{move[0]['first_ids'][0]}")
        apart = story["apart"]
        kept = rebuilt(
            story_id, keep, story["version"] + 1, apart_ids([*apart, new_id], cfg), cfg
        )
        moved = rebuilt(new_id, move, 1, apart_ids([*apart, story_id], cfg), cfg)
        self._store(story_id, kept)
        self._store(new_id, moved)
        kept_ids = [ids[k] for k in sides[0]]
        moved_ids = [ids[k] for k in sides[1]]
        roster.drop(self.rosters, story_id, count)
        roster.append(self.rosters, story_id, 0, kept_ids)
        roster.append(self.rosters, new_id, 0, moved_ids)
        for moved_id in moved_ids:
            entry = self.members.get(moved_id)
            if entry is not None:
                self._member(moved_id, new_id, 1, [new_id, *entry[1:]])
        change = (moved_ids, len(moved_ids))
        return [
            self._event(kept, "split", split_into=new_id, left=change),
            self._event(moved, "created", joined=change),
        ]

    def withdraw(self, article_id: str) -> list[StoryEventV2]:
        """Take a placed article out of its live story (its outlet withdrew it): one `updated`
        event listing it in `left_ids`, or, when it was the story's only article, a `closed`
        event of the emptied story. `moved` says it is in no story now. An article in no live
        story changes nothing."""
        self.moved = []
        entry = self.members.get(article_id)
        if entry is None or entry[0] not in self._live:
            return []
        story_id = entry[0]
        story = self._taken_out(story_id, article_id, entry)
        del self.members[article_id]
        self.moved.append((article_id, None, story["version"]))
        if story["article_count"]:
            self._store(story_id, story)
            return [self._event(story, "updated", left=([article_id], 1))]
        self._drop(story_id)
        return [self._event(story, "closed", left=([article_id], 1))]

    def revise(self, article: EnrichedArticleV1, payload: Sequence[Any] = ()) -> list[StoryEventV2]:
        """Replace a placed article by its corrected copy (same id, a higher revision: the
        caller compares) in its live story: one `updated` event listing it as left and joined,
        one membership. Not in a live story (its story closed): placed as `add` places it."""
        entry = self.members.get(article.id)
        if entry is None or entry[0] not in self._live:
            return self.add(article, payload)
        self.moved = []
        story_id = entry[0]
        story = self._taken_out(story_id, article.id, entry)
        comparable = self._comparable(article)
        vectors = self._stored_vectors(comparable)
        last = self.config.split_sizes[-1] if self.config.split_sizes else 0
        if story["article_count"]:
            if story["article_count"] == 1 and last > 1:
                self.records[story["first_ids"][0]] = story  # as `_keep_records` keeps it
            story = joined(story, article, comparable, vectors, self.config)
            story = {**story, "version": story["version"] - 1}  # one event for the change
        else:  # it was the story's only article: the story is its corrected copy now
            fresh = self._new_story(story_id, article, comparable, vectors)
            story = {**fresh, "version": story["version"], "apart": story["apart"]}
        self._store(story_id, story)
        roster.append(self.rosters, story_id, story["article_count"] - 1, [article.id])
        self._member(article.id, story_id, story["version"], [story_id, *payload])
        if 1 < story["article_count"] <= last:
            self.records[article.id] = self._new_story(
                story_id_for(article.id), article, comparable, vectors
            )
        change = ([article.id], 1)
        return [self._event(story, "updated", joined=change, left=change)]

    def _taken_out(self, story_id: str, article_id: str, entry: Sequence[Any]) -> StoredStory:
        """Story `story_id` without `article_id` (its member `entry`), one version on, its
        roster and records updated; not stored (the caller stores or drops it)."""
        story = self._story(story_id)
        count = story["article_count"]
        ids = roster.members(self.rosters, story_id, count)
        if count == 1:
            roster.drop(self.rosters, story_id, count)
            return {**story, "version": story["version"] + 1, "article_count": 0}
        rest = roster.remove(self.rosters, story_id, ids, ids.index(article_id))
        listing = entry[2] if len(entry) > 2 else None
        record = self._record(article_id) if article_id in self.records else None
        if record is not None:
            del self.records[article_id]
        if len(rest) == 1 and rest[0] in self.records:
            # One article left: the story is exactly its record (a one-article story is its
            # own record, so that is dropped).
            left = self._record(rest[0])
            del self.records[rest[0]]
            return {
                **left, "id": story_id, "version": story["version"] + 1, "apart": story["apart"]
            }
        return without(story, rest, listing, record, self.config)

    def close_inactive(self, now: datetime) -> list[StoryEventV2]:
        """Close every story that got no copy for `window_hours` before `now` (ingest time, as
        `last_seen` is): emit `closed` and drop it from the live stories (and from the
        `stories` mapping, which so stays bounded by the stories of one window), its roster
        and its articles' member entries (they stay in it: `moved` lists none)."""
        self.moved = []
        cutoff = (now - timedelta(hours=self.config.window_hours)).timestamp()
        events = []
        by_last_seen = self._index.by_last_seen
        while by_last_seen and by_last_seen[0][0] < cutoff:
            last_seen, story_id = heapq.heappop(by_last_seen)
            live = self._live.get(story_id)
            if live is None or live.last_seen != last_seen:
                continue  # an entry left behind by an update, merge or earlier close
            story = self._story(story_id)
            closing: StoredStory = {**story, "version": story["version"] + 1}
            events.append(self._event(closing, "closed"))
            self._drop(story_id)
            count = story["article_count"]
            ids = roster.members(self.rosters, story_id, count)
            roster.drop(self.rosters, story_id, count)
            for article_id in ids:
                entry = self.members.get(article_id)
                if entry is not None and entry[0] == story_id:
                    del self.members[article_id]
            if count > 1:  # a one-article story is its own record
                self._drop_records(ids)
        return events

    # --- story state: `services.cluster.story` --------------------------------------------

    def _new_story(
        self, story_id: str, article: EnrichedArticleV1, comparable: Article, vectors: Query
    ) -> StoredStory:
        return new_story(story_id, article, comparable, vectors, self.config)

    def _event(
        self,
        story: StoredStory,
        event: str,
        merged_into: str | None = None,
        split_into: str | None = None,
        joined: tuple[list[str], int] = ([], 0),
        left: tuple[list[str], int] = ([], 0),
    ) -> StoryEventV2:
        return story_event(
            story, event, self.config, self._datetimes, merged_into, split_into, joined, left
        )
