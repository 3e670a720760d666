"""Cluster tick contract (topic `cluster.ticks`, internal to the cluster stage).

A cluster worker sends one tick per language shard it holds, every
`STORYWIRE_STORY_CLOSE_CHECK_SECONDS`, keyed by the shard's language like `articles.enriched`,
so the tick lands on the partition, and so the worker, that owns that shard's stories. Reading
it, the worker closes the shard's stories that had no new copy for the story window, also when
no copy arrives at all. Ticks carry no data anyone else needs; the topic keeps them an hour.
"""

from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field


class ClusterTickV1(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    schema_version: Literal[1] = 1
    shard: str = Field(min_length=1, description="the language shard whose stories to check")
    sent_at: AwareDatetime = Field(description="the sending worker's wall clock")
