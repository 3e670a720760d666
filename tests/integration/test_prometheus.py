"""What an operator sees: a real Prometheus scraping the three real workers on the real broker.

One module-scoped run: Prometheus (Debian's binary, `make prometheus-install`) runs the shipped
deploy/prometheus/prometheus.yml with the test's ports and a 1 s scrape interval; the pipeline
runs on fresh topics; the five seed articles and one malformed message go in. Every assertion
then asks Prometheus's own HTTP API, as a dashboard or an alert would.
"""

import json
import shutil
import subprocess
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from kafka import KafkaProducer

from lab.pipeline import LocalPipeline, free_port_block
from schemas.topics import Topic
from services.app import STAGES
from services.ingest.producer import ingest
from services.kafka import client_config
from services.settings import Settings
from tests.conftest import REPO
from tests.integration.conftest import fresh_settings

pytestmark = pytest.mark.integration

PROMETHEUS_DIR = REPO / "deploy" / "prometheus"
DASHBOARD = REPO / "deploy" / "grafana" / "dashboards" / "storywire.json"
SEEDS = 5
MALFORMED = b"{this is not json"
# What each stage's agent reads; the cluster worker also reads its own ticks.
INPUT_TOPICS = {
    "clean": (Topic.RAW,),
    "enrich": (Topic.CLEAN,),
    "cluster": (Topic.ENRICHED, Topic.CLUSTER_TICKS),
}
# The shipped config's worker ports, in stage order (see LocalPipeline.metrics_port).
SHIPPED_BASE_PORT = 9401


def _binary(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.fail(
            f"`{name}` is not installed: run `make prometheus-install` (Debian's prometheus "
            "package, which brings promtool) or `make up`; `make test` installs it itself"
        )
    return path


@dataclass
class Observed:
    settings: Settings
    url: str

    def query(self, promql: str) -> list[dict[str, Any]]:
        """The instant vector `promql` evaluates to now (fails on a query error)."""
        answer = _get_json(f"{self.url}/api/v1/query?" + urllib.parse.urlencode({"query": promql}))
        assert answer["status"] == "success", answer
        assert answer["data"]["resultType"] == "vector", answer
        return list(answer["data"]["result"])

    def value(self, promql: str) -> float | None:
        """The single sample `promql` gives, or None when it gives none."""
        result = self.query(promql)
        assert len(result) <= 1, result
        return float(result[0]["value"][1]) if result else None


def _get_json(url: str) -> dict[str, Any]:
    with urllib.request.urlopen(url, timeout=5) as response:
        answer: dict[str, Any] = json.loads(response.read())
        return answer


def _wait_until(observed: Observed, what: str, ready: Any, timeout: float,
                pipeline: LocalPipeline | None = None) -> None:
    deadline = time.monotonic() + timeout
    while not ready():
        if pipeline is not None:
            pipeline.check()
        assert time.monotonic() < deadline, f"within {timeout}s: {what}"
        time.sleep(0.5)


def _test_config(shipped: Path, base_port: int, tmp: Path) -> Path:
    """The shipped scrape config, its worker ports moved to the test's, scraped every second."""
    config = yaml.safe_load(shipped.read_text())
    config["global"] = {"scrape_interval": "1s", "evaluation_interval": "1s"}
    config["rule_files"] = [str(PROMETHEUS_DIR / name) for name in config["rule_files"]]
    for scrape in config["scrape_configs"]:
        for group in scrape["static_configs"]:
            host, port = group["targets"][0].rsplit(":", 1)
            group["targets"] = [f"{host}:{base_port + int(port) - SHIPPED_BASE_PORT}"]
    path = tmp / "prometheus.yml"
    path.write_text(yaml.safe_dump(config))
    return path


@pytest.fixture(scope="module")
def prometheus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path, int]]:
    """A real Prometheus on a free port; stopped (SIGTERM, then SIGKILL) afterwards."""
    binary = _binary("prometheus")
    tmp = tmp_path_factory.mktemp("prometheus")
    base = free_port_block(4)  # three workers, then Prometheus itself
    port = base + 3
    log = (tmp / "prometheus.log").open("wb")
    process = subprocess.Popen(
        [
            binary,
            f"--config.file={_test_config(PROMETHEUS_DIR / 'prometheus.yml', base, tmp)}",
            f"--storage.tsdb.path={tmp / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--log.level=warn",
        ],
        stdout=log, stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                pytest.fail(f"prometheus exited:\n{(tmp / 'prometheus.log').read_text()}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/-/ready", timeout=2):
                    break
            except OSError:
                assert time.monotonic() < deadline, "prometheus was not ready within 60s"
                time.sleep(0.3)
        yield f"http://127.0.0.1:{port}", tmp, base
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
        log.close()


@pytest.fixture(scope="module")
def observed(broker: Settings, shared: Path,
             prometheus: tuple[str, Path, int]) -> Iterator[Observed]:
    url, tmp, base = prometheus
    settings = fresh_settings(broker)
    observed = Observed(settings, url)
    with LocalPipeline(settings, tmp / "logs", metrics_base_port=base) as pipeline:
        pipeline.wait_until_ready()

        def scraped_at_zero() -> bool:
            # rate() sees an increase only from a sample before it: copy fed before Prometheus
            # has scraped a worker's counters at 0 (a scrape can time out on a loaded machine)
            # leaves its first increase unseen, and the no-output alert would go pending.
            counters = observed.query(
                '{__name__=~"storywire_messages_(in|out)_total", job="storywire"}'
            )
            seen = {(s["metric"]["__name__"], s["metric"]["stage"]): s["value"][1]
                    for s in counters}
            expected = {(f"storywire_messages_{way}_total", stage)
                        for way in ("in", "out") for stage in STAGES}
            return set(seen) == expected and set(seen.values()) == {"0"}

        _wait_until(observed, "Prometheus scraped every stage's counters at 0",
                    scraped_at_zero, 60, pipeline)
        report = ingest([shared / "seeds"], settings, show_progress=False)
        assert len(report.sent) == SEEDS and not report.rejected and not report.failed
        producer = KafkaProducer(**client_config(settings), acks="all")
        producer.send(settings.topic(Topic.RAW), key=b"bad", value=MALFORMED)
        producer.flush()
        producer.close()

        def placed() -> bool:
            return observed.value('storywire_messages_out_total{stage="cluster"}') == SEEDS

        _wait_until(observed, "the cluster stage placed every seed", placed, 300, pipeline)

        def caught_up() -> bool:
            # Commits every 1 s, the lag timer every 5 s, scrapes every 1 s.
            lag = observed.query("storywire_consumer_lag_messages")
            stages = {series["metric"]["stage"] for series in lag}
            return stages == set(STAGES) and all(s["value"][1] == "0" for s in lag)

        _wait_until(observed, "every stage's lag reported and at 0", caught_up, 60, pipeline)
        yield observed


def test_shipped_configs_and_alert_rules_are_valid() -> None:
    promtool = _binary("promtool")
    for config in ("prometheus.yml", "prometheus.docker.yml"):
        checked = subprocess.run([promtool, "check", "config", config], cwd=PROMETHEUS_DIR,
                                 capture_output=True, text=True, timeout=60)
        assert checked.returncode == 0, checked.stdout + checked.stderr
    # Each alert fires on a failing pipeline's series and stays quiet on a healthy one.
    tested = subprocess.run([promtool, "test", "rules", "alerts.test.yml"], cwd=PROMETHEUS_DIR,
                            capture_output=True, text=True, timeout=60)
    assert tested.returncode == 0, tested.stdout + tested.stderr


def test_prometheus_scrapes_every_worker(observed: Observed) -> None:
    up = observed.query('up{job="storywire"}')
    assert {series["metric"]["stage"]: series["value"][1] for series in up} == {
        "clean": "1", "enrich": "1", "cluster": "1"
    }


def test_counts_through_prometheus_match_what_was_fed(observed: Observed) -> None:
    assert observed.value('storywire_messages_in_total{stage="clean"}') == SEEDS + 1
    assert observed.value('storywire_messages_out_total{stage="clean"}') == SEEDS
    assert observed.value(
        'storywire_dead_letters_total{stage="clean", reason="invalid_json"}'
    ) == 1
    assert observed.value('storywire_messages_in_total{stage="enrich"}') == SEEDS
    assert observed.value('storywire_messages_out_total{stage="enrich"}') == SEEDS
    assert observed.value('storywire_messages_in_total{stage="cluster"}') == SEEDS
    # The five outlets' copy of one event: one story created, then updated by the other four.
    assert observed.value('storywire_cluster_story_events_total{event="created"}') == 1
    assert observed.value('storywire_cluster_story_events_total{event="updated"}') == SEEDS - 1
    # Every worker exports the metrics that have no stage label (one registry): the stage
    # label Prometheus adds from the target says whose they are.
    assert observed.value('storywire_cluster_live_stories{stage="cluster"}') == 1
    assert observed.value('storywire_cluster_story_size_articles_count{stage="cluster"}') == SEEDS
    batches = observed.value('storywire_enrich_spacy_batch_seconds_count{stage="enrich"}')
    assert batches is not None and 1 <= batches <= SEEDS


def test_the_stage_label_is_the_workers_own(observed: Observed) -> None:
    # honor_labels: no series gets its stage renamed to exported_stage, and a metric without
    # a stage label of its own carries its worker's.
    assert observed.query('{__name__=~"storywire_.+", exported_stage!=""}') == []
    batches = observed.query("storywire_enrich_spacy_batch_seconds_count > 0")
    assert [series["metric"]["stage"] for series in batches] == ["enrich"]


def test_consumer_lag_covers_each_input_partition_and_no_changelog(observed: Observed) -> None:
    lag = observed.query("storywire_consumer_lag_messages")
    reported = {(s["metric"]["stage"], s["metric"]["topic"], s["metric"]["partition"])
                for s in lag}
    expected = {
        (stage, observed.settings.topic(topic), str(partition))
        for stage in STAGES
        for topic in INPUT_TOPICS[stage]
        for partition in range(observed.settings.topic_partitions)
    }
    assert reported == expected
    assert {s["value"][1] for s in lag} == {"0"}


def test_alert_rules_load_and_evaluate_in_prometheus(observed: Observed) -> None:
    def evaluated() -> bool:
        groups = _get_json(f"{observed.url}/api/v1/rules")["data"]["groups"]
        return all(rule["health"] == "ok" for group in groups for rule in group["rules"])

    _wait_until(observed, "every alert rule evaluated without error", evaluated, 30)
    groups = _get_json(f"{observed.url}/api/v1/rules")["data"]["groups"]
    names = {rule["name"] for group in groups for rule in group["rules"]}
    assert names == {"StorywireWorkerDown", "StorywireLagGrowing", "StorywireDeadLetterRate",
                     "StorywireNoOutput", "StorywireLagStuck", "StorywireUnexpectedErrors",
                     "StorywireSendFailures", "StorywireRawCopyRerouted"}
    # A healthy run leaves no alert pending or firing (the workers export each stage's
    # counters at 0 from the start, so no stage looks like input without output).
    assert _get_json(f"{observed.url}/api/v1/alerts")["data"]["alerts"] == []


def test_every_dashboard_query_shows_data(observed: Observed) -> None:
    dashboard = json.loads(DASHBOARD.read_text())
    targets = [(panel["title"], target["expr"]) for panel in dashboard["panels"]
               for target in panel.get("targets", [])]
    assert targets
    for title, expr in targets:
        # What Grafana sends with every stage selected and a 1 s scrape interval.
        promql = expr.replace("$stage", ".*").replace("$__rate_interval", "1m")
        assert observed.query(promql), f"panel {title!r} shows nothing: {promql}"
    stage_variable = _get_json(
        f"{observed.url}/api/v1/label/stage/values?"
        + urllib.parse.urlencode({"match[]": "storywire_messages_in_total"})
    )
    assert set(stage_variable["data"]) == set(STAGES)
