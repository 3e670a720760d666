"""lab.cluster.scoring agrees with the shared referee (run as a subprocess)."""

import json
import random
import subprocess
import sys
from pathlib import Path

import pytest

from lab.cluster.scoring import bcubed, pairwise


def _referee_lines(shared: Path, gold: Path, predictions: Path) -> list[str]:
    referee = shared / "eval" / "score_clusters.py"
    run = subprocess.run(
        [sys.executable, str(referee), str(gold), str(predictions)],
        capture_output=True, text=True, check=True,
    )
    return run.stdout.splitlines()


@pytest.mark.parametrize("seed", [1, 2])
def test_scores_match_the_referee_on_dev_labels(shared: Path, tmp_path: Path, seed: int) -> None:
    gold_path = shared / "data" / "ecbplus" / "articles.dev.jsonl"
    gold = {}
    for line in gold_path.read_text().splitlines():
        row = json.loads(line)
        gold[str(row["id"])] = str(row["event"])
    # A noisy clustering: true events, some articles moved to their topic's other event or to
    # a story of their own, and some left out (the referee counts them alone).
    rng = random.Random(seed)
    predicted = {}
    for article_id, event in gold.items():
        roll = rng.random()
        if roll < 0.1:
            continue
        if roll < 0.25:
            event = event[:-1] + ("b" if event.endswith("a") else "a")
        elif roll < 0.3:
            event = f"alone-{article_id}"
        predicted[article_id] = event
    predictions = tmp_path / "predictions.json"
    predictions.write_text(json.dumps(predicted))

    lines = _referee_lines(shared, gold_path, predictions)
    p, b = pairwise(gold, predicted), bcubed(gold, predicted)
    assert lines[1] == f"pairwise precision={p.precision:.3f} recall={p.recall:.3f} f1={p.f1:.3f}"
    assert lines[2] == f"bcubed precision={b.precision:.3f} recall={b.recall:.3f} f1={b.f1:.3f}"


def test_edge_cases_match_the_referee(shared: Path, tmp_path: Path) -> None:
    gold_path = tmp_path / "gold.jsonl"
    gold = {"a": "x", "b": "y", "c": "z"}  # no true pair at all
    gold_path.write_text("".join(json.dumps({"id": i, "event": e}) + "\n" for i, e in gold.items()))
    predicted = {"a": "s", "b": "s"}
    predictions = tmp_path / "predictions.json"
    predictions.write_text(json.dumps(predicted))
    lines = _referee_lines(shared, gold_path, predictions)
    p, b = pairwise(gold, predicted), bcubed(gold, predicted)
    assert lines[1] == f"pairwise precision={p.precision:.3f} recall={p.recall:.3f} f1={p.f1:.3f}"
    assert lines[2] == f"bcubed precision={b.precision:.3f} recall={b.recall:.3f} f1={b.f1:.3f}"
