"""Paths every test may need."""

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"


@pytest.fixture(scope="session")
def shared() -> Path:
    if not SHARED.exists():
        pytest.fail(f"the shared data folder {SHARED} is missing")
    return SHARED


@pytest.fixture(scope="session")
def seeds_dir(shared: Path) -> Path:
    return shared / "seeds"
