"""What the clean stage remembers between articles: each source's template, and fingerprints.

Shape of the stores (both `MutableMapping[str, JSON]`; faust Tables in production, dicts in
tests):
- `templates[source]` = `{"articles": int, "lines": {line_key: [articles_seen, last_seen]}}`:
  how many of the source's articles contained each line, and the article count when it was last
  seen (to evict the stalest rare lines first).
- `fingerprints[article_id]` = `{"minhash": [int, ...], "duplicate_of": str | None, "seen":
  float, "partition": int}` (`seen`: the article's ingest time, seconds since the epoch;
  `partition`: the input partition it came from, `SourceMemory.partition` then). Fingerprints
  older than `fingerprint_hours` before the newest article of their partition are deleted, so
  the store stays the size of one window of copy instead of growing with every article ever
  seen. Only the current partition's are deleted: a faust Table sends a deletion to the
  changelog partition of the message being processed, which must be the one that holds the key.
Every change ends with the whole value assigned (`store[key] = value`): a faust Table only sees
(and sends to its changelog) assignments, not in-place changes to a nested value. A value may be
changed in place before it is assigned again.
"""

from collections.abc import Iterable, MutableMapping
from typing import Any

# A line is the source's template once this many distinct articles of the source carried it.
TEMPLATE_MIN_ARTICLES = 3
# Lines tracked per source. Navigation and footers are a few hundred lines; beyond this the
# rarest, stalest lines go (one-off article lines are the bulk of them).
MAX_LINES_PER_SOURCE = 3000
# How long a body's fingerprint is kept (ingest time): republications of a wire story come
# within hours or days; a week covers them.
FINGERPRINT_HOURS = 168.0


class SourceMemory:
    """State for template learning and duplicate detection, over two key-value stores.

    In-memory structures derived from the stores (the duplicate index) are built on first use,
    so a restarted worker given the same stores resumes where it stopped.
    """

    def __init__(
        self,
        templates: MutableMapping[str, Any],
        fingerprints: MutableMapping[str, Any],
        fingerprint_hours: float = FINGERPRINT_HOURS,
    ) -> None:
        self.templates = templates
        self.fingerprints = fingerprints
        self.fingerprint_hours = fingerprint_hours
        # The input partition of the article being cleaned: the agent sets it per message.
        self.partition = 0
        # The LSH index over `fingerprints` and, per partition, a heap of (seen, article_id)
        # saying which to drop first: derived, never stored; built by `dedup` on first use, and
        # again whenever `duplicate_index` is reset to None.
        self.duplicate_index: Any = None
        self.fingerprint_ages: dict[int, list[tuple[float, str]]] = {}

    def template_lines(self, source: str) -> frozenset[str]:
        """Keys of the lines `source` has repeated across enough of its articles."""
        state = self.templates.get(source)
        if not state:
            return frozenset()
        return frozenset(
            key for key, (seen, _last) in state["lines"].items() if seen >= TEMPLATE_MIN_ARTICLES
        )

    def learn_template(self, source: str, line_keys: Iterable[str]) -> None:
        """Count one article's lines toward its source's template (each line once)."""
        state = self.templates.get(source) or {"articles": 0, "lines": {}}
        article_number = state["articles"] + 1
        # Updated in place, not copied: a source's table holds up to MAX_LINES_PER_SOURCE lines
        # and an article touches a few hundred of them. Assigned whole again below.
        lines: dict[str, list[int]] = state["lines"]
        # Each line once, in the order the article has them: set order would follow the hash
        # seed, and so would the lines kept below when new ones tie at the cut.
        for key in dict.fromkeys(line_keys):
            seen, _last = lines.get(key, (0, 0))
            lines[key] = [seen + 1, article_number]
        if len(lines) > MAX_LINES_PER_SOURCE:
            # Keep the lines seen most often, the most recent first among equals: this article's
            # new lines must survive until the next article can confirm them.
            ranked = sorted(lines.items(), key=lambda item: (item[1][0], item[1][1]), reverse=True)
            lines = dict(ranked[:MAX_LINES_PER_SOURCE])
        self.templates[source] = {"articles": article_number, "lines": lines}
