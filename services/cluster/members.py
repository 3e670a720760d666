"""Which story each article is in: the `cluster-members` table and the `stories.members` topic.

The cluster core keeps, per article of a live story, its member entry in the agent's
`cluster-members` table (changelog-backed, keyed by article id, on the partition of the
article's shard): `[story_id, fingerprint, listing]` (`payload` makes the last two). The core
writes the story id when the article joins and whenever a merge or a split moves it, and drops
the entry when its story closes, so the table holds the articles of one story window, like the
stories table. Each placement or move is published as a `StoryMemberV1` (`member_record`),
built from the entry alone: the listing is what a reader lists the article by.

The fingerprint is a hash of the article's source, headline and body:

- the same article delivered again (same fingerprint) is not placed again: its story's current
  event is published again instead (same version, so a subscriber that keeps the highest
  version sees nothing new), which also brings out an event that a crash kept from the broker
  after the story was stored;
- another article under an id already taken (another fingerprint) is refused with reason
  `reused_id`: ids are the article's identity, and a second article under one would take the
  first one's place in its story.

Entries of releases before `stories.members` are `[story_id, fingerprint]`: they still say
the article's story, but have no listing to publish (`member_record` gives None).
"""

import hashlib
from collections.abc import MutableMapping
from typing import Any

from schemas.articles import CleanArticleV1
from schemas.stories import StoryMemberV1


def fingerprint(article: CleanArticleV1) -> str:
    """What tells one article's copy from another's under the same id."""
    digest = hashlib.sha256()
    for part in (article.source, article.headline, article.body):
        digest.update(part.encode("utf-8", errors="surrogatepass"))
        digest.update(b"\x1f")
    return digest.hexdigest()[:32]


def payload(article: CleanArticleV1, copy_print: str) -> list[Any]:
    """What the member entry keeps beside the story id: the article's fingerprint
    (`copy_print`), and the listing `StoryMemberV1` carries (JSON-ready)."""
    listing = {
        "source": article.source,
        "headline": article.headline,
        "url": article.url,
        "language": article.language,
        "published_at": article.published_at.isoformat() if article.published_at else None,
        "ingested_at": article.ingested_at.isoformat(),
        "duplicate_of": article.duplicate_of,
    }
    return [copy_print, listing]


def story_of(members: MutableMapping[str, Any], article_id: str) -> tuple[str, str] | None:
    """(story id, fingerprint) of a placed article, or None."""
    entry = members.get(article_id)
    return (entry[0], entry[1]) if entry else None


def member_record(
    members: MutableMapping[str, Any], article_id: str, story_id: str | None, version: int
) -> StoryMemberV1 | None:
    """The `StoryMemberV1` that says `article_id` is in `story_id` (placed by that story's
    event `version`), listed from its entry; None for an entry without a listing."""
    entry = members.get(article_id)
    if entry is None or len(entry) < 3:
        return None
    return StoryMemberV1.model_validate(
        {"article_id": article_id, "story_id": story_id, "story_version": version, **entry[2]}
    )
