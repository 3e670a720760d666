"""The one entry point that starts a stage's worker: /metrics server, faust app, faust worker."""

import logging

import faust
from prometheus_client import start_http_server

from services.app import Stage, build_app
from services.kafka import create_topics
from services.metrics import REGISTRY
from services.settings import Settings


def run_worker(stage: Stage, settings: Settings, loglevel: str = "info") -> None:
    """Run one stage until SIGTERM/SIGINT; never returns normally.

    Creates any missing storywire topic first, so that `stories` is compacted and every topic
    has the configured partitions even when no one ran `storywire topics create`.
    """
    create_topics(settings)
    if settings.metrics_port:
        start_http_server(settings.metrics_port, addr=settings.metrics_host, registry=REGISTRY)
    app = build_app(settings, stage)
    logging.getLogger("storywire").info(
        "starting stage=%s group=%s metrics=%s", stage, settings.group(stage), settings.metrics_port
    )
    worker = faust.Worker(app, loglevel=loglevel, override_logging=True)
    worker.execute_from_commandline()
