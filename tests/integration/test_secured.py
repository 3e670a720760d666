"""storywire against a secured broker: SASL/SCRAM-SHA-512 over TLS, with ACLs.

One private broker for the module (`deploy/kafka/broker.sh start-secure` on free ports, its
state, CA and passwords in a temp dir, the jars of .kafka/libs), always stopped at the end.
Every client goes through the same settings a user would set: the seeds flow to one story
through workers that each run as their stage's own principal; a wrong password, an untrusted
CA and a missing ACL each fail at once, saying which.
"""

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from kafka import KafkaProducer
from kafka.errors import TopicAuthorizationFailedError

from lab.pipeline import LocalPipeline, free_port_block
from lab.story_view import StoryBoard
from schemas.topics import Topic
from services.app import STAGES
from services.ingest.producer import ingest
from services.kafka import BrokerUnavailable, check_group_access, client_config, create_topics
from services.settings import Settings
from tests.conftest import REPO

pytestmark = pytest.mark.integration

BROKER_SH = REPO / "deploy" / "kafka" / "broker.sh"


@dataclass
class SecuredBroker:
    port: int
    ca_file: Path
    passwords: dict[str, str]
    topic_prefix: str
    group_prefix: str

    def settings(self, user: str, **overrides: object) -> Settings:
        """Settings for `user` (admin, ingest, reader, clean, enrich, cluster)."""
        fields: dict[str, object] = {
            "bootstrap_servers": f"127.0.0.1:{self.port}",
            "security_protocol": "SASL_SSL",
            "sasl_mechanism": "SCRAM-SHA-512",
            "sasl_username": user,
            "sasl_password": self.passwords.get(user, "unknown"),
            "ssl_cafile": str(self.ca_file),
            "topic_prefix": self.topic_prefix,
            "group_prefix": self.group_prefix,
            **overrides,
        }
        return Settings(**fields)  # type: ignore[arg-type]  # Settings fields, validated


@pytest.fixture(scope="module")
def secured(broker: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[SecuredBroker]:
    """Started after the shared broker (whose fetch put the jars in .kafka/libs)."""
    run = uuid.uuid4().hex[:8]
    state = tmp_path_factory.mktemp("secured-kafka")
    # Two free ports in a row (broker, controller): two separate probes can get one port twice.
    port = free_port_block(2)
    env = {
        **os.environ,
        "STORYWIRE_KAFKA_DIR": str(state),
        "STORYWIRE_KAFKA_LIBS": os.environ.get("STORYWIRE_KAFKA_LIBS", str(REPO / ".kafka/libs")),
        "STORYWIRE_BROKER_PORT": str(port),
        "STORYWIRE_CONTROLLER_PORT": str(port + 1),
        "STORYWIRE_TOPIC_PREFIX": f"s{run}.",
        "STORYWIRE_GROUP_PREFIX": f"sec-{run}",
    }
    try:
        started = subprocess.run(
            [str(BROKER_SH), "start-secure"], env=env, capture_output=True, text=True, timeout=180
        )
        if started.returncode != 0:
            pytest.fail(f"the secured broker did not start:\n{started.stdout}\n{started.stderr}")
        passwords = {}
        for line in (state / "secure" / "credentials.env").read_text().splitlines():
            name, _, value = line.partition("=")
            passwords[name.removeprefix("PASSWORD_").lower()] = value
        secured = SecuredBroker(
            port, state / "secure" / "ca.pem", passwords, f"s{run}.", f"sec-{run}"
        )
        create_topics(secured.settings("admin"))
        yield secured
    finally:
        subprocess.run([str(BROKER_SH), "stop-secure"], env=env, capture_output=True, timeout=120)


def _cli(settings: Settings, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """`storywire ARGS` with `settings` in its environment, as a user would run it."""
    from lab.pipeline import settings_env

    env = {**os.environ, **settings_env(settings)}
    return subprocess.run(
        [sys.executable, "-m", "services.cli", *args], env=env, capture_output=True, text=True,
        timeout=timeout, cwd=REPO,
    )


def test_seeds_form_one_story_through_workers_each_with_its_own_principal(
    secured: SecuredBroker, seeds_dir: Path, tmp_path: Path
) -> None:
    stage_env = {
        stage: {
            "STORYWIRE_SASL_USERNAME": stage,
            "STORYWIRE_SASL_PASSWORD": secured.passwords[stage],
        }
        for stage in STAGES
    }
    base = secured.settings("clean", data_dir=str(tmp_path / "faust"))
    with LocalPipeline(
        base, tmp_path / "logs", metrics_base_port=free_port_block(), stage_env=stage_env
    ) as pipeline:
        pipeline.wait_until_ready(timeout=90)
        report = ingest([seeds_dir], secured.settings("ingest"), show_progress=False)
        assert len(report.sent) == 5 and not report.failed
        board = StoryBoard(secured.settings("reader"))
        try:
            assert board.wait(
                lambda: board.accounts_for(report.sent), pipeline.check, timeout_s=90
            ), "the seeds were not placed"
            holding = [
                set(board.articles_of(s.story_id)) for s in board.latest()
                if set(report.sent) & set(board.articles_of(s.story_id))
            ]
            assert holding == [set(report.sent)]
            assert not board.dead_letters
        finally:
            board.close()


def test_a_wrong_password_fails_at_once_saying_so(secured: SecuredBroker) -> None:
    wrong = secured.settings("ingest", sasl_password="not-the-password")
    started = time.monotonic()
    with pytest.raises(BrokerUnavailable, match="SASL authentication failed for user 'ingest'"):
        create_topics(wrong)
    result = _cli(wrong, "topics", "create")
    assert result.returncode != 0
    assert "SASL authentication failed" in result.stderr
    assert time.monotonic() - started < 30


def test_a_worker_with_a_wrong_password_exits_non_zero_saying_so(secured: SecuredBroker) -> None:
    result = _cli(secured.settings("clean", sasl_password="nope"), "worker", "clean")
    assert result.returncode != 0
    assert "SASL authentication failed for user 'clean'" in result.stderr + result.stdout


def test_an_untrusted_certificate_fails_at_once_saying_so(
    secured: SecuredBroker, tmp_path: Path
) -> None:
    # A CA of our own, which did not sign the broker's certificate.
    other_ca = tmp_path / "other-ca.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-keyout", str(tmp_path / "other-ca.key"), "-out", str(other_ca),
         "-subj", "/CN=not the broker's CA"],
        check=True, capture_output=True,
    )
    untrusting = secured.settings("reader", ssl_cafile=str(other_ca))
    result = _cli(untrusting, "tail", "--idle-exit", "1")
    assert result.returncode != 0
    assert "certificate" in result.stderr and "failed verification" in result.stderr


def test_a_stage_cannot_write_another_stages_topic(secured: SecuredBroker) -> None:
    producer = KafkaProducer(**client_config(secured.settings("enrich")), acks="all")
    try:
        future = producer.send(secured.settings("enrich").topic(Topic.STORIES), b"forged")
        with pytest.raises(TopicAuthorizationFailedError):
            future.get(timeout=30)
    finally:
        producer.close(timeout=5)


def test_the_reader_cannot_ingest_and_is_told_why(secured: SecuredBroker, seeds_dir: Path) -> None:
    result = _cli(secured.settings("reader"), "ingest", "--no-progress", str(seeds_dir))
    assert result.returncode != 0
    assert "not authorized" in result.stderr and "reader" in result.stderr


def test_a_worker_run_as_another_stages_principal_exits_saying_so(
    secured: SecuredBroker, tmp_path: Path
) -> None:
    as_enrich = secured.settings("enrich", data_dir=str(tmp_path / "faust"), metrics_port=0)
    result = _cli(as_enrich, "worker", "clean")
    assert result.returncode != 0
    assert "not authorized" in result.stderr and "'enrich'" in result.stderr


def test_a_worker_is_refused_another_stages_consumer_group_before_faust_starts(
    secured: SecuredBroker,
) -> None:
    enrich = secured.settings("enrich")
    check_group_access(enrich, enrich.group("enrich"))  # its own: allowed
    with pytest.raises(BrokerUnavailable, match="refuse 'enrich' access to the consumer group"):
        check_group_access(enrich, enrich.group("clean"))


def test_a_client_with_a_certificate_for_mutual_tls_connects(
    secured: SecuredBroker, tmp_path: Path
) -> None:
    # A client certificate signed by the broker's CA, presented by the reader (the broker
    # requests one: ssl.client.auth=requested), through the settings a user would set.
    ca_dir = secured.ca_file.parent
    key, csr, cert = tmp_path / "reader.key", tmp_path / "reader.csr", tmp_path / "reader.pem"
    subprocess.run(
        ["openssl", "req", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out",
         str(csr), "-subj", "/CN=reader"], check=True, capture_output=True,
    )
    subprocess.run(
        ["openssl", "x509", "-req", "-in", str(csr), "-CA", str(secured.ca_file), "-CAkey",
         str(ca_dir / "ca.key"), "-CAcreateserial", "-CAserial", str(tmp_path / "ca.srl"),
         "-days", "1", "-out", str(cert)], check=True, capture_output=True,
    )
    reader = secured.settings("reader", ssl_certfile=str(cert), ssl_keyfile=str(key))
    result = _cli(reader, "tail", "--from-beginning", "--idle-exit", "2")
    assert result.returncode == 0, result.stderr
