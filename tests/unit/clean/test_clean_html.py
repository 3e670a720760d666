"""HTML copy through the clean core: the article, its title and time; template paragraphs."""

from datetime import UTC, datetime

from schemas.articles import RawArticleV1
from services.clean.core import clean
from services.clean.memory import SourceMemory

NOW = datetime(2016, 3, 26, tzinfo=UTC)
PARAGRAPHS = [
    "MOSCOW (Reuters) - Russian President Vladimir Putin and U.S. Secretary of State John Kerry "
    "on Thursday credited cooperation between the two countries for progress in Syria.",
    "Speaking at the beginning of talks in Moscow, Kerry said the United States looked forward "
    "to making progress in peace talks in Geneva and to a political transition in Syria.",
    "The main Syrian opposition group wrapped up the latest round of indirect peace talks on "
    "Thursday by urging Russia to use its leverage on the government in Damascus.",
]


def _page(paragraphs: list[str]) -> str:
    body = "".join(f"<p>{paragraph}</p>" for paragraph in paragraphs)
    return (
        "<html><head><title>Putin, Kerry credit cooperation on Syria | Example News</title>"
        '<meta property="article:published_time" content="2016-03-24T18:30:00+00:00">'
        "</head><body><nav><ul><li><a href='/'>Home</a></li><li><a href='/w'>World</a></li>"
        "</ul></nav><article><h1>Putin, Kerry credit cooperation on Syria</h1>"
        f"{body}</article><footer><p>© 2016 Example News. All rights reserved.</p>"
        "<a href='/privacy'>Privacy policy</a></footer></body></html>"
    )


def test_html_gives_the_article_its_headline_dateline_and_time() -> None:
    raw = RawArticleV1(id="h1", source="example", html=_page(PARAGRAPHS), ingested_at=NOW)
    article = clean(raw, SourceMemory({}, {}), max_body_chars=10_000, now=NOW)
    assert article.body.split("\n\n") == PARAGRAPHS
    assert article.headline == "Putin, Kerry credit cooperation on Syria"
    assert (article.dateline_place, article.dateline_agency) == ("Moscow", "Reuters")
    assert article.published_at is not None and article.published_at.date().isoformat() == (
        "2016-03-24"
    )
    assert "rights reserved" not in article.body


def test_the_feeds_title_and_time_win_over_the_pages() -> None:
    published = datetime(2016, 3, 24, 12, 0, tzinfo=UTC)
    raw = RawArticleV1(id="h2", source="example", html=_page(PARAGRAPHS), title="Feed title",
                       published_at=published, ingested_at=NOW)
    article = clean(raw, SourceMemory({}, {}), max_body_chars=10_000, now=NOW)
    assert (article.headline, article.published_at) == ("Feed title", published)


def test_the_declared_article_body_when_trafilatura_finds_too_little() -> None:
    from services.clean import html

    body = " ".join(PARAGRAPHS)
    page = (
        '<html><head><script type="application/ld+json">'
        f'{{"@context": "https://schema.org", "@graph": [{{"@type": "WebPage"}},'
        f' {{"@type": "NewsArticle", "articleBody": "{body}"}}]}}</script></head>'
        "<body><div id='app'></div></body></html>"
    )
    assert html.declared_body(page) == [body]
    assert html.extract(page).lines == [body]
    microdata = (
        "<html><body><div itemprop='articleBody'>"
        + "".join(f"<p>{paragraph}</p>" for paragraph in PARAGRAPHS)
        + "</div></body></html>"
    )
    assert html.declared_body(microdata) == PARAGRAPHS
    assert html.declared_body("<html><body><p>No article here.</p></body></html>") == []


def test_a_control_character_by_reference_does_not_lose_the_article() -> None:
    # "&#x1;" parses into a character lxml then refuses to write: trafilatura gives nothing
    # for this page, and flattening it for the line model once raised ValueError.
    page = _page(PARAGRAPHS).replace(
        "</article>", "</article><div><div class='comment'>c</div>&#x1; tail</div>"
    )
    raw = RawArticleV1(id="h9", source="example", html=page, ingested_at=NOW)
    article = clean(raw, SourceMemory({}, {}), max_body_chars=10_000, now=NOW)
    assert all(paragraph in article.body for paragraph in PARAGRAPHS[1:])


def test_the_pages_title_and_date_come_from_its_meta_tags_json_ld_and_url() -> None:
    """The title: the meta tags', else JSON-LD's headline, else the page's `<title>`, trimmed and
    unescaped; the date: the published time the page declares, else the date in its URL."""
    from lxml.html import fromstring

    from services.clean.html import title_and_date

    declared = fromstring(
        "<html><head><meta property='og:title' content='Meta  title &amp; more'>"
        "<meta property='article:published_time' content='2016-03-24T10:00:00Z'>"
        '<script type="application/ld+json">{"@type": "NewsArticle", '
        '"headline": "Kerry meets Putin in Moscow"}</script></head>'
        "<body><p>Text</p></body></html>"
    )
    assert title_and_date(declared) == ("Meta title & more", "2016-03-24")
    from_json = fromstring(
        '<html><head><script type="application/ld+json">{"@context": "https://schema.org", '
        '"@type": "NewsArticle", '
        '"headline": "Kerry meets Putin in Moscow"}</script><title>Site | Page</title></head>'
        "<body><p>Text</p></body></html>"
    )
    assert title_and_date(from_json) == ("Kerry meets Putin in Moscow", None)
    plain = fromstring(
        "<html><head><title>  Talks &amp; more \n</title>"
        "<link rel='canonical' href='https://example.com/2016/03/25/talks.html'></head>"
        "<body><p>Text</p></body></html>"
    )
    assert title_and_date(plain) == ("Talks & more", "2016-03-25")
    broken = fromstring(
        "<html><head><meta property='og:title' content='From the meta tags'>"
        '<script type="application/ld+json">{"@type": [1, {"headline": 2}]}</script></head>'
        "<body><p>Text</p></body></html>"
    )
    assert title_and_date(broken)[0] == "From the meta tags"
