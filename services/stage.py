"""What every stage's agent shares: decoding input, dead-lettering bad input, counting.

The agents stay thin (decode -> core -> send -> count); this module holds the parts that
would otherwise be copied into each of them.
"""

import base64
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, TypeVar

import faust
from faust.types import TableT
from pydantic import BaseModel, ValidationError

from schemas.deadletter import DeadLetterV1
from services import metrics
from services.errors import InvalidArticle

Model = TypeVar("Model", bound=BaseModel)


# Topic options for byte-for-byte messages: the agent decodes them itself, so that a message
# that is not even JSON still reaches it and can be dead-lettered, rather than being dropped
# by faust's deserializer before any stage code sees it.
RAW_BYTES: dict[str, Any] = {
    "key_type": bytes, "value_type": bytes, "key_serializer": "raw", "value_serializer": "raw"
}


def json_table(app: faust.App, name: str, help_text: str) -> TableT[Any, Any]:
    """A changelog-backed table of JSON values under str keys.

    Keys and values go through JSON on the changelog so a recovered table has the same
    Python types (str keys, plain dicts and lists) as the one that wrote it.
    """
    return app.Table(
        name,
        schema=faust.Schema(key_type=str, key_serializer="json", value_serializer="json"),
        help=help_text,
    )


def decode(model: type[Model], value: bytes | None) -> Model:
    """Parse one message value into its topic contract, or raise InvalidArticle."""
    if value is None:
        raise InvalidArticle("empty_message", "the message has no value")
    try:
        return model.model_validate_json(value)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first.get("loc", ())) or "message"
        # The reason names the kind of failure only (it is a metric label); the detail says
        # which field and why, for the person reading the dead letter.
        reason = "invalid_json" if first["type"] == "json_invalid" else "schema_violation"
        raise InvalidArticle(reason, f"{where}: {first['msg']}") from exc


def encode(model: BaseModel) -> bytes:
    return model.model_dump_json().encode()


def dead_letter(stage: str, error: InvalidArticle, message: Any) -> DeadLetterV1:
    """The dead letter for a message a stage rejected; `message` is faust's Message."""
    metrics.DEAD_LETTERS.labels(stage=stage, reason=error.reason).inc()
    return DeadLetterV1(
        stage=stage,  # type: ignore[arg-type]  # checked by the model: a known stage id
        reason=error.reason,
        detail=error.detail,
        topic=message.topic,
        partition=message.partition,
        offset=message.offset,
        # Base64Bytes fields take base64 on input and give the original bytes back.
        key=base64.b64encode(message.key) if message.key is not None else None,
        original=base64.b64encode(message.value or b""),
        failed_at=datetime.now(UTC),
    )


@contextmanager
def timed(stage: str, articles: int = 1) -> Iterator[None]:
    """Count processing seconds per article for `stage`."""
    started = time.perf_counter()
    yield
    per_article = (time.perf_counter() - started) / max(articles, 1)
    for _ in range(articles):
        metrics.PROCESSING_SECONDS.labels(stage=stage).observe(per_article)


def observe_output(stage: str, ingested_at: datetime) -> None:
    """Count one message sent on, and its age since ingest."""
    metrics.MESSAGES_OUT.labels(stage=stage).inc()
    age = (datetime.now(UTC) - ingested_at).total_seconds()
    metrics.END_TO_END_SECONDS.labels(stage=stage).observe(max(age, 0.0))
