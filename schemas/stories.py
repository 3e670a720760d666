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
