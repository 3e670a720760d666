"""The benchmark's article generator: fresh ids, wire length, real text and a headline."""

from datetime import UTC, datetime

from lab.bench.articles import TARGET_WORDS, compose_articles, word_count

# Literal copy: one short wire item, one long feature of several paragraphs, one without title.
SHORT = ("Kerry meets Putin in Moscow", "John Kerry met Vladimir Putin in Moscow on Thursday. "
         "They talked about Syria for four hours.")
LONG = ("", "\n\n".join(
    f"Paragraph {n} says the council voted again. It met in Brussels on day {n}. "
    "Ministers argued about the budget, the border and the weather for many hours."
    for n in range(80)
))
UNTITLED = ("", "The storm hit the coast at dawn. Roads closed and schools shut. " * 12)
COPY = [SHORT, LONG, UNTITLED]


def test_articles_have_fresh_ids_per_run_and_spread_over_sources() -> None:
    first = compose_articles(COPY, 50, run="a")
    second = compose_articles(COPY, 50, run="b")
    ids = [article.id for article in first + second]
    assert len(set(ids)) == 100
    assert len({article.source for article in first}) > 10


def test_articles_are_about_the_target_length() -> None:
    articles = compose_articles(COPY, 60, run="a")
    lengths = [word_count(article.text) for article in articles]
    assert min(lengths) >= TARGET_WORDS
    # The last paragraph is cut at a sentence end: at most one sentence over the target.
    assert max(lengths) <= TARGET_WORDS + 30
    short = compose_articles(COPY, 20, run="a", target_words=100)
    assert all(100 <= word_count(article.text) <= 130 for article in short)


def test_articles_keep_real_text_and_a_headline() -> None:
    for article in compose_articles(COPY, 30, run="a"):
        assert article.title
        assert article.title in (SHORT[0], "Paragraph 0 says the council voted again.",
                                 "The storm hit the coast at dawn.")
        assert "\n\n" in article.text or word_count(article.text) >= TARGET_WORDS
        raw = article.raw(ingested_at=datetime.now(UTC))
        assert raw.id == article.id and raw.text == article.text
