"""IPTC ninjs on the real broker: `storywire ingest` over every example (each accepted or
refused with its reason), and a correction and a kill carried through the clean and enrich
workers as agencies send them (the story side is the cluster stage's own test)."""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from lab.pipeline import LocalPipeline, free_port_block, settings_env
from schemas.articles import EnrichedArticleV1, RawArticleV1
from schemas.topics import Topic
from services.identity import article_key
from services.ingest.core import Accepted, read_articles
from services.settings import Settings
from tests.conftest import REPO
from tests.integration.conftest import fresh_settings, read_all

pytestmark = pytest.mark.integration
def ingest(settings: Settings, *paths: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "services.cli", "ingest", "--no-progress", *map(str, paths)],
        cwd=REPO, env={**os.environ, **settings_env(settings), "COLUMNS": "100000"},
        capture_output=True, text=True,
        timeout=300,
    )


def test_every_ninjs_example_is_sent_or_refused_with_its_reason(
    broker: Settings, shared: Path
) -> None:
    settings = fresh_settings(broker)
    examples = shared / "formats" / "ninjs" / "examples"
    expected = list(read_articles([examples]))
    accepted = [i.article for i in expected if isinstance(i, Accepted)]
    refused = [i for i in expected if not isinstance(i, Accepted)]
    assert len(accepted) >= 30 and len(refused) >= 25  # both kinds really occur

    result = ingest(settings, examples)
    assert result.returncode == 2, result.stderr  # some refused: today's exit code for that
    err = result.stderr
    for item in refused:
        assert f"skipped {item.where}: {item.reason}" in err
    assert f"sent={len(accepted)} skipped={len(refused)} failed=0" in err
    sent = read_all(settings, Topic.RAW, RawArticleV1)
    assert sorted(article_key(a.source, a.id) for a in sent) == sorted(
        article_key(a.source, a.id) for a in accepted
    )
    dpa = next(a for a in sent if a.source == "dpa")
    assert dpa.revision == 2 and dpa.language == "de" and dpa.html


STORY = (
    "<p>BERLIN (Agency) - The German government on Tuesday approved a plan to close the last "
    "of the country's coal-fired power stations by 2030, eight years earlier than agreed.</p>"
    "<p>The economy minister said the plan would be paid for by a new levy on industrial "
    "power users, which the chambers of commerce called a burden on exporters.</p>"
)


def _item(version: int, body: str | None, status: str = "usable") -> dict[str, object]:
    item: dict[str, object] = {
        "uri": "urn:newsml:agency.example:20260102:coal-exit", "type": "text",
        "version": str(version), "pubstatus": status, "language": "en",
        "firstcreated": "2026-01-02T03:00:00Z", "copyrightholder": "Agency",
        "headlines": [{"role": "main", "value": "Germany to close coal plants by 2030"}],
    }
    if body is not None:
        item["bodies"] = [{"role": "main", "contenttype": "text/html", "value": body}]
    return item


def test_a_correction_and_a_kill_pass_clean_and_enrich(
    broker: Settings, tmp_path: Path
) -> None:
    settings = fresh_settings(broker)
    files = {
        "1-first.json": _item(1, STORY),
        "2-correction.json": _item(2, STORY.replace("eight years", "seven years")),
        "3-late-old.json": _item(1, STORY),
        "4-kill.json": _item(3, None, status="canceled"),
    }
    outlet = tmp_path / "feed"
    outlet.mkdir()
    for name, item in files.items():
        (outlet / name).write_text(json.dumps(item))
    with LocalPipeline(settings, tmp_path / "logs", stages=("clean", "enrich"),
                       metrics_base_port=free_port_block(3)) as pipeline:
        pipeline.wait_until_ready()
        result = ingest(settings, outlet)
        assert result.returncode == 0, result.stderr
        deadline = time.monotonic() + 180
        enriched: list[EnrichedArticleV1] = []
        while len(enriched) < 4 and time.monotonic() < deadline:
            pipeline.check()
            time.sleep(2)
            enriched = read_all(settings, Topic.ENRICHED, EnrichedArticleV1)
    assert [(a.revision, a.withdrawn) for a in enriched] == [
        (1, False), (2, False), (1, False), (3, True)
    ]
    first, correction, late, kill = enriched
    key = article_key("Agency", "urn:newsml:agency.example:20260102:coal-exit")
    assert {a.id for a in enriched} == {key}
    assert "seven years" in correction.body and correction.duplicate_of is None
    assert late.duplicate_of is None  # a redelivery keeps the first answer
    assert kill.language == first.language == "en" and kill.entities == ()
    assert kill.headline == first.headline
