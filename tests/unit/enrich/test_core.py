"""enrich_batch on short literal articles, with the real small English model."""

from datetime import UTC, datetime

from spacy.language import Language

from schemas.articles import CleanArticleV1, EnrichedArticleV1, EntityV1
from services.enrich.core import enrich_batch, ner_text
from services.errors import InvalidArticle

NOW = datetime(2016, 3, 24, 18, 0, tzinfo=UTC)


def _article(article_id: str, headline: str, body: str, **facts: object) -> CleanArticleV1:
    return CleanArticleV1(
        id=article_id, source="test-wire", headline=headline, body=body, language="en",
        ingested_at=NOW, **facts,  # type: ignore[arg-type]  # literal test facts
    )


SEED_LIKE = _article(
    "kerry-putin",
    "Putin hopes Kerry's visit would narrow gaps between Russia, US",
    "Russian President Vladimir Putin on Thursday expressed hope that the visit of U.S. "
    "Secretary of State John Kerry will help narrow gaps between Moscow and Washington on "
    "Syria.\n\nPutin told Kerry that cooperation with the United States had made the Syrian "
    "truce possible. Kerry said the U.S. and Russia could solve serious problems together.",
    dateline_place="MOSCOW",
)


def _by_name(article: EnrichedArticleV1) -> dict[str, EntityV1]:
    return {entity.text: entity for entity in article.entities}


def test_name_variants_are_one_canonical_entity(nlp: Language) -> None:
    [enriched] = enrich_batch([SEED_LIKE], nlp, now=NOW)
    assert isinstance(enriched, EnrichedArticleV1)
    entities = _by_name(enriched)
    assert entities["Vladimir Putin"].label == "PERSON"
    assert entities["Vladimir Putin"].count >= 3
    assert entities["John Kerry"].label == "PERSON"
    assert entities["John Kerry"].count >= 3
    assert entities["United States"].count >= 3  # "US", "U.S." and "the United States"
    assert not {"Putin", "Kerry", "U.S.", "US", "the United States"} & set(entities)


def test_headline_and_lead_flags(nlp: Language) -> None:
    [enriched] = enrich_batch([SEED_LIKE], nlp, now=NOW)
    assert isinstance(enriched, EnrichedArticleV1)
    entities = _by_name(enriched)
    assert entities["Vladimir Putin"].in_headline and entities["Vladimir Putin"].in_lead
    assert entities["Russia"].in_headline
    assert not entities["Syria"].in_headline and entities["Syria"].in_lead


def test_dateline_place_is_a_place_entity(nlp: Language) -> None:
    [enriched] = enrich_batch([SEED_LIKE], nlp, now=NOW)
    assert isinstance(enriched, EnrichedArticleV1)
    moscow = _by_name(enriched)["Moscow"]  # "MOSCOW" from the dateline joins "Moscow"
    assert moscow.label == "GPE" and moscow.in_lead and moscow.count >= 2


def test_the_department_in_an_office_title_is_not_an_organisation(nlp: Language) -> None:
    article = _article(
        "offices",
        "Secretary of State John Kerry meets Interior Secretary Ken Salazar",
        "Interior Secretary Ken Salazar and Commerce Secretary Gary Locke met Secretary of "
        "State John Kerry and the Secretary of the Interior. The Interior Department and "
        "Microsoft signed an agreement.",
    )
    # The model does tag the departments as organisations (so the test checks something).
    doc = nlp(ner_text(article))
    assert {"State", "Interior", "Commerce"} <= {e.text for e in doc.ents if e.label_ == "ORG"}
    [enriched] = enrich_batch([article], nlp, now=NOW)
    assert isinstance(enriched, EnrichedArticleV1)
    entities = _by_name(enriched)
    assert not {"State", "Interior", "Commerce"} & set(entities)
    assert {"John Kerry", "Ken Salazar", "Gary Locke"} <= set(entities)
    assert entities["Microsoft"].label == "ORG"


def test_keywords_are_content_words_most_salient_first(nlp: Language) -> None:
    [enriched] = enrich_batch([SEED_LIKE], nlp, now=NOW)
    assert isinstance(enriched, EnrichedArticleV1)
    assert {"putin", "kerry"} <= set(enriched.keywords[:3])
    assert "russia" in enriched.keywords
    assert not {"the", "on", "said", "will"} & set(enriched.keywords)


def test_an_article_without_words_is_rejected_alone(nlp: Language) -> None:
    empty = _article("digits", "12:30", "1 2 3 -- 4.5 %")
    results = enrich_batch([empty, SEED_LIKE], nlp, now=NOW)
    assert isinstance(results[0], InvalidArticle) and results[0].reason == "no_content"
    assert isinstance(results[1], EnrichedArticleV1) and results[1].id == "kerry-putin"


def test_the_ner_reads_a_bounded_body_slice() -> None:
    article = _article("long", "Headline here", "word " * 5000)
    text = ner_text(article, 2000)
    assert text.startswith("Headline here\n\n") and len(text) <= len("Headline here\n\n") + 2000
    assert ner_text(article, None).endswith("word ")


def test_names_repeated_beyond_the_slice_still_count(nlp: Language) -> None:
    # The NER reads only the first 120 body characters; the tail names Putin twice more (once
    # by surname) and someone the slice never mentioned.
    top = "Russian President Vladimir Putin met John Kerry in Moscow on Thursday."
    tail = (" Filler words follow here to pass the slice." * 3
            + " Putin said talks went well. Vladimir Putin smiled. Angela Merkel was not there.")
    article = _article("sliced", "Putin meets Kerry", top + tail)
    [sliced] = enrich_batch([article], nlp, body_chars=len(top), now=NOW)
    [full] = enrich_batch([article], nlp, body_chars=None, now=NOW)
    assert isinstance(sliced, EnrichedArticleV1) and isinstance(full, EnrichedArticleV1)
    assert _by_name(sliced)["Vladimir Putin"].count == _by_name(full)["Vladimir Putin"].count == 4
    assert "Angela Merkel" not in _by_name(sliced)  # first named after the slice: not seen
    assert "Angela Merkel" in _by_name(full)
    counts = [entity.count for entity in sliced.entities]
    assert counts == sorted(counts, reverse=True)  # most mentioned first, repeats included


def test_a_kill_passes_unread_with_its_language(nlp: Language) -> None:
    kill = _article("kerry-putin", "Putin hopes", "[withdrawn by the sender]", withdrawn=True,
                    revision=3)
    results = enrich_batch([kill, SEED_LIKE], nlp, now=NOW)
    killed, enriched = results
    assert isinstance(killed, EnrichedArticleV1) and isinstance(enriched, EnrichedArticleV1)
    assert killed.withdrawn and killed.revision == 3 and killed.language == "en"
    assert killed.entities == () and killed.keywords == ()
    assert enriched.entities  # the article beside it still read
