"""Topic housekeeping rules that need no broker."""

import pytest

from services.kafka import delete_run_topics
from services.settings import Settings


@pytest.mark.parametrize(
    "overrides",
    [
        {},  # production settings: no topic prefix, default group prefix
        {"topic_prefix": "bench-1."},  # the default group prefix names production changelogs
        {"group_prefix": "storywire-bench-1"},  # no topic prefix: articles.raw itself
    ],
)
def test_delete_run_topics_refuses_production_names(overrides: dict[str, str]) -> None:
    settings = Settings().model_copy(update=overrides)
    with pytest.raises(ValueError, match="own topic_prefix and group_prefix"):
        delete_run_topics(settings)
