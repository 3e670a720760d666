"""The pipeline in one process: raw articles in, story events out, through the workers' cores.

clean (`services.clean.core.clean`, one `SourceMemory` for the whole list, as one clean worker
holds) -> enrich (`services.enrich.core.enrich_batch`, in batches, as the enrich worker takes
them) -> cluster (`StoryClusterer.add`, one clusterer per language shard, as the cluster worker
keeps them). No broker and no faust: what the evaluations, the benchmarks and the fits replay,
so that they measure the very code a deployment runs, and measure it the same way.

An article a stage rejects (`InvalidArticle`) goes no further, as a dead-lettered one would:
it is missing from that step's output (and, when scored, is a story of its own). Each step is
its own function because the callers time or cache between them: the clustering evaluation
caches the enriched articles and replays them in several shuffled orders.
"""

from collections.abc import Iterable, Sequence
from datetime import datetime

from spacy.language import Language

from schemas.articles import CleanArticleV1, EnrichedArticleV1, RawArticleV1
from schemas.stories import StoryEventV2
from services.clean.core import clean
from services.clean.memory import SourceMemory
from services.cluster.core import ClusterConfig, StoryClusterer
from services.enrich.core import NER_BODY_CHARS, enrich_batch
from services.errors import InvalidArticle

# The clean stage's default (services.settings); the lab never reads the environment.
MAX_BODY_CHARS = 200_000
ENRICH_BATCH = 32


def clean_all(
    raws: Iterable[RawArticleV1],
    *,
    max_body_chars: int = MAX_BODY_CHARS,
    memory: SourceMemory | None = None,
) -> list[CleanArticleV1]:
    """The articles through the clean core in the order given, sharing one source memory (a
    fresh one unless given), each cleaned as of its own `ingested_at` (so a replay is the same
    every time). Rejected articles are left out: count them as `len(raws) - len(result)`."""
    memory = SourceMemory(templates={}, fingerprints={}) if memory is None else memory
    cleaned = []
    for raw in raws:
        try:
            cleaned.append(clean(raw, memory, max_body_chars=max_body_chars, now=raw.ingested_at))
        except InvalidArticle:
            continue
    return cleaned


def enrich_all(
    cleaned: Sequence[CleanArticleV1],
    nlp: Language,
    *,
    batch_size: int = ENRICH_BATCH,
    body_chars: int | None = NER_BODY_CHARS,
    now: datetime | None = None,
) -> list[EnrichedArticleV1 | InvalidArticle]:
    """The clean articles through the enrich core in batches of `batch_size`, in input order:
    each place holds the enriched article or the `InvalidArticle` it was rejected with.
    `nlp` is the loaded spaCy pipeline (`services.enrich.core.load_nlp`), built once by the
    caller; `body_chars` and `now` are passed to `enrich_batch` as they are."""
    results: list[EnrichedArticleV1 | InvalidArticle] = []
    for start in range(0, len(cleaned), batch_size):
        batch = cleaned[start : start + batch_size]
        results.extend(enrich_batch(batch, nlp, body_chars=body_chars, now=now))
    return results


def enriched(results: Iterable[EnrichedArticleV1 | InvalidArticle]) -> list[EnrichedArticleV1]:
    """The enriched articles of `enrich_all`'s results, without the rejected ones."""
    return [result for result in results if isinstance(result, EnrichedArticleV1)]


class Shards:
    """One fresh `StoryClusterer` per language shard, made when its first article comes, as
    the cluster worker keeps them (without the worker's tables or its closing by time)."""

    def __init__(self, config: ClusterConfig | None = None) -> None:
        self.config = config or ClusterConfig()
        self.clusterers: dict[str, StoryClusterer] = {}

    def add(self, article: EnrichedArticleV1) -> list[StoryEventV2]:
        """What `StoryClusterer.add` says changed when the article joins its shard."""
        if article.language not in self.clusterers:
            self.clusterers[article.language] = StoryClusterer({}, self.config)
        return self.clusterers[article.language].add(article)

    def assignment(self) -> dict[str, str]:
        """{article_id: story_id} of every story now held, all shards."""
        placed: dict[str, str] = {}
        for clusterer in self.clusterers.values():
            # Each member entry is [story id, *payload] (`StoryClusterer.members`).
            for article_id, entry in clusterer.members.items():
                placed[article_id] = entry[0]
        return placed


def cluster_all(
    articles: Iterable[EnrichedArticleV1], config: ClusterConfig | None = None
) -> Shards:
    """The articles clustered in the order given by fresh shards; returns the shards, whose
    `assignment()` says where each article ended up."""
    shards = Shards(config)
    for article in articles:
        shards.add(article)
    return shards


def run(
    raws: Iterable[RawArticleV1],
    nlp: Language,
    *,
    config: ClusterConfig | None = None,
    max_body_chars: int = MAX_BODY_CHARS,
    batch_size: int = ENRICH_BATCH,
    body_chars: int | None = NER_BODY_CHARS,
    now: datetime | None = None,
) -> list[StoryEventV2]:
    """The whole chain over `raws`, in their order: every story event the cluster stage would
    publish, in the order it would publish them."""
    cleaned = clean_all(raws, max_body_chars=max_body_chars)
    articles = enriched(
        enrich_all(cleaned, nlp, batch_size=batch_size, body_chars=body_chars, now=now)
    )
    shards = Shards(config)
    return [event for article in articles for event in shards.add(article)]
