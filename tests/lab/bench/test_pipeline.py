"""The benchmark's pure parts: percentiles, the summary line, the article generator."""

import re
from datetime import UTC, datetime

import pytest

from lab.bench.pipeline import TARGET_WORDS, compose_articles, percentile, summary_line, word_count

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


def test_percentile_interpolates_like_numpy_linear() -> None:
    values = [15.0, 20.0, 35.0, 40.0, 50.0]
    assert percentile(values, 0) == 15.0
    assert percentile(values, 50) == 35.0
    assert percentile(values, 100) == 50.0
    assert percentile(values, 40) == pytest.approx(29.0)  # numpy.percentile(values, 40)
    assert percentile(values, 99) == pytest.approx(49.6)


def test_percentile_of_one_value_and_unsorted_input() -> None:
    assert percentile([7.0], 99) == 7.0
    assert percentile([3.0, 1.0, 2.0], 50) == 2.0


def test_percentile_refuses_nothing_and_out_of_range() -> None:
    with pytest.raises(ValueError):
        percentile([], 50)
    with pytest.raises(ValueError):
        percentile([1.0], 101)


def test_summary_line_format() -> None:
    line = summary_line(e2e=88.04, bare=101.2, p99_ms=734.4, rss_mb=612.7)
    assert line == "bench: e2e=88.0 bare=101.2 ratio=0.87 p99_ms=734 rss_mb=613"
    pattern = r"bench: e2e=[\d.]+ bare=[\d.]+ ratio=[\d.]+ p99_ms=\d+ rss_mb=\d+"
    assert re.fullmatch(pattern, line)


def test_summary_line_with_no_bare_figure_does_not_divide_by_zero() -> None:
    assert "ratio=0.00" in summary_line(e2e=5.0, bare=0.0, p99_ms=1.0, rss_mb=1.0)


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
