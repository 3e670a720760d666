"""Canonical entities: aliases, titles, possessives and name variants within one article."""

import pytest

from schemas.articles import EntityLabel
from services.enrich.entities import Mention, canonicalise, mentions_beyond, normalise_mention


@pytest.mark.parametrize(
    ("mention", "label", "expected"),
    [
        ("U.S.", "ORG", ("United States", "GPE")),
        ("US", "GPE", ("United States", "GPE")),
        ("the United States", "GPE", ("United States", "GPE")),
        ("U.S.A.", "GPE", ("United States", "GPE")),
        ("U.N.", "GPE", ("United Nations", "ORG")),
        ("the UN", "ORG", ("United Nations", "ORG")),
        ("UK", "GPE", ("United Kingdom", "GPE")),
        ("Britain", "GPE", ("United Kingdom", "GPE")),
        ("Putin's", "PERSON", ("Putin", "PERSON")),
        ("Kerry’s", "PERSON", ("Kerry", "PERSON")),
        ("the Kremlin", "FAC", ("Kremlin", "ORG")),
        ("“Promises Treatment Center”", "ORG", ("Promises Treatment Center", "ORG")),
    ],
)
def test_alias_table_and_cleaning(mention: str, label: str, expected: tuple[str, str]) -> None:
    assert normalise_mention(mention, label) == expected


@pytest.mark.parametrize(("mention", "label"), [("Thursday", "DATE"), ("four", "CARDINAL"),
                                                ("the", "ORG"), ("'s", "PERSON")])
def test_other_labels_and_empty_names_drop(mention: str, label: str) -> None:
    assert normalise_mention(mention, label) is None


@pytest.mark.parametrize(
    ("mention", "expected"),
    [
        # Datelines and dates the NER ran a name into (seen in ECB+ copy).
        ("Gulf of Eden Sat Nov 12 2011", "Gulf of Eden"),
        ("DUI February 5, 2009 For", "DUI"),
        ("Mt Cook National Park 14:25 Sun Sep", "Mt Cook National Park"),
        ("Watergate July 28, 2004", "Watergate"),
        ("08.07.2012 Wladimir Klitschko", "Wladimir Klitschko"),
        # Names that only look like dates stay whole.
        ("Theresa May", "Theresa May"),
        ("April Ryan", "April Ryan"),
        ("Sun Microsystems", "Sun Microsystems"),
        ("2013 Academy Awards", "2013 Academy Awards"),
        ("March 4 Justice", "March 4 Justice"),
        ("Apollo 11", "Apollo 11"),
    ],
)
def test_dates_run_into_a_name_are_cut(mention: str, expected: str) -> None:
    assert normalise_mention(mention, "ORG") == (expected, "ORG")


@pytest.mark.parametrize(
    "mention", ["Sep 10, 2010", "16 Sep 2013", "4 November", "Fri Aug", "GMT", "IST", "EDT"]
)
def test_a_mention_that_is_only_a_date_or_time_zone_drops(mention: str) -> None:
    assert normalise_mention(mention, "LAW") is None


def _names(mentions: list[Mention]) -> dict[str, tuple[str, int]]:
    return {name: (label, n) for name, label, n, _, _ in canonicalise(mentions)}


def test_surnames_and_titles_join_the_full_name() -> None:
    mentions = [
        Mention("Vladimir Putin", "PERSON", False, True),
        Mention("President Vladimir Putin", "PERSON", False, False),
        Mention("Putin", "PERSON", True, False),
        Mention("John Kerry", "PERSON", False, True),
        Mention("Kerry", "GPE", False, False),  # the small model's surname-as-place slip
        Mention("Kerry", "PERSON", True, False),
        Mention("Moscow", "GPE", False, True),
    ]
    assert _names(mentions) == {
        "Vladimir Putin": ("PERSON", 3),
        "John Kerry": ("PERSON", 3),
        "Moscow": ("GPE", 1),
    }


def test_headline_overrun_and_case_variants_join() -> None:
    mentions = [
        Mention("John Kerry Meets", "PERSON", True, False),
        Mention("John Kerry", "PERSON", False, True),
        Mention("John Kerry", "PERSON", False, False),
        Mention("MOSCOW", "GPE", False, True),
        Mention("Moscow", "GPE", False, False),
    ]
    assert _names(mentions) == {"John Kerry": ("PERSON", 3), "Moscow": ("GPE", 2)}


def test_headline_overrun_is_cut_at_the_surname_the_copy_writes() -> None:
    # The copy names him only by surname, so no full "John Kerry" is there to join.
    mentions = [
        Mention("John Kerry Meets", "PERSON", True, False),
        Mention("Kerry", "PERSON", False, True),
        Mention("Kerry", "PERSON", False, False),
        Mention("Vladimir Putin", "PERSON", True, True),
    ]
    assert _names(mentions) == {"John Kerry": ("PERSON", 3), "Vladimir Putin": ("PERSON", 1)}
    # A headline name the copy does not back up stays as written.
    assert _names([Mention("Martin Luther King", "PERSON", True, False)]) == {
        "Martin Luther King": ("PERSON", 1)
    }


def test_a_surname_shared_by_two_people_joins_the_more_mentioned() -> None:
    mentions = [
        Mention("George Bush", "PERSON", False, False),
        Mention("George W. Bush", "PERSON", False, True),
        Mention("George W. Bush", "PERSON", False, False),
        Mention("Bush", "PERSON", False, False),
    ]
    names = _names(mentions)
    assert names["George W. Bush"] == ("PERSON", 3)
    assert names["George Bush"] == ("PERSON", 1)
    assert "Bush" not in names


def test_in_headline_and_in_lead_carry_over_to_the_canonical_name() -> None:
    entities = canonicalise(
        [Mention("Putin", "PERSON", True, False), Mention("Vladimir Putin", "PERSON", False, True)]
    )
    assert entities == [("Vladimir Putin", "PERSON", 2, True, True)]


def test_mentions_beyond_the_slice_match_full_names_and_surnames() -> None:
    entities: list[tuple[str, EntityLabel, int, bool, bool]] = [
        ("John Kerry", "PERSON", 2, True, True), ("Moscow", "GPE", 1, False, True),
        ("Syrian Observatory", "ORG", 1, False, False),
    ]
    unread = "Kerry flew on. John Kerry, in Moscow again, met Kerryville's mayor. Moscowite."
    assert mentions_beyond(entities, unread) == {"John Kerry": 2, "Moscow": 1}
    assert mentions_beyond(entities, "") == {}
