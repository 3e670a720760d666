"""Which story each article is in, so that a redelivered article changes nothing.

Kept by the cluster agent in its `cluster-members` table (changelog-backed, keyed by article
id, on the partition of the article's shard): `members[article_id] = [story_id, fingerprint]`.
The fingerprint is a hash of the article's source, headline and body:

- the same article delivered again (same fingerprint) is not placed again: its story's current
  event is published again instead (same version, so a subscriber that keeps the highest
  version sees nothing new), which also brings out an event that a crash kept from the broker
  after the story was stored;
- another article under an id already taken (another fingerprint) is refused with reason
  `reused_id`: ids are the article's identity, and a second article under one would take the
  first one's place in its story.

Entries follow the story events: a `created`, `updated` or `split` event points its articles at
its story (a merge's `updated` event lists the absorbed articles); a `closed` event removes
its articles, so the table holds the articles of one story window, like the stories table.
"""

import hashlib
from collections.abc import Iterable, MutableMapping
from typing import Any

from schemas.articles import CleanArticleV1
from schemas.stories import StoryEventV1


def fingerprint(article: CleanArticleV1) -> str:
    """What tells one article's copy from another's under the same id."""
    digest = hashlib.sha256()
    for part in (article.source, article.headline, article.body):
        digest.update(part.encode("utf-8", errors="surrogatepass"))
        digest.update(b"\x1f")
    return digest.hexdigest()[:32]


def story_of(members: MutableMapping[str, Any], article_id: str) -> tuple[str, str] | None:
    """(story id, fingerprint) of a placed article, or None."""
    entry = members.get(article_id)
    return (entry[0], entry[1]) if entry else None


def follow(
    members: MutableMapping[str, Any],
    events: Iterable[StoryEventV1],
    fingerprints: MutableMapping[str, str],
) -> None:
    """Update `members` from the story events one article made. `fingerprints` holds the
    known fingerprint of each article id (the new article's, and those read from `members`)."""
    for event in events:
        if event.event == "closed":
            for article_id in event.article_ids:
                members.pop(article_id, None)
            continue
        if event.event == "merged":
            continue  # its articles are listed by the `updated` event of the story it joined
        for article_id in event.article_ids:
            entry = members.get(article_id)
            if entry is not None and entry[0] == event.story_id:
                continue  # unchanged: no write (a table write goes to the changelog)
            known = fingerprints.get(article_id) or (entry[1] if entry else "")
            members[article_id] = [event.story_id, known]
