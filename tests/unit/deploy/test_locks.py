"""The lock files pin every dependency with its hashes, and every install checks them.

pip in --require-hashes mode refuses a file whose sha256 is not in the lock, so a package
swapped on the registry or on the way is not installed (issue 22). No lock names an index: pip
and the image use the index they are configured with.
"""

import re

import pytest

from tests.conftest import REPO

LOCKS = ("requirements.lock", "requirements-dev.lock")
HASH = re.compile(r"--hash=sha256:[0-9a-f]{64}")


def requirements(lock: str) -> dict[str, str]:
    """{"name==version": its hash options} of each requirement, continuation lines joined."""
    joined = re.sub(r"\\\n\s*", " ", (REPO / lock).read_text())
    found = {}
    for line in joined.splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            pin, _, options = line.strip().partition(" ")
            found[pin] = options
    return found


@pytest.mark.parametrize("lock", LOCKS)
def test_every_requirement_is_pinned_with_a_hash(lock: str) -> None:
    pins = requirements(lock)
    assert pins
    for pin, options in pins.items():
        assert re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*(\[[a-z0-9,]+\])?==[^\s=]+", pin), pin
        assert HASH.search(options), f"{lock}: {pin} has no sha256 hash"


@pytest.mark.parametrize("lock", LOCKS)
def test_no_lock_names_an_index(lock: str) -> None:
    text = (REPO / lock).read_text()
    assert "://" not in text
    assert not re.search(r"--(extra-)?index-url|--find-links|--trusted-host", text)


def test_the_two_locks_pin_no_package_twice() -> None:
    names = [pin.split("==")[0].lower().replace("_", "-") for lock in LOCKS
             for pin in requirements(lock)]
    assert len(names) == len(set(names))


def test_installs_require_the_hashes() -> None:
    makefile = (REPO / "Makefile").read_text()
    assert "pip install --quiet --require-hashes -r requirements.lock -r requirements-dev.lock" \
        in makefile
    assert "--require-hashes -r requirements.lock" in (REPO / "Dockerfile").read_text()
