"""The one entry point that starts a stage's worker: /metrics server, faust app, faust worker."""

import cProfile
import logging
import os
import time
from pathlib import Path

import faust
from prometheus_client import start_http_server

from services import faust_patches
from services.app import Stage, build_app
from services.kafka import check_group_access, create_topics
from services.metrics import REGISTRY
from services.settings import Settings


def make_worker(app: faust.App, loglevel: str) -> faust.Worker:
    """A faust worker for `app` that logs at `loglevel` and no lower.

    Without its terminal spinner: at "warning" or above faust adds one as a root handler at
    DEBUG and sets the root logger to DEBUG, so every debug line of faust and aiokafka (several
    per message) builds a log record nobody prints, about 15% of a pass-through stage's CPU.
    """
    worker = faust.Worker(app, loglevel=loglevel, override_logging=True)
    worker.spinner = None
    return worker


def run_worker(stage: Stage, settings: Settings, loglevel: str = "info") -> None:
    """Run one stage until SIGTERM/SIGINT; never returns normally.

    Creates any missing storywire topic first, so that `stories` is compacted and every topic
    has the configured partitions even when no one ran `storywire topics create`, and the
    stage's table changelogs with them. Then checks the ACLs let it use its consumer group:
    refused, faust would wait without end (see `check_group_access`). A broker that refuses
    the worker (TLS, credentials, ACLs) raises BrokerUnavailable saying which, before faust.
    """
    # Before faust starts: its table recovery can otherwise drop copy waiting at a restart.
    faust_patches.apply()
    app = build_app(settings, stage)  # builds only: nothing connects before the worker runs
    changelogs = [table.changelog_topic.get_topic_name() for table in app.tables.values()]
    create_topics(settings, changelogs)
    check_group_access(settings, settings.group(stage))
    if settings.metrics_port:
        start_http_server(settings.metrics_port, addr=settings.metrics_host, registry=REGISTRY)
    logging.getLogger("storywire").info(
        "starting stage=%s group=%s metrics=%s", stage, settings.group(stage), settings.metrics_port
    )
    worker = make_worker(app, loglevel)
    if not settings.profile_dir:
        worker.execute_from_commandline()
        return
    # Where a worker's CPU goes besides its core (faust, aiokafka, JSON): the event loop's
    # thread only, which is where every agent runs (spaCy's executor thread is not included).
    # Timed in that thread's CPU seconds: wall time would charge it for every moment another
    # process held the core (e.g. `socket.send` waking the broker on a busy machine).
    profile = cProfile.Profile(time.thread_time)
    profile.enable()
    try:
        worker.execute_from_commandline()
    finally:
        profile.disable()
        out = Path(settings.profile_dir)
        out.mkdir(parents=True, exist_ok=True)
        profile.dump_stats(out / f"{stage}-{os.getpid()}.pstats")
