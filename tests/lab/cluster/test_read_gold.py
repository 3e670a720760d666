"""The evaluation reads copy as `storywire ingest` does: flat or one folder per outlet."""

from pathlib import Path

import pytest

from lab.cluster.evaluate import SEED_EVENT, read_gold
from lab.seeds import SEED_OUTLETS, lay_out_by_outlet
from services.identity import article_key


def test_seeds_laid_out_by_outlet_are_named_by_outlet(seeds_dir: Path, tmp_path: Path) -> None:
    raws, gold = read_gold([lay_out_by_outlet(seeds_dir, tmp_path)])
    assert sorted(raw.source for raw in raws) == sorted(o for o, _ in SEED_OUTLETS.values())
    assert gold == {article_key(raw.source, raw.id): SEED_EVENT for raw in raws}
    flat, _ = read_gold([seeds_dir])
    assert sorted(raw.text or "" for raw in raws) == sorted(raw.text or "" for raw in flat)


def test_a_folder_without_copy_is_an_error_not_an_empty_evaluation(tmp_path: Path) -> None:
    (tmp_path / "outlet").mkdir()
    with pytest.raises(ValueError, match="no .txt copy"):
        read_gold([tmp_path])
