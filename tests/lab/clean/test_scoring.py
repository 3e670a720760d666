"""Our shingle scoring agrees with the project's referee script on literal examples."""

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from lab.clean.scoring import page_score, score_pages

REFEREE = Path(__file__).resolve().parents[3] / ".." / "shared" / "eval" / "score_extraction.py"
GOLD = {
    "a": "Kerry met Putin in Moscow on Thursday to talk about Syria and Ukraine.",
    "b": "The talks lasted four hours. Both sides called them constructive.",
    "c": "Short one",
    "d": "Nothing was predicted for this page at all, so it scores zero.",
}
PREDICTED = {
    "a": "Open news feed. Kerry met Putin in Moscow on Thursday to talk about Syria. Share",
    "b": "The talks lasted four hours. Both sides called them constructive.",
    "c": "short ONE",
}


def test_a_perfect_page_scores_one_and_an_empty_one_zero() -> None:
    assert page_score(GOLD["b"], PREDICTED["b"]) == (1.0, 1.0, 1.0)
    assert page_score(GOLD["d"], "") == (0.0, 0.0, 0.0)
    assert page_score("", "") == (1.0, 1.0, 1.0)


def test_scores_agree_with_the_referee_to_the_third_decimal(tmp_path: Path) -> None:
    truth = tmp_path / "ground-truth.json"
    truth.write_text(json.dumps({k: {"articleBody": v, "url": ""} for k, v in GOLD.items()}))
    predictions = tmp_path / "predictions.json"
    predictions.write_text(json.dumps(PREDICTED))
    if not REFEREE.exists():
        pytest.fail(f"the referee {REFEREE} is missing")
    printed = subprocess.run(
        [sys.executable, str(REFEREE), str(truth), str(predictions)],
        capture_output=True, text=True, check=True,
    ).stdout
    referee = {k: float(v) for k, v in re.findall(r"(\w+)=([\d.]+)", printed)}
    ours = score_pages(GOLD, PREDICTED)
    assert referee["pages"] == ours.pages == 4
    assert f"{ours.precision:.3f}" == f"{referee['precision']:.3f}"
    assert f"{ours.recall:.3f}" == f"{referee['recall']:.3f}"
    assert f"{ours.f1:.3f}" == f"{referee['f1']:.3f}"
    assert 0 < ours.f1 < 1
