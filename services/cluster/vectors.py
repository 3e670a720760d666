"""Term vectors ({term: weight} dicts) and the arithmetic the cluster core does on them:
lengths, cosines, sums, the heaviest terms kept rounded, and the stored times' forms."""

import math
from collections.abc import Collection, Iterable
from datetime import UTC, datetime


def vector_length(vector: dict[str, float]) -> float:
    return math.hypot(*vector.values())


def unit(vector: dict[str, float], length: float | None = None) -> dict[str, float]:
    """The vector scaled to unit length; `length` is its `vector_length`, when already known."""
    norm = (vector_length(vector) if length is None else length) or 1.0
    return {k: w / norm for k, w in vector.items()}


def summed(story: dict[str, float], article: dict[str, float]) -> dict[str, float]:
    """A story's vector plus an article's: the story's keys in their order, then the
    article's new ones in theirs (the order `heaviest` breaks ties by). The copy and the new
    keys are one C-level merge; only the shared keys are added up here."""
    total = {**story, **article}
    for k in story.keys() & article.keys():
        total[k] = story[k] + article[k]
    return total


def cosine(a: dict[str, float], a_norm: float, b: dict[str, float], b_norm: float) -> float:
    """Cosine of two vectors of known lengths, walking the shorter one."""
    if not a_norm or not b_norm:
        return 0.0
    if len(a) > len(b):
        a, b = b, a
    return dot(a, b) / (a_norm * b_norm)


def dot(a: dict[str, float], b: dict[str, float]) -> float:
    """The dot product, walking `a`: `in` then an index for the few shared keys costs less
    than a `get` call per key."""
    total = 0.0
    for t in a:
        if t in b:
            total += a[t] * b[t]
    return total


def by_group(keys: Iterable[str]) -> dict[str, list[str]]:
    """Entity keys by their group ("who:moscow" under "who:")."""
    groups: dict[str, list[str]] = {}
    for key in keys:
        groups.setdefault(key[: key.index(":") + 1], []).append(key)
    return groups


def iso(ts: datetime) -> str:
    return ts.astimezone(UTC).isoformat()


def timestamp_of(iso: str | None) -> float | None:
    return None if iso is None else datetime.fromisoformat(iso).timestamp()


def round5(weight: float) -> float:
    """`round(weight, 5)`, bit for bit, at about half the cost: `round` with digits goes
    through a decimal string (dtoa, then strtod). Scaled by 1e5, a weight's rounding is
    decided by its fraction, and the scaling's error (under 1e-7 for weights below 1e4) can
    flip it only within a hair of .5: those, and larger weights, take `round` itself. An
    integral value (< 2**53) divided by 1e5 is the double nearest to it times 1e-5, which
    is what `round` returns."""
    scaled = weight * 1e5
    fraction = scaled % 1.0
    if weight < 1e4:
        if fraction < 0.499999:
            return (scaled - fraction) / 1e5
        if fraction > 0.500001:
            return (scaled - fraction + 1.0) / 1e5
    return round(weight, 5)


def heaviest(
    weights: dict[str, float], n: int, changed: Collection[str] | None = None
) -> dict[str, float]:
    """The `n` heaviest entries, heaviest first, rounded so the stored JSON stays small and
    exact on replay (rounding keeps the order: sorted again by the rounded weights, the
    entries stay where they are). With `changed`, only those keys' weights are new: the
    rest were rounded already, and rounding a rounded weight again returns it unchanged, so
    they are kept as they are (rounding is the costliest step here, and most of a story's
    terms carry over)."""
    # Stable: equal weights keep their insertion order, which a replay reproduces.
    ranked = sorted(weights, key=weights.__getitem__, reverse=True)[:n]
    if changed is None:
        return {k: round5(weights[k]) for k in ranked}
    return {k: round5(weights[k]) if k in changed else weights[k] for k in ranked}
