"""The gateway's core: who may post, and what a posted body becomes (no HTTP, no broker)."""

import json
from datetime import UTC, datetime
from pathlib import Path

from schemas.articles import RawArticleV1
from services.gateway.core import BadRequest, Outgoing, RecordError, authorize, read_batch

NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


def _batch(body: bytes) -> list[Outgoing] | list[RecordError] | BadRequest:
    return read_batch(body, max_records=3, max_message_bytes=100_000, now=NOW)


def _record(article_id: str, **extra: object) -> dict[str, object]:
    return {"id": article_id, "source": "Valley News", "text": "The bridge closed today.", **extra}


def test_bearer_tokens() -> None:
    tokens = ["alpha", "beta"]
    assert authorize("Bearer beta", tokens) is None
    assert authorize("bearer  alpha ", tokens) is None
    assert authorize(None, tokens) == 401
    assert authorize("Basic YWxwaGE6", tokens) == 401
    assert authorize("Bearer ", tokens) == 401
    assert authorize("Bearer gamma", tokens) == 403
    assert authorize("Bearer alph", tokens) == 403
    assert authorize("Bearer alpha", []) == 403


def test_one_record_or_a_batch_becomes_keyed_messages() -> None:
    one = _batch(json.dumps(_record("a1")).encode())
    batch = _batch(json.dumps([_record("a1"), _record("a/2")]).encode())
    assert isinstance(one, list) and isinstance(batch, list)
    assert all(isinstance(o, Outgoing) for o in [*one, *batch])
    assert [o.article_id for o in batch] == ["Valley News/a1", "Valley News/a/2"]  # type: ignore[union-attr]  # checked above
    first = batch[0]
    assert isinstance(first, Outgoing)
    assert first.key == b"Valley News"
    article = RawArticleV1.model_validate_json(first.value)
    assert article.ingested_at == NOW and article.text == "The bridge closed today."


def test_every_bad_record_is_named_and_nothing_is_sent() -> None:
    body = json.dumps([
        _record("ok"), {"id": "x", "text": "No outlet named."}, "text", _record("y", text=""),
    ]).encode()
    result = read_batch(body, max_records=10, max_message_bytes=100_000, now=NOW)
    assert isinstance(result, list) and all(isinstance(e, RecordError) for e in result)
    errors = [(e.index, e.kind) for e in result if isinstance(e, RecordError)]
    assert errors == [(1, "invalid_record"), (2, "invalid_record"), (3, "invalid_record")]
    reasons = [e.reason for e in result if isinstance(e, RecordError)]
    assert reasons[0].startswith("source: no outlet named")
    assert reasons[1] == "expected a JSON object, got str"
    assert "text" in reasons[2] or "html" in reasons[2]


def test_ninjs_items_are_taken_and_non_text_refused(shared: Path) -> None:
    examples = shared / "formats" / "ninjs" / "examples"
    text_item = json.loads((examples / "3.0/ntb_text.json").read_text(encoding="utf-8"))
    photo = json.loads((examples / "3.0/ap_image.json").read_text(encoding="utf-8"))
    ok = _batch(json.dumps(text_item).encode())
    assert isinstance(ok, list) and isinstance(ok[0], Outgoing)
    assert ok[0].article_id == f"NTB/{text_item['uri']}"
    refused = _batch(json.dumps([text_item, photo]).encode())
    assert isinstance(refused, list) and isinstance(refused[0], RecordError)
    assert (refused[0].index, refused[0].kind) == (1, "ninjs_refused")
    invalid = _batch(json.dumps({**text_item, "urgency": "high"}).encode())
    assert isinstance(invalid, list) and isinstance(invalid[0], RecordError)
    assert invalid[0].kind == "ninjs_invalid" and "urgency" in invalid[0].reason


def test_unreadable_bodies_and_limits() -> None:
    assert _batch(b"{nope") == BadRequest(
        400, "the body is not JSON: Expecting property name enclosed in double quotes: line 1 "
        "column 2 (char 1)", "invalid_json",
    )
    empty = _batch(b"[]")
    assert isinstance(empty, BadRequest) and empty.status == 400
    many = _batch(json.dumps([_record(str(i)) for i in range(4)]).encode())
    assert isinstance(many, BadRequest) and (many.status, many.kind) == (413, "too_many_records")
    big = _batch(json.dumps(_record("big", text="word " * 30_000)).encode())
    assert isinstance(big, list) and isinstance(big[0], RecordError)
    assert big[0].kind == "too_large" and "STORYWIRE_MAX_MESSAGE_BYTES" in big[0].reason
