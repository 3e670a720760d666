"""Every Kafka topic storywire reads or writes, dead-letter topics included."""

from enum import StrEnum


class Topic(StrEnum):
    # RawArticleV1, key = source (so one outlet's copy stays on one partition and the clean
    # stage's per-source template memory sees all of it).
    RAW = "articles.raw"
    # CleanArticleV1, key = article id (spreads the enrich stage's work over partitions).
    CLEAN = "articles.clean"
    # EnrichedArticleV1, key = language (the cluster stage shards by language).
    ENRICHED = "articles.enriched"
    # StoryEventV1, key = story id; compacted, so the topic holds the latest state of each story.
    STORIES = "stories"
    # StoryMemberV1, key = article id; compacted: the story each article is in now.
    MEMBERS = "stories.members"
    # DeadLetterV1 for each stage: the original bytes, the stage, the reason, the source offset.
    # The original bytes are the copy itself: kept STORYWIRE_DEAD_LETTER_RETENTION_DAYS only.
    DLQ_CLEAN = "dlq.clean"
    DLQ_ENRICH = "dlq.enrich"
    DLQ_CLUSTER = "dlq.cluster"
    # ClusterTickV1, key = language: the cluster workers' reminders to close idle stories
    # (internal). Keyed like articles.enriched and with as many partitions, so a tick reaches
    # the worker holding its shard's stories.
    CLUSTER_TICKS = "cluster.ticks"

    @property
    def compacted(self) -> bool:
        return self in (Topic.STORIES, Topic.MEMBERS)

    @property
    def dead_letter(self) -> bool:
        return self in (Topic.DLQ_CLEAN, Topic.DLQ_ENRICH, Topic.DLQ_CLUSTER)

    def retention_ms(self, dead_letter_retention_days: float) -> int | None:
        """How long the topic keeps messages, where storywire sets it (else the broker's).

        Dead letters hold the original bytes of copy a stage refused (a privacy and retention
        concern: they outlive the article everywhere else), so they go after the configured
        days; ticks are reminders worth nothing after an hour.
        """
        if self.dead_letter:
            return round(dead_letter_retention_days * 86_400_000)
        return 3_600_000 if self is Topic.CLUSTER_TICKS else None


DEAD_LETTER_TOPICS: dict[str, Topic] = {
    "clean": Topic.DLQ_CLEAN,
    "enrich": Topic.DLQ_ENRICH,
    "cluster": Topic.DLQ_CLUSTER,
}
