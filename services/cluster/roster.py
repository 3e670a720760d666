"""A live story's full member list, kept outside the story in chunks of `CHUNK` article ids.

The stored story holds counts and a few ids only (`services.cluster.story`), so that a join
writes the same bytes whatever the story's size. What needs every member (moving an absorbed
story's articles on a merge, the sides of a split, dropping a closed story's articles from the
window's membership) reads them from the roster: `rosters["<story_id>#<k>"]` is the story's
k-th chunk of ids in arrival order, every chunk but the last full. A join rewrites only the last
chunk (a faust Table writes a whole value per change, so the chunk bounds what a join writes);
a story of `count` articles has chunks 0 to (count - 1) // CHUNK.
"""

from collections.abc import MutableMapping
from typing import Any

# Ids per chunk: a join rewrites the last chunk, on average half of it (about 1 KiB of
# 40-character ids); a merge or a close reads count / CHUNK chunks.
CHUNK = 64


def chunk_key(story_id: str, k: int) -> str:
    return f"{story_id}#{k}"


def append(
    rosters: MutableMapping[str, Any], story_id: str, count: int, article_ids: list[str]
) -> None:
    """Add `article_ids` after the `count` ids the story's roster holds now."""
    k = count // CHUNK
    chunk: list[str] = list(rosters[chunk_key(story_id, k)]) if count % CHUNK else []
    for article_id in article_ids:
        chunk.append(article_id)
        if len(chunk) == CHUNK:
            rosters[chunk_key(story_id, k)] = chunk
            k += 1
            chunk = []
    if chunk:
        rosters[chunk_key(story_id, k)] = chunk


def members(rosters: MutableMapping[str, Any], story_id: str, count: int) -> list[str]:
    """Every article id of a story of `count` articles, in arrival order."""
    return between(rosters, story_id, 0, count)


def between(rosters: MutableMapping[str, Any], story_id: str, start: int, stop: int) -> list[str]:
    """The story's article ids from position `start` up to `stop` (the chunks that hold them
    read, no other)."""
    if stop <= start:
        return []
    ids: list[str] = []
    first = start // CHUNK
    for k in range(first, (stop - 1) // CHUNK + 1):
        ids += rosters.get(chunk_key(story_id, k)) or []
    return ids[start - first * CHUNK : stop - first * CHUNK]


def drop(rosters: MutableMapping[str, Any], story_id: str, count: int) -> None:
    """Delete the roster of a story of `count` articles (a faust Table sees each `del`)."""
    for k in range((count + CHUNK - 1) // CHUNK):
        key = chunk_key(story_id, k)
        if key in rosters:
            del rosters[key]
