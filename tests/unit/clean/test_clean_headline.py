"""A headline is never a timestamp, dateline, byline, section name or site name."""

from datetime import UTC, datetime

import pytest

from schemas.articles import RawArticleV1
from services.clean import facts
from services.clean.core import extract

BODY = (
    "Russian President Vladimir Putin met US Secretary of State John Kerry in Moscow on "
    "Thursday to discuss the war in Syria and the fragile ceasefire that has held since "
    "February, officials on both sides said after the talks ended late in the evening."
)


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("September 18th, 2013, 05:31 GMT", "timestamp"),
        ("Updated 3 hours ago", "timestamp"),
        ("Mon 24 Mar 2016 09.41 EDT", "timestamp"),
        ("Published on Thursday, March 24th", "timestamp"),
        ("MOSCOW (Reuters) -", "dateline"),
        ("MOSCOW, March 24 (Xinhua) --", "dateline"),
        ("(Xinhua)", "dateline"),
        ("By Jane Doe and John Roe, Reuters", "byline"),
        ("Written by Staff Reporter", "byline"),
        ("Home > World > Europe", "section"),
        ("World News Europe", "section"),
        ("WORLD NEWS", "section"),
        ("BBC News", "site"),
        ("www.bbc.co.uk", "site"),
    ],
)
def test_lines_that_are_not_headlines(line: str, reason: str) -> None:
    assert facts.not_a_headline(line, facts.site_name("www.bbc.co.uk")) == reason


@pytest.mark.parametrize(
    "line",
    [
        "Putin meets Kerry in Moscow to discuss Syria",
        "By the numbers: how the Syria talks went",
        "World leaders condemn attack on Syrian hospital",
        "Kerry arrives in Moscow for talks with Putin on March 24",
        "BBC journalists detained in Qatar while covering migrant workers",
        "CHARGERS' RECEIVER ARRESTED",
    ],
)
def test_headlines_are_headlines(line: str) -> None:
    assert facts.not_a_headline(line, facts.site_name("www.bbc.co.uk")) is None


def test_the_site_name_as_the_papers_initials() -> None:
    assert facts.site_name("www.nytimes.com") == "nytimes"
    assert facts.not_a_headline("The New York Times", "nytimes") == "site"
    assert facts.not_a_headline("The New York Times", None) is None


def _raw(copy: str, **fields: object) -> RawArticleV1:
    return RawArticleV1(
        id="1", source="www.example-news.com", ingested_at=datetime(2026, 12, 6, tzinfo=UTC),
        text=copy, **fields,
    )


def test_a_timestamp_first_line_is_not_the_headline() -> None:
    copy = "\n".join(["September 18th, 2013, 05:31 GMT", BODY, BODY.replace("Thursday", "Friday")])
    headline = extract(_raw(copy), frozenset(), max_body_chars=100_000).article.headline
    assert headline != "September 18th, 2013, 05:31 GMT"
    assert headline.startswith("Russian President Vladimir Putin met")


def test_the_headline_is_the_line_about_the_article_not_the_section_or_byline() -> None:
    copy = "\n".join([
        "Example News", "World > Europe", "Top stories from around the globe today",
        "Putin and Kerry discuss Syria ceasefire in Moscow", "By Jane Doe", "MOSCOW (Reuters) -",
        BODY, BODY.replace("Thursday", "Friday"),
    ])
    headline = extract(_raw(copy), frozenset(), max_body_chars=100_000).article.headline
    assert headline == "Putin and Kerry discuss Syria ceasefire in Moscow"


def test_a_feed_title_that_is_a_timestamp_is_not_kept() -> None:
    copy = "\n".join(["Putin and Kerry discuss Syria ceasefire", BODY, BODY])
    raw = _raw(copy, title="September 18th, 2013, 05:31 GMT")
    article = extract(raw, frozenset(), max_body_chars=100_000).article
    assert article.headline == "Putin and Kerry discuss Syria ceasefire"
    # ...but it is the copy's time, when the feed gave none.
    assert article.published_at == datetime(2013, 9, 18, 5, 31, tzinfo=UTC)


@pytest.mark.parametrize(
    ("line", "published"),
    [
        ("September 18th, 2013, 05:31 GMT", datetime(2013, 9, 18, 5, 31, tzinfo=UTC)),
        ("1st March 2014", datetime(2014, 3, 1, tzinfo=UTC)),
        ("Posted on 22nd May, 2015 at 6:05 pm", datetime(2015, 5, 22, 18, 5, tzinfo=UTC)),
        ("The 21st Century Fox deal of 2013", None),
    ],
)
def test_dates_with_ordinal_days_are_read(line: str, published: datetime | None) -> None:
    assert facts.find_published_at([line], datetime(2026, 1, 1, tzinfo=UTC)) == published


@pytest.mark.parametrize(
    ("line", "stripped"),
    [
        ("May 2, 2013, 1:12 PM Lawyer: Lindsay Lohan checks into rehab.",
         "Lawyer: Lindsay Lohan checks into rehab."),
        ("21 July 2013 Last updated at 11:11 GMT Waitrose fire in Wellington",
         "Waitrose fire in Wellington"),
        ("Updated: November 11, 2011 20:09 IST Navy foils pirate attack.",
         "Navy foils pirate attack."),
        ("On Monday, police said the road was closed.",
         "On Monday, police said the road was closed."),
        ("2013 was a good year for the company.", "2013 was a good year for the company."),
        ("5 people died in the blast.", "5 people died in the blast."),
        ("September 18th, 2013, 05:31 GMT", "September 18th, 2013, 05:31 GMT"),
    ],
)
def test_a_timestamp_opening_the_copy_is_not_part_of_the_headline(
    line: str, stripped: str
) -> None:
    assert facts.strip_time_prefix(line) == stripped


def test_copy_in_one_paragraph_under_a_timestamp_gets_its_first_sentence_as_headline() -> None:
    copy = "September 18th, 2013, 05:31 GMT An earthquake struck the coast of Mexico. " + BODY
    raw = _raw(copy, title="September 18th, 2013, 05:31 GMT")
    headline = extract(raw, frozenset(), max_body_chars=100_000).article.headline
    assert headline == "An earthquake struck the coast of Mexico."
