"""The founding articles laid out by outlet: ingested, each names its outlet, not its file."""

from pathlib import Path

from lab.seeds import SEED_OUTLETS, lay_out_by_outlet
from services.ingest.core import Accepted, read_articles


def test_each_seed_is_filed_under_the_outlet_its_copy_names(
    seeds_dir: Path, tmp_path: Path
) -> None:
    assert {p.name for p in seeds_dir.glob("*.txt")} == set(SEED_OUTLETS)
    items = list(read_articles([lay_out_by_outlet(seeds_dir, tmp_path)]))
    articles = [i.article for i in items if isinstance(i, Accepted)]
    assert len(articles) == 5
    assert sorted(a.source for a in articles) == sorted(o for o, _ in SEED_OUTLETS.values())
    assert all(a.source != a.id for a in articles)
    reuters = next(a for a in articles if a.source == "Reuters")
    assert reuters.text is not None and "Reuters, Moscow" in reuters.text
    sana = next(a for a in articles if a.source == "SANA")
    assert sana.text is not None and "SANA-" in sana.text
