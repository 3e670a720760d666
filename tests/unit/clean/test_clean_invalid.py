"""Each reason the clean core rejects copy for."""

from datetime import UTC, datetime

import pytest

from schemas.articles import RawArticleV1
from services.clean.core import clean
from services.clean.memory import SourceMemory
from services.errors import InvalidArticle

NOW = datetime(2016, 3, 26, tzinfo=UTC)
SENTENCE = (
    "The minister said on Thursday that the talks had been useful and that both sides would "
    "meet again in Geneva next month to discuss the details of the agreement. "
)


def _reason(text: str | None = None, html: str | None = None, max_body_chars: int = 10_000) -> str:
    raw = RawArticleV1(id="x", source="wire", text=text, html=html, ingested_at=NOW)
    with pytest.raises(InvalidArticle) as caught:
        clean(raw, SourceMemory({}, {}), max_body_chars=max_body_chars)
    return caught.value.reason


def test_only_page_furniture_is_empty_after_cleaning() -> None:
    assert _reason("Share\nTweet\nSubscribe\nSign in\nMenu\n© 2016 Example\n") == (
        "empty_after_cleaning"
    )


def _paragraphs(count: int) -> str:
    return "\n".join(f"{SENTENCE}It was meeting number {n} of the year." for n in range(count))


def test_a_body_over_the_limit_is_too_large() -> None:
    assert _reason(_paragraphs(20), max_body_chars=1000) == "body_too_large"
    raw = RawArticleV1(id="x", source="wire", text=_paragraphs(20), ingested_at=NOW)
    assert len(clean(raw, SourceMemory({}, {}), max_body_chars=10_000).body) > 1000


def test_copy_far_over_the_limit_is_refused_before_parsing() -> None:
    assert _reason("x" * 2_000_001, max_body_chars=100_000) == "body_too_large"


def test_binary_junk_is_undecodable() -> None:
    junk = bytes(range(256)).decode("latin-1") * 20
    assert _reason(SENTENCE + junk) == "undecodable"
    assert _reason(SENTENCE + "\ufffd" * 400) == "undecodable"


def test_a_body_without_letters_has_no_language() -> None:
    # Only an HTML article can be all figures: a flattened page's figures never read as body.
    figures = " ".join(f"{n * 37 % 1000}.{n % 10}" for n in range(60))
    page = f"<html><body><article><p>{figures}</p><p>{figures[::-1]}</p></article></body></html>"
    assert _reason(html=page) == "no_language"


def test_an_html_page_without_an_article_is_empty_after_cleaning() -> None:
    assert _reason(html="<html><body><nav><a href='/'>Home</a></nav></body></html>") == (
        "empty_after_cleaning"
    )


def test_a_one_sentence_brief_is_an_article_not_empty() -> None:
    brief = (
        "Lindsay Lohan checked into the Betty Ford Center in Rancho Mirage early on Friday, "
        "her spokesman said, hours before a judge's deadline"
    )
    article = clean(
        RawArticleV1(id="brief", source="wire", text=f"Menu\n{brief}\nShare", ingested_at=NOW),
        SourceMemory({}, {}),
        max_body_chars=10_000,
    )
    assert article.body == brief


def test_a_one_line_flash_is_an_article_but_a_lone_button_is_not() -> None:
    flash = "The parliament election is over in Turkmenistan."
    article = clean(
        RawArticleV1(id="flash", source="wire", text=flash, ingested_at=NOW),
        SourceMemory({}, {}),
        max_body_chars=10_000,
    )
    assert article.body == flash
    with pytest.raises(InvalidArticle, match="empty_after_cleaning"):
        clean(
            RawArticleV1(id="button", source="wire", text="Share this story", ingested_at=NOW),
            SourceMemory({}, {}),
            max_body_chars=10_000,
        )
