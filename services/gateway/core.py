"""The HTTP gateway's core: who may post, and what a posted body holds (no HTTP, no Kafka).

In: the `Authorization` header and the accepted tokens; a request body (JSON: one record or
an array of records, each storywire's own JSON record or an IPTC ninjs item, as
`storywire ingest` reads them). Out: the articles to send with their keys and message bytes,
or every bad record's index and reason. A batch is all or nothing: one bad record and none is
sent, so a sender fixes it and posts the same batch again (ids are stable: a resend is safe).
"""

import hmac
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from services.identity import article_key
from services.ingest.core import Accepted, from_record


@dataclass(frozen=True)
class Outgoing:
    """One article ready for `articles.raw`: key (its outlet), value (the contract's JSON)."""

    article_id: str  # `services.identity.article_key`: the id it goes by downstream
    key: bytes
    value: bytes


@dataclass(frozen=True)
class RecordError:
    index: int
    reason: str
    kind: str  # a short fixed reason for the metrics (see `metrics.GATEWAY_REJECTS`)


@dataclass(frozen=True)
class BadRequest:
    """The body as a whole cannot be read (`status` 400, or 413 for too many records)."""

    status: int
    reason: str
    kind: str


def authorize(header: str | None, tokens: Sequence[str]) -> Literal[401, 403] | None:
    """None if `header` carries one of `tokens` as a bearer token; 401 without a bearer
    token, 403 with one that is not accepted. Compared in constant time."""
    scheme, _, token = (header or "").strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return 401
    presented = token.strip().encode()
    accepted = False
    for known in tokens:  # every token compared, so the time does not say which matched
        accepted |= hmac.compare_digest(presented, known.encode())
    return None if accepted else 403


def _kind(reason: str) -> str:
    if reason.startswith("ninjs: not valid"):
        return "ninjs_invalid"
    if reason.startswith("ninjs:"):
        return "ninjs_refused"
    return "invalid_record"


def read_batch(
    body: bytes, *, max_records: int, max_message_bytes: int, now: datetime
) -> list[Outgoing] | list[RecordError] | BadRequest:
    """The articles in `body` (all of them), or each bad record's error, or why the body as a
    whole is unreadable. A record whose message would exceed `max_message_bytes` is bad: no
    stage could pass it on."""
    try:
        document = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        return BadRequest(400, f"the body is not JSON: {exc}", "invalid_json")
    records = document if isinstance(document, list) else [document]
    if not records:
        return BadRequest(
            400, "an empty batch: post one record or a non-empty array", "invalid_json"
        )
    if len(records) > max_records:
        return BadRequest(
            413, f"{len(records)} records in one request; the limit is {max_records} "
            "(STORYWIRE_GATEWAY_MAX_RECORDS)", "too_many_records",
        )
    outgoing: list[Outgoing] = []
    errors: list[RecordError] = []
    for index, record in enumerate(records):
        read = from_record(f"[{index}]", record, None, now, unknown_source=None)
        if not isinstance(read, Accepted):
            errors.append(RecordError(index, read.reason, _kind(read.reason)))
            continue
        article = read.article
        value = article.model_dump_json().encode()
        if len(value) > max_message_bytes:
            errors.append(RecordError(
                index, f"the article is {len(value):,} bytes as a message; the limit is "
                f"{max_message_bytes:,} (STORYWIRE_MAX_MESSAGE_BYTES)", "too_large",
            ))
            continue
        outgoing.append(
            Outgoing(article_key(article.source, article.id), article.source.encode(), value)
        )
    return errors if errors else outgoing
