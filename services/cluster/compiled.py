"""The cluster core's compiled build: its modules (`MODULES`) compiled to C by mypyc.

The cluster stage is one serial loop per language shard, so its cost per article is the
shard's ceiling. mypyc compiles these two modules as they are (same code, same results, bit
for bit) and the loop runs about a fifth faster. The build is optional: `make install` makes it
into `.compiled/` when a C compiler is there (`python -m services.cluster.compiled`, `main`),
and without it the same modules run interpreted.

A compiled module would silently keep running old code after its source is edited, so the
build records the hash of each source it compiled, and `build_for` accepts it only while every
one of them still matches and the interpreter is the one it was built for. Otherwise, and when
`STORYWIRE_INTERPRETED=1` is set, the sources run as they are.

Nothing happens on import: the cluster worker calls `use_build` when it starts (and the CLI's
evaluation and bench commands before theirs), before the first of these modules is imported.
"""

import hashlib
import json
import os
import shutil
import sys
import sysconfig
import tempfile
import time
from pathlib import Path

# services/cluster/<module>.py, compiled: the cluster core's modules, each one's imports first.
MODULES = (
    "fitted", "config", "vectors", "text", "features", "story", "roster", "index", "split", "core"
)
MANIFEST = "SOURCES.json"
SOURCE_DIR = Path(__file__).resolve().parent  # services/cluster/, where the modules' .py are
ROOT = SOURCE_DIR.parents[1]  # the checkout
# Beside the checkout's services/ (an editable install); an installed copy has none.
BUILD_DIR = ROOT / ".compiled" / "services" / "cluster"


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


def use_build(package_dir: Path = SOURCE_DIR, build_dir: Path = BUILD_DIR) -> bool:
    """Have `services.cluster`'s `MODULES` imported from the build when it is current
    (`build_for`), and say whether they are. Call it before the first of them is imported: a
    module imported already stays as it was (then this says False, unless the build was in
    use before). Called again, it says the same."""
    import services.cluster as package

    build = build_for(package_dir, build_dir)
    if build is None:
        return False
    if str(build) in package.__path__:
        return True
    if any(f"{package.__name__}.{module}" in sys.modules for module in MODULES):
        return False  # imported interpreted already: mixing the two is not worth the risk
    package.__path__.insert(0, str(build))  # searched first: the build shadows the .py
    return True


def main() -> int:
    """Compile `MODULES` into `BUILD_DIR`; `make install` runs this (about a minute).

    Without a C compiler it says so and leaves the core interpreted (exit 0): the build is a
    speed-up, not a requirement. A failed compile is an error (exit 1)."""
    compiler = (sysconfig.get_config_var("CC") or "cc").split()[0]
    if shutil.which(compiler) is None:
        print(
            f"cluster build: no C compiler ({compiler}): the cluster core stays interpreted "
            "(same results, about a fifth slower)",
            file=sys.stderr,
        )
        return 0
    from mypyc.build import mypycify
    from setuptools import Distribution

    recorded = manifest(SOURCE_DIR)
    sources = [str((SOURCE_DIR / f"{module}.py").relative_to(ROOT)) for module in MODULES]
    print(f"cluster build: compiling {', '.join(sources)} with mypyc ...", flush=True)
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="storywire-mypyc-") as scratch:
        work, out = Path(scratch) / "c", Path(scratch) / "out"
        # Separate: one extension per module, each with its own runtime library beside it in
        # the package, so the build is found through the package's path alone.
        extensions = mypycify(sources, opt_level="3", separate=True, target_dir=str(work))
        # A bare Distribution: no project configuration is read, only these extensions built.
        dist = Distribution({"name": "storywire-cluster-compiled", "ext_modules": extensions})
        dist.script_args = [
            "--quiet", "build_ext", "--build-lib", str(out), "--build-temp", str(work / "tmp")
        ]
        dist.parse_command_line()
        dist.run_commands()
        if manifest(SOURCE_DIR) != recorded:
            print("cluster build: a source changed while compiling: run again", file=sys.stderr)
            return 1
        built = sorted((out / "services" / "cluster").glob("*.so"))
        if not built:
            print(f"cluster build: mypyc built nothing under {out}", file=sys.stderr)
            return 1
        shutil.rmtree(BUILD_DIR, ignore_errors=True)
        BUILD_DIR.mkdir(parents=True)
        for library in built:
            shutil.copy2(library, BUILD_DIR / library.name)
    # Written last: a build without its manifest is never used.
    (BUILD_DIR / MANIFEST).write_text(json.dumps(recorded, indent=1) + "\n")
    took = time.monotonic() - started
    print(f"cluster build: {len(built)} libraries in {BUILD_DIR} ({took:.0f} s)")
    return 0



if __name__ == "__main__":
    sys.exit(main())
