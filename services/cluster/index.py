"""The live stories' inverted index and IDF: which stories an article is compared with.

Each live story enters the index (`StoryIndex.postings`) under its top terms and every entity
key, and is counted in the document frequencies its IDF weighting reads. An article's
candidates (`candidates`) are the stories its rarest keys name, so the cost per article grows
with the few stories that could match, not with all of them. All of it derives from the
stored stories (`live_of`): built anew on the same stories, it is the same index.
"""

import heapq
import math
from collections import Counter
from collections.abc import Iterable
from typing import Any

from services.cluster.config import ClusterConfig
from services.cluster.features import Article, LiveStory, Query, gap_days
from services.cluster.story import StoredStory
from services.cluster.vectors import by_group, timestamp_of, unit, vector_length
from services.memo import Memo


class StoryIndex:
    """The live stories of one clusterer in memory: their live forms, the index over their
    keys, their document frequencies, and their last-seen times, oldest first."""

    def __init__(self, config: ClusterConfig, datetimes: Memo) -> None:
        self.config = config
        # Stored ISO times as datetimes (shared with the clusterer's events).
        self.datetimes = datetimes
        self.live: dict[str, LiveStory] = {}
        self.postings: dict[str, set[str]] = {}
        self.term_df: Counter[str] = Counter()
        self.entity_df: Counter[str] = Counter()
        # (last_seen, story_id) per story, oldest first; stale entries are skipped on pop.
        self.by_last_seen: list[tuple[float, str]] = []
        # ln(df + 1) of every counted key, per df table: IDF = ln(live + 1) + 1 - ln(df + 1),
        # and a key no live story has is missing (0.0). Kept as the counts change (a changed
        # story recounts only its own keys), so an article's terms are weighted by one look-up
        # each, not a look-up then a count and a log.
        self.term_rarity: dict[str, float] = {}
        self.entity_rarity: dict[str, float] = {}
        self.rarities: dict[int, dict[str, float]] = {
            id(self.term_df): self.term_rarity,
            id(self.entity_df): self.entity_rarity,
        }
        self.idf_base = 1.0  # ln(live + 1) + 1

    def live_of(self, story: StoredStory) -> LiveStory:
        """A stored story's in-memory form."""
        # Index keys: the top terms (stored heaviest first) and every entity key. They share
        # one index: an entity key has a ":" after its group, which no term has.
        keys = frozenset([*list(story["terms"])[: self.config.index_terms], *story["entities"]])
        prominent = {
            k: v[4] / story["article_count"]
            for k, v in story["entities"].items()
            if v[4] and not k.startswith("other:")
        }
        return LiveStory(
            terms=story["terms"],
            terms_norm=vector_length(story["terms"]),
            headline=story["headline"],
            headline_norm=vector_length(story["headline"]),
            entities=story["entities"],
            prominent=prominent,
            leads=by_group([k for k, share in prominent.items() if share >= 0.5]),
            keys=keys,
            event_first=timestamp_of(story["event_first"]),
            event_last=timestamp_of(story["event_last"]),
            last_seen=self.datetimes[story["last_seen"]].timestamp(),
            members=story["members"],
            years=frozenset(story["years"]),
            months=story["months"],
            dated=story["dated"],
        )

    def count(self, df: Counter[str], keys: Any, delta: int) -> None:
        """Add `delta` to each key's document frequency, and update its ln(df + 1)."""
        rarity = self.rarities[id(df)]
        log = math.log
        for key in keys:
            count = df.get(key, 0) + delta  # not df[key]: a Counter's miss is a Python call
            if count > 0:
                df[key] = count
                rarity[key] = log(count + 1.0)
            else:
                del df[key]
                del rarity[key]

    def enter(self, story_id: str, live: LiveStory, old: LiveStory | None = None) -> None:
        """Count a live story in the document frequencies and the index; when it replaces
        `old` (the same story before this article), only what changed is counted, as a
        story keeps most of its terms and names from one article to the next."""
        self.live[story_id] = live
        self.idf_base = math.log(len(self.live) + 1) + 1.0
        if old is None:  # every key is new: counted as it is, no set of differences built
            self.count(self.term_df, live.terms, 1)
            self.count(self.entity_df, live.entities, 1)
            new_keys, gone_keys = live.keys, frozenset[str]()
        else:
            terms, old_terms = live.terms.keys(), old.terms.keys()
            self.count(self.term_df, terms - old_terms, 1)
            self.count(self.term_df, old_terms - terms, -1)
            entities, old_entities = live.entities.keys(), old.entities.keys()
            self.count(self.entity_df, entities - old_entities, 1)
            self.count(self.entity_df, old_entities - entities, -1)
            new_keys, gone_keys = live.keys - old.keys, old.keys - live.keys
        index = self.postings
        for key in new_keys:
            index.setdefault(key, set()).add(story_id)
        for key in gone_keys:
            postings = index[key]
            postings.discard(story_id)
            if not postings:
                del index[key]
        if old is None or old.last_seen != live.last_seen:
            heapq.heappush(self.by_last_seen, (live.last_seen, story_id))

    def forget(self, story_id: str) -> None:
        live = self.live.pop(story_id)
        self.idf_base = math.log(len(self.live) + 1) + 1.0
        self.count(self.term_df, live.terms.keys(), -1)
        self.count(self.entity_df, live.entities.keys(), -1)
        for key in live.keys:
            postings = self.postings[key]
            postings.discard(story_id)
            if not postings:
                del self.postings[key]

    def idf(self, df: Counter[str], key: str) -> float:
        """Smoothed IDF over the live stories: ln((live + 1) / (df + 1)) + 1."""
        return self.idf_base - self.rarities[id(df)].get(key, 0.0)

    def weighted(
        self, keys: Iterable[str], weights: Iterable[float], length: float, df: Counter[str]
    ) -> dict[str, float]:
        """Each key with its weight (in turn) divided by `length` and times the key's IDF
        (`idf`): `weighted(*term_frequencies, df)` is a term vector scaled to unit length
        and IDF-weighted in one pass."""
        rarity = self.rarities[id(df)].get
        base = self.idf_base
        return {
            k: w / length * (base - rarity(k, 0.0))
            for k, w in zip(keys, weights, strict=True)
        }

    def query(self, article: Article) -> Query:
        """The article weighted by the live stories' IDF (once per article)."""
        body = self.weighted(*article.terms, self.term_df)
        headline = self.weighted(*article.headline, self.term_df)
        lead = unit(self.weighted(*article.lead, self.term_df))
        groups: dict[str, list[tuple[str, float]]] = {}
        names = article.entities
        for key, weight in self.weighted(names, names.values(), 1.0, self.entity_df).items():
            group = key[: key.index(":") + 1]
            groups.setdefault(group, []).append((key, weight))
        prominent = [(key, self.idf(self.entity_df, key)) for key in sorted(article.prominent)]
        return Query(
            body, vector_length(body), headline, vector_length(headline), lead, groups, prominent
        )

    def candidates(self, article: Article, weighted_terms: dict[str, float]) -> list[str]:
        """Live stories sharing an entity or a top term with the article, most votes first;
        `weighted_terms` is the article's TF-IDF vector (`weighted`)."""
        cfg = self.config
        # Stable: equal weights keep the article's own term order.
        ranked_terms = sorted(weighted_terms, key=weighted_terms.__getitem__, reverse=True)
        terms = dict.fromkeys(ranked_terms[: cfg.query_terms])
        terms.update(dict.fromkeys(article.headline.terms))
        term_df, entity_df = self.term_df, self.entity_df
        lookups = [(t, term_df) for t in terms]
        lookups += [(key, entity_df) for key in article.entities]
        votes: dict[str, float] = {}
        get = votes.get
        index = self.postings
        base = self.idf_base
        term_rarity, entity_rarity = self.rarities[id(term_df)], self.rarities[id(entity_df)]
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
            # `idf`, read here: a key with postings is counted, so its rarity is there.
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
            gap = gap_days(article, self.live[story_id])
            if gap is not None and gap > window:
                continue
            chosen.append(story_id)
            if len(chosen) == cfg.max_candidates:
                break
        return chosen
