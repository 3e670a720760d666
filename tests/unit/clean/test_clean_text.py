"""The plain-text path: furniture lines, readers' comments, the body's language, and duplicate
fingerprints that stay comparable with the ones already stored."""

import re
import sys
from datetime import UTC, datetime

import pytest

from schemas.articles import RawArticleV1
from services.clean import dedup
from services.clean.core import clean
from services.clean.memory import SourceMemory
from services.clean.text import (
    _FOOTER_HINTS,
    is_furniture,
    line_key,
    line_keys,
    split_page,
    words,
)

NOW = datetime(2016, 3, 26, tzinfo=UTC)
PARAGRAPHS = [
    "The harbour authority reopened the northern quay on Monday, three weeks after a storm "
    "tore loose two cranes and left a container ship wedged against the breakwater.",
    "Dock workers said the first ferry of the morning left on time, although the cafe by the "
    "gate was still boarded up and the car park had not yet been cleared of debris.",
    "The authority said it would decide by the end of the month whether the southern quay, "
    "where the ship's hull had cracked the concrete, could be repaired or would be rebuilt.",
    "Fishermen, who had been landing their catch at a beach thirty miles along the coast, "
    "were among the first to return, and the fish market opened an hour after the quay did.",
]


def _clean(text: str, article_id: str = "page", source: str = "harbour-news") -> str:
    raw = RawArticleV1(id=article_id, source=source, text=text, ingested_at=NOW)
    return clean(raw, SourceMemory({}, {}), max_body_chars=100_000, now=NOW).body


@pytest.mark.parametrize(
    "line",
    [
        "Sign up",
        "Editor's Picks",
        "Back to top",
        "You may also like",
        "All rights reserved",
        "World | Sport | Business",
        "© 2016 Harbour News",
        "Share on Facebook",
        "Subscribe to our newsletter",
    ],
)
def test_menu_buttons_and_credits_read_as_furniture(line: str) -> None:
    assert is_furniture(line)


@pytest.mark.parametrize(
    "line", ["Ferries run again", "The quay reopened on Monday", "Fish market opens early"]
)
def test_short_news_lines_do_not_read_as_furniture(line: str) -> None:
    assert not is_furniture(line)


def test_readers_comments_after_the_article_are_not_body() -> None:
    comments = [
        "jbaxt says:",
        "About time too, the ferry has been the only way to the island for three weeks and "
        "the queues at the beach landing stage were a disgrace to the whole county council.",
        "Catherine on March 25, 2016 at 5:23 pm said:",
        "My brother works on the quay and says the southern side will never be safe again, "
        "whatever the authority decides at the end of the month about repairing it.",
    ]
    body = _clean("\n".join(["Harbour News", *PARAGRAPHS, *comments]))
    assert body.split("\n\n") == PARAGRAPHS


def test_a_related_stories_tail_is_not_body() -> None:
    tail = [
        "Related stories",
        "Storm leaves container ship wedged against the breakwater",
        "Council asks for emergency funds to rebuild the sea wall",
    ]
    body = _clean("\n".join([*PARAGRAPHS, *tail]))
    assert body.split("\n\n") == PARAGRAPHS


def test_the_language_is_the_bodys_when_the_longest_line_is_an_english_notice() -> None:
    # The page's longest line, which the classifier samples for the page's language, is a
    # cookie notice in English; the article is German.
    notice = (
        "We use cookies and similar technologies to improve your experience of our website, to "
        "measure how it is used and to show you advertising that is relevant to you; by "
        "continuing to browse you agree to their use as set out in our cookie policy and our "
        "privacy policy, which you can read at any time from the link at the foot of each page."
    )
    german = [
        "Die Hafenbehörde hat den nördlichen Kai am Montag wieder geöffnet, drei Wochen nachdem "
        "ein Sturm zwei Kräne losgerissen und ein Containerschiff gegen die Mole gedrückt hatte.",
        "Die Hafenarbeiter sagten, die erste Fähre des Morgens sei pünktlich abgefahren, obwohl "
        "das Café am Tor noch mit Brettern vernagelt und der Parkplatz nicht geräumt war.",
    ]
    raw = RawArticleV1(
        id="de-page", source="hafen", text="\n".join([notice, *german]), ingested_at=NOW
    )
    article = clean(raw, SourceMemory({}, {}), max_body_chars=100_000, now=NOW)
    assert article.language == "de"
    assert "cookie" not in article.body


# The fingerprint an earlier release stored for the harbour story's first two paragraphs (its
# MinHash, affine32, 64 permutations). Stored fingerprints outlive releases in the changelog:
# a change to shingling or hashing must not silently stop them matching.
STORED_FINGERPRINT = [
    33353778, 115325039, 19005656, 113658375, 28811145, 110911240, 17943561, 98005320,
    106495128, 52456860, 39706526, 6560264, 67895694, 201164555, 3907936, 147046619, 65193367,
    88899151, 47492576, 123684416, 18539562, 26607731, 11899041, 16300411, 60759240, 123441962,
    6606731, 59406485, 33290910, 225296565, 58184075, 45078969, 45327926, 12892216, 46695920,
    10001274, 149586310, 72568736, 206409754, 50790589, 85182911, 109580655, 276036442,
    214891615, 5907682, 15487795, 96139161, 186318347, 60554268, 18630672, 32642022, 28296955,
    12752593, 126397640, 88273812, 106164975, 9092579, 70118298, 234965844, 93040554, 64826477,
    39110289, 22213929, 187704572,
]


def test_a_republished_copy_matches_a_fingerprint_stored_by_an_earlier_release() -> None:
    memory = SourceMemory(
        templates={},
        fingerprints={"first": {"minhash": STORED_FINGERPRINT, "duplicate_of": None}},
    )
    page = "\n".join(["Home", "World", *PARAGRAPHS[:2], "Share", "Tweet"])
    raw = RawArticleV1(id="copy", source="other-outlet", text=page, ingested_at=NOW)
    article = clean(raw, memory, max_body_chars=100_000, now=NOW)
    assert article.duplicate_of == "first"
    assert memory.fingerprints["other-outlet/copy"]["minhash"] == STORED_FINGERPRINT


MENU = ["Home", "World", "Sport", "Share on Facebook", "Contact us"]


def test_a_one_sentence_paragraph_ending_the_article_is_body() -> None:
    closing = "Repairs start in May."
    body = _clean("\n".join(["Harbour News", *PARAGRAPHS, closing, *MENU]))
    assert body.endswith(closing)


def test_a_headline_after_the_article_is_not_body() -> None:
    teaser = "Ferry timetable changes for the winter season"
    body = _clean("\n".join(["Harbour News", *PARAGRAPHS, teaser, *MENU]))
    assert teaser not in body
    assert body.endswith(PARAGRAPHS[-1])


@pytest.mark.parametrize(
    "footer",
    [
        "© 2016 Harbour News Ltd. All rights reserved.",
        "COPYRIGHT 2016 HARBOUR NEWS LTD.",
        "Harbour News Ltd. ALL RIGHTS RESERVED",
    ],
)
def test_what_follows_the_legal_footer_is_not_body(footer: str) -> None:
    other_story = [
        "A second story from elsewhere on the site: the county council voted on Tuesday to "
        "raise parking charges in the town centre, despite a petition signed by shopkeepers.",
        "Councillors said the money would pay for the new bus station, which has been delayed "
        "twice since the plans were first put to residents at a public meeting in the spring.",
        "Shopkeepers said the charges would drive customers to the retail park on the ring "
        "road, where parking is free, and that several of them would not renew their leases.",
        "The council's leader said she understood their concerns and would meet them next "
        "week, but that the vote had been taken and the charges would apply from the new year.",
        "A spokesman for the shopkeepers' association said it would ask for a judicial review "
        "of the decision, and that it had already raised half of the money it would need.",
    ]
    page = [
        "Harbour News", *PARAGRAPHS, footer, *MENU, *other_story,
    ]
    body = _clean("\n".join(page))
    assert body.split("\n\n") == PARAGRAPHS


def test_a_photo_credit_inside_the_article_does_not_end_it() -> None:
    page = ["Harbour News", *PARAGRAPHS[:2], "© Getty Images", *PARAGRAPHS[2:], *MENU]
    assert _clean("\n".join(page)).split("\n\n") == PARAGRAPHS


def test_footer_hints_hold_for_every_character_the_footer_pattern_matches() -> None:
    # The footer pattern is only tried on lines whose lower case holds one of the hints; that
    # is exact only while each hint letter matches, under IGNORECASE, nothing but characters
    # that lower-case to it (a newer Unicode or `re` could break it).
    letters = set("".join(_FOOTER_HINTS)) - set("()")
    for letter in letters:
        pattern = re.compile(letter, re.IGNORECASE)
        strays = [
            char
            for char in map(chr, range(sys.maxunicode + 1))
            if pattern.fullmatch(char) and char.lower() != letter
        ]
        assert strays == [], letter



def test_the_fingerprint_is_of_the_body_as_published() -> None:
    # The fingerprint reuses the words the line classifier found; lines the repairs changed
    # (a zero-width space joining a word, glued sentences, curly quotes) must count as repaired.
    paragraphs = [
        "The harbour authority re\u200bopened the northern quay on Monday.Three weeks after a "
        "storm tore loose two cranes, the \u201cfirst\u201d ferry left on time from the quay.",
        # A word-final capital sigma lower-cases by its context ("ς", not "σ").
        PARAGRAPHS[1] + " A sign on the gate of the quay still read ΛΙΜΕΝΑΣ ΚΛΕΙΣΤΟΣ for them.",
        *PARAGRAPHS[2:],
    ]
    memory = SourceMemory({}, {})
    raw = RawArticleV1(
        id="page", source="harbour-news", text="\n".join(["Harbour News", *paragraphs, *MENU]),
        ingested_at=NOW,
    )
    body = clean(raw, memory, max_body_chars=100_000, now=NOW).body
    assert "reopened" in body and "Monday. Three" in body and "ΚΛΕΙΣΤΟΣ" in body
    expected = dedup.signature(words(body.lower())).hashvalues.tolist()
    assert memory.fingerprints["harbour-news/page"]["minhash"] == expected


def test_every_blank_but_the_space_makes_a_line_unprintable() -> None:
    # `split_page` keeps a printable line as it is when it has no doubled, leading or trailing
    # space; that is only right while no other blank counts as printable.
    blanks = [char for char in map(chr, range(sys.maxunicode + 1)) if char.isspace()]
    assert [char for char in blanks if char.isprintable()] == [" "]


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("Harbour  News", "Harbour News"),
        (" Harbour News", "Harbour News"),
        ("Harbour News\u00a0", "Harbour News"),
        ("Harbour\tNews", "Harbour News"),
        ("Harbour\u2009News", "Harbour News"),
        ("Harbour News", "Harbour News"),
    ],
)
def test_split_page_collapses_every_kind_of_blank(line: str, expected: str) -> None:
    assert split_page(f"{line}\n \n\u3000\nNext") == [expected, "Next"]


def test_line_keys_are_the_keys_templates_were_stored_under() -> None:
    lines = ["Share on Facebook", "ÉDITION DU SOIR", "Ο ΛΙΜΕΝΑΣ", *PARAGRAPHS]
    assert line_keys(lines) == [line_key(line) for line in lines]
    # As stored by earlier releases: a changed key would forget every source's template.
    assert line_keys(["Share on Facebook"]) == ["dba9911a2c739fc1"]
