"""The Grafana dashboard (and the alert rules) query only series the workers really export.

A renamed metric otherwise shows up as an empty panel or an alert that can never fire, and
nothing else would notice. Names come from services.metrics.REGISTRY, with the suffixes the
exposition adds: `_total` for counters, `_bucket`/`_sum`/`_count` for histograms.
"""

import json
import re

import pytest
import yaml
from prometheus_client.metrics import MetricWrapperBase

from services import metrics
from services.metrics import REGISTRY
from tests.conftest import REPO

DASHBOARD = REPO / "deploy" / "grafana" / "dashboards" / "storywire.json"
DATASOURCES = REPO / "deploy" / "grafana" / "provisioning" / "datasources" / "prometheus.yml"
ALERTS = REPO / "deploy" / "prometheus" / "alerts.yml"
# Series Prometheus itself writes for every target.
PROMETHEUS_SERIES = {"up"}
# Labels Prometheus adds to every scraped series (the scrape configs add `stage` per target).
TARGET_LABELS = {"job", "instance", "stage"}
PROMQL_WORDS = {
    "by", "without", "on", "ignoring", "group_left", "group_right", "and", "or", "unless",
    "offset", "bool", "inf", "nan",
}
GROUPING = re.compile(r"\b(?:by|without|on|ignoring)\s*\(([^)]*)\)")


def exported_series() -> set[str]:
    """Every series name the workers' registry can expose."""
    suffixes = {
        "counter": ("_total", "_created"),
        "histogram": ("_bucket", "_sum", "_count", "_created"),
        "gauge": ("",),
    }
    return {
        family.name + suffix
        for family in REGISTRY.collect()
        for suffix in suffixes[family.type]
    }


def exported_labels() -> set[str]:
    labels = {"le"}  # every histogram's bucket bound
    for defined in vars(metrics).values():
        if isinstance(defined, MetricWrapperBase):
            # prometheus-client keeps a metric's label names only in this attribute.
            labels.update(defined._labelnames)
    return labels


def metric_names(promql: str) -> set[str]:
    """The series names a PromQL expression selects."""
    text = re.sub(r'"(?:[^"\\]|\\.)*"', '""', promql)  # label values may hold anything
    text = GROUPING.sub(" ", text)
    text = re.sub(r"\{[^}]*\}", " ", text)  # label matchers
    text = re.sub(r"\[[^\]]*\]", " ", text)  # ranges
    names = set()
    # Not preceded by a digit or a dot: durations (`offset 5m`) and numbers are no names.
    for match in re.finditer(r"(?<![\w.])[A-Za-z_:][A-Za-z0-9_:]*", text):
        following = text[match.end():].lstrip()
        if following.startswith("("):  # a function or an aggregation
            continue
        if match.group().lower() in PROMQL_WORDS:
            continue
        names.add(match.group())
    return names


def grouping_labels(promql: str) -> set[str]:
    return {
        label.strip()
        for group in GROUPING.findall(promql)
        for label in group.split(",")
        if label.strip()
    }


def dashboard_queries() -> list[tuple[str, str]]:
    dashboard = json.loads(DASHBOARD.read_text())
    queries = [
        (panel["title"], target["expr"])
        for panel in dashboard["panels"]
        for target in panel.get("targets", [])
    ]
    for variable in dashboard["templating"]["list"]:
        query = variable["query"]["query"]
        selector = re.fullmatch(r"label_values\((\w+),\s*(\w+)\)", query)
        assert selector, f"variable {variable['name']}: unexpected query {query!r}"
        queries.append((f"variable {variable['name']}", selector.group(1)))
    return queries


def alert_queries() -> list[tuple[str, str]]:
    groups = yaml.safe_load(ALERTS.read_text())["groups"]
    return [(rule["alert"], rule["expr"]) for group in groups for rule in group["rules"]]


def test_the_parser_finds_names_and_skips_functions_labels_and_keywords() -> None:
    promql = (
        'histogram_quantile(0.95, sum by (stage, le) (rate(storywire_x_bucket{stage=~"a|b"}'
        "[5m]))) > 0 unless on(stage) up offset 5m"
    )
    assert metric_names(promql) == {"storywire_x_bucket", "up"}
    assert grouping_labels(promql) == {"stage", "le"}


def test_the_registry_view_knows_the_exposition_suffixes() -> None:
    exported = exported_series()
    assert "storywire_messages_in_total" in exported
    assert "storywire_end_to_end_seconds_bucket" in exported
    assert "storywire_cluster_live_stories" in exported
    assert "storywire_messages_in" not in exported  # a counter is only exported as _total


def test_dashboard_is_valid_provisionable_json() -> None:
    dashboard = json.loads(DASHBOARD.read_text())
    assert dashboard["uid"] == "storywire"
    panels = dashboard["panels"]
    ids = [panel["id"] for panel in panels]
    assert len(ids) == len(set(ids)), "panel ids must be unique"
    datasource_uids = {
        source["uid"] for source in yaml.safe_load(DATASOURCES.read_text())["datasources"]
    }
    for panel in panels:
        if panel["type"] == "row":
            continue
        assert panel["targets"], f"panel {panel['title']!r} has no query"
        assert panel["datasource"]["uid"] in datasource_uids, panel["title"]
        for target in panel["targets"]:
            assert target["expr"].strip(), panel["title"]


@pytest.mark.parametrize(
    ("where", "promql"), dashboard_queries() + alert_queries(), ids=lambda value: value[:40]
)
def test_every_queried_series_is_exported(where: str, promql: str) -> None:
    names = metric_names(promql)
    assert names, f"{where}: no series in {promql!r}"
    unknown = names - exported_series() - PROMETHEUS_SERIES
    assert not unknown, f"{where} queries series no worker exports: {sorted(unknown)}"
    labels = grouping_labels(promql) - exported_labels() - TARGET_LABELS
    assert not labels, f"{where} groups by labels no series has: {sorted(labels)}"


def test_dashboard_shows_what_operators_need() -> None:
    queried = {name for _, promql in dashboard_queries() for name in metric_names(promql)}
    assert {
        "storywire_messages_in_total",
        "storywire_messages_out_total",
        "storywire_end_to_end_seconds_bucket",
        "storywire_processing_seconds_bucket",
        "storywire_consumer_lag_messages",
        "storywire_dead_letters_total",
        "storywire_cluster_live_stories",
        "storywire_cluster_story_size_articles_bucket",
        "storywire_enrich_spacy_batch_seconds_bucket",
    } <= queried
    latency = [promql for _, promql in dashboard_queries() if "histogram_quantile" in promql]
    for histogram in ("storywire_end_to_end_seconds", "storywire_processing_seconds"):
        assert any(f"{histogram}_bucket" in promql for promql in latency), histogram


def test_dead_letters_are_shown_by_reason() -> None:
    by_reason = [
        promql for _, promql in dashboard_queries()
        if "storywire_dead_letters_total" in metric_names(promql)
    ]
    assert any("reason" in grouping_labels(promql) for promql in by_reason)


def test_alert_files_exist_where_the_configs_point() -> None:
    for config in ("prometheus.yml", "prometheus.docker.yml"):
        loaded = yaml.safe_load((ALERTS.parent / config).read_text())
        for rule_file in loaded["rule_files"]:
            assert (ALERTS.parent / rule_file).is_file(), f"{config}: {rule_file}"
