"""What the feed poller remembers across restarts: the entries it settled, each feed's validators.

One SQLite file (`<STORYWIRE_FEED_STATE_DIR>/feeds.sqlite3`). Why SQLite: it is in Python's
standard library, a commit is atomic and durable (`synchronous=FULL`) so an entry is either
remembered or not after a crash, never half-written, and the poller asks it one question per
entry ("settled?") by primary key. A file of ids would need its own atomic rewrite; reading
`articles.raw` back at start would grow with the topic and needs the broker to answer first.

Tables:
- `settled(feed, entry_id, outcome, detail, at)`: an entry sent (`outcome = 'sent'`, written
  only after the broker acknowledged it) or refused for good (`'refused'`, e.g. a page over the
  size limit): neither is fetched again. An entry that failed for a while (a timeout, a 5xx,
  the broker away) is not written, so the next poll tries it again.
- `validators(feed, etag, last_modified)`: the feed's last ETag / Last-Modified, sent back as
  If-None-Match / If-Modified-Since. Written only once every entry of that response is settled:
  otherwise a 304 would hide an entry that still has to be sent.

Forgetting: an entry is forgotten once its feed no longer lists it and it was settled longer
ago than `STORYWIRE_FEED_FORGET_AFTER_DAYS` (30): feeds list their latest entries, so one gone
from the listing for a month does not come back, and the file stays the size of a month of
copy instead of growing for ever (about 150 bytes an entry).

A crash between the broker's ack and the commit here sends that one entry again on restart:
at least once, like every stage; downstream the same source and id are one article.
"""

import sqlite3
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path

STATE_FILE = "feeds.sqlite3"


class FeedState:
    def __init__(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.path = directory / STATE_FILE
        # Autocommit: each statement is its own transaction, committed before it returns.
        self._db = sqlite3.connect(self.path, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS settled (feed TEXT NOT NULL, entry_id TEXT NOT NULL, "
            "outcome TEXT NOT NULL, detail TEXT, at TEXT NOT NULL, PRIMARY KEY (feed, entry_id))"
        )
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS validators (feed TEXT PRIMARY KEY, etag TEXT, "
            "last_modified TEXT)"
        )

    def settled(self, feed: str, entry_ids: Iterable[str]) -> set[str]:
        """Which of `entry_ids` (a feed's current entries) are settled: a question about the
        entries a feed lists now, so its cost does not grow with everything ever sent."""
        wanted = list(entry_ids)
        found: set[str] = set()
        for start in range(0, len(wanted), 500):  # SQLite's bound on parameters per query
            chunk = wanted[start:start + 500]
            marks = ",".join("?" * len(chunk))  # placeholders only: the ids are parameters
            rows = self._db.execute(
                f"SELECT entry_id FROM settled WHERE feed = ? AND entry_id IN ({marks})",
                (feed, *chunk),
            )
            found.update(entry_id for (entry_id,) in rows)
        return found

    def settle(self, feed: str, entry_id: str, outcome: str, detail: str | None = None) -> None:
        self._db.execute(
            "INSERT OR REPLACE INTO settled VALUES (?, ?, ?, ?, ?)",
            (feed, entry_id, outcome, detail,
             datetime.now(UTC).isoformat(timespec="microseconds")),  # sorts as text
        )

    def forget(self, feed: str, listed: Iterable[str], settled_before: datetime) -> int:
        """Drop `feed`'s settled entries that it no longer lists (`listed` is its current
        listing) and that were settled before `settled_before`; how many were dropped."""
        still_listed = set(listed)
        rows = self._db.execute(
            "SELECT entry_id FROM settled WHERE feed = ? AND at < ?",
            (feed, settled_before.astimezone(UTC).isoformat(timespec="microseconds")),
        )
        gone = [entry_id for (entry_id,) in rows if entry_id not in still_listed]
        for start in range(0, len(gone), 500):  # SQLite's bound on parameters per query
            chunk = gone[start:start + 500]
            marks = ",".join("?" * len(chunk))  # placeholders only: the ids are parameters
            self._db.execute(
                f"DELETE FROM settled WHERE feed = ? AND entry_id IN ({marks})", (feed, *chunk)
            )
        return len(gone)

    def outcomes(self, feed: str) -> dict[str, str]:
        rows = self._db.execute("SELECT entry_id, outcome FROM settled WHERE feed = ?", (feed,))
        return dict(rows.fetchall())

    def validators(self, feed: str) -> tuple[str | None, str | None]:
        row = self._db.execute(
            "SELECT etag, last_modified FROM validators WHERE feed = ?", (feed,)
        ).fetchone()
        return (row[0], row[1]) if row else (None, None)

    def remember_validators(self, feed: str, etag: str | None, last_modified: str | None) -> None:
        self._db.execute(
            "INSERT OR REPLACE INTO validators VALUES (?, ?, ?)", (feed, etag, last_modified)
        )

    def close(self) -> None:
        self._db.close()
