"""Text repairs: glued sentences apart, abbreviations, decimals and URLs left alone."""

import sys

import pytest

from services.clean.repair import _CONTROL, _JUNK, junk_ratio, repair_line


@pytest.mark.parametrize(
    ("broken", "repaired"),
    [
        ("in Syria.”The serious approach", 'in Syria. "The serious approach'),
        ('he said "it is over."The next day', 'he said "it is over." The next day'),
        ("Barack Obama,Putin said", "Barack Obama, Putin said"),
        ("Reuters, Moscow :Russian President", "Reuters, Moscow: Russian President"),
        ("the conflict in Syria.Speaking at", "the conflict in Syria. Speaking at"),
        ("a success , where the work", "a success, where the work"),
        ("T he Davis Cup began", "The Davis Cup began"),
        ("cafÃ© owners", "café owners"),
        ("non\u00adbreaking\u200b words\u00a0here", "nonbreaking words here"),
        ("  many   blanks\there ", "many blanks here"),
        # An entity in plain ASCII copy may decode to a curly quote, which is then made plain.
        ("It&rsquo;s &ldquo;over&rdquo;", 'It\'s "over"'),
        ("bell\x07 in the copy", "bell in the copy"),
    ],
)
def test_repairs(broken: str, repaired: str) -> None:
    assert repair_line(broken) == repaired


@pytest.mark.parametrize(
    "intact",
    [
        "U.S. Secretary of State John Kerry and the U.N. envoy",
        "An estimated 3.7 million children, or 80.5 per cent",
        "see www.example.com/page.html or Node.JS for details",
        "A man and I went out.",
        "It cost $1,000,000 in 2016.",
    ],
)
def test_what_is_not_broken_is_left_alone(intact: str) -> None:
    assert repair_line(intact) == intact


def test_junk_ratio_tells_binary_from_text() -> None:
    assert junk_ratio("Plain news copy.\nWith lines.\n") == 0.0
    assert junk_ratio("\x00\x01\x02abc\ufffd") > 0.5


def test_every_junk_and_control_character_but_the_replacement_mark_is_unprintable() -> None:
    # `junk_ratio` and `fix_unicode` skip their patterns on printable text; that is exact only
    # while none of the characters the patterns look for is printable.
    printable = [
        char
        for char in map(chr, range(sys.maxunicode + 1))
        if (_JUNK.match(char) or _CONTROL.match(char)) and char.isprintable()
    ]
    assert printable == ["\ufffd"]


@pytest.mark.parametrize(
    ("copy", "ratio"),
    [
        ("Plain copy,\tand a tab.\r\nSecond line.\n", 0.0),
        ("No-break\u00a0space and a thin\u2009one.", 0.0),
        ("bad\ufffd mark", 1 / 9),
        ("bell\x07 and del\x7f", 2 / 14),
        ("private \ue000 use", 1 / 13),
    ],
)
def test_junk_ratio_counts_only_junk(copy: str, ratio: float) -> None:
    assert junk_ratio(copy) == pytest.approx(ratio)


def test_control_characters_go_from_lines_with_and_without_other_unicode() -> None:
    assert repair_line("bell\x07 rings") == "bell rings"
    assert repair_line("\u201cbell\x07\u201d rings\u00a0now") == '"bell" rings now'
