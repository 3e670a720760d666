"""The clean stage's core: raw wire copy in, the article and nothing else out.

Pure: no faust, no Kafka, no Prometheus, no environment. State (source templates, duplicate
fingerprints) comes in as a `SourceMemory` over two key-value stores.
"""

from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlparse

from schemas.articles import CleanArticleV1, RawArticleV1
from services.clean import dedup, facts, html, text
from services.clean import lines as article_lines
from services.clean.dedup import check_duplicate
from services.clean.memory import SourceMemory
from services.clean.repair import junk_ratio, repair_line
from services.errors import InvalidArticle
from services.identity import article_key

# Copy this many times bigger than the largest allowed body is refused before any parsing: a
# page is rarely more than ~10x its article, and parsing megabytes stalls the partition.
_MAX_COPY_FACTOR = 20
# Share of replacement/control/unassigned characters above which copy is binary junk or was
# decoded with the wrong codec beyond repair.
_MAX_JUNK_RATIO = 0.02
_LANGUAGE_SAMPLE_LINES = 6
_DATE_SEARCH_LINES = 15
_SENTENCE_END = ".!?\"')»…"


def warm_up() -> None:
    """Load what `clean` would otherwise load on its first pages: the language model (about a
    second), the stoplists, the duplicate index's parameters. A worker calls this once at
    start-up, before it takes its first article."""
    facts.identify_language("warm up")
    text.warm_up()
    dedup.warm_up()


def clean(
    raw: RawArticleV1,
    memory: SourceMemory,
    *,
    max_body_chars: int,
    now: datetime | None = None,
) -> CleanArticleV1:
    """`extract` then `remember` (a kill: `withdrawal`): the whole clean stage for one
    article, in one call."""
    if raw.withdrawn:
        return withdrawal(raw, memory)
    found = extract(raw, memory.template_lines(raw.source), max_body_chars=max_body_chars,
                    now=now)
    return remember(raw, found, memory)


@dataclass(frozen=True)
class Extracted:
    """What `extract` found in one article's copy, before the memory has seen it."""

    article: CleanArticleV1  # duplicate_of not yet known
    line_keys: list[str]  # the page's line keys, toward the source's template
    body_words: list[str]  # the body's words, for its duplicate fingerprint


def remember(raw: RawArticleV1, found: Extracted, memory: SourceMemory) -> CleanArticleV1:
    """The article `found` in `raw`, with `duplicate_of` from the memory, which learns it.

    The part of the clean stage that reads and writes state (faust tables in a worker): it
    runs on the worker's event loop, while `extract`, which needs only a snapshot of the
    source's template, may run in a thread.
    """
    duplicate = check_duplicate(
        memory, found.article.id, found.body_words, raw.ingested_at.timestamp(),
        revision=raw.revision,
        # What a later kill of this article needs to reach its story (`withdrawal`).
        facts={"headline": found.article.headline, "language": found.article.language},
    )
    # A correction's lines were counted with its first version: counted again, an article
    # corrected twice would make its own paragraphs its outlet's template.
    if duplicate.original is None and not duplicate.redelivered and not duplicate.corrected:
        memory.learn_template(raw.source, found.line_keys)
    if duplicate.original is None:
        return found.article
    return found.article.model_copy(update={"duplicate_of": duplicate.original})


def extract(
    raw: RawArticleV1,
    template: frozenset[str],
    *,
    max_body_chars: int,
    now: datetime | None = None,
) -> Extracted:
    """The article in `raw`, without the page around it, with its headline and facts.

    In: plain text (a scraper's flattened page: menus, captions, share buttons and all) or HTML
    (preferred when both are given: its markup says more). Out: the body as repaired paragraphs
    separated by blank lines; the headline (`raw.title`, else the page's); dateline place and
    agency; publication time (`raw.published_at` when it is a plausible one, else printed in
    the copy, as UTC); language. `template` is the source's template lines (a snapshot: this
    function reads no state, so it can run off the event loop); `remember` then adds
    `duplicate_of` and teaches the source's template.

    Raises `InvalidArticle` with reason:
    - `body_too_large`: the article found is bigger than `max_body_chars`, or the copy is so
      big (x20) that it is refused before parsing;
    - `undecodable`: binary junk or text decoded with the wrong codec;
    - `empty_after_cleaning`: nothing in the copy reads as an article;
    - `no_language`: the body has no letters to identify a language by.
    """
    now = now or datetime.now(UTC)
    copy = raw.html if raw.html and raw.html.strip() else raw.text or ""
    if len(copy) > max_body_chars * _MAX_COPY_FACTOR:
        raise InvalidArticle("body_too_large", f"{len(copy)} characters of copy")
    if "\x00" in copy or junk_ratio(copy) > _MAX_JUNK_RATIO:
        raise InvalidArticle("undecodable", "replacement or control characters in the copy")

    site = facts.site_name(raw.source) or facts.site_name(
        urlparse(raw.url).hostname if raw.url else None
    )
    page_title: str | None = None
    page_date: str | None = None
    language: str | None = None
    line_words: list[list[str] | None] | None = None
    if copy is raw.html:
        extracted = html.extract(copy)
        page_title, page_date = extracted.title, extracted.date
        if extracted.flattened is None:
            keyed = [(line, text.line_key(line)) for line in extracted.lines]
            keyed = [(line, key) for line, key in keyed if key not in template]
            # trafilatura keeps the <h1> when it sits inside the article: it is the headline.
            page_headline = page_title and facts.clean_headline(page_title)
            titles = {
                " ".join(title.split()).lower()
                for title in (raw.title, page_title, page_headline)
                if title
            }
            while keyed and " ".join(keyed[0][0].split()).lower() in titles:
                keyed = keyed[1:]
            lines, keys = [line for line, _key in keyed], [key for _line, key in keyed]
            body_indices = list(range(len(lines)))
        else:
            lines, keys, body_indices, language, line_words = _flat_body(
                extracted.flattened, template, raw.title or page_title
            )
    else:
        page = text.split_page(copy)
        # Without a feed's title, the page's first line stands for it when it may be one.
        first = page[0] if page else ""
        own_title = (
            first if facts.not_a_headline(article_lines.title_part(first), site) is None else None
        )
        lines, keys, body_indices, language, line_words = _flat_body(
            page, template, raw.title or own_title
        )

    if body_indices and body_indices[0] == 0 and len(body_indices) > 1 and copy is not raw.html:
        # The page's first line, with no sentence end, is its title even when it is long.
        first = lines[0].rstrip()
        if first and first[-1] not in _SENTENCE_END:
            body_indices = body_indices[1:]
    body_lines: list[str] = []
    # The body's words for its duplicate fingerprint, as `text.words(body.lower())` would find
    # them: the classifier's words of each line the repairs left unchanged, found afresh for the
    # others. The same, since lines are joined by blank lines, which no word spans and across
    # which `str.lower` looks for no context (a final sigma's).
    body_words: list[str] = []
    for i in body_indices:
        repaired = repair_line(lines[i])
        if not repaired:
            continue
        body_lines.append(repaired)
        known = line_words[i] if line_words is not None and repaired == lines[i] else None
        body_words += known if known is not None else text.words(repaired.lower())
    if not body_lines:
        raise InvalidArticle("empty_after_cleaning", "no line of the copy reads as article")
    body = "\n\n".join(body_lines)
    if len(body) > max_body_chars:
        raise InvalidArticle("body_too_large", f"{len(body)} > {max_body_chars} characters")
    language = language or facts.identify_language(body) or sender_language(raw.language)
    if language is None:
        raise InvalidArticle("no_language", "the body has no letters")

    before = lines[: body_indices[0]] if body_indices else []
    # A headline is never a timestamp, dateline, byline, section or the site's name, even when
    # the feed or the page's <title> says so: the next candidate is taken instead.
    headline = next(
        (
            title
            for title in (raw.title, page_title and facts.clean_headline(page_title))
            if title and facts.not_a_headline(title, site) is None
        ),
        None,
    )
    if not headline:
        # Lazily: the headline is the first good candidate, usually near the top of a long
        # header of menus that need not all be judged.
        candidates = (line for line in before if not text.is_furniture(line))
        headline = facts.pick_headline(candidates, body_lines, site)
    place, agency = facts.find_dateline(body_lines[0], before)
    given = raw.published_at if facts.plausible_time(raw.published_at, now) else None
    # A feed title that is a timestamp is no headline, but it is the copy's time.
    title_time = [raw.title] if raw.title and facts.not_a_headline(raw.title) == "timestamp" else []
    published_at = given or facts.find_published_at(
        [*([page_date] if page_date else []), *title_time, *before[-_DATE_SEARCH_LINES:],
         body_lines[0]],
        now,
    )

    article = CleanArticleV1(
        id=article_key(raw.source, raw.id),  # unique per source from here on
        source=raw.source,
        url=raw.url,
        headline=facts.bounded_headline(repair_line(headline)),
        body=body,
        language=language,
        dateline_place=place or raw.located,
        dateline_agency=agency,
        published_at=published_at,
        ingested_at=raw.ingested_at,
        revision=raw.revision,
        withdrawn=raw.withdrawn,
    )
    return Extracted(article, keys, body_words)


# The body of a kill (a CleanArticleV1 needs one; a kill has no article to extract).
WITHDRAWN_BODY = "[withdrawn by the sender]"


def sender_language(tag: str | None) -> str | None:
    """The ISO 639-1 code of a sender's BCP 47 tag ("nb-NO": "nb"), None if it has none."""
    primary = (tag or "").split("-")[0].split("_")[0].strip().lower()
    return primary if len(primary) == 2 and primary.isalpha() else None


def withdrawal(raw: RawArticleV1, memory: SourceMemory) -> CleanArticleV1:
    """A kill (`raw.withdrawn`): the article it withdraws, marked withdrawn, with no
    extraction, no language identification and nothing learned or fingerprinted.

    It must reach the story its article is in, and the stages after this one route by
    language: so its language (and headline) are the ones this stage found in the article's
    last version, remembered with its fingerprint (kept `fingerprint_hours`); failing that
    the sender's language tag, else "und" (undetermined), and the kill's own headline. Its
    body is `WITHDRAWN_BODY`: a kill often comes without copy, and what it does carry is not
    to be clustered.
    """
    key = article_key(raw.source, raw.id)
    known = memory.fingerprints.get(key) or {}
    return CleanArticleV1(
        id=key,
        source=raw.source,
        url=raw.url,
        headline=known.get("headline") or facts.bounded_headline(raw.title or "withdrawn"),
        body=WITHDRAWN_BODY,
        language=known.get("language") or sender_language(raw.language) or "und",
        published_at=raw.published_at,
        ingested_at=raw.ingested_at,
        revision=raw.revision,
        withdrawn=True,
    )


# A wire brief can be a single sentence or two; shorter than that is a caption or a button,
# unless it is all the copy there is (a one-line flash is still news).
_BRIEF_MIN_WORDS = 12
_FLASH_MIN_WORDS = 5


def _brief(lines: list[str], template_indices: Collection[int]) -> list[int]:
    """The body of copy too short for the line classifier: its longest line that is neither
    page furniture nor the source's template, when that line is sentence-long."""
    min_words = _FLASH_MIN_WORDS if len([line for line in lines if line.strip()]) == 1 else (
        _BRIEF_MIN_WORDS
    )
    candidates = [
        i for i, line in enumerate(lines)
        if len(line.split()) >= min_words
        and not text.is_furniture(line)
        and i not in template_indices
        and not text.is_notice(line)
    ]
    if not candidates:
        return []
    return [max(candidates, key=lambda i: len(lines[i]))]


def _flat_body(
    lines: list[str], template: frozenset[str], title: str | None = None
) -> tuple[list[str], list[str], list[int], str | None, list[list[str] | None]]:
    """(lines, their `line_key`s, indices of the article's lines, the article's language if
    already known, each line's words where the classifier found them) of a flattened page.

    Each line's key is computed once, here: it both tells the source's template lines apart
    and is what the template learns from.

    The line classifier needs the page's language (for its stopwords) before it knows the body,
    so it is read from the page's longest lines (as many as fill the identifier's sample),
    notices aside: a cookie or subscription notice is often the longest line, and often in
    English whatever the article's language. When the sampled lines all turn out to be body,
    that is the body's language too and the (costly) identification is not run twice.
    """
    keys = text.line_keys(lines)
    template_indices = {i for i, key in enumerate(keys) if key in template} if template else ()
    language, sample_indices = page_language(lines)
    body_indices, line_words = article_lines.find_body_and_words(
        lines, language or "en", template_indices, title
    )
    body_indices = body_indices or _brief(lines, template_indices)
    body_set = set(body_indices)
    known = language if all(i in body_set for i in sample_indices) else None
    return lines, keys, body_indices, known, line_words


def page_language(lines: list[str]) -> tuple[str | None, list[int]]:
    """(the language of a flattened page's longest lines, notices aside, those lines' indices):
    what the line classifier's stopwords are chosen by."""
    sample_indices: list[int] = []
    sample_chars = -1  # of the lines joined by spaces
    lengths = [len(line) for line in lines]
    for i in sorted(range(len(lines)), key=lengths.__getitem__, reverse=True):
        if len(sample_indices) == _LANGUAGE_SAMPLE_LINES or (
            sample_chars >= facts.LANGUAGE_SAMPLE_CHARS  # identify_language reads no further
        ):
            break
        if text.is_notice(lines[i]):
            continue
        sample_indices.append(i)
        sample_chars += len(lines[i]) + 1
    sample = " ".join(lines[i] for i in sample_indices)
    return facts.identify_language(sample), sample_indices
