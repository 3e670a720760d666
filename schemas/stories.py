"""Story contract: the latest state of one live story (topic `stories`, compacted by story id)."""

from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field


class StoryEntityV1(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    text: str
    label: str
    articles: int = Field(ge=1, description="how many of the story's articles name it")


class StoryEventV1(BaseModel):
    """A story's state after one change.

    `event` says what changed: `created` (first article, or the articles a split moved out of
    another story), `updated` (an article joined), `closed` (no new copy within the story
    window), `merged` (this story was folded into `merged_into`), `split` (the story was found
    to hold two events: `article_ids` is what stays, and the rest moved to the new story
    `split_into`, whose `created` event follows). `version` grows by one with each event of the
    same story, so a consumer can drop stale or repeated deliveries.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    schema_version: Literal[1] = 1
    story_id: str
    version: int = Field(ge=1)
    event: Literal["created", "updated", "closed", "merged", "split"]
    language: str
    title: str
    article_ids: tuple[str, ...]
    sources: tuple[str, ...]
    top_entities: tuple[StoryEntityV1, ...] = Field(
        default=(), description="most-named entities, most articles first, each name once"
    )
    keywords: tuple[str, ...] = ()
    article_count: int = Field(ge=1)
    duplicate_count: int = Field(default=0, ge=0, description="syndicated copies among articles")
    first_seen: AwareDatetime
    last_seen: AwareDatetime
    merged_into: str | None = None
    split_into: str | None = None


# -- Version 2: story events of bounded size, membership on a topic of its own --------------
#
# A v1 event lists every article and every source, so its size (and the cluster stage's
# writes per article) grow with the story. A v2 event carries counts, the first and the
# latest few article ids, the outlets with the most articles, and what this event changed;
# every article's story is on `stories.members` (`StoryMemberV1`, compacted, keyed by article
# id). Every list below has a hard bound, so an event's size does not depend on the story's.

FIRST_IDS = 5  # `first_article_ids`: the story's first articles, in arrival order
LATEST_IDS = 10  # `latest_article_ids`: its latest articles, newest last
CHANGED_IDS = 16  # `joined_ids` / `left_ids`: articles this event moved (counts give all)
LISTED_SOURCES = 20  # `sources`: the outlets with the most articles
LISTED_ENTITIES = 20
LISTED_KEYWORDS = 20


class StorySourceV2(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    source: str
    articles: int = Field(ge=1, description="the story's articles from this outlet")


class StoryEventV2(BaseModel):
    """A story's state after one change, bounded in size whatever the story's size or age.

    `event` as in v1: `created`, `updated` (articles joined or left: a join, a merge into this
    story, a correction, a kill), `closed`, `merged` (folded into `merged_into`), `split` (the
    articles in `left_ids` / `left_count` moved to the new story `split_into`). `joined_ids` and
    `left_ids` name up to `CHANGED_IDS` of the articles this event moved in or out;
    `joined_count` and `left_count` say how many it moved in all. The full membership is on
    `stories.members`. `version` grows by one with each event of the same story.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    schema_version: Literal[2] = 2
    story_id: str
    version: int = Field(ge=1)
    event: Literal["created", "updated", "closed", "merged", "split"]
    language: str
    title: str
    article_count: int = Field(ge=0, description="articles in the story now")
    duplicate_count: int = Field(default=0, ge=0, description="syndicated copies among them")
    source_count: int = Field(ge=0, description="distinct outlets among them")
    sources: tuple[StorySourceV2, ...] = Field(
        default=(), max_length=LISTED_SOURCES, description="most articles first"
    )
    first_article_ids: tuple[str, ...] = Field(default=(), max_length=FIRST_IDS)
    latest_article_ids: tuple[str, ...] = Field(default=(), max_length=LATEST_IDS)
    joined_ids: tuple[str, ...] = Field(default=(), max_length=CHANGED_IDS)
    joined_count: int = Field(default=0, ge=0)
    left_ids: tuple[str, ...] = Field(default=(), max_length=CHANGED_IDS)
    left_count: int = Field(default=0, ge=0)
    top_entities: tuple[StoryEntityV1, ...] = Field(default=(), max_length=LISTED_ENTITIES)
    keywords: tuple[str, ...] = Field(default=(), max_length=LISTED_KEYWORDS)
    first_seen: AwareDatetime
    last_seen: AwareDatetime
    merged_into: str | None = None
    split_into: str | None = None


class StoryMemberV1(BaseModel):
    """Which story one article is in (topic `stories.members`, compacted, key = article id).

    Written when the article joins a story and again whenever it moves (its story merged into
    another, or a split moved it), so the latest record per article id is its story now.
    `story_id` is None once the article is in no story (withdrawn by its outlet). Carries what
    a reader lists an article by, so a story page needs no other topic. `story_version` is the
    version of the story event that placed it.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    schema_version: Literal[1] = 1
    article_id: str
    story_id: str | None
    story_version: int = Field(ge=0)
    source: str
    headline: str
    url: str | None = None
    language: str
    published_at: AwareDatetime | None = None
    ingested_at: AwareDatetime
    duplicate_of: str | None = None
