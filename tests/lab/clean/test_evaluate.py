"""`storywire eval cleaning` on a tiny folder: the report a user reads, and the bodies it writes."""

import json
from pathlib import Path

import pytest

from lab.clean.evaluate import evaluate_cleaning

BODY = (
    "Russian President Vladimir Putin met U.S. Secretary of State John Kerry in Moscow on "
    "Thursday to discuss the ceasefire in Syria and the political talks in Geneva.\n"
    "The two men spoke for four hours at the Kremlin, officials on both sides said later, "
    "and agreed that the truce had reduced the violence across most of the country."
)


def _folder(tmp_path: Path) -> Path:
    (tmp_path / "text").mkdir()
    (tmp_path / "text" / "a.txt").write_text(
        "Home | World | Sport\nShare on Facebook\n" + BODY + "\nSubscribe to our newsletter\n"
    )
    (tmp_path / "text" / "b.txt").write_text("")
    truth = {"a": {"articleBody": BODY, "url": "https://wire.example/a"},
             "b": {"articleBody": "", "url": "https://wire.example/b"}}
    (tmp_path / "ground-truth.json").write_text(json.dumps(truth))
    return tmp_path


def test_report_and_predictions(tmp_path: Path) -> None:
    out = tmp_path / "predictions.json"
    report = evaluate_cleaning(_folder(tmp_path), "text", out, passes=2)
    predictions = json.loads(out.read_text())
    assert predictions["a"].split() == BODY.split()  # navigation, share and newsletter gone
    assert predictions["b"] == "" and report["rejected"] == {"empty_copy": 1}
    assert report["pages"] == 2 and report["passes"] == 2
    assert report["f1"] == pytest.approx(1.0)  # both pages right (an empty truth, empty body)
    assert report["pages_per_second"] >= report["pages_per_second_slowest"] > 0


def test_passes_must_be_positive(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="passes"):
        evaluate_cleaning(_folder(tmp_path), "text", None, passes=0)


def test_cross_validated_figures_beside_the_in_sample_ones(tmp_path: Path) -> None:
    (tmp_path / "text").mkdir()
    truth = {}
    for i in range(6):
        body = BODY.replace("Thursday", f"day {i}")
        (tmp_path / "text" / f"p{i}.txt").write_text(
            f"Putin and Kerry meet on day {i}\nHome | World | Sport\nShare on Facebook\n"
            + body + "\nSubscribe to our newsletter\nMost read\nAnother story about weather\n"
        )
        truth[f"p{i}"] = {"articleBody": body, "url": f"https://site{i % 3}.example/{i}"}
    (tmp_path / "ground-truth.json").write_text(json.dumps(truth))
    report = evaluate_cleaning(tmp_path, "text", None, passes=1, cv_folds=2)
    assert report["cv_folds"] == 2
    assert 0.0 <= report["cv_worst_fold"] <= report["cv_f1"] <= 1.0
    # Pages this plain: a model fitted on the other sites' pages finds every article.
    assert report["cv_f1"] > 0.9 and report["cv_below_0_3"] == 0
    assert report["below_0_3"] == 0 and report["f1"] > 0.9
