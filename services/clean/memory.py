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

A source's template is written back only when it changes what is cut (a line reaches
`TEMPLATE_MIN_ARTICLES`), for the source's first article, and every `TEMPLATE_SAVE_EVERY`-th
article: the value holds up to `MAX_LINES_PER_SOURCE` lines (about 90 KB of JSON for a busy
outlet), and writing it per article sent that much to the changelog for every article. Between
writes the current state lives in `SourceMemory.template_cache`; a worker restarted from the
changelog so counts a source's lines from at most `TEMPLATE_SAVE_EVERY - 1` articles back, which
only delays learning a line that is not yet cut.
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
# A source's template state is written back to its store at least every this many articles.
TEMPLATE_SAVE_EVERY = 16


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
        # Each source's current template state, ahead of `templates` by the articles since its
        # last write-back (see the module's docstring). Cleared with `forget_derived`.
        self.template_cache: dict[str, Any] = {}

    def forget_derived(self) -> None:
        """Drop what was derived from or kept ahead of the stores, to be read from them again:
        after a rebalance the stores of this worker's partitions may hold other state."""
        self.duplicate_index = None
        self.template_cache = {}

    def _template_state(self, source: str) -> Any:
        state = self.template_cache.get(source)
        if state is None:
            state = self.templates.get(source)
            if state:
                self.template_cache[source] = state
        return state

    def template_lines(self, source: str) -> frozenset[str]:
        """Keys of the lines `source` has repeated across enough of its articles."""
        state = self._template_state(source)
        if not state:
            return frozenset()
        return frozenset(
            key for key, (seen, _last) in state["lines"].items() if seen >= TEMPLATE_MIN_ARTICLES
        )

    def learn_template(self, source: str, line_keys: Iterable[str]) -> None:
        """Count one article's lines toward its source's template (each line once)."""
        known = self._template_state(source)
        state = known or {"articles": 0, "lines": {}}
        article_number = state["articles"] + 1
        cut_changed = False
        # Updated in place, not copied: a source's table holds up to MAX_LINES_PER_SOURCE lines
        # and an article touches a few hundred of them. Cached and, when due, assigned whole
        # again below.
        lines: dict[str, list[int]] = state["lines"]
        # Each line once, in the order the article has them: set order would follow the hash
        # seed, and so would the lines kept below when new ones tie at the cut.
        for key in dict.fromkeys(line_keys):
            seen, _last = lines.get(key, (0, 0))
            lines[key] = [seen + 1, article_number]
            cut_changed = cut_changed or seen + 1 == TEMPLATE_MIN_ARTICLES
        if len(lines) > MAX_LINES_PER_SOURCE:
            # Keep the lines seen most often, the most recent first among equals: this article's
            # new lines must survive until the next article can confirm them.
            ranked = sorted(lines.items(), key=lambda item: (item[1][0], item[1][1]), reverse=True)
            lines = dict(ranked[:MAX_LINES_PER_SOURCE])
        # The lines that drop here were rare (seen in fewer articles than any line kept), so
        # the cut changes only when a line reaches the threshold.
        state = {"articles": article_number, "lines": lines}
        self.template_cache[source] = state
        if not known or cut_changed or article_number % TEMPLATE_SAVE_EVERY == 0:
            self.templates[source] = state
