"""The compiled cluster core: used only while current, and the same stories and events as the
interpreted one."""

import hashlib
import json
import os
import random
import subprocess
import sys
from pathlib import Path

import pytest

import services.cluster
from lab.bench.cluster import DEV, MODEL
from services.cluster.compiled import MANIFEST, SOURCE_DIR, build_for, describe, manifest
from tests.conftest import REPO

DEV_LINES = 240  # the first topics of dev: joins, merges and split checks among them


def _build(tmp_path: Path, recorded: dict[str, object]) -> Path:
    (tmp_path / MANIFEST).write_text(json.dumps(recorded))
    return tmp_path


def test_a_build_of_the_current_sources_is_used(tmp_path: Path) -> None:
    build = _build(tmp_path, manifest(SOURCE_DIR))
    assert build_for(SOURCE_DIR, build) == build


def test_a_build_of_other_sources_is_not_used(tmp_path: Path) -> None:
    recorded = manifest(SOURCE_DIR)
    sources = dict(recorded["sources"])  # type: ignore[call-overload]
    sources["core"] = hashlib.sha256(b"an older core.py").hexdigest()
    assert build_for(SOURCE_DIR, _build(tmp_path, {**recorded, "sources": sources})) is None


def test_a_build_for_another_interpreter_is_not_used(tmp_path: Path) -> None:
    recorded = {**manifest(SOURCE_DIR), "python": "cpython-310"}
    assert build_for(SOURCE_DIR, _build(tmp_path, recorded)) is None


def test_no_manifest_or_a_broken_one_means_interpreted(tmp_path: Path) -> None:
    assert build_for(SOURCE_DIR, tmp_path) is None
    (tmp_path / MANIFEST).write_text("{not json")
    assert build_for(SOURCE_DIR, tmp_path) is None


def test_storywire_interpreted_turns_a_current_build_off(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    build = _build(tmp_path, manifest(SOURCE_DIR))
    monkeypatch.setenv("STORYWIRE_INTERPRETED", "1")
    assert build_for(SOURCE_DIR, build) is None
    monkeypatch.setenv("STORYWIRE_INTERPRETED", "0")
    assert build_for(SOURCE_DIR, build) == build


def test_the_log_and_the_bench_say_which_core_runs_and_why(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert describe(True) == "compiled (mypyc)"
    monkeypatch.delenv("STORYWIRE_INTERPRETED", raising=False)
    assert "make install" in describe(False)
    monkeypatch.setenv("STORYWIRE_INTERPRETED", "1")
    assert "STORYWIRE_INTERPRETED" in describe(False)


def test_the_modules_come_from_where_compiled_says() -> None:
    import services.cluster.core as core
    import services.cluster.text as text

    for module in (core, text):
        assert Path(module.__file__ or "").suffix == (".so" if services.cluster.COMPILED else ".py")


def _replay_digest(shared: Path, out: Path) -> str:
    """Cluster the first `DEV_LINES` dev articles in a seeded order; the hash of every event
    and of the final stories and records."""
    from lab.cluster.evaluate import enriched_articles
    from services.cluster.core import ClusterConfig, StoryClusterer
    from services.enrich.core import NER_BODY_CHARS

    subset = out / "dev-head.jsonl"
    lines = (shared / DEV).read_text(encoding="utf-8").splitlines()[:DEV_LINES]
    subset.write_text("\n".join(lines) + "\n", encoding="utf-8")
    articles, _, _ = enriched_articles([subset], MODEL, NER_BODY_CHARS)
    # Split checks at small sizes, so the split path runs on this few copy too.
    config = ClusterConfig(split_sizes=(6, 10, 20, 40))
    stories: dict[str, object] = {}
    records: dict[str, object] = {}
    clusterer = StoryClusterer(stories, config, records=records)
    digest = hashlib.sha256()
    kinds: dict[str, int] = {}
    random.Random(1).shuffle(articles)
    for article in articles:
        for event in clusterer.add(article):
            kinds[event.event] = kinds.get(event.event, 0) + 1
            digest.update(event.model_dump_json().encode())
    digest.update(json.dumps([stories, records], sort_keys=True).encode())
    return f"{digest.hexdigest()} {json.dumps(kinds, sort_keys=True)}"


@pytest.mark.skipif(
    not services.cluster.COMPILED, reason="no current compiled build (`make install` makes one)"
)
def test_compiled_and_interpreted_cores_make_the_same_events(
    shared: Path, tmp_path: Path
) -> None:
    compiled = _replay_digest(shared, tmp_path)
    kinds = json.loads(compiled.split(" ", 1)[1])
    assert kinds.get("merged") and kinds.get("split"), kinds  # the paths worth comparing ran
    interpreted = subprocess.run(
        [sys.executable, "-m", "tests.unit.cluster.test_compiled", str(shared), str(tmp_path)],
        env={**os.environ, "STORYWIRE_INTERPRETED": "1"},
        cwd=REPO, capture_output=True, text=True, check=True,
    ).stdout.strip().splitlines()
    assert interpreted[0] == "interpreted"
    assert interpreted[1] == compiled


if __name__ == "__main__":  # the interpreted side of the comparison, in its own process
    print("compiled" if services.cluster.COMPILED else "interpreted")
    print(_replay_digest(Path(sys.argv[1]), Path(sys.argv[2])))
