"""The cluster core's compiled build: `core` and `text` compiled to C by mypyc.

The cluster stage is one serial loop per language shard, so its cost per article is the
shard's ceiling. mypyc compiles these two modules as they are (same code, same results, bit
for bit) and the loop runs about a fifth faster. The build is optional: `make install` makes it
into `.compiled/` when a C compiler is there (`scripts/compile_cluster.py`), and without it the
same modules run interpreted.

A compiled module would silently keep running old code after its source is edited, so the
build records the hash of each source it compiled, and `build_for` accepts it only while every
one of them still matches and the interpreter is the one it was built for. Otherwise, and when
`STORYWIRE_INTERPRETED=1` is set, the sources run as they are.
"""

import hashlib
import json
import os
import sys
from pathlib import Path

MODULES = ("core", "text")  # services/cluster/<module>.py, compiled
MANIFEST = "SOURCES.json"
SOURCE_DIR = Path(__file__).resolve().parent  # services/cluster/, where the modules' .py are
# Beside the checkout's services/ (an editable install); an installed copy has none.
BUILD_DIR = SOURCE_DIR.parents[1] / ".compiled" / "services" / "cluster"


def source_hashes(package_dir: Path) -> dict[str, str]:
    """Each compiled module's source hash (sha256 of the file's bytes)."""
    return {
        module: hashlib.sha256((package_dir / f"{module}.py").read_bytes()).hexdigest()
        for module in MODULES
    }


def manifest(package_dir: Path) -> dict[str, object]:
    """What a build records: the interpreter it is for and the sources it compiled."""
    return {"python": sys.implementation.cache_tag, "sources": source_hashes(package_dir)}


def turned_off() -> bool:
    """Whether `STORYWIRE_INTERPRETED` asks for the sources even with a current build."""
    return os.environ.get("STORYWIRE_INTERPRETED", "") not in ("", "0")


def build_for(package_dir: Path = SOURCE_DIR, build_dir: Path = BUILD_DIR) -> Path | None:
    """`build_dir` if it holds a build of `package_dir`'s sources as they are now, for this
    interpreter; None (run interpreted) if not, or if `STORYWIRE_INTERPRETED=1`."""
    if turned_off():
        return None
    try:
        recorded = json.loads((build_dir / MANIFEST).read_text())
    except (OSError, ValueError):
        return None
    return build_dir if recorded == manifest(package_dir) else None


def describe(compiled: bool) -> str:
    """Which core runs, and why, for the worker's log and the bench's output."""
    if compiled:
        return "compiled (mypyc)"
    if turned_off():
        return "interpreted (STORYWIRE_INTERPRETED is set)"
    return "interpreted (no current compiled build: `make install` makes one)"
