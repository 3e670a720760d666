"""`storywire gateway` as a user runs it, against the real broker, all on 127.0.0.1: good,
bad, unauthenticated and oversized posts, and a broker stopped under it (a private broker on
ports of its own: the shared one is never stopped)."""

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

from lab.pipeline import free_port_block
from schemas.articles import RawArticleV1
from schemas.topics import Topic
from services.identity import article_key
from services.settings import Settings
from tests.conftest import REPO
from tests.integration.conftest import fresh_settings, read_all

pytestmark = pytest.mark.integration

TOKEN = "test-token-1"
MAX_BODY = 200_000


@dataclass
class Gateway:
    url: str
    process: subprocess.Popen[bytes]

    def post(
        self, body: object, token: str | None = TOKEN, raw: bytes | None = None
    ) -> tuple[int, dict[str, object], dict[str, str]]:
        data = raw if raw is not None else json.dumps(body).encode()
        request = urllib.request.Request(f"{self.url}/v1/articles", data=data, method="POST")
        request.add_header("Content-Type", "application/json")
        if token is not None:
            request.add_header("Authorization", f"Bearer {token}")
        try:
            with urllib.request.urlopen(request, timeout=60) as answer:
                return answer.status, json.loads(answer.read()), dict(answer.headers)
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read() or b"{}"), dict(error.headers)

    def get(self, path: str) -> str:
        with urllib.request.urlopen(f"{self.url}{path}", timeout=10) as answer:
            return str(answer.read().decode())


def start_gateway(settings: Settings, log: Path, **env: str) -> Gateway:
    port = free_port_block(1)
    environment = {
        **os.environ,
        "STORYWIRE_BOOTSTRAP_SERVERS": settings.bootstrap_servers,
        "STORYWIRE_TOPIC_PREFIX": settings.topic_prefix,
        "STORYWIRE_GATEWAY_PORT": str(port),
        "STORYWIRE_GATEWAY_TOKENS": f"other-token, {TOKEN}",
        "STORYWIRE_GATEWAY_MAX_BODY_BYTES": str(MAX_BODY),
        **env,
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "services.cli", "gateway"], cwd=REPO, env=environment,
        stdout=log.open("wb"), stderr=subprocess.STDOUT,
    )
    gateway = Gateway(f"http://127.0.0.1:{port}", process)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"the gateway exited: {log.read_text()}")
        try:
            gateway.get("/healthz")
            return gateway
        except OSError:
            time.sleep(0.2)
    process.kill()
    pytest.fail("the gateway did not answer /healthz in 60 s")


def stop_gateway(gateway: Gateway) -> None:
    gateway.process.terminate()
    try:
        gateway.process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        gateway.process.kill()


@pytest.fixture
def shared_gateway(broker: Settings, tmp_path: Path) -> Iterator[tuple[Gateway, Settings]]:
    settings = fresh_settings(broker)
    gateway = start_gateway(settings, tmp_path / "gateway.log")
    try:
        yield gateway, settings
    finally:
        stop_gateway(gateway)


def _record(article_id: str, source: str = "Valley News") -> dict[str, object]:
    return {"id": article_id, "source": source, "title": "Bridge closed",
            "text": "The council closed the old bridge to lorries on Tuesday."}


def test_good_bad_unauthenticated_and_oversized_posts(
    shared_gateway: tuple[Gateway, Settings], shared: Path
) -> None:
    gateway, settings = shared_gateway
    ninjs = json.loads(
        (shared / "formats/ninjs/examples/3.0/dpa_text.json").read_text(encoding="utf-8")
    )
    # Good: a batch of storywire records and a ninjs item, acknowledged with their ids.
    status, answer, _ = gateway.post([_record("a1"), _record("a2", "Hill Times"), ninjs])
    assert status == 202
    expected = [article_key("Valley News", "a1"), article_key("Hill Times", "a2"),
                article_key("dpa", ninjs["uri"])]
    assert answer == {"ids": expected}
    # One record alone.
    status, answer, _ = gateway.post(_record("a3"))
    assert (status, answer) == (202, {"ids": [article_key("Valley News", "a3")]})

    # Bad: every bad record named; nothing of the batch sent.
    photo = json.loads((shared / "formats/ninjs/examples/3.0/ap_image.json").read_text())
    status, answer, _ = gateway.post([_record("b1"), {"id": "b2", "text": "x"}, photo])
    assert status == 422
    assert answer == {"errors": [
        {"index": 1, "reason": "source: no outlet named (give `source`, or ninjs "
                               "`copyrightholder`)"},
        {"index": 2, "reason": "ninjs: a picture item, not text: storywire clusters text "
                               "stories"},
    ]}
    status, answer, _ = gateway.post(None, raw=b"{not json")
    assert status == 400 and str(answer["error"]).startswith("the body is not JSON")

    # Unauthenticated, and a token that is not accepted.
    status, _, headers = gateway.post(_record("c1"), token=None)
    assert status == 401 and headers.get("WWW-Authenticate", "").startswith("Bearer")
    assert gateway.post(_record("c2"), token="wrong")[0] == 403

    # Oversized: a body over the limit is refused before it is read whole.
    big = _record("d1")
    big["text"] = "word " * (MAX_BODY // 4)
    status, answer, _ = gateway.post(big)
    assert status == 413 and "STORYWIRE_GATEWAY_MAX_BODY_BYTES" in str(answer["error"])

    sent = read_all(settings, Topic.RAW, RawArticleV1)
    assert sorted(article_key(a.source, a.id) for a in sent) == sorted(
        [*expected, article_key("Valley News", "a3")]
    )
    metrics = gateway.get("/metrics")
    for line in (
        'storywire_gateway_records_total{outcome="sent"} 4.0',
        'storywire_gateway_rejects_total{reason="ninjs_refused"} 1.0',
        'storywire_gateway_rejects_total{reason="invalid_record"} 1.0',
        'storywire_gateway_rejects_total{reason="unauthenticated"} 1.0',
        'storywire_gateway_rejects_total{reason="forbidden"} 1.0',
        'storywire_gateway_rejects_total{reason="too_large"} 1.0',
        'storywire_gateway_requests_total{code="202"} 2.0',
    ):
        assert line in metrics


def test_the_gateway_answers_503_while_its_broker_is_stopped(
    broker: Settings, tmp_path: Path
) -> None:
    libs = os.environ.get("STORYWIRE_KAFKA_LIBS") or str(
        Path(os.environ.get("STORYWIRE_KAFKA_DIR", REPO / ".kafka")) / "libs"
    )
    # Two free ports in a row (broker, controller): two separate probes can get one port twice.
    port = free_port_block(2)
    env = {
        **os.environ, "STORYWIRE_KAFKA_DIR": str(tmp_path / "kafka"),
        "STORYWIRE_KAFKA_LIBS": libs, "STORYWIRE_BROKER_PORT": str(port),
        "STORYWIRE_CONTROLLER_PORT": str(port + 1),
    }

    def private_broker(verb: str) -> None:
        result = subprocess.run(
            [str(REPO / "deploy" / "kafka" / "broker.sh"), verb], env=env,
            capture_output=True, text=True, timeout=180,
        )
        assert result.returncode == 0, f"broker.sh {verb}: {result.stdout}\n{result.stderr}"

    settings = broker.model_copy(update={
        "bootstrap_servers": f"127.0.0.1:{port}", "topic_prefix": f"t{port}gw.",
    })
    # Started with no broker at all: it serves, and says 503 until one answers.
    gateway = start_gateway(settings, tmp_path / "gateway.log",
                            STORYWIRE_GATEWAY_SEND_TIMEOUT_SECONDS="3",
                            STORYWIRE_GATEWAY_MAX_IN_FLIGHT="3")
    try:
        status, answer, headers = gateway.post(_record("before"))
        assert status == 503 and headers.get("Retry-After") == "5"
        assert "retry later" in str(answer["error"])
        private_broker("start")
        try:
            status, answer, _ = gateway.post(_record("up"))
            assert (status, answer) == (202, {"ids": [article_key("Valley News", "up")]})
            private_broker("stop")
            started = time.monotonic()
            with ThreadPoolExecutor(1) as pool:
                # Two records wait for acks that do not come; two more would pass the bound
                # on records in flight (3): saturated, answered at once.
                waiting = pool.submit(gateway.post, [_record("down1"), _record("down2")])
                time.sleep(1.0)
                status, answer, headers = gateway.post([_record("down3"), _record("down4")])
                assert status == 503 and headers.get("Retry-After") == "5"
                assert str(answer["error"]).startswith("the gateway is saturated")
                status, _, headers = waiting.result()
            assert status == 503 and headers.get("Retry-After") == "5"
            assert time.monotonic() - started < 30  # bounded by the send timeout, not hung
            metrics = gateway.get("/metrics")
            assert 'storywire_gateway_rejects_total{reason="broker_unavailable"} 2.0' in metrics
            assert 'storywire_gateway_rejects_total{reason="saturated"} 1.0' in metrics
            private_broker("start")  # the same state: the gateway's producer reconnects
            deadline = time.monotonic() + 90
            while (status := gateway.post(_record("again"))[0]) != 202:
                assert status == 503 and time.monotonic() < deadline
                time.sleep(1)
            got = {article_key(a.source, a.id) for a in read_all(settings, Topic.RAW, RawArticleV1)}
            assert {article_key("Valley News", "up"), article_key("Valley News", "again")} <= got
        finally:
            private_broker("stop")
    finally:
        stop_gateway(gateway)
