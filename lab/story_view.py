"""The latest state of every story, read from the `stories` topic (a downstream view).

A consumer keeps, per story id, the event with the highest version; merged and closed
events end a story's life but keep its last membership visible.
"""

import json
import time
from collections.abc import Callable, Iterable

from kafka import KafkaConsumer, TopicPartition

from schemas.deadletter import DeadLetterV1
from schemas.stories import StoryEventV1
from schemas.topics import DEAD_LETTER_TOPICS, Topic
from services.identity import article_key
from services.kafka import UNREACHABLE, BrokerUnavailable, client_config, unreachable_message
from services.settings import Settings


class StoryBoard:
    def __init__(self, settings: Settings) -> None:
        self.stories: dict[str, StoryEventV1] = {}
        self.dead_letters: list[DeadLetterV1] = []
        # Every article id seen in a story event or a dead letter. An article once placed stays
        # placed (a merge moves it into the surviving story), so this only grows.
        self._accounted: set[str] = set()
        # When each article was first placed: the timestamp of the earliest story event that
        # lists it (the cluster worker's clock when it produced the event, in seconds since the
        # epoch), so it does not depend on when or in what order this view read the events.
        self.placed_at: dict[str, float] = {}
        self._stories_topic = settings.topic(Topic.STORIES)
        topics = [self._stories_topic] + [settings.topic(t) for t in DEAD_LETTER_TOPICS.values()]
        try:
            self._consumer = KafkaConsumer(
                **client_config(settings), group_id=None, enable_auto_commit=False,
                client_id="storywire-storyboard",
            )
        except UNREACHABLE as exc:
            raise BrokerUnavailable(unreachable_message(settings)) from exc
        partitions = [
            TopicPartition(topic, p)
            for topic in topics
            for p in sorted(self._consumer.partitions_for_topic(topic) or ())
        ]
        self._partitions = partitions
        self.unreadable = 0  # messages on the topics that are no story event or dead letter
        self._consumer.assign(partitions)
        self._consumer.seek_to_beginning(*partitions)

    def poll(self, timeout_s: float = 1.0) -> list[StoryEventV1]:
        """Read what arrived; return the story events among it, in order."""
        events = []
        batches = self._consumer.poll(timeout_ms=int(timeout_s * 1000))
        for records in batches.values():
            for record in records:
                if record.topic == self._stories_topic:
                    try:
                        story = StoryEventV1.model_validate_json(record.value or b"")
                    except ValueError:  # no story event: nothing storywire wrote; skipped
                        self.unreadable += 1
                        continue
                    events.append(story)
                    self._accounted.update(story.article_ids)
                    # The earliest event wins, whatever order the partitions are read in: after
                    # a merge, a later event on another partition lists the article too.
                    at = record.timestamp / 1000
                    for article_id in story.article_ids:
                        known_at = self.placed_at.get(article_id)
                        if known_at is None or at < known_at:
                            self.placed_at[article_id] = at
                    known = self.stories.get(story.story_id)
                    if known is None or known.version < story.version:
                        self.stories[story.story_id] = story
                else:
                    try:
                        letter = DeadLetterV1.model_validate_json(record.value or b"")
                    except ValueError:
                        self.unreadable += 1
                        continue
                    self.dead_letters.append(letter)
                    self._accounted.add(article_id_of(letter))
        return events

    def messages_on_topics(self) -> int:
        """How many messages the story and dead-letter topics hold (their end offsets): a
        cheap count, without reading them, of how far the pipeline has got."""
        return sum(self._consumer.end_offsets(self._partitions).values())

    def latest(self) -> list[StoryEventV1]:
        """Stories still standing: merged-away ones are left out."""
        return [s for s in self.stories.values() if s.event != "merged"]

    def assignments(self) -> dict[str, str]:
        """{article_id: story_id} from the stories still standing."""
        return {
            article_id: story.story_id
            for story in self.latest()
            for article_id in story.article_ids
        }

    def accounts_for(self, article_ids: Iterable[str]) -> bool:
        """True once every article is in a story or was dead-lettered."""
        return self._accounted.issuperset(article_ids)

    def wait(
        self,
        until: Callable[[], bool],
        check: Callable[[], None],
        timeout_s: float,
        on_poll: Callable[[], None] | None = None,
    ) -> bool:
        """Poll until `until()` holds (True) or `timeout_s` passes (False), calling `check`
        (e.g. LocalPipeline.check, which raises if a worker died) and `on_poll` each round."""
        deadline = time.monotonic() + timeout_s
        while not until():
            check()
            if time.monotonic() > deadline:
                return False
            self.poll(timeout_s=0.5)
            if on_poll is not None:
                on_poll()
        return True

    def close(self) -> None:
        self._consumer.close()


def article_id_of(letter: DeadLetterV1) -> str:
    """The id inside a dead letter's original message, if it has one: as the pipeline names
    the article (`article_key`), which for copy the clean stage refused is its source and id."""
    try:
        original = json.loads(letter.original)
        article_id = str(original.get("id", ""))
        if letter.stage == "clean" and original.get("source"):
            return article_key(str(original["source"]), article_id)
        return article_id
    except (ValueError, AttributeError, RecursionError):
        return ""
