"""`storywire gateway`: copy pushed over HTTP into `articles.raw` (aiohttp).

POST /v1/articles (bearer token; JSON: one record or an array, storywire's record or ninjs):
- 202 {"ids": [...]} once the broker acknowledged every record (acks=all);
- 400 unreadable body, 422 {"errors": [{"index", "reason"}]} with every bad record (nothing
  sent), 413 body over `gateway_max_body_bytes` or more than `gateway_max_records` records;
- 401 without a bearer token, 403 with a token not accepted;
- 503 with Retry-After while the broker is unreachable or does not ack in time, or while the
  records awaiting acks would pass `gateway_max_in_flight` (saturated).
GET /healthz: 200 {"broker": "connected"|"not yet"}; GET /metrics: Prometheus text.
"""

import asyncio
import logging
import time
from datetime import UTC, datetime
from typing import Any

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from services import metrics
from services.gateway.core import BadRequest, RecordError, authorize, read_batch
from services.gateway.producer import BrokerDown, Publisher
from services.ingest import ninjs
from services.settings import Settings

log = logging.getLogger(__name__)
RETRY_AFTER_SECONDS = 5
PUBLISHER = web.AppKey("publisher", Publisher)
STATE = web.AppKey("state", dict)


def _answer(status: int, body: dict[str, Any], **headers: str) -> web.Response:
    metrics.GATEWAY_REQUESTS.labels(code=str(status)).inc()
    return web.json_response(body, status=status, headers=headers or None)


def _refuse(status: int, kind: str, reason: str, **headers: str) -> web.Response:
    metrics.GATEWAY_REJECTS.labels(reason=kind).inc()
    return _answer(status, {"error": reason}, **headers)


def make_app(settings: Settings, publisher: Publisher | None = None) -> web.Application:
    tokens = settings.gateway_token_list()
    app = web.Application(client_max_size=settings.gateway_max_body_bytes)
    app[PUBLISHER] = publisher or Publisher(settings)
    app[STATE] = {"in_flight": 0}

    async def post_articles(request: web.Request) -> web.Response:
        started = time.perf_counter()
        try:
            return await _post(request)
        finally:
            metrics.GATEWAY_SECONDS.observe(time.perf_counter() - started)

    async def _post(request: web.Request) -> web.Response:
        denied = authorize(request.headers.get("Authorization"), tokens)
        if denied == 401:
            return _refuse(401, "unauthenticated", "a bearer token is required",
                           **{"WWW-Authenticate": 'Bearer realm="storywire"'})
        if denied == 403:
            return _refuse(403, "forbidden", "this token is not accepted")
        try:
            body = await request.read()
        except web.HTTPRequestEntityTooLarge:
            limit = settings.gateway_max_body_bytes
            return _refuse(413, "too_large", f"the body is over {limit:,} bytes "
                           "(STORYWIRE_GATEWAY_MAX_BODY_BYTES)")
        # Parsing and ninjs validation of a large batch take a while: off the event loop.
        batch = await asyncio.get_running_loop().run_in_executor(None, lambda: read_batch(
            body, max_records=settings.gateway_max_records,
            max_message_bytes=settings.max_message_bytes, now=datetime.now(UTC),
        ))
        if isinstance(batch, BadRequest):
            return _refuse(batch.status, batch.kind, batch.reason)
        if batch and isinstance(batch[0], RecordError):
            errors = [e for e in batch if isinstance(e, RecordError)]
            for error in errors:
                metrics.GATEWAY_REJECTS.labels(reason=error.kind).inc()
            metrics.GATEWAY_RECORDS.labels(outcome="rejected").inc(len(errors))
            return _answer(422, {"errors": [{"index": e.index, "reason": e.reason}
                                            for e in errors]})
        articles = [a for a in batch if not isinstance(a, RecordError)]
        state = app[STATE]
        if state["in_flight"] + len(articles) > settings.gateway_max_in_flight:
            return _refuse(503, "saturated", "the gateway is saturated; retry later",
                           **{"Retry-After": str(RETRY_AFTER_SECONDS)})
        state["in_flight"] += len(articles)
        try:
            await app[PUBLISHER].publish(articles)
        except BrokerDown as exc:
            log.warning("gateway: broker unavailable: %s", exc)
            return _refuse(503, "broker_unavailable", "the broker did not acknowledge; retry "
                           "later (ids are stable: resending is safe)",
                           **{"Retry-After": str(RETRY_AFTER_SECONDS)})
        finally:
            state["in_flight"] -= len(articles)
        metrics.GATEWAY_RECORDS.labels(outcome="sent").inc(len(articles))
        return _answer(202, {"ids": [a.article_id for a in articles]})

    async def healthz(request: web.Request) -> web.Response:
        connected = app[PUBLISHER].connected
        broker = "connected" if connected else "not yet"
        return web.json_response({"status": "ok", "broker": broker})

    async def metrics_page(request: web.Request) -> web.Response:
        return web.Response(body=generate_latest(metrics.REGISTRY),
                            headers={"Content-Type": CONTENT_TYPE_LATEST})

    async def close_publisher(app: web.Application) -> None:
        await app[PUBLISHER].close()

    async def load_schemas(app: web.Application) -> None:
        # The ninjs schemas, compiled once before the first request rather than during it.
        await asyncio.get_running_loop().run_in_executor(None, ninjs.warm_up)

    app.router.add_post("/v1/articles", post_articles)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/metrics", metrics_page)
    app.on_startup.append(load_schemas)
    app.on_cleanup.append(close_publisher)
    return app


def run_gateway(settings: Settings) -> None:
    """Serve until SIGINT/SIGTERM (aiohttp's run_app finishes in-flight requests first)."""
    web.run_app(
        make_app(settings), host=settings.gateway_host, port=settings.gateway_port,
        print=lambda line: log.info("%s", line), access_log=None,
    )
