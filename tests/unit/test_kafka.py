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


def test_kafka_python_checksums_record_batches_in_native_code() -> None:
    # kafka-python falls back to a pure-Python CRC-32C (about half a millisecond per article
    # the ingest producer writes) when its `crc32c` extra is missing from the environment.
    from kafka.record import util

    assert util.crc32c_c is not None, "install kafka-python's crc32c extra (requirements.lock)"
    assert util.calc_crc32c(memoryview(b"123456789")) == 0xE3069283  # the CRC-32C check value
