"""The catalogue of hostile messages: what each stage's input topic may receive.

Each case is written byte for byte to one topic (`articles.raw`, `articles.clean`,
`articles.enriched` or `cluster.ticks`) among good copy, and says where it must end up:
- `dead_letter`: the stage reading it sends it to its dead-letter topic with a reason;
- `story`: it is a valid article after all (odd, not wrong): its article stands in exactly one
  story, once, however often it was delivered;
- `no_effect`: a tick that is well-formed but points nowhere useful: it may be ignored or
  dead-lettered, but must not crash the stage or close anyone's stories.
The rule behind the expectations: what its topic's contract accepts and a stated limit does
not refuse (`max_body_chars`, spaCy's one million characters, dates a clock can hold) is copy
and flows on; what either refuses is dead-lettered. Never silently dropped, never a halt.
"""

import json
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Literal

from schemas.articles import RawArticleV1
from schemas.topics import Topic

Outcome = Literal["dead_letter", "story", "no_effect"]

# A headline one character longer than spaCy's default `nlp.max_length` (1,000,000).
HEADLINE_CHARS = 1_000_001
# A body of prose far over `max_body_chars` (200,000) but under the 20x refused unparsed.
LONG_BODY_CHARS = 780_000
# A message body close to the broker's 1 MB message limit.
HUGE_BODY_CHARS = 900_000
NESTING = 100_000

GERMAN = (
    "Berlin (dpa) - Die Bundesregierung hat am Dienstag ein neues Gesetz zur Förderung "
    "erneuerbarer Energien beschlossen. Nach Angaben des Wirtschaftsministeriums sollen bis "
    "zum Jahr 2030 mindestens achtzig Prozent des Stroms aus Wind- und Sonnenkraft stammen.\n\n"
    "Die Opposition kritisierte den Entwurf als unzureichend. Umweltverbände begrüßten "
    "dagegen die Pläne, forderten aber einen schnelleren Ausbau der Stromnetze im Norden "
    "des Landes, wo der meiste Windstrom erzeugt wird.\n\n"
    "Der Bundestag soll noch vor der Sommerpause über das Gesetz abstimmen."
)
SPANISH = (
    "Madrid (EFE) - El Gobierno español aprobó este martes un plan para reducir el consumo de "
    "agua en la agricultura tras la peor sequía registrada en las últimas décadas. Según el "
    "Ministerio de Agricultura, los embalses se encuentran al treinta por ciento de su "
    "capacidad.\n\n"
    "Las organizaciones agrarias calificaron las medidas de insuficientes y pidieron ayudas "
    "directas para los productores más afectados en Andalucía y Murcia.\n\n"
    "El plan entrará en vigor el próximo mes y se revisará cada seis meses."
)


@dataclass(frozen=True)
class HostileCase:
    name: str
    topic: Topic
    key: bytes | None
    value: bytes | None
    expected: Outcome
    # For `story` cases: the article's id (and source, for ids namespaced by source) that must
    # stand in exactly one story.
    article_id: str | None = None
    source: str | None = None
    why: str = ""


def _json(document: Any) -> bytes:
    return json.dumps(document, ensure_ascii=False).encode()


def _iso(moment: datetime) -> str:
    return moment.isoformat()


def _prose(base: str, chars: int, paragraphs: bool = True) -> str:
    """`chars` characters of real prose, `base` repeated (as paragraphs, or one long line)."""
    joiner = "\n\n" if paragraphs else " "
    out = joiner.join([base] * (chars // (len(base) + len(joiner)) + 1))
    return out[:chars]


def hostile_cases(
    victim: RawArticleV1, spare: list[RawArticleV1], now: datetime
) -> list[HostileCase]:
    """The catalogue. `victim` is a good article fed in before these (its id is reused);
    `spare` are valid articles fed in nowhere else (each case that needs real copy takes its
    own, with a source of its own, so no case teaches another's lines as a template); `now` is
    the ingest time of the good copy."""
    pool = iter(spare)

    def raw(name: str, **fields: Any) -> dict[str, Any]:
        """A valid raw article of its own (`fields` override it), as a JSON document."""
        article = next(pool)
        document: dict[str, Any] = {
            "schema_version": 1,
            "id": f"hostile-{name}",
            "source": f"hostile-{name}",
            "url": article.url,
            "title": article.title,
            "text": article.text,
            "html": None,
            "published_at": None,
            "ingested_at": _iso(now),
        }
        document.update(fields)
        return document

    def clean(name: str, **fields: Any) -> dict[str, Any]:
        article = next(pool)
        document: dict[str, Any] = {
            "schema_version": 1,
            "id": f"hostile-{name}",
            "source": f"hostile-{name}",
            "url": None,
            "headline": article.title or "Untitled",
            "body": article.text,
            "language": "en",
            "dateline_place": None,
            "dateline_agency": None,
            "published_at": None,
            "ingested_at": _iso(now),
            "duplicate_of": None,
        }
        document.update(fields)
        return document

    def enriched(name: str, **fields: Any) -> dict[str, Any]:
        document = clean(name)
        document.update({"entities": [], "keywords": [], "enriched_at": _iso(now)})
        document.update(fields)
        return document

    cases: list[HostileCase] = []

    def add(name: str, topic: Topic, value: bytes | None, expected: Outcome, why: str,
            key: bytes | None = b"hostile", document: dict[str, Any] | None = None) -> None:
        article_id = source = None
        if expected == "story" and document is not None:
            article_id, source = document["id"], document["source"]
        cases.append(HostileCase(name, topic, key, value, expected, article_id, source, why))

    def raw_case(name: str, expected: Outcome, why: str, **fields: Any) -> None:
        document = raw(name, **fields)
        add(name, Topic.RAW, _json(document), expected, why, key=document["source"].encode(),
            document=document)

    dl: Outcome = "dead_letter"
    story: Outcome = "story"
    ignored: Outcome = "no_effect"
    R = Topic.RAW

    # --- bytes that are no article at all (articles.raw) ---------------------------------
    add("empty_value", R, b"", dl, "zero bytes")
    add("tombstone", R, None, dl, "a null value (a compaction tombstone)")
    add("not_json", R, b"{this is not json", dl, "broken JSON")
    add("invalid_utf8", R, b'{"id": "x\xff\xfe", "source": "\xc3\x28"}', dl, "not UTF-8")
    add("json_array", R, b"[1, 2, 3]", dl, "JSON, but an array")
    add("json_number", R, b"42", dl, "JSON, but a number")
    add("json_string", R, b'"an article"', dl, "JSON, but a string")
    add("json_null", R, b"null", dl, "JSON null (not a tombstone)")
    add("deep_nesting", R, b"[" * NESTING + b"]" * NESTING, dl, f"{NESTING:,} nested arrays")

    # --- articles that break the contract --------------------------------------------------
    raw_case("wrong_schema_version", dl, "a version this stage does not know", schema_version=2)
    document = raw("missing_required")
    del document["ingested_at"]
    add("missing_required", R, _json(document), dl, "no ingested_at", key=b"hostile-missing")
    raw_case("extra_fields", dl, "fields the contract forbids", priority="urgent", tags=["x"])
    raw_case("wrong_types", dl, "id a number, title a list", id=12345, title=["a", "b"])
    raw_case("empty_text_and_html", dl, "no copy at all", text="", html="")
    raw_case("whitespace_body", dl, "copy of blanks", text=" \n\t \n\n   \r\n", html=None)
    raw_case("id_201_chars", dl, "an id one over the contract's 200", id="i" * 201)
    raw_case("naive_ingested_at", dl, "a datetime without timezone",
             ingested_at=now.replace(tzinfo=None).isoformat())

    # --- valid by contract, hostile by size or content --------------------------------------
    spare_text = spare[-1].text or ""
    raw_case("huge_json", story, "~900 KB of repeated paragraphs: valid copy after all (the "
             "cleaner keeps the one article run in it, well under max_body_chars)",
             text=_prose(spare_text, HUGE_BODY_CHARS))
    raw_case("prose_780k", dl, "780,000 characters on one line: over max_body_chars",
             text=_prose(spare_text, LONG_BODY_CHARS, paragraphs=False))
    raw_case("headline_1m", dl, "a headline spaCy refuses (nlp.max_length) must not halt enrich",
             title=_prose("Tara Reid enters rehab in Malibu", HEADLINE_CHARS, paragraphs=False))
    document = raw("nul_and_control")
    document["text"] = document["text"].replace(" ", "\x00 \x07\x1b", 40)
    add("nul_and_control", R, _json(document), dl, "NUL and control characters in the copy",
        key=b"hostile-nul")
    raw_case("url_list_only", dl, "nothing but links",
             text="\n".join(f"https://example.com/news/{i}/story-{i}.html" for i in range(60)))
    raw_case("markup_headline_rich", story, "rich console markup in a headline",
             title="[/x] Markets [bold]rally[/bold] [/] as [link=x]rates[/link] fall")
    raw_case("markup_headline_script", story, "HTML in a headline",
             title="<script>alert('x')</script><b>Storm</b> hits the coast")
    document = raw("rtl_override")
    document["title"] = "\u202eecnerolF ni sdoolf\u202c Floods in Florence \u2067x\u2069"
    document["text"] = "\u202e" + document["text"].replace(". ", ". \u202b", 3)
    add("rtl_override", R, _json(document), story, "right-to-left override characters",
        key=b"hostile-rtl", document=document)
    raw_case("html_with_script", story, "a page with scripts and styles around the article",
             text=None, html=(
                 "<html><head><title>Quake</title><script>var x = '<p>no</p>';</script>"
                 "<style>p {color: red}</style></head><body><nav>Home | World</nav><article>"
                 + "".join(f"<p>{p}</p>" for p in (spare[-2].text or "").split(". "))
                 + "</article></body></html>"))
    raw_case("ingested_year_1", dl, "ingest time in year 1: no window can be taken from it",
             ingested_at="0001-01-01T00:00:00+00:00")
    raw_case("ingested_year_9999", dl, "ingest time at the end of the calendar",
             ingested_at="9999-12-31T23:59:59+00:00")
    raw_case("ingested_9999_12_30", dl, "far-future ingest time: today closes every story",
             ingested_at="9999-12-30T00:00:00+00:00")
    raw_case("ingested_plus_14", story, "a valid +14:00 timezone",
             ingested_at=now.astimezone(timezone(timedelta(hours=14))).isoformat())
    raw_case("published_far_future", story, "the outlet's date is wrong, the copy is not",
             published_at="2999-01-01T00:00:00+00:00")
    raw_case("id_200_chars", story, "an id as long as the contract allows", id="i" * 200)
    raw_case("id_slashes_unicode", story, "an id with slashes and non-ASCII",
             id="wire/2026/ünïcödé/报道/../%2F1")
    raw_case("null_key", story, "a valid article without a key")
    cases[-1] = HostileCase(**{**cases[-1].__dict__, "key": None})
    impostor = victim.model_dump(mode="json")
    impostor["title"] = "Completely different copy under a used id"
    impostor["text"] = spare[-3].text
    add("duplicate_id_other_content", R, _json(impostor), dl,
        "a good article's source and id with other copy: one id cannot be two articles",
        key=victim.source.encode())
    twice = raw("redelivered")
    for delivery in (1, 2):
        add(f"redelivered_{delivery}", R, _json(twice), story,
            "the same valid article delivered twice: one story, once",
            key=twice["source"].encode(), document=twice)
    for language, body in (("german", GERMAN), ("spanish", SPANISH)):
        raw_case(f"non_english_{language}", story, "copy in another language",
                 title=body.split(" - ")[1].split(".")[0], text=body)

    # --- articles.clean (the enrich stage) ----------------------------------------------------
    C = Topic.CLEAN

    def clean_case(name: str, expected: Outcome, why: str, **fields: Any) -> None:
        document = clean(name, **fields)
        add(name, C, _json(document), expected, why, key=document["id"].encode(),
            document=document)

    add("clean_not_json", C, b"\x00\x01 not json", dl, "binary junk")
    add("clean_tombstone", C, None, dl, "a null value")
    clean_case("clean_language_xx", story, "a language no model knows: its own shard",
               language="xx")
    clean_case("clean_headline_1m", dl, "a headline spaCy refuses must not halt the batch",
               headline=_prose("Storm hits the coast", HEADLINE_CHARS, paragraphs=False))
    clean_case("clean_body_780k", dl, "a body the clean stage would have refused",
               body=_prose(spare_text, LONG_BODY_CHARS))
    clean_case("clean_empty_body", dl, "an empty body (contract: min_length 1)", body="")
    clean_case("clean_ingested_9999_12_30", dl, "far-future ingest time",
               ingested_at="9999-12-30T00:00:00+00:00")

    # --- articles.enriched (the cluster stage) -------------------------------------------------
    E = Topic.ENRICHED

    def enriched_case(name: str, expected: Outcome, why: str, **fields: Any) -> None:
        document = enriched(name, **fields)
        add(name, E, _json(document), expected, why, key=document["language"].encode(),
            document=document)

    add("enriched_not_json", E, b"<html>oops</html>", dl, "not JSON", key=b"en")
    enriched_case("enriched_10000_entities", dl, "10,000 distinct entities: over the cluster "
                  "stage's 500 (services/cluster/limits.py)", entities=[
        {"text": f"Person Number {i}", "label": "PERSON", "count": 1} for i in range(10_000)
    ])
    enriched_case("enriched_ingested_9999_12_30", dl,
                  "far-future ingest time: the shard's clock would close every story",
                  ingested_at="9999-12-30T00:00:00+00:00")
    enriched_case("enriched_empty_language", dl, "no language: no shard to put it in",
                  language="")
    enriched_case("enriched_bad_label", dl, "an entity label the contract does not know",
                  entities=[{"text": "Mars", "label": "PLANET", "count": 1}])

    # --- cluster.ticks (the cluster stage) ----------------------------------------------------
    T = Topic.CLUSTER_TICKS
    add("tick_unknown_shard", T, _json({"schema_version": 1, "shard": "zz",
                                        "sent_at": _iso(now)}), ignored,
        "a shard no worker holds", key=b"zz")
    add("tick_far_future", T, _json({"schema_version": 1, "shard": "en",
                                     "sent_at": "9999-12-30T00:00:00+00:00"}), ignored,
        "a tick from a broken clock must not close stories", key=b"en")
    add("tick_invalid", T, _json({"schema_version": 1, "shard": ""}), dl,
        "no shard, no sent_at", key=b"en")
    add("tick_not_json", T, b"tick", dl, "not JSON", key=b"en")
    return cases
