"""IPTC ninjs news items (1.x, 2.x, 3.x) into RawArticleV1 records (no Kafka here).

In: one decoded JSON object that is a ninjs item. Its generation is the one its `$standard` /
`standard` names, else the one its field names belong to (3.x writes camelCase, 2.x has
arrays `headlines`/`bodies`, 1.x has `headline`/`body_text`); it is then validated against
the IPTC's schema of that generation (1.6, 2.2 or 3.1, copied in `ninjs_schemas/`).
Out: the raw article, mapped as
- `id` = `uri` (an agency's item keeps its uri across versions; over 200 characters, a hash);
- `source` (the outlet) = `copyrightholder`, else the first info source / provider, else
  the `--source` given, else the uri's host; the byline is a writer, never the outlet;
- `title` = the main headline (`role` main, else the first); `html` / `text` = the main body
  by content type (`text/html`, `application/xhtml+xml`: HTML; otherwise text); a text item
  that carries no body but a description has that description as its copy (NTB sends leads so);
- `published_at` = `firstcreated`, else `versioncreated` (the story's first appearance, which a
  correction keeps);
- `revision` = `version` (a string of digits in ninjs), `withdrawn` = `pubstatus` canceled or
  withheld: a kill, which may come without copy;
- `language` and `located` (else the only place named) as hints for the clean stage.
Refused (a `NinjsRefused` with a reason a sender can act on): a document that fails its schema;
an item that is not text (picture, video, audio, graphic, event, planning, component), or a
composite with no text body; a text item with no body and no description, unless it is a kill.
"""

import hashlib
import json
import re
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from jsonschema import Draft7Validator, Draft202012Validator
from jsonschema.exceptions import best_match
from jsonschema.protocols import Validator
from referencing import Registry, Resource
from referencing.exceptions import NoSuchResource
from referencing.jsonschema import DRAFT7

SCHEMAS = Path(__file__).parent / "ninjs_schemas"
SCHEMA_FILES = {1: "ninjs-schema_1.6.json", 2: "ninjs-schema_2.2.json", 3: "ninjs-schema_3.1.json"}
NOT_TEXT = {"picture", "video", "audio", "graphic", "event", "planning", "component"}
# NITF (the IPTC's XML for news text) goes with HTML: the clean stage's markup extraction
# finds its paragraphs.
HTML_TYPES = {
    "text/html", "application/xhtml+xml", "application/xhtml", "text/vnd.iptc.nitf",
    "application/nitf+xml",
}
KILLED = {"canceled", "withheld"}

# Fields only one generation has: 3.x renamed every compound name to camelCase; 2.x made the
# 1.x singulars into arrays.
_V3_ONLY = {
    "versionCreated", "firstCreated", "contentCreated", "copyrightHolder", "copyrightNotice",
    "pubStatus", "infoSources", "altIds", "embargoedUntil", "edNote", "usageTerms",
    "rightsInfo", "trustIndicators", "digitalSourceType", "representationType",
    "eventDetails", "plannedCoverage",
}
_V2_ONLY = {
    "headlines", "bodies", "descriptions", "places", "subjects", "people", "organisations",
    "events", "objects", "genres", "infosources", "trustindicators", "by", "standard",
}


class NinjsRefused(ValueError):
    """The item cannot become an article; `reason` says why, for the sender."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class NinjsArticle:
    """The fields of a RawArticleV1 a ninjs item gives (`source` may be None: not named)."""

    fields: dict[str, Any]
    generation: int


def looks_like_ninjs(record: Any) -> bool:
    """A ninjs item, not storywire's own record: ninjs requires `uri` and has no `id`."""
    return isinstance(record, dict) and "uri" in record and "id" not in record


def generation(item: dict[str, Any]) -> tuple[int, bool]:
    """(1, 2 or 3, whether the item declared it): as the item's standard says, else as its
    field names show."""
    standard = item.get("$standard") or item.get("standard")
    if isinstance(standard, dict):
        major = str(standard.get("version", "")).split(".")[0]
        if major in {"1", "2", "3"}:
            return int(major), True
    keys = set(item)
    if keys & _V3_ONLY:
        return 3, False
    if keys & _V2_ONLY:
        return 2, False
    return 1, False


def _offline(uri: str) -> Resource:
    """The schemas refer to one schema outside them (GeoJSON, for a place's geometry). Nothing
    is fetched at run time: any JSON is accepted there, and every other reference is local."""
    if uri.startswith("https://geojson.org/"):
        return Resource.from_contents({}, default_specification=DRAFT7)
    raise NoSuchResource(ref=uri)  # type: ignore[call-arg]  # an attrs class mypy reads no init for


@cache
def _validator(major: int) -> Validator:
    schema = json.loads((SCHEMAS / SCHEMA_FILES[major]).read_text(encoding="utf-8"))
    cls = Draft7Validator if major == 1 else Draft202012Validator
    registry: Registry[Any] = Registry(retrieve=_offline)  # type: ignore[call-arg]  # attrs init
    validator: Validator = cls(schema, registry=registry)
    return validator


def warm_up() -> None:
    """Build the three validators (reading and compiling the schemas) before the first item."""
    for major in SCHEMA_FILES:
        _validator(major)


def validate(item: dict[str, Any], major: int, *, declared: bool = True) -> int:
    """The generation `item` is valid ninjs of: `major`, or (when `major` was only guessed from
    field names, not `declared`) another whose schema it satisfies. Raises NinjsRefused naming
    the first violation of `major`'s IPTC schema when none fits."""
    error = best_match(_validator(major).iter_errors(item))
    if error is None:
        return major
    if not declared:
        for other in (3, 2, 1):
            if other != major and _validator(other).is_valid(item):
                return other
    where = "/".join(str(p) for p in error.absolute_path) or "(item)"
    schema_name = SCHEMA_FILES[major].removeprefix("ninjs-schema_").removesuffix(".json")
    raise NinjsRefused(f"not valid ninjs {schema_name}: at {where}: {error.message[:300]}")


def _get(item: dict[str, Any], major: int, name: str) -> Any:
    """A field by its 1.x/2.x (lower case) name, in 3.x's camelCase when the item is 3.x."""
    if major == 3:
        camel = {
            "versioncreated": "versionCreated", "firstcreated": "firstCreated",
            "copyrightholder": "copyrightHolder", "pubstatus": "pubStatus",
            "infosources": "infoSources", "contenttype": "contentType",
        }.get(name, name)
        return item.get(camel)
    return item.get(name)


def _main(entries: Any) -> dict[str, Any] | None:
    """The entry with role `main`, else the first with a non-empty value."""
    valued = [e for e in entries or [] if isinstance(e, dict) and str(e.get("value", "")).strip()]
    for entry in valued:
        if entry.get("role") == "main":
            return entry
    return valued[0] if valued else None


def _headline(item: dict[str, Any], major: int) -> str | None:
    if major == 1:
        extra = sorted(k for k in item if k.startswith("headline_"))
        value = item.get("headline") or next((item[k] for k in extra if item[k]), None)
        return str(value).strip() or None if value else None
    entry = _main(item.get("headlines"))
    return str(entry["value"]).strip() if entry else None


def _copy(item: dict[str, Any], major: int) -> dict[str, str]:
    """{"html": ...} or {"text": ...}: the main body (or, lacking one, the main description)."""
    if major == 1:
        for kind, names in (("html", ["body_html"]), ("text", ["body_text"])):
            for name in names:
                if str(item.get(name) or "").strip():
                    return {kind: item[name]}
        others = sorted(k for k in item if k.startswith(("body_", "description_")))
        others += ["description_text"] if "description_text" in item else []
        for name in sorted(others, key=lambda k: not k.startswith("body_")):
            value = str(item.get(name) or "")
            if value.strip():
                kind = "html" if re.search(r"html", name) else "text"
                return {kind: value}
        return {}
    for field in ("bodies", "descriptions"):
        entry = _main(item.get(field))
        if entry is not None:
            content_type = str(_get(entry, major, "contenttype") or "").split(";")[0].strip()
            kind = "html" if content_type.lower() in HTML_TYPES else "text"
            return {kind: str(entry["value"])}
    return {}


def _outlet(item: dict[str, Any], major: int) -> str | None:
    holder = _get(item, major, "copyrightholder")
    if isinstance(holder, str) and holder.strip():
        return holder.strip()
    sources = _get(item, major, "infosources") if major > 1 else item.get("infosource")
    for entry in sources or []:
        if isinstance(entry, dict) and str(entry.get("name", "")).strip():
            return str(entry["name"]).strip()
    return None


def _located(item: dict[str, Any], major: int) -> str | None:
    located = item.get("located")
    if isinstance(located, str) and located.strip():
        return located.strip()
    places = item.get("place" if major == 1 else "places") or []
    names = {str(p["name"]).strip() for p in places if isinstance(p, dict) and p.get("name")}
    return names.pop() if len(names) == 1 else None


def _has_words(copy: str) -> bool:
    return re.search(r"\w{2,}", re.sub(r"<[^>]*>", " ", copy)) is not None


def _revision(value: Any) -> int | None:
    text = str(value).strip() if value is not None else ""
    return int(text) if text.isdigit() else None


def _time(value: Any) -> datetime | str | None:
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        return datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return value  # left for the contract to reject with its own words


def article_id(uri: str) -> str:
    """The uri, or (over the contract's 200 characters) a stable hash of it."""
    return uri if len(uri) <= 200 else "uri-" + hashlib.sha256(uri.encode()).hexdigest()[:32]


def from_ninjs(item: dict[str, Any], *, source: str | None = None) -> NinjsArticle:
    """The raw article's fields from one ninjs item, or NinjsRefused (see the module)."""
    guessed, declared = generation(item)
    major = validate(item, guessed, declared=declared)
    news_type = str(item.get("type") or "")
    if not news_type and (item.get("eventDetails") or item.get("plannedCoverage")):
        news_type = "event" if item.get("eventDetails") else "planning"  # 3.x, type left out
    withdrawn = str(_get(item, major, "pubstatus") or "usable") in KILLED
    if news_type in NOT_TEXT:
        article = "an" if news_type[0] in "aeiou" else "a"
        raise NinjsRefused(
            f"{article} {news_type} item, not text: storywire clusters text stories"
        )
    copy = _copy(item, major)
    if copy and not withdrawn and not _has_words(next(iter(copy.values()))):
        raise NinjsRefused("its body has no words (a placeholder such as '...')")
    if not copy and not withdrawn:
        if news_type == "composite":
            raise NinjsRefused("a composite item without a text body (its parts are media)")
        raise NinjsRefused("a text item without a body (no body or description to read)")
    uri = str(item["uri"])
    host = urlparse(uri).hostname
    first = _time(_get(item, major, "firstcreated"))
    fields: dict[str, Any] = {
        "id": article_id(uri),
        "source": _outlet(item, major) or source or host,
        "url": uri if uri.startswith(("http://", "https://")) else None,
        "title": _headline(item, major),
        "published_at": first or _time(_get(item, major, "versioncreated")),
        "revision": _revision(item.get("version")),
        "withdrawn": withdrawn,
        "language": item.get("language") or None,
        "located": _located(item, major),
        **copy,
    }
    return NinjsArticle(fields, major)
