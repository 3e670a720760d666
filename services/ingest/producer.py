"""Feeding wire copy into `articles.raw` with kafka-python (acks=all, idempotent)."""

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from kafka import KafkaProducer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from schemas.topics import Topic
from services.identity import article_key
from services.ingest.core import Accepted, Rejected, find_files, read_articles
from services.kafka import (
    UNREACHABLE,
    BrokerUnavailable,
    check_access,
    client_config,
    create_topics,
    refused,
    unreachable_message,
)
from services.settings import Settings
from services.text_safety import printable


@dataclass
class IngestReport:
    # Keys (`services.identity.article_key`: source and id) of the articles the broker
    # acknowledged: the ids they go by in stories and dead letters downstream.
    sent: list[str] = field(default_factory=list)
    rejected: list[Rejected] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)  # (where, broker error)


def make_producer(settings: Settings) -> KafkaProducer:
    check_access(settings)
    try:
        return KafkaProducer(
            **client_config(settings),
            client_id="storywire-ingest",
            acks="all",
            enable_idempotence=True,
            linger_ms=10,
            compression_type=None,
            max_request_size=settings.max_message_bytes,
        )
    except UNREACHABLE as exc:
        raise BrokerUnavailable(unreachable_message(settings)) from exc


def ingest(
    paths: Iterable[Path],
    settings: Settings,
    *,
    source: str | None = None,
    console: Console | None = None,
    show_progress: bool = True,
) -> IngestReport:
    """Send every readable article under `paths`; report what was sent and what was not.

    Each article is keyed by its source, so one outlet's copy keeps its order on one
    partition. The report holds only ids the broker acknowledged (acks=all).
    """
    paths = list(paths)
    console = console or Console(stderr=True)
    report = IngestReport()
    create_topics(settings)  # the broker does not create topics on first use
    producer = make_producer(settings)
    topic = settings.topic(Topic.RAW)
    pending = []
    try:
        with Progress(
            TextColumn("[bold]ingest[/bold] {task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
            disable=not show_progress,
        ) as progress:
            files = find_files(paths)  # walked once: the total and the reading share it
            task = progress.add_task("files", total=len(files))
            last_file = None
            for item in read_articles(files, source=source):
                current_file = item.where.split(":")[0].split("[")[0]
                if current_file != last_file:
                    if last_file is not None:
                        progress.advance(task)
                    last_file = current_file
                if isinstance(item, Rejected):
                    report.rejected.append(item)
                    console.print(
                        f"[yellow]skipped[/yellow] {printable(item.where)}: "
                        f"{printable(item.reason)}"
                    )
                    continue
                assert isinstance(item, Accepted)
                value = item.article.model_dump_json().encode()
                if len(value) > settings.max_message_bytes:
                    # Refused at the door: no stage could pass it on, nor dead-letter it whole.
                    too_big = Rejected(
                        item.where,
                        f"the article is {len(value):,} bytes as a message; the limit is "
                        f"{settings.max_message_bytes:,} (STORYWIRE_MAX_MESSAGE_BYTES)",
                    )
                    report.rejected.append(too_big)
                    console.print(f"[yellow]skipped[/yellow] {printable(too_big.where)}: "
                                  f"{printable(too_big.reason)}")
                    continue
                future = producer.send(topic, key=item.article.source.encode(), value=value)
                key = article_key(item.article.source, item.article.id)
                pending.append((item.where, key, future))
            if last_file is not None:
                progress.advance(task)
            producer.flush()
        for where, article_id, future in pending:
            try:
                future.get(timeout=30)
                report.sent.append(article_id)
            except Exception as exc:  # every send error is reported below, none dropped
                denial = refused(settings, exc)
                if denial is not None:  # the broker refuses this principal: all would fail
                    raise denial from exc
                report.failed.append((where, f"{type(exc).__name__}: {exc}"))
    finally:
        producer.close(timeout=10)
    return report
