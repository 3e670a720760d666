"""Text repairs: glued sentences apart, abbreviations, decimals and URLs left alone."""

import pytest

from services.clean.repair import junk_ratio, repair_line


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
