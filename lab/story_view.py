"""The latest state of every story, read from the `stories` and `stories.members` topics (a
downstream view, as the README's subscriber section builds one).

A consumer keeps, per story id, the event with the highest version, and per article id its
latest member record (the topic is keyed by article id, so its records of one article are in
order): a story's articles are those whose latest record names it. Merged and closed events
end a story's life; a closed story keeps its members.
"""

import json
import time
from collections.abc import Callable, Iterable

from kafka import KafkaConsumer, TopicPartition

from schemas.deadletter import DeadLetterV1
from schemas.stories import StoryEventV2, StoryMemberV1
from schemas.topics import DEAD_LETTER_TOPICS, Topic
from services.identity import article_key
from services.kafka import UNREACHABLE, BrokerUnavailable, client_config, unreachable_message
from services.settings import Settings


class StoryBoard:
    def __init__(self, settings: Settings) -> None:
        self.stories: dict[str, StoryEventV2] = {}
        # Each article's latest member record: its story now.
        self.members: dict[str, StoryMemberV1] = {}
        self.dead_letters: list[DeadLetterV1] = []
        # Every article id seen in a member record or a dead letter. An article once placed
        # stays placed (a merge moves it into the surviving story), so this only grows.
        self._accounted: set[str] = set()
        # When each article was first placed: the timestamp of its first member record (the
        # cluster worker's clock when it produced it, in seconds since the epoch).
        self.placed_at: dict[str, float] = {}
        self._stories_topic = settings.topic(Topic.STORIES)
        self._members_topic = settings.topic(Topic.MEMBERS)
        topics = [self._stories_topic, self._members_topic]
        topics += [settings.topic(t) for t in DEAD_LETTER_TOPICS.values()]
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

    def poll(self, timeout_s: float = 1.0) -> list[StoryEventV2]:
        """Read what arrived; return the story events among it, in order."""
        events = []
        batches = self._consumer.poll(timeout_ms=int(timeout_s * 1000))
        for records in batches.values():
            for record in records:
                if record.topic == self._members_topic:
                    try:
                        member = StoryMemberV1.model_validate_json(record.value or b"")
                    except ValueError:  # no member record: nothing storywire wrote; skipped
                        self.unreadable += 1
                        continue
                    self.members[member.article_id] = member
                    self._accounted.add(member.article_id)
                    self.placed_at.setdefault(member.article_id, record.timestamp / 1000)
                elif record.topic == self._stories_topic:
                    try:
                        story = StoryEventV2.model_validate_json(record.value or b"")
                    except ValueError:  # no story event: nothing storywire wrote; skipped
                        self.unreadable += 1
                        continue
                    events.append(story)
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

    def latest(self) -> list[StoryEventV2]:
        """Stories still standing: merged-away ones are left out."""
        return [s for s in self.stories.values() if s.event != "merged"]

    def assignments(self) -> dict[str, str]:
        """{article_id: story_id} of every article in a story, by its latest member record."""
        return {
            article_id: member.story_id
            for article_id, member in self.members.items()
            if member.story_id is not None
        }

    def articles_of(self, story_id: str) -> list[str]:
        """The articles of one story (its full membership, however big), by first placement."""
        return sorted(
            (a for a, member in self.members.items() if member.story_id == story_id),
            key=lambda a: (self.placed_at[a], a),
        )

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
