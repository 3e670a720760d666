"""The delivery audit: did every article fed in end in exactly one story or one dead letter?

In: the messages of `articles.raw`, of `stories`, of `stories.members` and of the dead-letter
topics, as `Message`s (where each was, its broker timestamp, its value bytes), and the time
the reader snapshotted the topics' ends. Out: an `AuditReport`.

Every raw message is one article, identified by `article_key(source, id)`; copies of the
same key fed again (redeliveries) are one article. A raw message that is no RawArticleV1 has
no key and is an article of its own, which only a dead letter naming its offset can account
for. An article is then, by its latest member record (`stories.members`, keyed by article id:
the last one read, as compaction keeps) and the latest event (highest `version`) of every
story:
- in one story: its member record names a story whose latest event is not `merged`;
- withdrawn: its member record names no story (its outlet withdrew it);
- doubled: its member record names a story that was merged away, so it is listed in that
  story and counted in the one it was merged into (a broken guarantee: a merge moves every
  article of the story it absorbs);
- dead-lettered: no story holds it, and a dead letter names its raw offset, or names it by
  key (a letter from `articles.clean` or `articles.enriched` carries the article's id);
- in flight or lost: none of these, younger or older than the grace period.

Nothing here raises on a message: a value that is not JSON, not UTF-8, nested past orjson's
depth limit, null or of the wrong shape is counted as unparseable, never a crash.
"""

from collections import Counter
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import datetime
from itertools import chain
from typing import Any, NamedTuple, TypeVar

import orjson
from pydantic import BaseModel, ValidationError

from schemas.articles import RawArticleV1
from schemas.deadletter import DeadLetterV1
from schemas.stories import StoryEventV2, StoryMemberV1
from services.identity import article_key

Contract = TypeVar("Contract", bound=BaseModel)

DEFAULT_GRACE_SECONDS = 300.0


@dataclass(frozen=True)
class Message:
    """One Kafka message as the reader got it; `timestamp_ms` is None when the broker gave none."""

    topic: str
    partition: int
    offset: int
    timestamp_ms: int | None
    value: bytes | None


@dataclass(frozen=True)
class MissingArticle:
    """An article in no story and no dead letter: its newest raw copy (key None: not an
    article at all, so only its offset names it)."""

    partition: int
    offset: int
    key: str | None
    age_seconds: float | None


@dataclass(frozen=True)
class DoubledArticle:
    key: str
    story_ids: list[str]


@dataclass(frozen=True)
class MalformedLetter:
    """A message on a dead-letter topic that is itself no DeadLetterV1."""

    topic: str
    partition: int
    offset: int
    error: str


@dataclass
class AuditReport:
    raw_messages: int
    article_keys: int = 0
    unparseable_raw: int = 0
    redelivered: int = 0  # raw messages beyond the first of their key
    in_one_story: int = 0
    withdrawn: int = 0  # in no story now: their outlet withdrew them
    dead_lettered: int = 0
    dead_letter_reasons: dict[str, int] = field(default_factory=dict)  # most frequent first
    lost: list[MissingArticle] = field(default_factory=list)
    in_flight: list[MissingArticle] = field(default_factory=list)
    doubled: list[DoubledArticle] = field(default_factory=list)
    in_story_and_dead_lettered: int = 0  # in a story, yet a copy was also dead-lettered
    stories: int = 0  # stories whose latest event holds articles (not merged)
    merged_stories: int = 0
    unparseable_story_events: int = 0
    unparseable_members: int = 0
    # Stories whose latest event counts other than the member records naming them: a story
    # event or member record still in flight, or a broken guarantee (not part of `ok`).
    miscounted_stories: list[str] = field(default_factory=list)
    dead_letters: int = 0
    unmatched_dead_letters: int = 0  # letters naming no raw message read (ticks, trimmed raw)
    malformed_letters: list[MalformedLetter] = field(default_factory=list)
    namespaced_ids: bool = True  # False: stories hold raw ids (deployments before article_key)
    grace_seconds: float = DEFAULT_GRACE_SECONDS

    @property
    def ok(self) -> bool:
        return not self.lost and not self.doubled

    def to_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, **asdict(self)}


def parse(contract: type[Contract], value: bytes | None) -> Contract | str:
    """`value` as `contract`, or why it is not one (never raises for any bytes)."""
    if value is None:
        return "no value"
    try:
        # orjson refuses nesting deeper than 1024 and invalid UTF-8 with a ValueError, where
        # the standard json module recurses until RecursionError.
        return contract.model_validate(orjson.loads(value))
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first.get("loc", ())) or "message"
        return f"{where}: {first['msg']}"[:200]
    except (ValueError, TypeError, RecursionError) as exc:
        return f"{type(exc).__name__}: {exc}"[:200]


class _RawCopy(NamedTuple):
    partition: int
    offset: int
    timestamp_ms: int | None
    key: str | None  # None: not a RawArticleV1
    raw_id: str | None


class _Letter(NamedTuple):
    reason: str
    raw_offset: tuple[int, int] | None  # (partition, offset) when read from the raw topic
    raw_source_id: tuple[str, str] | None  # the raw article it holds, when from the raw topic
    downstream_id: str | None  # the `id` of a clean/enriched article it holds


def _json_field(original: bytes, name: str) -> str | None:
    """A string field of a letter's original message, or None (not JSON, not a str, ...)."""
    try:
        record = orjson.loads(original)
    except (ValueError, TypeError, RecursionError):
        return None
    value = record.get(name) if isinstance(record, dict) else None
    return value if isinstance(value, str) and value else None


def _letter(letter: DeadLetterV1, raw_topic: str) -> _Letter:
    if letter.topic == raw_topic:
        source, raw_id = _json_field(letter.original, "source"), _json_field(letter.original, "id")
        pair = (source, raw_id) if source is not None and raw_id is not None else None
        return _Letter(letter.reason, (letter.partition, letter.offset), pair, None)
    # From articles.clean / articles.enriched: the article's `id` is already its key.
    return _Letter(letter.reason, None, None, _json_field(letter.original, "id"))


def uses_namespaced_ids(raw_keys: set[str], downstream_ids: Iterable[str]) -> bool:
    """Whether stories and clean/enriched articles carry `article_key`s (True) or, before the
    clean stage namespaced ids, the raw ids themselves (False).

    Namespaced as soon as one id downstream (a story member, a clean or enriched article in a
    dead letter) is the key of a raw article read. Not "any id with a '/'": a raw id may hold
    a '/' of its own ("reuters/2016/03/kerry"), and a deployment of such ids from before the
    change would then look namespaced, and all its articles lost.
    """
    return any(downstream_id in raw_keys for downstream_id in downstream_ids)


def audit(
    raw: Iterable[Message],
    stories: Iterable[Message],
    dead_letters: Iterable[Message],
    *,
    raw_topic: str,
    now: datetime,
    grace_seconds: float = DEFAULT_GRACE_SECONDS,
    members: Iterable[Message] = (),
) -> AuditReport:
    """Account for every raw article (see the module docstring). `raw_topic` is the raw
    topic's full name (with any prefix), as dead letters name it; `now` is when the topics'
    ends were snapshotted (timezone-aware). The iterables are read once each, in order
    (`members` in each partition's order: the last record of an article is its story now)."""
    copies = [_raw_copy(message) for message in raw]
    report = AuditReport(raw_messages=len(copies), grace_seconds=grace_seconds)

    # Latest event per story: (version, event, article count, merged into).
    latest: dict[str, tuple[int, str, int, str | None]] = {}
    for message in stories:
        event = parse(StoryEventV2, message.value)
        if isinstance(event, str):
            report.unparseable_story_events += 1
            continue
        seen = latest.get(event.story_id)
        if seen is None or event.version >= seen[0]:
            latest[event.story_id] = (
                event.version, event.event, event.article_count, event.merged_into
            )
    for _, event_kind, _, _ in latest.values():
        if event_kind == "merged":
            report.merged_stories += 1
        else:
            report.stories += 1
    story_of: dict[str, str | None] = {}
    for message in members:
        record = parse(StoryMemberV1, message.value)
        if isinstance(record, str):
            report.unparseable_members += 1
            continue
        story_of[record.article_id] = record.story_id
    # An article with a member record: [its story] in one story, [] withdrawn, [the merged
    # story, the one it went into] doubled; a story no event was read of yet: in flight.
    story_members: dict[str, list[str]] = {}
    counted: Counter[str] = Counter()
    for article_id, story_id in story_of.items():
        if story_id is None:
            story_members[article_id] = []
            continue
        known = latest.get(story_id)
        if known is None:
            continue
        counted[story_id] += 1
        merged_into = known[3] if known[1] == "merged" else None
        story_members[article_id] = [story_id] if merged_into is None else [
            story_id, merged_into
        ]
    report.miscounted_stories = sorted(
        story_id for story_id, (_, kind, count, _) in latest.items()
        if kind != "merged" and counted[story_id] != count
    )

    letters: list[_Letter] = []
    for message in dead_letters:
        parsed = parse(DeadLetterV1, message.value)
        if isinstance(parsed, str):
            report.malformed_letters.append(
                MalformedLetter(message.topic, message.partition, message.offset, parsed)
            )
        else:
            letters.append(_letter(parsed, raw_topic))
    report.dead_letters = len(letters)

    by_key: dict[str, list[_RawCopy]] = {}
    unkeyed: list[_RawCopy] = []
    for copy in copies:
        if copy.key is None:
            unkeyed.append(copy)
        else:
            by_key.setdefault(copy.key, []).append(copy)
    report.article_keys = len(by_key)
    report.unparseable_raw = len(unkeyed)
    report.redelivered = sum(len(same) - 1 for same in by_key.values())
    report.namespaced_ids = uses_namespaced_ids(
        set(by_key),
        chain(story_members, (letter.downstream_id for letter in letters if letter.downstream_id)),
    )

    def downstream(key: str, raw_id: str) -> str:
        """The id stories and clean/enriched letters know this article by."""
        return key if report.namespaced_ids else raw_id

    # Dead letters, indexed by raw offset and by downstream id (the first letter's reason wins).
    raw_offsets = {(copy.partition, copy.offset) for copy in copies}
    known_ids = {downstream(key, same[0].raw_id or key) for key, same in by_key.items()}
    at_offset: dict[tuple[int, int], str] = {}
    for_id: dict[str, str] = {}
    for letter in letters:
        ids = [] if letter.downstream_id is None else [letter.downstream_id]
        if letter.raw_source_id is not None:
            source, raw_id = letter.raw_source_id
            ids.append(downstream(article_key(source, raw_id), raw_id))
        for named in ids:
            for_id.setdefault(named, letter.reason)
        if letter.raw_offset is not None:
            at_offset.setdefault(letter.raw_offset, letter.reason)
        if letter.raw_offset not in raw_offsets and not any(i in known_ids for i in ids):
            report.unmatched_dead_letters += 1

    reasons: Counter[str] = Counter()
    now_ms = now.timestamp() * 1000

    def missing(copy: _RawCopy) -> None:
        age = None if copy.timestamp_ms is None else max(now_ms - copy.timestamp_ms, 0) / 1000
        where = MissingArticle(copy.partition, copy.offset, copy.key, age)
        # Without a broker timestamp the age is unknown: counted lost, so it is looked at.
        (report.lost if age is None or age > grace_seconds else report.in_flight).append(where)

    for key, same in by_key.items():
        down_id = downstream(key, same[0].raw_id or key)
        holders = story_members.get(down_id)
        reason = for_id.get(down_id)
        for copy in same:
            reason = at_offset.get((copy.partition, copy.offset), reason)
        if holders == []:
            report.withdrawn += 1
        elif holders is not None and len(holders) == 1:
            report.in_one_story += 1
            report.in_story_and_dead_lettered += reason is not None
        elif holders is not None:
            report.doubled.append(DoubledArticle(key, holders))
        elif reason is not None:
            report.dead_lettered += 1
            reasons[reason] += 1
        else:
            # The newest copy decides the age: a redelivery still in the pipeline is in flight.
            missing(max(same, key=lambda c: c.timestamp_ms if c.timestamp_ms is not None else -1))
    for copy in unkeyed:
        reason = at_offset.get((copy.partition, copy.offset))
        if reason is not None:
            report.dead_lettered += 1
            reasons[reason] += 1
        else:
            missing(copy)

    report.dead_letter_reasons = dict(reasons.most_common())
    report.lost.sort(key=lambda m: (m.partition, m.offset))
    report.in_flight.sort(key=lambda m: (m.partition, m.offset))
    report.doubled.sort(key=lambda d: d.key)
    return report


def _raw_copy(message: Message) -> _RawCopy:
    timestamp = message.timestamp_ms if message.timestamp_ms and message.timestamp_ms > 0 else None
    article = parse(RawArticleV1, message.value)
    if isinstance(article, str):
        return _RawCopy(message.partition, message.offset, timestamp, None, None)
    return _RawCopy(
        message.partition, message.offset, timestamp,
        article_key(article.source, article.id), article.id,
    )
