"""Compile the cluster core (`services/cluster/core.py` and `text.py`) with mypyc into
`.compiled/`, where `services.cluster` finds it (`services/cluster/compiled.py` says when it is
used). `make install` runs this; it takes about half a minute.

Without a C compiler it says so and leaves the core interpreted (exit 0): the build is a
speed-up, not a requirement. A failed compile is an error (exit 1).

    .venv/bin/python scripts/compile_cluster.py
"""

import json
import shutil
import sys
import sysconfig
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from services.cluster.compiled import (  # noqa: E402
    BUILD_DIR,
    MANIFEST,
    MODULES,
    SOURCE_DIR,
    manifest,
)


def main() -> int:
    compiler = (sysconfig.get_config_var("CC") or "cc").split()[0]
    if shutil.which(compiler) is None:
        print(
            f"compile_cluster: no C compiler ({compiler}): the cluster core stays interpreted "
            "(same results, about a fifth slower)",
            file=sys.stderr,
        )
        return 0
    from mypyc.build import mypycify
    from setuptools import Distribution

    recorded = manifest(SOURCE_DIR)
    sources = [str((SOURCE_DIR / f"{module}.py").relative_to(ROOT)) for module in MODULES]
    print(f"compile_cluster: compiling {', '.join(sources)} with mypyc ...", flush=True)
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
            print("compile_cluster: a source changed while compiling: run again", file=sys.stderr)
            return 1
        built = sorted((out / "services" / "cluster").glob("*.so"))
        if not built:
            print(f"compile_cluster: mypyc built nothing under {out}", file=sys.stderr)
            return 1
        shutil.rmtree(BUILD_DIR, ignore_errors=True)
        BUILD_DIR.mkdir(parents=True)
        for library in built:
            shutil.copy2(library, BUILD_DIR / library.name)
    # Written last: a build without its manifest is never used.
    (BUILD_DIR / MANIFEST).write_text(json.dumps(recorded, indent=1) + "\n")
    took = time.monotonic() - started
    print(f"compile_cluster: {len(built)} libraries in {BUILD_DIR} ({took:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
