"""Every Prometheus metric storywire exports, defined once against an explicit registry.

Labels are low-cardinality only: `stage` (clean, enrich, cluster), `reason` (a short fixed
dead-letter reason), `topic` and `partition` for lag.
"""

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

REGISTRY = CollectorRegistry(auto_describe=True)

# Messages a stage read from its input topic.
MESSAGES_IN = Counter(
    "storywire_messages_in", "Messages read by a stage", ["stage"], registry=REGISTRY
)
# Messages a stage sent on to its output topic (story events for the cluster stage).
MESSAGES_OUT = Counter(
    "storywire_messages_out", "Messages sent on by a stage", ["stage"], registry=REGISTRY
)
# Messages a stage could not process, sent to its dead-letter topic, by reason.
DEAD_LETTERS = Counter(
    "storywire_dead_letters", "Messages sent to a dead-letter topic", ["stage", "reason"],
    registry=REGISTRY,
)
# Messages whose processing raised an unexpected error (a bug), each try counted; after its
# last try the message is dead-lettered with reason `unexpected_<ExceptionType>`.
UNEXPECTED_ERRORS = Counter(
    "storywire_unexpected_errors", "Unexpected errors while processing a message", ["stage"],
    registry=REGISTRY,
)
# Sends the broker refused or that timed out (each try; the producer's own retries inside).
SEND_FAILURES = Counter(
    "storywire_send_failures", "Failed sends to the broker", ["stage"], registry=REGISTRY
)
# Seconds a stage's core spent on one message (one batch for enrich, divided per article).
PROCESSING_SECONDS = Histogram(
    "storywire_processing_seconds", "Core processing time per message", ["stage"],
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
    registry=REGISTRY,
)
# Seconds from an article's ingest time to the moment a stage sent its output.
END_TO_END_SECONDS = Histogram(
    "storywire_end_to_end_seconds", "Ingest time to stage output", ["stage"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0),
    registry=REGISTRY,
)
# Seconds one spaCy `nlp.pipe` batch took.
SPACY_BATCH_SECONDS = Histogram(
    "storywire_enrich_spacy_batch_seconds", "spaCy batch time",
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0), registry=REGISTRY,
)
# Articles flagged as (near-)duplicates of an earlier copy by the clean stage.
DUPLICATES = Counter(
    "storywire_clean_duplicates", "Articles flagged as syndicated duplicates", registry=REGISTRY
)
# Live (not closed) stories held by this cluster worker.
LIVE_STORIES = Gauge(
    "storywire_cluster_live_stories", "Live stories held by this worker", registry=REGISTRY
)
# Number of articles in a story each time it changes.
STORY_SIZE = Histogram(
    "storywire_cluster_story_size_articles", "Articles per story at each story event",
    buckets=(1, 2, 3, 5, 8, 13, 21, 34, 55, 89, 144), registry=REGISTRY,
)
# Story events by kind (created, updated, closed, merged).
STORY_EVENTS = Counter(
    "storywire_cluster_story_events", "Story events emitted", ["event"], registry=REGISTRY
)
# Messages between a stage's committed position and the end of its input partition.
CONSUMER_LAG = Gauge(
    "storywire_consumer_lag_messages", "Consumer lag per input partition",
    ["stage", "topic", "partition"], registry=REGISTRY,
)
# Partitions sought back to their committed offset because the commit had stalled below the
# end with nothing in flight (the restart gap, faust-streaming#596; services/gap.py).
GAP_SEEKBACKS = Counter(
    "storywire_gap_seekbacks", "Stalled input partitions sought back to their commit",
    ["stage"], registry=REGISTRY,
)

# The HTTP gateway (`storywire gateway`). Requests answered, by status code.
GATEWAY_REQUESTS = Counter(
    "storywire_gateway_requests", "HTTP requests answered by the gateway", ["code"],
    registry=REGISTRY,
)
# Records the gateway took in, by outcome: `sent` (the broker acknowledged) or `rejected`.
GATEWAY_RECORDS = Counter(
    "storywire_gateway_records", "Records handled by the gateway", ["outcome"], registry=REGISTRY
)
# Requests or records refused, by a short fixed reason (invalid_json, invalid_record,
# ninjs_invalid, ninjs_refused, too_large, too_many_records, unauthenticated, forbidden,
# broker_unavailable, saturated).
GATEWAY_REJECTS = Counter(
    "storywire_gateway_rejects", "Requests or records the gateway refused", ["reason"],
    registry=REGISTRY,
)
# Seconds from a POST's arrival to its answer (the broker's ack included).
GATEWAY_SECONDS = Histogram(
    "storywire_gateway_request_seconds", "Gateway POST latency",
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
    registry=REGISTRY,
)

# One round of a feed, by how the feed answered: fetched, not_modified, or why it could not be
# read (timeout, unreachable, http_4xx, http_5xx, too_large, not_a_feed, unexpected, ...).
FEED_POLLS = Counter(
    "storywire_feed_polls", "Feed polls by outcome", ["outcome"], registry=REGISTRY
)
# Feed entries the broker acknowledged on articles.raw.
FEED_ENTRIES_SENT = Counter(
    "storywire_feed_entries_sent", "Feed entries sent to articles.raw", registry=REGISTRY
)
# Feed entries whose page could not be had or sent, by reason (timeout, too_large, not_html,
# http_4xx, http_5xx, unreachable, too_many_redirects, no_link, empty_page, send_failed).
FEED_PAGES_FAILED = Counter(
    "storywire_feed_pages_failed", "Feed entries not sent, by reason", ["reason"],
    registry=REGISTRY,
)
# Raw articles the clean stage found on another partition than murmur2(source) gives (a producer
# with another partitioner or key) and sent to their own partition before cleaning them.
CLEAN_REROUTED = Counter(
    "storywire_clean_rerouted", "Raw articles re-sent to their source's partition",
    registry=REGISTRY,
)
