"""The HTML vote (services/clean/vote.py): trafilatura's paragraphs judged by readability,
jusText and the line model, each run for real on a literal page."""

from dataclasses import dataclass

import trafilatura
from trafilatura.utils import load_html

from services.clean import html, vote

ARTICLE = [
    "The city council voted on Tuesday to build a new bridge over the river, ending a debate "
    "that has lasted for more than ten years in the town, and the people who came to the "
    "meeting in the old hall on the square clapped when the result was read out to them.",
    "The mayor said that the bridge would be paid for by the state and that work on it could "
    "begin in the spring, if the weather allows it, and that the old crossing would stay open "
    "to cars and buses until the new one was ready for them.",
    "Residents who live near the old crossing have complained for years about the traffic "
    "that fills their streets every morning and evening, and they said that they were glad "
    "that the long wait was over at last for all of them.",
    "Some of them told the council that they were worried about the noise of the building "
    "work, which is expected to last for two years, and they asked the council to make sure "
    "that the trucks would not come through the town at night.",
    "The council will meet again next month to decide which of the three designs that were "
    "put forward by the engineers it will choose, and it has said that it will ask the people "
    "of the town what they think of each of them before it does.",
]
TEASER = "More from the newsroom: ten gadgets to buy before the holidays sell out"
SIDEBAR = f"<aside class='sidebar'><p><a href='/gadgets'>{TEASER}</a></p></aside>"
# Every voter counts; a paragraph needs one other voter (the shipped setting's rules, spelled
# out so these tests do not move when the lab chooses another setting).
EVERYWHERE = vote.VoteSetting(min_votes=1, guard_share=0.5, add_readability=True)


def _page(paragraphs: list[str], extra: str = "") -> str:
    body = "".join(f"<p>{paragraph}</p>" for paragraph in paragraphs)
    return (
        "<html><head><title>Council votes for a new bridge | Town Times</title></head><body>"
        "<nav><ul><li><a href='/'>Home</a></li><li><a href='/news'>News</a></li>"
        "<li><a href='/sport'>Sport</a></li></ul></nav>"
        f"<article><h1>Council votes for a new bridge</h1><div class='story-body'>{body}</div>"
        f"</article>{extra}<footer><p><a href='/about'>About us</a> | "
        "<a href='/contact'>Contact</a></p></footer></body></html>"
    )


def _voters(page: str) -> vote.Voters:
    return html.voters(page, load_html(page), "\n".join(ARTICLE), "Council votes for a new bridge")


def test_a_teaser_no_other_extractor_keeps_is_dropped() -> None:
    voters = _voters(_page(ARTICLE, SIDEBAR))
    teaser = vote.shingles(TEASER)
    for reading in (voters.readability, voters.justext, voters.line_model):
        assert reading is not None and not reading.keeps(teaser, 0.5)
    assert vote.vote([*ARTICLE, TEASER], voters, EVERYWHERE) == ARTICLE
    assert vote.vote([*ARTICLE, TEASER], voters, vote.SHIPPED) == ARTICLE


def test_a_paragraph_one_other_extractor_keeps_stays() -> None:
    # The teaser inside the article's own text block: readability keeps it with the story.
    voters = _voters(_page([*ARTICLE, TEASER]))
    assert voters.readability is not None
    assert voters.readability.keeps(vote.shingles(TEASER), 0.5)
    assert vote.vote([*ARTICLE, TEASER], voters, EVERYWHERE) == [*ARTICLE, TEASER]


def test_the_guard_keeps_trafilatura_whole_when_the_vote_would_drop_most_of_it() -> None:
    # trafilatura's text is mostly a paragraph none of the others finds on the page: dropping
    # it would drop more than half of what trafilatura read, so nothing is dropped.
    unseen = " ".join(["A long passage that the other extractors never read on this page."] * 12)
    paragraphs = [ARTICLE[0], unseen]
    voters = _voters(_page(ARTICLE))
    guarded = vote.VoteSetting(min_votes=1, guard_share=0.5, add_readability=False)
    assert vote.vote(paragraphs, voters, guarded) == paragraphs
    # The guard is what kept it: allowed to drop nine tenths, the vote drops the paragraph.
    loose = vote.VoteSetting(min_votes=1, guard_share=0.9, add_readability=False)
    assert vote.vote(paragraphs, voters, loose) == [ARTICLE[0]]


def test_a_paragraph_only_readability_found_is_added_in_its_place() -> None:
    voters = _voters(_page(ARTICLE))
    missing_third = ARTICLE[:2] + ARTICLE[3:]
    assert vote.vote(missing_third, voters, EVERYWHERE) == ARTICLE
    no_additions = vote.VoteSetting(min_votes=1, guard_share=0.5, add_readability=False)
    assert vote.vote(missing_third, voters, no_additions) == missing_third


@dataclass(frozen=True)
class _Readings:
    readability: vote.Reading | None
    justext: vote.Reading | None
    line_model: vote.Reading
    declared: vote.Reading


def test_a_readability_only_paragraph_needs_both_jusText_and_the_line_model() -> None:
    extra = "A caption under the photograph of the bridge, as the engineers drew it last year."
    readability = vote.Reading([*ARTICLE, extra])
    with_extra, without = vote.Reading([*ARTICLE, extra]), vote.Reading(ARTICLE)
    nothing = vote.Reading([])
    only_justext = _Readings(readability, with_extra, without, nothing)
    only_lines = _Readings(readability, without, with_extra, nothing)
    both = _Readings(readability, with_extra, with_extra, nothing)
    assert vote.vote(ARTICLE, only_justext, EVERYWHERE) == ARTICLE
    assert vote.vote(ARTICLE, only_lines, EVERYWHERE) == ARTICLE
    assert vote.vote(ARTICLE, both, EVERYWHERE) == [*ARTICLE, extra]


def test_readability_failing_on_hostile_markup_abstains_and_trafilatura_stands() -> None:
    # A control character by reference: lxml's parser lets it in, then refuses to write it
    # when readability drops the "comment" box before it and moves its tail.
    page = _page(ARTICLE, "<div><p>x</p><div class='comment'>c</div>&#x1; tail</div>")
    voters = _voters(page)
    assert voters.readability is None
    assert vote.vote([*ARTICLE, TEASER], voters, EVERYWHERE) == [*ARTICLE, TEASER]
    # trafilatura cannot read this page either: extract() falls back to the flattened page,
    # which is read without writing to the tree (writing the line breaks in raised ValueError).
    extracted = html.extract(page)
    assert extracted.flattened is not None
    assert all(paragraph in extracted.flattened for paragraph in ARTICLE)


def test_extract_runs_the_vote_on_trafilaturas_paragraphs() -> None:
    page = _page(ARTICLE, SIDEBAR)
    document = trafilatura.bare_extraction(
        load_html(page), include_comments=False, favor_precision=True, with_metadata=True,
        fast=True,
    )
    assert document is not None and not isinstance(document, dict) and document.text
    trafilatura_lines = [line for line in document.text.splitlines() if line.strip()]
    extracted = html.extract(page).lines
    voted = vote.vote(trafilatura_lines, _voters(page), vote.SHIPPED)
    assert extracted == voted
    assert extracted[-len(ARTICLE):] == ARTICLE


def test_the_jusText_voter_makes_the_paragraphs_jusText_itself_makes() -> None:
    """The paragraph maker's own walk of the tree gives what jusText's lxml.sax walk gives:
    the same paragraphs, texts, link characters, tag counts and element paths, also around
    comments, processing instructions, namespaced elements and a <br><br> break."""
    import lxml.html
    from justext.core import ParagraphMaker

    page = lxml.html.fromstring(
        "<html><body><!-- note -->after the note<p>One <a href='/x'>linked words</a> two<br>"
        "three<br><br>four</p><?render now?>after the instruction<svg "
        "xmlns='http://www.w3.org/2000/svg'><text>drawn</text></svg> tail <h2>A heading</h2>"
        "<div>outer <span>inner</span> <fb:like>liked</fb:like> end</div>"
        f"{SIDEBAR}<p>{ARTICLE[0]}</p></body></html>"
    )

    def readings(paragraphs: list) -> list[tuple]:
        return [
            (p.dom_path, p.text, p.chars_count_in_links, p.tags_count, p.is_heading)
            for p in paragraphs
        ]

    ours = readings(vote._ParagraphMaker.make_paragraphs(page))
    assert ours == readings(ParagraphMaker.make_paragraphs(page))
    # A <br><br> starts a paragraph; the note's and the instruction's tails are read.
    assert ours[:3] == [
        ("html.body", "after the note", 0, 0, False),
        ("html.body.p", "One linked words two three", len("linked words"), 2, False),
        ("html.body.p.br", "four", 0, 0, False),
    ]
    assert ("html.body.h2", "A heading", 0, 0, True) in ours
