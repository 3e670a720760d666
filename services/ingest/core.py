"""Reading wire copy from files into RawArticleV1 records (no Kafka here).

In: paths to files or directories. Plain-text files (`.txt` or no JSON suffix) are one
article each: the whole file is the copy, junk and all (the clean stage finds the headline).
`.json` files hold one record or a list of records; `.jsonl` files one record a line. Records
carry `id`, `title`, `text` or `html`, `source`, `url`, `published_at` (`date` is read as
`published_at`), `revision`, `withdrawn`; other fields are ignored. A JSON object with a `uri`
and no `id` is an IPTC ninjs item, validated and mapped by `services.ingest.ninjs`.
The outlet (`source`) is the one the record names; plain-text and HTML files name none, so it
is `--source`, else the name of the folder the file is in (an outlet's copy in its own folder),
never the file's name: a subscriber sees outlets, and the clean stage learns each outlet's
template from that outlet's copy.
Out: for each article, where it came from (`file:line`) and either the record or the reason it
could not be read. Nothing is dropped silently: unreadable records come out as `Rejected`.
"""

import hashlib
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from pydantic import ValidationError

from schemas.articles import RawArticleV1
from services.ingest.ninjs import NinjsRefused, from_ninjs, looks_like_ninjs

JSON_SUFFIXES = {".json", ".jsonl", ".ndjson"}
TEXT_SUFFIXES = {".txt", ".text", ""}
HTML_SUFFIXES = {".html", ".htm"}


@dataclass(frozen=True)
class Accepted:
    where: str
    article: RawArticleV1


@dataclass(frozen=True)
class Rejected:
    where: str
    reason: str


def find_files(paths: Iterable[Path]) -> list[Path]:
    """Every readable file under `paths`, sorted, so a run is reproducible."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found.extend(
                sorted(
                    p for p in path.rglob("*")
                    if p.is_file() and not p.name.startswith(".")
                    and p.suffix.lower() in JSON_SUFFIXES | TEXT_SUFFIXES | HTML_SUFFIXES
                )
            )
        else:
            found.append(path)
    return found


def stable_id(*parts: str | None) -> str:
    """An id that is the same every time the same copy is fed in."""
    digest = hashlib.sha256("\x1f".join(p or "" for p in parts).encode()).hexdigest()
    return digest[:16]


def read_articles(
    paths: Iterable[Path], *, source: str | None = None, now: datetime | None = None
) -> Iterator[Accepted | Rejected]:
    ingested_at = now or datetime.now(UTC)
    for path in find_files(paths):
        suffix = path.suffix.lower()
        if not path.exists():
            yield Rejected(str(path), "no such file")
        elif suffix == ".jsonl" or suffix == ".ndjson":
            yield from _read_jsonl(path, source, ingested_at)
        elif suffix == ".json":
            yield from _read_json(path, source, ingested_at)
        else:
            yield _read_document(path, source, ingested_at, html=suffix in HTML_SUFFIXES)


def _read_document(path: Path, source: str | None, ingested_at: datetime, html: bool) -> Any:
    where = str(path)
    try:
        copy = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        return Rejected(where, f"not UTF-8 text ({exc.reason} at byte {exc.start})")
    except OSError as exc:
        return Rejected(where, f"cannot read: {exc.strerror}")
    outlet = source or folder_outlet(path)
    fields = {"html": copy} if html else {"text": copy}
    return _build(where, {"id": path.stem, "source": outlet, **fields}, ingested_at)


def _read_jsonl(path: Path, source: str | None, ingested_at: datetime) -> Iterator[Any]:
    try:
        with path.open(encoding="utf-8") as lines:
            for number, line in enumerate(lines, start=1):
                if not line.strip():
                    continue
                where = f"{path}:{number}"
                try:
                    record = json.loads(line)
                except json.JSONDecodeError as exc:
                    yield Rejected(where, f"invalid JSON: {exc.msg} (column {exc.colno})")
                    continue
                yield from_record(where, record, source, ingested_at)
    except UnicodeDecodeError as exc:
        yield Rejected(str(path), f"not UTF-8 text ({exc.reason} at byte {exc.start})")


def _read_json(path: Path, source: str | None, ingested_at: datetime) -> Iterator[Any]:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        yield Rejected(str(path), f"invalid JSON: {exc}")
        return
    records = document if isinstance(document, list) else [document]
    for index, record in enumerate(records):
        yield from_record(f"{path}[{index}]", record, source, ingested_at)


def folder_outlet(path: Path) -> str:
    """The outlet of a file that names none: its folder's name (`copy/Reuters/0412.txt`:
    Reuters); a file at the root of the file system has none to give."""
    return path.resolve().parent.name or "unknown"


NO_OUTLET = "source: no outlet named (give `source`, or ninjs `copyrightholder`)"


def from_record(
    where: str,
    record: Any,
    source: str | None,
    ingested_at: datetime,
    *,
    unknown_source: str | None = "unknown",
) -> Accepted | Rejected:
    """One decoded JSON record (storywire's own or a ninjs item) as a raw article, or why not.
    The gateway takes records through this too, with `unknown_source=None`: a record that
    names no outlet (nor a URL to take its host from) is then rejected, not filed as
    "unknown"."""
    if not isinstance(record, dict):
        return Rejected(where, f"expected a JSON object, got {type(record).__name__}")
    if looks_like_ninjs(record):
        try:
            mapped = from_ninjs(record, source=source)
        except NinjsRefused as refused:
            return Rejected(where, f"ninjs: {refused.reason}")
        fields = dict(mapped.fields)
        if not fields["source"] and unknown_source is None:
            return Rejected(where, NO_OUTLET)
        fields["source"] = fields["source"] or unknown_source
        return _build(where, fields, ingested_at)
    url = record.get("url")
    outlet = record.get("source") or source or (urlparse(url).hostname if url else None)
    if not outlet and unknown_source is None:
        return Rejected(where, NO_OUTLET)
    fields = {
        "id": record.get("id"),
        "source": outlet or unknown_source,
        "url": url,
        "title": record.get("title"),
        "text": record.get("text"),
        "html": record.get("html"),
        "published_at": record.get("published_at") or record.get("date"),
        "revision": record.get("revision"),
        "withdrawn": record.get("withdrawn", False),
    }
    if fields["id"] is None:
        fields["id"] = stable_id(fields["source"], url, fields["title"], fields["text"])
    else:
        fields["id"] = str(fields["id"])
    return _build(where, fields, ingested_at)


def _build(where: str, fields: dict[str, Any], ingested_at: datetime) -> Accepted | Rejected:
    published = fields.get("published_at")
    if isinstance(published, datetime) and published.tzinfo is None:
        fields["published_at"] = published.replace(tzinfo=UTC)
    if isinstance(published, str):
        fields["published_at"] = _parse_time(published)
    try:
        return Accepted(where, RawArticleV1(**fields, ingested_at=ingested_at))
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first.get("loc", ())) or "record"
        return Rejected(where, f"{field}: {first['msg']}")


def _parse_time(value: str) -> datetime | str:
    """ISO dates and times; a date or naive time is taken as UTC (wire times usually are)."""
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return value  # left for the contract to reject with its own message
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
