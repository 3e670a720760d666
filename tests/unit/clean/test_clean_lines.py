"""The line model: its pure-Python evaluation, the run it keeps, and the page features."""

import math

import pytest

from services.clean import fitted, lines, text

PARAGRAPH = (
    "Russian President Vladimir Putin met US Secretary of State John Kerry in Moscow on "
    "Thursday to discuss the war in Syria and the fragile ceasefire that has held since "
    "February, officials on both sides said after the talks ended late in the evening."
)


def _model(threshold: float = 0.5, outside: float = 0.9) -> lines.Model:
    weights = [0.0] * len(lines.FEATURES)
    weights[lines.FEATURES.index("log_length")] = 4.0
    return lines.Model(weights, -3.0, threshold, outside)


def test_probabilities_are_the_logistic_of_the_score() -> None:
    row = [0.0] * len(lines.FEATURES)
    row[lines.FEATURES.index("log_length")] = 1.0
    (p,) = _model().probabilities([row])
    assert p == pytest.approx(1 / (1 + math.exp(-1.0)))


def test_the_model_needs_one_coefficient_per_feature() -> None:
    with pytest.raises(ValueError, match="coefficients"):
        lines.Model([1.0], 0.0, 0.5, 0.9)


def test_select_keeps_the_strongest_run_and_sure_lines_outside_it() -> None:
    model = _model(threshold=0.5, outside=0.9)
    lengths = [100, 100, 100, 100, 100, 100, 100]
    probs = [0.95, 0.1, 0.1, 0.8, 0.4, 0.9, 0.3]
    # The run 3..5 outweighs line 0 alone; line 4 (0.4) is in the run but under the threshold;
    # line 0 is outside the run but sure (>= 0.9).
    assert model.select(lengths, probs) == [0, 3, 5]


def test_select_on_a_page_of_junk_keeps_nothing() -> None:
    assert _model().select([50, 60], [0.1, 0.2]) == []


def test_page_rows_have_every_feature_and_the_rules_body() -> None:
    page = ["Home | World | Sport", "Share on Facebook", PARAGRAPH, PARAGRAPH.upper().lower(),
            "Subscribe to our newsletter"]
    page[3] = PARAGRAPH.replace("Thursday", "Friday")
    rows, rules, _words = lines.page_rows(page, "en")
    assert len(rows) == len(page) and all(len(row) == len(lines.FEATURES) for row in rows)
    assert rules == text.find_body(page, "en") == [2, 3]
    rules_body = lines.FEATURES.index("rules_body")
    assert [row[rules_body] for row in rows] == [0.0, 0.0, 1.0, 1.0, 0.0]


def test_the_fitted_model_keeps_the_article_and_drops_the_furniture() -> None:
    page = ["Home | World | Sport", "Share on Facebook", PARAGRAPH,
            PARAGRAPH.replace("Thursday", "Friday"), "Subscribe to our newsletter",
            "Most read", "Other story about football", "Another story about the weather"]
    kept, _words = lines.find_body_and_words(page, "en")
    assert kept == [2, 3]
    assert len(fitted.COEFFICIENTS) == len(lines.FEATURES)


def test_a_short_choice_that_shares_no_word_with_the_title_is_widened() -> None:
    teasers = ["Click here to see the full ranking of the drivers this season.",
               "Click and find out the TV times for the Brazilian Grand Prix this weekend."]
    assert not lines.about("NASCAR standings after Homestead | Autoracing", teasers)
    assert lines.about("Drivers ranking after the Brazilian Grand Prix", teasers)
    assert lines.about("NASCAR", teasers)  # one word: too little to tell
    assert lines.about("NASCAR standings after Homestead", [PARAGRAPH] * 20)  # long


def test_widening_keeps_every_line_the_rules_did_not_dismiss() -> None:
    row = [0.0] * len(lines.FEATURES)
    short, bad = list(row), list(row)
    short[lines.FEATURES.index("raw_short")] = 1.0
    assert lines.wider([bad, short, bad, short], [2]) == [1, 2, 3]
