"""Near-duplicate detection: the same wire story republished, recognised by MinHash LSH.

Each clean article leaves a MinHash signature of its body's word shingles in
`SourceMemory.fingerprints`; the LSH index over them lives in memory and is rebuilt from the
store on first use after a restart.
"""

import re
import zlib
from dataclasses import dataclass

import numpy as np
from datasketch import MinHash, MinHashLSH

from services.clean.memory import SourceMemory

NUM_PERM = 128
# Estimated Jaccard similarity of body shingles above which two articles are one copy. Wire
# republications differ by a dateline, a byline or a trimmed last paragraph; different outlets'
# own reports of one event share far less than this.
THRESHOLD = 0.7
SHINGLE_WORDS = 5
_WORD = re.compile(r"\w+", re.UNICODE)


def _shingle_hashes(body: str) -> list[int]:
    words = _WORD.findall(body.lower())
    if len(words) < SHINGLE_WORDS:
        grams = [" ".join(words)] if words else []
    else:
        grams = [" ".join(words[i : i + SHINGLE_WORDS]) for i in range(len(words) - 4)]
    # 32-bit hashes like datasketch's default, but CRC32: stable across processes (signatures
    # are stored) and several times faster than a cryptographic hash per shingle.
    return [zlib.crc32(gram.encode()) for gram in grams]


def signature(body: str) -> MinHash:
    """MinHash of the body's 5-word shingles."""
    minhash = MinHash(num_perm=NUM_PERM, hashfunc=lambda value: value)
    hashes = _shingle_hashes(body)
    if hashes:
        minhash.update_batch(hashes)
    return minhash


def _index(memory: SourceMemory) -> MinHashLSH:
    if memory.duplicate_index is None:
        index = MinHashLSH(threshold=THRESHOLD, num_perm=NUM_PERM)
        for article_id, fingerprint in memory.fingerprints.items():
            index.insert(article_id, _from_store(fingerprint["minhash"]))
        memory.duplicate_index = index
    return memory.duplicate_index


def _from_store(values: list[int]) -> MinHash:
    return MinHash(num_perm=NUM_PERM, hashvalues=np.array(values, dtype=np.uint64))


@dataclass(frozen=True)
class DuplicateCheck:
    """`original`: id of the first copy of this body, None if this is the first. `redelivered`:
    this very article id was checked before (a replay after a crash), so nothing was recorded."""

    original: str | None
    redelivered: bool


def check_duplicate(memory: SourceMemory, article_id: str, body: str) -> DuplicateCheck:
    """Look this body up among the bodies seen before, then remember it (one store write).

    A redelivered article keeps its first answer, so replays are idempotent.
    """
    known = memory.fingerprints.get(article_id)
    if known is not None:
        return DuplicateCheck(known["duplicate_of"], redelivered=True)
    minhash = signature(body)
    index = _index(memory)
    best: tuple[float, str] | None = None
    for candidate in index.query(minhash):
        fingerprint = memory.fingerprints.get(candidate)
        if fingerprint is None:
            continue
        similarity = minhash.jaccard(_from_store(fingerprint["minhash"]))
        if similarity >= THRESHOLD and (best is None or similarity > best[0]):
            # Point at the first copy, not at a copy of it.
            best = (similarity, fingerprint["duplicate_of"] or candidate)
    original = best[1] if best else None
    memory.fingerprints[article_id] = {
        "minhash": [int(value) for value in minhash.hashvalues],
        "duplicate_of": original,
    }
    index.insert(article_id, minhash)
    return DuplicateCheck(original, redelivered=False)
