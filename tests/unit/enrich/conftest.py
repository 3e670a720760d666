"""The spaCy pipeline, loaded once for every enrich test."""

import pytest
from spacy.language import Language

from services.enrich.core import load_nlp
from services.settings import Settings


@pytest.fixture(scope="session")
def nlp() -> Language:
    return load_nlp(Settings().spacy_model)
