"""The shared word lists: spaCy's stop words copied as they are, and the cluster stage's terms
built without importing spaCy or the enrich stage."""

import subprocess
import sys

from spacy.lang.en.stop_words import STOP_WORDS

from services.words import ENGLISH_STOP_WORDS
from tests.conftest import REPO


def test_the_stop_words_are_spacys() -> None:
    assert frozenset(STOP_WORDS) == ENGLISH_STOP_WORDS


def test_the_cluster_stage_imports_neither_spacy_nor_enrich() -> None:
    check = (
        "import sys, services.cluster.agent, services.cluster.text;"
        "print(sorted(m for m in sys.modules if m == 'spacy' or m.startswith('services.enrich')))"
    )
    imported = subprocess.run(
        [sys.executable, "-c", check], cwd=REPO, capture_output=True, text=True, check=True
    ).stdout.strip()
    assert imported == "[]"
