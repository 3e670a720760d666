"""A run's topics go when it is done, and only its topics."""

import time

from services.kafka import admin_client, create_topics, delete_run_topics
from services.settings import Settings
from tests.integration.conftest import fresh_settings


def _names(settings: Settings) -> set[str]:
    admin = admin_client(settings)
    try:
        return set(admin.list_topics())
    finally:
        admin.close()


def test_delete_run_topics_removes_the_run_and_keeps_the_rest(broker: Settings) -> None:
    run = fresh_settings(broker)
    other = fresh_settings(broker)
    changelog = f"{run.group_prefix}-cluster-cluster-stories-changelog"
    create_topics(run, [changelog])
    created = {name for name in _names(run) if name.startswith(run.topic_prefix)} | {changelog}

    deleted = delete_run_topics(run)

    assert set(deleted) == created
    deadline = time.monotonic() + 30
    while created & _names(run) and time.monotonic() < deadline:
        time.sleep(0.5)  # deletion completes asynchronously on the broker
    left = _names(run)
    assert not created & left
    assert run.topic("stories") not in left
    assert other.topic("stories") in left
