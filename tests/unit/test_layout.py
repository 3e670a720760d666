"""`services/` holds what a deployment runs and never imports the lab: the Docker image ships
no `lab/`, so such an import would break a worker only there, in production."""

import ast
from pathlib import Path

from tests.conftest import REPO

SERVICES = REPO / "services"


def _lab_imports(source: Path) -> list[str]:
    """Each import of `lab` in the file (at any depth: a function's lazy import counts too),
    as "line: module"."""
    found = []
    for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"), filename=str(source))):
        if isinstance(node, ast.Import):
            modules = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            modules = [node.module]
        else:
            continue
        found += [f"{node.lineno}: {m}" for m in modules if m == "lab" or m.startswith("lab.")]
    return found


def _module_level_lab_imports(source: Path) -> list[str]:
    tree = ast.parse(source.read_text(encoding="utf-8"), filename=str(source))
    found = []
    for node in tree.body:
        modules: list[str] = []
        if isinstance(node, ast.Import):
            modules = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            modules = [node.module]
        found += [f"{node.lineno}: {m}" for m in modules if m == "lab" or m.startswith("lab.")]
    return found


# The CLI's eval, bench and demo commands load the lab inside the command, and say plainly
# when it is not there (services.cli._without_lab): the one place allowed to name it.
LAZY_LAB_LOADERS = {SERVICES / "cli.py"}


def test_no_service_module_imports_the_lab() -> None:
    sources = sorted(SERVICES.rglob("*.py"))
    assert len(sources) > 20, "services/ not found: nothing was checked"
    offenders = {
        str(source.relative_to(REPO)): imports
        for source in sources
        if (imports := _module_level_lab_imports(source) if source in LAZY_LAB_LOADERS
            else _lab_imports(source))
    }
    assert offenders == {}


def test_the_check_sees_a_lab_import(tmp_path: Path) -> None:
    module = tmp_path / "worker.py"
    module.write_text("import os\n\ndef run():\n    from lab.chain import run\n")
    assert _lab_imports(module) == ["4: lab.chain"]
    assert _module_level_lab_imports(module) == []
    module.write_text("from lab import chain\nimport lab.bench\n")
    assert _module_level_lab_imports(module) == ["1: lab", "2: lab.bench"]


# A module past this many lines holds more than one concept: split it by concept.
MAX_MODULE_LINES = 600


def test_no_service_module_outgrows_one_concept() -> None:
    sources = sorted(SERVICES.rglob("*.py"))
    too_long = {
        str(source.relative_to(REPO)): lines
        for source in sources
        if (lines := len(source.read_text(encoding="utf-8").splitlines())) > MAX_MODULE_LINES
    }
    assert len(sources) > 20 and not too_long, too_long
