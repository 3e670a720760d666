"""The one place that builds a faust.App: from settings, for one stage, with its agents.

Each stage runs as its own worker process with its own consumer group (`<group_prefix>-<stage>`),
so the stage id names the agent, the group, the metric label and the log field alike. Nothing
here connects or loads a model on import: that happens when a worker starts.
"""

from collections.abc import Callable
from pathlib import Path
from typing import Literal

import faust

from services import metrics
from services.gap import register_gap_timer
from services.kafka import ssl_context
from services.lag import register_lag_timer
from services.settings import Settings

Stage = Literal["clean", "enrich", "cluster"]
STAGES: tuple[Stage, ...] = ("clean", "enrich", "cluster")


def _registrars() -> dict[str, Callable[[faust.App, Settings], None]]:
    # Imported here so that building the app for one stage does not import the others'
    # heavy dependencies (spaCy for enrich, scikit-learn for cluster).
    from services.clean.agent import register as clean
    from services.cluster.agent import register as cluster
    from services.enrich.agent import register as enrich

    return {"clean": clean, "enrich": enrich, "cluster": cluster}


def _credentials(settings: Settings) -> faust.SASLCredentials | faust.SSLCredentials | None:
    if settings.security_protocol.startswith("SASL"):
        return faust.SASLCredentials(
            username=settings.sasl_username,
            password=(
                settings.sasl_password.get_secret_value() if settings.sasl_password else None
            ),
            mechanism=settings.sasl_mechanism,
            ssl_context=ssl_context(settings),
        )
    if settings.security_protocol == "SSL":
        return faust.SSLCredentials(ssl_context(settings))
    return None


# The most bytes the producer puts into one partition's batch before starting the next.
PRODUCER_BATCH_BYTES = 512 * 1024


def build_app(settings: Settings, stage: Stage) -> faust.App:
    """A faust app running exactly one stage's agent(s)."""
    datadir = Path(settings.data_dir).resolve() / f"{settings.topic_prefix}{stage}"
    datadir.mkdir(parents=True, exist_ok=True)
    app = faust.App(
        settings.group(stage),
        broker=[f"kafka://{server}" for server in settings.bootstrap_servers.split(",")],
        broker_credentials=_credentials(settings),
        autodiscover=False,
        origin="services",
        store="memory://",  # tables are rebuilt from their changelog topics on start
        datadir=str(datadir),
        topic_partitions=settings.topic_partitions,
        topic_replication_factor=settings.topic_replication,
        # At least once: faust flushes the producer before it commits the input offsets,
        # and it commits only offsets whose events the agent finished with.
        producer_acks=-1,
        # One size policy (settings.max_message_bytes): what ingest accepts, what every
        # stage may write, what a dead letter is cut to.
        producer_max_request_size=settings.max_message_bytes,
        # A batch's output goes out together (services.stage.deliver_all): with faust's
        # default 16 KiB per partition batch, 64 clean articles would fill a dozen batches and
        # as many requests, each compressed on its own. One request's worth per partition.
        producer_max_batch_size=min(PRODUCER_BATCH_BYTES, settings.max_message_bytes),
        producer_compression_type=(
            None if settings.stage_compression == "none" else settings.stage_compression
        ),
        broker_commit_interval=1.0,
        broker_session_timeout=settings.session_timeout_seconds,
        broker_heartbeat_interval=min(3.0, settings.session_timeout_seconds / 3),
        consumer_auto_offset_reset="earliest",
        web_enabled=False,  # storywire serves /metrics itself (prometheus-client)
        table_cleanup_interval=60.0,
    )
    _registrars()[stage](app, settings)
    register_lag_timer(app, stage)
    # The restart gap's safety net (faust-streaming#596): see services/gap.py.
    register_gap_timer(app, stage, settings.gap_seekback_seconds)
    # Export the stage's counters at 0 from the start: rate() cannot see the first increase of
    # a series that first appears already incremented (the no-output alert would misfire).
    metrics.MESSAGES_IN.labels(stage=stage)
    metrics.MESSAGES_OUT.labels(stage=stage)
    metrics.UNEXPECTED_ERRORS.labels(stage=stage)
    metrics.SEND_FAILURES.labels(stage=stage)
    metrics.GAP_SEEKBACKS.labels(stage=stage)
    return app
