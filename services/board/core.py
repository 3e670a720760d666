"""The story board's state: live stories and their latest articles, rebuilt from two topics.

In: `StoryEventV2` records from the compacted `stories` topic (key = story id) and
`StoryMemberV1` records from the compacted `stories.members` topic (key = article id), in any
interleaving (the two topics are read side by side), each possibly repeated or stale.
Out: story summaries (filtered, ordered most active first, paged) and a story's page (its
latest articles in time order, entities by type, keywords, lifecycle).

What it keeps, and so its memory bound:
- at most `max_stories` stories, each its latest event (the highest `version` wins; an older or
  repeated delivery is dropped) and its last `HISTORY` lifecycle steps. Past the bound the least
  active story goes (closed and merged stories first, then the one whose copy is oldest);
- per story, the latest `members_per_story` articles (by ingest time): the rest of a big
  story are still counted (`article_count`), only not listed;
- members of a story not seen yet (the two topics are not read in step): kept under that
  story id, for at most `max_stories` such story ids, the oldest dropped first.
An article that moves (a merge, a split) leaves the story it was listed in; one whose
`story_id` is None (withdrawn) leaves every story. A tombstone (a null value) removes the story
or the member.

Pure: no Kafka, no web; the clock is passed in.
"""

from collections import OrderedDict, deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import orjson

from schemas.stories import StoryEventV2, StoryMemberV1

HISTORY = 20  # lifecycle steps kept per story
ENDED = frozenset({"closed", "merged"})
# Copy within this long of now makes a story "active": ordered before quieter ones.
ACTIVE_WINDOW = timedelta(hours=24)
MAX_PAGE = 1000


@dataclass(frozen=True)
class StoryFilter:
    """What a reader asked for; every field given must match (case-insensitive)."""

    entity: str | None = None
    keyword: str | None = None
    outlet: str | None = None
    language: str | None = None
    search: str | None = None  # a substring of the title
    story_id: str | None = None  # one story only (its page's live updates)
    include_ended: bool = False  # closed and merged stories too

    @classmethod
    def of(cls, query: dict[str, str]) -> "StoryFilter":
        def text(name: str) -> str | None:
            value = query.get(name, "").strip()
            return value.casefold() if value else None

        return cls(
            entity=text("entity"), keyword=text("keyword"), outlet=text("outlet"),
            language=text("language"), search=text("q"),
            story_id=query.get("story") or None,
            include_ended=query.get("ended", "") in ("1", "true", "yes"),
        )

    def query(self) -> dict[str, str]:
        """The filter as query parameters (for links and the stream's address)."""
        pairs = {
            "entity": self.entity, "keyword": self.keyword, "outlet": self.outlet,
            "language": self.language, "q": self.search, "story": self.story_id,
        }
        found = {name: value for name, value in pairs.items() if value}
        if self.include_ended:
            found["ended"] = "1"
        return found


@dataclass
class LifecycleStep:
    version: int
    event: str
    article_count: int
    last_seen: datetime
    joined_count: int
    left_count: int
    merged_into: str | None
    split_into: str | None
    merged_from: str | None = None  # set on the story another was folded into


@dataclass
class StoryState:
    event: StoryEventV2
    # Latest members by article id, oldest first (ingest time order on arrival).
    members: "OrderedDict[str, StoryMemberV1]" = field(default_factory=OrderedDict)
    history: deque[LifecycleStep] = field(default_factory=lambda: deque(maxlen=HISTORY))
    # What the lists show: made when first read after an event, then kept until the next
    # (a replay from the beginning makes none for the events it reads past).
    _summary: dict[str, Any] | None = None
    _summary_json: bytes | None = None
    # What the filters compare, made with each event.
    entity_names: frozenset[str] = frozenset()
    keyword_names: frozenset[str] = frozenset()
    outlet_names: frozenset[str] = frozenset()
    title_folded: str = ""

    @property
    def live(self) -> bool:
        return self.event.event not in ENDED

    @property
    def summary(self) -> dict[str, Any]:
        if self._summary is None:
            self._summary = summary_of(self.event)
        return self._summary

    @property
    def summary_json(self) -> bytes:
        if self._summary_json is None:
            self._summary_json = orjson.dumps(self.summary)
        return self._summary_json


# What the lists leave out of an event: the ids (a story page lists its members instead).
_NOT_LISTED = {
    "schema_version", "first_article_ids", "latest_article_ids", "joined_ids", "left_ids",
}


def summary_of(story: StoryEventV2) -> dict[str, Any]:
    """A story as the API lists it: the event's fields (as JSON types) but its ids, its id
    as `id`, and `live`."""
    summary = story.model_dump(mode="json", exclude=_NOT_LISTED)
    summary["id"] = summary.pop("story_id")
    summary["live"] = story.event not in ENDED
    return summary


def article_of(member: StoryMemberV1) -> dict[str, Any]:
    """An article as a story page lists it."""
    return member.model_dump(mode="json", exclude={"schema_version", "story_version"})


def article_time(member: StoryMemberV1) -> datetime:
    return member.published_at or member.ingested_at


class Board:
    """Stories by id and their latest members; see the module docstring for the bounds."""

    def __init__(self, max_stories: int = 5000, members_per_story: int = 100) -> None:
        self.max_stories = max_stories
        self.members_per_story = members_per_story
        self.stories: dict[str, StoryState] = {}
        # Members whose story has no event here yet, by story id (oldest story id first).
        self.waiting: OrderedDict[str, OrderedDict[str, StoryMemberV1]] = OrderedDict()
        # Where each article the board holds is held (listed, or waiting): its story id.
        self.placed: dict[str, str] = {}
        self.stale = 0  # deliveries dropped as older than what the board holds

    # -- Writing --------------------------------------------------------------------------

    def apply_story(self, story: StoryEventV2) -> bool:
        """Take one story event; False if it was stale or repeated (nothing changed)."""
        state = self.stories.get(story.story_id)
        if state is not None and story.version <= state.event.version:
            self.stale += 1
            return False
        if state is None:
            state = StoryState(event=story)
            self.stories[story.story_id] = state
            for member in (self.waiting.pop(story.story_id, None) or {}).values():
                self._list(state, member)
        state.event = story
        state.history.append(LifecycleStep(
            story.version, story.event, story.article_count, story.last_seen,
            story.joined_count, story.left_count, story.merged_into, story.split_into,
        ))
        if story.event == "merged" and story.merged_into in self.stories:
            target = self.stories[story.merged_into]
            target.history.append(LifecycleStep(
                target.event.version, "absorbed", target.event.article_count, story.last_seen,
                0, 0, None, None, merged_from=story.story_id,
            ))
        self._summarise(state)
        self._bound()
        return True

    def remove_story(self, story_id: str) -> None:
        """A tombstone on `stories`: the story is gone."""
        state = self.stories.pop(story_id, None)
        if state is not None:
            for article_id in state.members:
                self.placed.pop(article_id, None)

    def apply_member(self, member: StoryMemberV1) -> str | None:
        """Take one membership record; return the story id whose list changed (None if none)."""
        # One article's records share a key, so a partition, and arrive in the order written:
        # the latest is where the article is now.
        old_story = self._unplace(member.article_id)
        if member.story_id is None:
            return old_story if old_story in self.stories else None
        state = self.stories.get(member.story_id)
        if state is None:
            pending = self.waiting.setdefault(member.story_id, OrderedDict())
            pending[member.article_id] = member
            self.placed[member.article_id] = member.story_id
            self.waiting.move_to_end(member.story_id)
            while len(pending) > self.members_per_story:
                self.placed.pop(pending.popitem(last=False)[0], None)
            while len(self.waiting) > self.max_stories:
                for article_id in self.waiting.popitem(last=False)[1]:
                    self.placed.pop(article_id, None)
            return None
        self._list(state, member)
        return member.story_id

    def remove_member(self, article_id: str) -> str | None:
        """A tombstone on `stories.members`: the article is in no story."""
        story_id = self._unplace(article_id)
        return story_id if story_id in self.stories else None

    def _unplace(self, article_id: str) -> str | None:
        """Take the article out of wherever the board holds it; the story id it was under."""
        story_id = self.placed.pop(article_id, None)
        if story_id is None:
            return None
        if story_id in self.stories:
            self.stories[story_id].members.pop(article_id, None)
        elif story_id in self.waiting:
            self.waiting[story_id].pop(article_id, None)
        return story_id

    def _list(self, state: StoryState, member: StoryMemberV1) -> None:
        members = state.members
        members[member.article_id] = member
        self.placed[member.article_id] = state.event.story_id
        if len(members) > self.members_per_story:
            # Drop the one ingested earliest: the page lists the latest copy.
            oldest = min(members.values(), key=lambda m: m.ingested_at)
            del members[oldest.article_id]
            self.placed.pop(oldest.article_id, None)

    def _summarise(self, state: StoryState) -> None:
        story = state.event
        state._summary = state._summary_json = None
        state.entity_names = frozenset(e.text.casefold() for e in story.top_entities)
        state.keyword_names = frozenset(k.casefold() for k in story.keywords)
        state.outlet_names = frozenset(s.source.casefold() for s in story.sources)
        state.title_folded = story.title.casefold()

    def _bound(self) -> None:
        if len(self.stories) <= self.max_stories:
            return
        # Down to nine tenths of the bound at once, so a replay past the bound sorts the
        # stories once per tenth of it, not once per new story. Least active first: ended
        # stories, then the oldest copy.
        excess = len(self.stories) - self.max_stories * 9 // 10
        doomed = sorted(
            self.stories.values(), key=lambda s: (s.live, s.event.last_seen)
        )[:excess]
        for state in doomed:
            self.remove_story(state.event.story_id)

    # -- Reading --------------------------------------------------------------------------

    def matches(self, state: StoryState, wanted: StoryFilter) -> bool:
        if wanted.story_id is not None:
            return state.event.story_id == wanted.story_id
        if not wanted.include_ended and not state.live:
            return False
        if wanted.language and state.event.language.casefold() != wanted.language:
            return False
        if wanted.entity and wanted.entity not in state.entity_names:
            return False
        if wanted.keyword and wanted.keyword not in state.keyword_names:
            return False
        if wanted.outlet and wanted.outlet not in state.outlet_names and not any(
            m.source.casefold() == wanted.outlet for m in state.members.values()
        ):
            return False
        return not (wanted.search and wanted.search not in state.title_folded)

    def select(
        self, wanted: StoryFilter, now: datetime, offset: int = 0, limit: int = 50
    ) -> tuple[int, list[StoryState]]:
        """The stories `wanted` matches, most active first: live before ended, copy within
        ACTIVE_WINDOW of `now` before older, then most articles, then the latest copy (then
        the story id, so equal stories keep one order).
        Returns how many matched and the page from `offset`."""
        recent = now - ACTIVE_WINDOW
        found = [s for s in self.stories.values() if self.matches(s, wanted)]
        found.sort(
            key=lambda s: (
                s.live, s.event.last_seen >= recent, s.event.article_count, s.event.last_seen,
                s.event.story_id,  # a total order: the same page whatever the reading order
            ),
            reverse=True,
        )
        limit = max(0, min(limit, MAX_PAGE))
        return len(found), found[offset: offset + limit]

    def page_json(
        self, wanted: StoryFilter, now: datetime, offset: int = 0, limit: int = 50
    ) -> bytes:
        """GET /api/stories' body, assembled from each story's JSON made when it changed."""
        total, page = self.select(wanted, now, offset, limit)
        head = orjson.dumps({"total": total, "offset": offset, "limit": limit})[:-1]
        return head + b',"stories":[' + b",".join(s.summary_json for s in page) + b"]}"

    def articles(self, story_id: str) -> list[StoryMemberV1]:
        """The story's listed articles, earliest first (publication time, else ingest time)."""
        state = self.stories.get(story_id)
        if state is None:
            return []
        return sorted(state.members.values(), key=lambda m: (article_time(m), m.article_id))

    def detail(self, story_id: str) -> dict[str, Any] | None:
        """GET /api/stories/{id}: the summary plus its articles, entities by type, lifecycle."""
        state = self.stories.get(story_id)
        if state is None:
            return None
        by_type: dict[str, list[dict[str, Any]]] = {}
        for entity in state.event.top_entities:
            by_type.setdefault(entity.label, []).append(
                {"text": entity.text, "articles": entity.articles}
            )
        return {
            **state.summary,
            "articles": [article_of(m) for m in self.articles(story_id)],
            "articles_listed_max": self.members_per_story,
            "entities_by_type": by_type,
            "lifecycle": [
                {
                    "version": step.version, "event": step.event,
                    "article_count": step.article_count, "at": step.last_seen.isoformat(),
                    "joined_count": step.joined_count, "left_count": step.left_count,
                    "merged_into": step.merged_into, "split_into": step.split_into,
                    "merged_from": step.merged_from,
                }
                for step in state.history
            ],
        }

    def outlets(self) -> list[str]:
        """Every outlet named by a listed story, for the filter's choices."""
        return sorted({s.source for state in self.stories.values() for s in state.event.sources})

    def languages(self) -> list[str]:
        return sorted({state.event.language for state in self.stories.values()})


def stories_touched(board: Board, members: Iterable[StoryMemberV1]) -> set[str]:
    """Apply members; return the ids of the known stories whose article list changed."""
    touched = set()
    for member in members:
        story_id = board.apply_member(member)
        if story_id is not None and story_id in board.stories:
            touched.add(story_id)
    return touched
