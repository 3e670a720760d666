"""Topic contracts for storywire: one frozen pydantic model per topic and version.

`services/` imports this package; this package imports nothing from `services/`.
"""

from schemas.articles import (
    CleanArticleV1,
    EnrichedArticleV1,
    EntityV1,
    RawArticleV1,
)
from schemas.deadletter import DeadLetterV1
from schemas.stories import (
    StoryEntityV1,
    StoryEventV1,
    StoryEventV2,
    StoryMemberV1,
    StorySourceV2,
)
from schemas.topics import Topic

__all__ = [
    "CleanArticleV1",
    "DeadLetterV1",
    "EnrichedArticleV1",
    "EntityV1",
    "RawArticleV1",
    "StoryEntityV1",
    "StoryEventV1",
    "StoryEventV2",
    "StoryMemberV1",
    "StorySourceV2",
    "Topic",
]
