"""Near-duplicate detection: the same wire story republished, recognised by MinHash LSH.

Each clean article leaves a MinHash signature of its body's word shingles in
`SourceMemory.fingerprints`; the LSH index over them lives in memory and is rebuilt from the
store on first use after a restart.
"""

import heapq
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
from datasketch import MinHash, MinHashLSH

from services.clean.memory import SourceMemory
from services.memo import Memo

# 64 permutations estimate a Jaccard of 0.7 within about +-0.06, plenty to tell a republished
# copy (>0.8) from another outlet's report (<0.3), at half the cost of 128.
NUM_PERM = 64
# Estimated Jaccard similarity of body shingles above which two articles are one copy. Wire
# republications differ by a dateline, a byline or a trimmed last paragraph; different outlets'
# own reports of one event share far less than this.
THRESHOLD = 0.7
SHINGLE_WORDS = 5
# Named explicitly: stored signatures must be read back with the scheme that made them.
_SCHEME = "affine32"
_MULTIPLIER = np.uint64(1_000_003)
_MASK = np.uint64(0xFFFFFFFF)


# word -> CRC32 of its UTF-8, each word hashed once per process: copy repeats its words (the,
# of, names) within an article and across articles. Bounded: a long-running worker meets ever
# new names and typos; 200,000 words are about 20 MB.
_WORD_HASHES = Memo(lambda word: zlib.crc32(word.encode()), 200_000)


def _shingle_hashes(words: Sequence[str]) -> np.ndarray:
    """32-bit hashes of the body's 5-word shingles.

    Words are hashed once (CRC32: stable across processes, since signatures are stored) and
    shingles combined as a polynomial over them in numpy, which is several times faster than
    hashing each joined shingle string.
    """
    if not words:
        return np.zeros(0, dtype=np.uint64)
    # A word seen before costs one dict lookup in C (`Memo`).
    word_hashes = np.fromiter(
        map(_WORD_HASHES.__getitem__, words), dtype=np.uint64, count=len(words)
    )
    width = min(SHINGLE_WORDS, len(word_hashes))
    count = len(word_hashes) - width + 1
    shingles = np.zeros(count, dtype=np.uint64)
    for offset in range(width):
        shingles = (shingles * _MULTIPLIER + word_hashes[offset : offset + count]) & _MASK
    return shingles


# Shingles arrive already hashed, as Python ints, so the hash function is the identity: `int`
# is one, and as a builtin costs far less than a Python function on each of a body's shingles.
_ALREADY_HASHED = int

# The permutations depend only on (NUM_PERM, seed, scheme): drawn once, not per article.
_PERMUTATIONS = MinHash(num_perm=NUM_PERM, hashfunc=_ALREADY_HASHED, scheme=_SCHEME).permutations


def signature(words: Sequence[str]) -> MinHash:
    """MinHash of the 5-word shingles of a body's `words` (`text.words` of its lower case)."""
    minhash = MinHash(
        num_perm=NUM_PERM, hashfunc=_ALREADY_HASHED, permutations=_PERMUTATIONS, scheme=_SCHEME
    )
    hashes = _shingle_hashes(words)
    if len(hashes):
        # A list, not the array: update_batch walks its argument in Python, and a list yields
        # plain ints where an array yields numpy scalars (several times slower to collect).
        minhash.update_batch(hashes.tolist())
    return minhash


@lru_cache(maxsize=1)
def _lsh_params() -> tuple[int, int]:
    """(bands, rows) of the LSH index for THRESHOLD and NUM_PERM. datasketch finds them by
    numerical integration (~15 ms), which would otherwise be redone at every index rebuild
    (each restart and rebalance)."""
    index = MinHashLSH(threshold=THRESHOLD, num_perm=NUM_PERM)
    return index.b, index.r


def warm_up() -> None:
    """Do at start-up what the first duplicate check would otherwise pay for."""
    _lsh_params()


def _index(memory: SourceMemory, now: float) -> MinHashLSH:
    """The LSH index over the stored fingerprints (built on first use). A fingerprint stored
    by a release that did not keep ingest times and partitions is aged from `now`, the first
    article's ingest time after the (re)start, in that article's partition: it is kept for
    one more window."""
    if memory.duplicate_index is None:
        index = MinHashLSH(threshold=THRESHOLD, num_perm=NUM_PERM, params=_lsh_params())
        ages: dict[int, list[tuple[float, str]]] = {}
        for article_id, fingerprint in memory.fingerprints.items():
            index.insert(article_id, _from_store(fingerprint["minhash"]))
            partition = fingerprint.get("partition", memory.partition)
            ages.setdefault(partition, []).append((fingerprint.get("seen", now), article_id))
        for heap in ages.values():
            heapq.heapify(heap)
        memory.duplicate_index = index
        memory.fingerprint_ages = ages
    return memory.duplicate_index


def _forget_older_than(memory: SourceMemory, index: MinHashLSH, cutoff: float) -> None:
    """Delete the current partition's fingerprints of articles ingested before `cutoff` (one
    store delete each)."""
    ages = memory.fingerprint_ages.get(memory.partition, [])
    while ages and ages[0][0] < cutoff:
        aged, article_id = heapq.heappop(ages)
        fingerprint = memory.fingerprints.get(article_id)
        # A correction stored the id again, later: its own entry in the heap ages it.
        if fingerprint is not None and fingerprint.get("seen", aged) < cutoff:
            del memory.fingerprints[article_id]
            index.remove(article_id)


def _from_store(values: list[int]) -> MinHash:
    return MinHash(hashvalues=np.array(values, dtype=np.uint64), scheme=_SCHEME)


@dataclass(frozen=True)
class DuplicateCheck:
    """`original`: id of the first copy of this body, None if this is the first. `redelivered`:
    this very article id was checked before (a replay after a crash), so nothing was recorded.
    `corrected`: a new revision of an article seen before (its fingerprint was replaced)."""

    original: str | None
    redelivered: bool
    corrected: bool = False


def is_correction(known: Mapping[str, Any], revision: int | None) -> bool:
    """Copy under a known id is a correction when it carries a higher revision than the copy
    remembered (or the first revision at all); anything else is the same copy again."""
    if revision is None:
        return False
    earlier = known.get("revision")
    return earlier is None or revision > earlier


def check_duplicate(
    memory: SourceMemory,
    article_id: str,
    body_words: Sequence[str],
    seen: float,
    *,
    revision: int | None = None,
    facts: Mapping[str, Any] | None = None,
) -> DuplicateCheck:
    """Look this body up among the bodies seen in the `memory.fingerprint_hours` before
    `seen` (the article's ingest time, seconds since the epoch), by its words (`text.words` of
    the body's lower case, in order), then remember it (one store write; older fingerprints
    are deleted).

    A redelivered article keeps its first answer while its fingerprint is kept, so replays
    are idempotent. A correction (the same id with a higher `revision`) is not a redelivery:
    its earlier fingerprint is replaced and its body looked up afresh, never against its own
    earlier version. `facts` (e.g. the headline and language a later kill needs) are stored
    with the fingerprint.
    """
    known = memory.fingerprints.get(article_id)
    if known is not None and not is_correction(known, revision):
        return DuplicateCheck(known["duplicate_of"], redelivered=True)
    minhash = signature(body_words)
    index = _index(memory, seen)
    if known is not None:  # a correction: the earlier version is no candidate
        if article_id in index:
            index.remove(article_id)
        del memory.fingerprints[article_id]
    _forget_older_than(memory, index, seen - memory.fingerprint_hours * 3600.0)
    best: tuple[float, str] | None = None
    for candidate in index.query(minhash):
        fingerprint = memory.fingerprints.get(candidate)
        if fingerprint is None:
            continue
        # Point at the first copy, not at a copy of it; a copy of this article's earlier
        # version does not make its correction a duplicate of itself.
        first_copy = fingerprint["duplicate_of"] or candidate
        if first_copy == article_id:
            continue
        similarity = minhash.jaccard(_from_store(fingerprint["minhash"]))
        if similarity >= THRESHOLD and (best is None or similarity > best[0]):
            best = (similarity, first_copy)
    original = best[1] if best else None
    memory.fingerprints[article_id] = {
        "minhash": minhash.hashvalues.tolist(),
        "duplicate_of": original,
        "seen": seen,
        "partition": memory.partition,
        "revision": revision,
        **(facts or {}),
    }
    index.insert(article_id, minhash)
    heapq.heappush(memory.fingerprint_ages.setdefault(memory.partition, []), (seen, article_id))
    return DuplicateCheck(original, redelivered=False, corrected=known is not None)
