"""The compiled cluster core: used only while current, only once the worker asks for it
(`use_build`), and the same stories and events as the interpreted one. Which core a process
runs is fixed by its first import of the core, so each side runs in a process of its own."""

import hashlib
import json
import os
import random
import subprocess
import sys
from pathlib import Path

import pytest

from services.cluster.compiled import (
    MANIFEST,
    MODULES,
    SOURCE_DIR,
    build_for,
    describe,
    manifest,
    use_build,
)
from tests.conftest import REPO

CURRENT = build_for() is not None  # a current build, and STORYWIRE_INTERPRETED not set

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


def _run(code: str, **env: str) -> str:
    return subprocess.run(
        [sys.executable, "-c", code], env={**os.environ, **env},
        cwd=REPO, capture_output=True, text=True, check=True,
    ).stdout.strip()


def _module_files() -> str:
    return (
        "import importlib;"
        f"print(*[importlib.import_module('services.cluster.' + m).__file__ for m in {MODULES}])"
    )


def test_importing_the_core_does_not_use_the_build() -> None:
    files = _run(f"import services.cluster.agent; {_module_files()}").split()
    assert len(files) == len(MODULES) and all(f.endswith(".py") for f in files), files


def test_the_modules_come_from_where_use_build_says() -> None:
    code = "from services.cluster.compiled import use_build; print(use_build());"
    said, *files = _run(code + _module_files()).split()
    assert said == str(CURRENT)
    assert len(files) == len(MODULES)
    assert all(Path(f).suffix == (".so" if CURRENT else ".py") for f in files), files
    said, *files = _run(code + _module_files(), STORYWIRE_INTERPRETED="1").split()
    assert said == "False" and all(f.endswith(".py") for f in files), files


def test_a_core_imported_before_use_build_stays_interpreted() -> None:
    code = "import services.cluster.core; from services.cluster.compiled import use_build;"
    assert _run(code + "print(use_build())") == "False"


def test_every_compiled_module_is_a_make_prerequisite() -> None:
    makefile = (REPO / "Makefile").read_text()
    sources = makefile.split("COMPILED_SOURCES :=", 1)[1].split(")", 1)[0]
    assert sorted(sources.replace("\\", " ").split(",", 1)[1].split()) == sorted(
        f"{module}.py" for module in MODULES
    )
    assert "python -m services.cluster.compiled" in makefile


def _replay_digest(shared: Path, out: Path) -> str:
    """Cluster the first `DEV_LINES` dev articles in a seeded order; the hash of every event
    and of the final stories and records."""
    from lab.bench.cluster import DEV, MODEL
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


def _replay_in_process(shared: Path, out: Path, **env: str) -> list[str]:
    """`_replay_digest` in a process of its own: which core ran, then the digest."""
    return subprocess.run(
        [sys.executable, "-m", "tests.unit.cluster.test_compiled", str(shared), str(out)],
        env={**os.environ, **env}, cwd=REPO, capture_output=True, text=True, check=True,
    ).stdout.strip().splitlines()


@pytest.mark.skipif(not CURRENT, reason="no current compiled build (`make install` makes one)")
def test_compiled_and_interpreted_cores_make_the_same_events(
    shared: Path, tmp_path: Path
) -> None:
    ran, compiled = _replay_in_process(shared, tmp_path)
    assert ran == "compiled"
    kinds = json.loads(compiled.split(" ", 1)[1])
    assert kinds.get("merged") and kinds.get("split"), kinds  # the paths worth comparing ran
    assert _replay_in_process(shared, tmp_path, STORYWIRE_INTERPRETED="1") == [
        "interpreted", compiled
    ]


if __name__ == "__main__":  # one side of the comparison, in its own process
    print("compiled" if use_build() else "interpreted")
    print(_replay_digest(Path(sys.argv[1]), Path(sys.argv[2])))
