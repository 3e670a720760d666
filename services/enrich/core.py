"""Enrich: clean articles in, articles with canonical named entities and keywords out.

What the NER reads is the headline, then the body's first `NER_BODY_CHARS` characters (cut at a
word boundary); names it found are then counted again wherever the rest of the body repeats
them (`mentions_beyond`). Wire copy puts who, where and what in the headline and the first
paragraphs; the rest mostly repeats them or quotes background. The NER is the pipeline's main
cost and grows with the text it reads, so the slice is the shortest that keeps story
clustering within 0.01 B-cubed F1 of full-text NER. Measured on ECB+ dev, 2026-11-23 (clean
core, fitted clusterer, orders 1/2/3): full text 0.878 / 0.892 / 0.887, 2000 characters
0.880 / 0.890 / 0.885, 1000 characters 0.877 / 0.871 / 0.886 (worst order -0.007, mean
-0.008), 600 characters 0.865 / 0.884 / 0.883 (worst order -0.013: too short). On ~500-word
articles 1000 characters costs the NER about 40% of the full text (`python -m lab.bench.pipeline
--sweep-body-chars`). Reproduce with `python -m lab.cluster.evaluate FILE --seed N
--ner-body-chars 0|1000`.
"""

import re
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import spacy
from spacy.language import Language
from spacy.tokens import Doc, Span

from schemas.articles import CleanArticleV1, EnrichedArticleV1, EntityV1
from services.enrich.entities import Mention, canonicalise, mentions_beyond, normalise_mention
from services.errors import InvalidArticle
from services.words import NEWS_WORDS, singular, without_possessive

# Body characters the NER reads after the headline; `None` in `enrich_batch` reads it all.
NER_BODY_CHARS = 1000
# The lead: the body's first paragraph, at most this many characters.
LEAD_CHARS = 400
KEYWORDS = 20

# Only the NER is needed: en_core_web_sm's `ner` carries its own tok2vec, so the shared tok2vec,
# tagger, parser, attribute ruler and lemmatizer are pure cost here (measured: NER alone runs
# 2.5x faster than the full pipeline with identical entities). Keywords use token norms.
_KEEP = ("ner",)

_WORD = re.compile(r"[a-z][a-z'\-]*[a-z]")


def load_nlp(model: str) -> Language:
    """Load the installed spaCy package `model` with only the components enrichment needs.

    Call once at start-up and pass the result to `enrich_batch`; it never downloads anything.
    """
    info: dict[str, Any] = spacy.info(model)  # type: ignore[assignment]  # a package's meta
    exclude = [name for name in info["pipeline"] if name not in _KEEP]
    return spacy.load(model, exclude=exclude)


def _lead(body: str) -> str:
    """The body's first paragraph, at most `LEAD_CHARS` characters."""
    first = body.strip().split("\n\n", 1)[0]
    return first[:LEAD_CHARS]


def _bounded(body: str, limit: int | None) -> str:
    """The body's first `limit` characters, cut at the last space so no word is split."""
    if limit is None or len(body) <= limit:
        return body
    cut = body.rfind(" ", 0, limit)
    return body[: cut if cut > limit // 2 else limit]


# A headline is a line (the clean stage cuts longer ones to 500 characters); longer is not a
# headline, and spaCy refuses a text over its `max_length` for the whole batch it is in.
MAX_HEADLINE_CHARS = 2_000


def admissible(article: CleanArticleV1, max_body_chars: int) -> CleanArticleV1:
    """`article`, or InvalidArticle for what no clean stage makes: `headline_too_long`, or
    `body_too_large` (over the clean stage's own `max_body_chars`)."""
    if len(article.body) > max_body_chars:
        raise InvalidArticle(
            "body_too_large", f"{len(article.body)} > {max_body_chars} characters"
        )
    if len(article.headline) > MAX_HEADLINE_CHARS:
        raise InvalidArticle(
            "headline_too_long", f"{len(article.headline)} > {MAX_HEADLINE_CHARS} characters"
        )
    return article


def ner_text(article: CleanArticleV1, body_chars: int | None = NER_BODY_CHARS) -> str:
    """The text the NER reads: headline, a blank line, then a bounded slice of the body."""
    return f"{article.headline}\n\n{_bounded(article.body, body_chars)}"


def keyword_token(token_text: str) -> str | None:
    """A token's keyword form (lower case, simple plural stripped), or None for a non-word."""
    word = without_possessive(token_text)
    if not _WORD.fullmatch(word):
        return None
    return singular(word)


def _keywords(doc: Doc, headline_chars: int) -> tuple[str, ...]:
    """The article's top terms: non-stopword words, headline words counted twice.

    Words inside a named entity count too ("Putin" is a fine keyword); numbers, punctuation
    and stopwords do not. Ties break alphabetically so the output is deterministic.
    """
    counts: Counter[str] = Counter()
    for token in doc:
        if token.is_stop or not token.is_alpha or len(token) < 3 or token.lower_ in NEWS_WORDS:
            continue
        word = keyword_token(token.text)
        if word is None or word in NEWS_WORDS:
            continue
        counts[word] += 2 if token.idx < headline_chars else 1
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    return tuple(word for word, _ in ranked[:KEYWORDS])


# Words that make a one-word organisation part of an office's title instead of a name: the
# small model tags "State" in "Secretary of State John Kerry" and "Interior" in "Interior
# Secretary Ken Salazar" as organisations, and they would lead a story's entities.
_OFFICE_WORDS = frozenset({"secretary", "minister", "ministers", "secretaries"})


def _names_an_office(ent: Span) -> bool:
    """Whether a one-word ORG mention is the department in an office's title ("Secretary of
    [the] State", "Interior Secretary"), not an organisation the copy names."""
    if ent.label_ != "ORG" or len(ent) != 1:
        return False
    doc = ent.doc
    if ent.end < len(doc) and doc[ent.end].lower_ in _OFFICE_WORDS:
        return True
    before = [t.lower_ for t in doc[max(0, ent.start - 3) : ent.start]]
    if before[-2:] == ["of", "the"]:
        before = before[:-1]
    return len(before) >= 2 and before[-1] == "of" and before[-2] in _OFFICE_WORDS


def _enrich_one(article: CleanArticleV1, doc: Doc, now: datetime) -> EnrichedArticleV1:
    headline_chars = len(article.headline)
    lead_start = headline_chars + 2
    lead_end = lead_start + len(_lead(article.body))
    mentions: list[Mention] = []
    for ent in doc.ents:
        if _names_an_office(ent):
            continue
        normalised = normalise_mention(ent.text, ent.label_)
        if normalised is None:
            continue
        name, label = normalised
        in_headline = ent.start_char < headline_chars
        in_lead = lead_start <= ent.start_char < lead_end
        mentions.append(Mention(name, label, in_headline, in_lead))
    if article.dateline_place:
        # The dateline names where the story happened even when the text never repeats it.
        normalised = normalise_mention(article.dateline_place, "GPE")
        if normalised is not None:
            mentions.append(Mention(normalised[0], normalised[1], False, True))
    canonical = canonicalise(mentions)
    # `doc` read the headline, a blank line and the body's first `read` characters (`ner_text`).
    read = len(doc.text) - lead_start
    unread = article.body[read:]
    again = mentions_beyond(canonical, unread)
    entities = tuple(
        sorted(
            (
                EntityV1(text=name, label=label, count=n + again[name], in_headline=h, in_lead=lead)
                for name, label, n, h, lead in canonical
            ),
            key=lambda e: (-e.count, not e.in_headline, e.text),
        )
    )
    keywords = _keywords(doc, headline_chars)
    if not entities and not keywords:
        raise InvalidArticle("no_content", f"article {article.id}: no entity and no word")
    return EnrichedArticleV1(
        **article.model_dump(), entities=entities, keywords=keywords, enriched_at=now
    )


def enrich_batch(
    articles: Sequence[CleanArticleV1],
    nlp: Language,
    *,
    body_chars: int | None = NER_BODY_CHARS,
    now: datetime | None = None,
) -> list[EnrichedArticleV1 | InvalidArticle]:
    """Run the NER over a batch of clean articles (one `nlp.pipe`) and return them enriched,
    in input order.

    Each article gets its canonical entities of the story labels (PERSON, ORG, GPE, LOC, NORP,
    EVENT, FAC, PRODUCT, WORK_OF_ART, LAW; dates and numbers drop), with mention counts and
    whether the headline or the lead names them, plus the dateline place as a GPE, and its
    top keywords. `body_chars` bounds the body slice the NER reads (None: all of it).

    A withdrawn article (a kill) is not read: it comes out with no entities and no keywords.
    An article with neither an entity nor a single word (e.g. a body of digits and
    punctuation) is unprocessable: its place in the result holds InvalidArticle("no_content")
    instead, so one bad article does not cost the rest of the batch.
    """
    now = now or datetime.now(UTC)
    # A kill (withdrawn) has no copy to read: it passes with no entities and no keywords, its
    # language untouched, so it reaches the cluster shard that holds its story.
    readable = [article for article in articles if not article.withdrawn]
    texts = [ner_text(article, body_chars) for article in readable]
    docs = iter(nlp.pipe(texts, batch_size=max(1, len(texts))) if texts else ())
    results: list[EnrichedArticleV1 | InvalidArticle] = []
    for article in articles:
        if article.withdrawn:
            results.append(EnrichedArticleV1(**article.model_dump(), enriched_at=now))
            continue
        try:
            results.append(_enrich_one(article, next(docs), now))
        except InvalidArticle as error:
            results.append(error)
    return results
