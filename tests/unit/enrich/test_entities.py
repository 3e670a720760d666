"""Canonical entities: aliases, titles, possessives and name variants within one article."""

import pytest

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
    entities = [("John Kerry", "PERSON", 2, True, True), ("Moscow", "GPE", 1, False, True),
                ("Syrian Observatory", "ORG", 1, False, False)]
    unread = "Kerry flew on. John Kerry, in Moscow again, met Kerryville's mayor. Moscowite."
    assert mentions_beyond(entities, unread) == {"John Kerry": 2, "Moscow": 1}
    assert mentions_beyond(entities, "") == {}
