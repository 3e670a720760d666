"""`storywire`: feed wire copy in, run the stages, watch stories come out, measure quality."""

import sys
from pathlib import Path
from typing import Annotated, Literal, NoReturn

import typer
from rich.console import Console

from services.settings import Settings
from services.text_safety import json_line, printable

app = typer.Typer(
    help=(
        "storywire turns live wire copy into live stories on Apache Kafka.\n\n"
        "Raw articles go into `articles.raw` (`storywire ingest`); the clean, enrich and "
        "cluster workers (`storywire worker STAGE`) turn them into story events on the "
        "compacted `stories` topic (`storywire tail`). Settings come from STORYWIRE_* "
        "environment variables (see the README)."
    ),
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    # Help prose as Markdown: a docstring paragraph is re-wrapped to the terminal. Rich markup
    # keeps the docstrings' own line breaks: ragged lines in an 80-column terminal.
    rich_markup_mode="markdown",
)
topics_app = typer.Typer(help="Create or list storywire's Kafka topics.", no_args_is_help=True)
schemas_app = typer.Typer(help="The JSON Schema files generated from the contracts.")
eval_app = typer.Typer(help="Measure cleaning and clustering against the referees' data.")
bench_app = typer.Typer(help="Speed benchmarks that print their figures.")
app.add_typer(topics_app, name="topics")
app.add_typer(schemas_app, name="schemas")
app.add_typer(eval_app, name="eval")
app.add_typer(bench_app, name="bench")

err = Console(stderr=True)
out = Console()


def _fail(message: str, code: int = 1) -> None:
    """Print `message` as written (it may quote copy, a path or a broker's words) and exit."""
    err.print(f"[red]error:[/red] {printable(message)}")
    raise typer.Exit(code)


def _without_lab(error: ModuleNotFoundError) -> NoReturn:
    """Exit with a clear word when `lab/` is not importable (the Docker image ships only what a
    deployment runs); any other missing module is a real error and raised as it is."""
    if error.name != "lab" and not (error.name or "").startswith("lab."):
        raise error
    err.print("[red]error:[/red] storywire eval/bench/demo need the lab package of a source "
              "checkout (`make install` in a clone); this installation has only the services")
    raise typer.Exit(2)


@app.command()
def ingest(
    paths: Annotated[list[Path], typer.Argument(help="files or directories of copy")],
    source: Annotated[
        str | None, typer.Option(help="outlet name for copy that does not name its own")
    ] = None,
    progress: Annotated[bool, typer.Option(help="show a progress bar")] = True,
) -> None:
    """Send wire copy to `articles.raw`.

    Plain-text files (like ../shared/seeds) are one article each, their outlet `--source` or
    their folder's name; .json/.jsonl files hold records with id, title, text or html, source,
    url, published_at, or IPTC ninjs items (1.x-3.x). A record that cannot be read is reported
    with its file and line; the exit code is 2 if any was, 3 if the broker is unreachable.
    """
    from services.ingest.producer import ingest as run_ingest
    from services.kafka import BrokerUnavailable

    missing = [str(p) for p in paths if not p.exists()]
    if missing:
        _fail(f"no such file or directory: {', '.join(missing)}", 2)
    try:
        report = run_ingest(paths, Settings(), source=source, console=err, show_progress=progress)
    except BrokerUnavailable as exc:
        _fail(str(exc), 3)
        return
    for where, why in report.failed:
        err.print(f"[red]not sent[/red] {printable(where)}: {printable(why)}")
    err.print(
        f"ingest: sent={len(report.sent)} skipped={len(report.rejected)} "
        f"failed={len(report.failed)}"
    )
    if report.failed:
        raise typer.Exit(1)
    if report.rejected:
        raise typer.Exit(2)


@app.command()
def gateway() -> None:
    """Serve the HTTP push gateway until stopped: `POST /v1/articles` (bearer token; one JSON
    record or an array, storywire's record or IPTC ninjs) answers 202 with the article ids once
    the broker acknowledged them; also `GET /healthz` and `GET /metrics`.

    Listens on STORYWIRE_GATEWAY_HOST:STORYWIRE_GATEWAY_PORT (127.0.0.1:8480); tokens come from
    STORYWIRE_GATEWAY_TOKENS (comma-separated). Exit code 2 without a token.
    """
    import logging

    from services.gateway.app import run_gateway

    settings = Settings()
    if not settings.gateway_token_list():
        _fail("no bearer token: set STORYWIRE_GATEWAY_TOKENS (comma-separated)", 2)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    err.print(f"gateway: listening on http://{settings.gateway_host}:{settings.gateway_port}")
    run_gateway(settings)


@app.command()
def feed(
    urls: Annotated[
        list[str] | None, typer.Argument(help="RSS or Atom feed URLs to follow")
    ] = None,
    feeds_file: Annotated[
        Path | None,
        typer.Option("--feeds", help="a TOML file of [[feed]] tables: url, name, interval"),
    ] = None,
    name: Annotated[
        str | None,
        typer.Option(help="the outlet of the URLs given here (default: each feed's title)"),
    ] = None,
    interval: Annotated[
        float | None,
        typer.Option(min=1, help="seconds between polls "
                     "(default: STORYWIRE_FEED_INTERVAL_SECONDS)"),
    ] = None,
    once: Annotated[
        bool, typer.Option("--once", help="poll every feed once, send what is new, exit")
    ] = False,
) -> None:
    """Follow RSS/Atom feeds: send each new entry's page to `articles.raw`.

    Each feed is polled on its own interval with conditional GET (ETag / Last-Modified). Each
    new entry's link is fetched politely (per-host concurrency and delay, timeouts, a size
    limit, a bounded number of redirects) and its HTML sent as one article: the entry's title
    and date, the outlet (`--name`, the feeds file's `name`, else the feed's title) as its
    source. What the broker acknowledged is remembered in STORYWIRE_FEED_STATE_DIR, so an entry
    is sent once across restarts. A broken feed or a failed page is logged and counted, never
    fatal. Exit codes: 0 done (`--once`) or stopped; 1 some entries could not be sent (they
    are tried next time); 2 bad arguments or feeds file; 3 the broker is unreachable.
    """
    import asyncio
    import logging

    from services.feed.core import FeedsFileError, command_line_feed, read_feeds_file
    from services.feed.poller import poll_feeds
    from services.kafka import BrokerUnavailable

    settings = Settings()
    every = interval or settings.feed_interval_seconds
    try:
        specs = [command_line_feed(url, name, every) for url in urls or []]
        if feeds_file is not None:
            specs += read_feeds_file(feeds_file, every)
    except FeedsFileError as exc:
        _fail(str(exc), 2)
    if not specs:
        _fail("no feeds: give feed URLs or --feeds FILE", 2)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    logging.getLogger("kafka").setLevel(logging.WARNING)  # the poller's lines, not the client's
    if not once and settings.metrics_port:
        from prometheus_client import start_http_server

        from services.metrics import REGISTRY

        start_http_server(settings.metrics_port, addr=settings.metrics_host, registry=REGISTRY)
    try:
        reports = asyncio.run(poll_feeds(specs, settings, once=once))
    except BrokerUnavailable as exc:
        _fail(str(exc), 3)
        return
    except KeyboardInterrupt:
        raise typer.Exit(0) from None
    sent = sum(len(report.sent) for report in reports)
    refused = sum(len(report.refused) for report in reports)
    deferred = [why for report in reports for _, why in report.deferred]
    err.print(f"feed: feeds={len(reports)} sent={sent} refused={refused} "
              f"deferred={len(deferred)}")
    if "send_failed" in deferred:
        raise typer.Exit(1)


@app.command()
def worker(
    stage: Annotated[str, typer.Argument(help="clean, enrich or cluster")],
    loglevel: Annotated[str, typer.Option(help="faust/worker log level")] = "info",
) -> None:
    """Run one stage's faust worker until stopped (SIGTERM/Ctrl-C).

    Each stage is its own consumer group (STORYWIRE_GROUP_PREFIX-STAGE); start more workers
    of a stage to share its partitions. /metrics is served on STORYWIRE_METRICS_PORT.
    """
    from services.app import STAGES
    from services.kafka import BrokerUnavailable
    from services.worker import run_worker

    if stage not in STAGES:
        _fail(f"unknown stage {stage!r}; choose one of {', '.join(STAGES)}", 2)
    try:
        run_worker(stage, Settings(), loglevel=loglevel)  # type: ignore[arg-type]  # checked above
    except BrokerUnavailable as exc:
        _fail(str(exc), 3)


@app.command()
def tail(
    dlq: Annotated[bool, typer.Option("--dlq", help="also show the dead-letter topics")] = False,
    from_beginning: Annotated[
        bool, typer.Option("--from-beginning/--new", help="replay from the start, or only new")
    ] = True,
    idle_exit: Annotated[
        float | None, typer.Option(help="exit after this many seconds without a message")
    ] = None,
    group: Annotated[
        str | None, typer.Option(help="consumer group, to resume where it left off")
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="print each message as JSON, one a line")
    ] = False,
) -> None:
    """Print story updates (and dead letters with --dlq) as they arrive."""
    from schemas.deadletter import DeadLetterV1
    from schemas.stories import StoryEventV2
    from schemas.topics import DEAD_LETTER_TOPICS, Topic
    from services.kafka import BrokerUnavailable
    from services.tail.consumer import read_topics
    from services.tail.render import dead_letter_line, story_line

    settings = Settings()
    stories_topic = settings.topic(Topic.STORIES)
    topics = [stories_topic]
    if dlq:
        topics += [settings.topic(t) for t in DEAD_LETTER_TOPICS.values()]
    try:
        for record in read_topics(
            settings, topics, from_beginning=from_beginning, idle_seconds=idle_exit, group_id=group
        ):
            if as_json:
                line = json_line(record.value or b"")
                if line is None:  # not JSON: said on stderr, so stdout stays JSON lines
                    err.print(
                        f"[red]unreadable message[/red] {printable(record.topic)}"
                        f"[{record.partition}]@{record.offset}: not JSON"
                    )
                else:
                    print(line, flush=True)
                continue
            try:
                if record.topic == stories_topic:
                    line = story_line(StoryEventV2.model_validate_json(record.value or b""))
                else:
                    line = dead_letter_line(DeadLetterV1.model_validate_json(record.value or b""))
            except (ValueError, RecursionError) as exc:  # ValidationError is a ValueError
                # A message no contract reads: said, and the stream goes on.
                line = (
                    f"[red]unreadable message[/red] {printable(record.topic)}[{record.partition}]"
                    f"@{record.offset}: {printable(type(exc).__name__)}"
                )
            out.print(line)
    except BrokerUnavailable as exc:
        _fail(str(exc), 3)
    except KeyboardInterrupt:
        pass


@app.command()
def audit(
    grace_seconds: Annotated[
        float, typer.Option(min=0, help="younger unaccounted articles are in flight, not lost")
    ] = 300.0,
    as_json: Annotated[bool, typer.Option("--json", help="print the report as JSON")] = False,
    topic_prefix: Annotated[
        str | None,
        typer.Option(help="the deployment's topic prefix (default: STORYWIRE_TOPIC_PREFIX)"),
    ] = None,
) -> None:
    """Prove the delivery guarantee on a running deployment: every article fed into
    `articles.raw` is in exactly one story or in a dead letter.

    Reads `articles.raw`, `stories` (each story's latest event) and the dead-letter topics
    from the beginning up to their ends at start, and accounts for each article by its
    key (source and id). Articles in no story and no dead letter are in flight while younger
    than the grace period (broker timestamp), and lost after it. Exit code 0: nothing lost and
    no article in two stories; 1: some lost or in two stories; 2: the broker or the topics
    could not be read.
    """
    import json

    from services.audit.reader import AuditUnreadable, audit_deployment
    from services.audit.render import render_report
    from services.kafka import BrokerUnavailable

    settings = Settings() if topic_prefix is None else Settings(topic_prefix=topic_prefix)
    try:
        report = audit_deployment(settings, grace_seconds=grace_seconds, progress=sys.stderr)
    except (BrokerUnavailable, AuditUnreadable) as exc:
        _fail(str(exc), 2)
        return
    if as_json:
        print(json.dumps(report.to_dict()), flush=True)
    else:
        render_report(report, out)
    raise typer.Exit(0 if report.ok else 1)


@app.command()
def board(
    host: Annotated[
        str | None, typer.Option(help="address to listen on (default: STORYWIRE_BOARD_HOST)")
    ] = None,
    port: Annotated[
        int | None, typer.Option(help="port (default: STORYWIRE_BOARD_PORT)", min=0, max=65535)
    ] = None,
) -> None:
    """Serve the live story board and its JSON API until stopped (SIGTERM/Ctrl-C).

    Reads the compacted `stories` and `stories.members` topics from the beginning (so a
    restarted board shows the same stories), then follows them: a front page of live stories,
    most active first, updated as they change; a page per story with its articles; and
    `/api/stories`, `/api/stories/{id}`, `/api/stream` (Server-Sent Events). Exit code 3 when
    no broker answers or it refuses us, 1 when the reader stops on an error or the port is
    taken.
    """
    from services.board.server import run_board
    from services.kafka import BrokerUnavailable, check_access

    settings = Settings()
    try:
        check_access(settings)
        run_board(
            settings, host if host is not None else settings.board_host,
            port if port is not None else settings.board_port,
        )
    except BrokerUnavailable as exc:
        _fail(str(exc), 3)
    except (RuntimeError, OSError) as exc:  # the reader stopped; the port is taken
        _fail(str(exc), 1)


@topics_app.command("create")
def topics_create() -> None:
    """Create every storywire topic that is missing (partitions/replication from settings)."""
    from services.kafka import BrokerUnavailable, create_topics

    try:
        created = create_topics(Settings())
    except BrokerUnavailable as exc:
        _fail(str(exc), 3)
        return
    out.print(f"created: {', '.join(created) if created else 'none (all exist)'}")


@schemas_app.command("write")
def schemas_write() -> None:
    """Regenerate schemas/json/*.json from the pydantic models."""
    from schemas.registry import write_schema_files

    for path in write_schema_files():
        out.print(f"wrote {path}")


@schemas_app.command("check")
def schemas_check() -> None:
    """Fail if schemas/json/ is stale (run `make schemas` to refresh it)."""
    from schemas.registry import stale_schema_files

    stale = stale_schema_files()
    if stale:
        _fail("stale JSON Schema files (run `make schemas`): " + ", ".join(map(str, stale)))
    out.print("schemas: up to date")


@app.command()
def demo(
    ecb_articles: Annotated[
        int, typer.Option(help="unrelated ECB+ articles mixed in with the seeds")
    ] = 150,
    shared: Annotated[Path, typer.Option(help="the shared data folder")] = Path("../shared"),
) -> None:
    """Run the whole pipeline on the five seed articles plus unrelated ECB+ copy.

    Starts the three workers on fresh demo topics, feeds the copy in, shows progress while the
    stories form, prints them and the seeds' story in full, and stops the workers.
    """
    try:
        from lab.demo import run_demo
    except ModuleNotFoundError as error:
        _without_lab(error)
    from services.kafka import BrokerUnavailable

    try:
        code = run_demo(Settings(), shared=shared, ecb_articles=ecb_articles, console=out)
    except BrokerUnavailable as exc:
        _fail(str(exc), 3)
        return
    raise typer.Exit(code)


@eval_app.command("cleaning")
def eval_cleaning(
    directory: Annotated[Path, typer.Argument(help="folder laid out like shared/data/extraction")],
    input_kind: Annotated[
        str, typer.Option("--input", help="text (flattened pages) or html")
    ] = "text",
    out_path: Annotated[Path | None, typer.Option("--out", help="predictions JSON")] = None,
    passes: Annotated[
        int, typer.Option(min=1, help="timed passes, each with a fresh memory; speed is the best")
    ] = 3,
    cv_folds: Annotated[
        int,
        typer.Option(
            "--cv-folds", min=0,
            help="site folds of the cross-validated F1 beside the in-sample one (0: none)",
        ),
    ] = 5,
) -> None:
    """Run the clean core over a folder of pages; print precision/recall/F1 (in-sample and
    site-fold cross-validated), the pages under F1 0.3, and pages/s."""
    try:
        from lab.clean.evaluate import evaluate_cleaning
    except ModuleNotFoundError as error:
        _without_lab(error)

    if input_kind not in ("text", "html"):
        _fail("--input must be text or html", 2)
    kind: Literal["text", "html"] = "html" if input_kind == "html" else "text"
    evaluate_cleaning(directory, kind, out_path, passes, cv_folds)


@eval_app.command("clustering")
def eval_clustering(
    jsonl: Annotated[Path, typer.Argument(help="ECB+-style JSONL with id, title, text, event")],
    out_path: Annotated[Path | None, typer.Option("--out", help="predictions JSON")] = None,
    seed: Annotated[int, typer.Option(help="seed of the shuffled arrival order")] = 1,
    through_kafka: Annotated[
        bool, typer.Option(help="replay through the real broker and workers")
    ] = False,
    extra: Annotated[
        list[Path] | None,
        typer.Option(help="more copy mixed in (a folder of plain-text seeds: checked to form "
                     "exactly one story)"),
    ] = None,
) -> None:
    """Replay articles in a seeded shuffled order; print B-cubed and pairwise P/R/F1.

    Scores agree with shared/eval/score_clusters.py run on the written predictions.
    """
    from services.cluster.compiled import use_build

    use_build()  # before the cluster core's first import, as the worker does
    if through_kafka:
        try:
            from lab.cluster.through_kafka import evaluate_through_kafka
        except ModuleNotFoundError as error:
            _without_lab(error)

        evaluate_through_kafka(jsonl, out_path, seed, Settings(), extra=extra or ())
    else:
        try:
            from lab.cluster.evaluate import evaluate_clustering
        except ModuleNotFoundError as error:
            _without_lab(error)

        evaluate_clustering(jsonl, out_path, seed, Settings().spacy_model, extra=extra or ())


@bench_app.command("gateway")
def bench_gateway(
    records: Annotated[int, typer.Option(help="records to post in all")] = 20_000,
    batch: Annotated[int, typer.Option(help="records per request (1: one record each)")] = 50,
    concurrency: Annotated[int, typer.Option(help="concurrent HTTP clients")] = 8,
    max_seconds: Annotated[float, typer.Option(help="stop posting after this long")] = 60.0,
    shared: Annotated[Path, typer.Option(help="the shared data folder")] = Path("../shared"),
) -> None:
    """Load-test `storywire gateway` on loopback with a fixed count and time limit: records/s,
    request latency p50/p99 and errors (a real gateway process, the real broker)."""
    try:
        from lab.bench.gateway import run_gateway_bench
    except ModuleNotFoundError as error:
        _without_lab(error)
    from services.kafka import BrokerUnavailable

    try:
        result = run_gateway_bench(
            Settings(), shared=shared, records=records, batch=batch, concurrency=concurrency,
            max_seconds=max_seconds,
        )
    except BrokerUnavailable as exc:
        _fail(str(exc), 3)
        return
    out.print(result.summary(), soft_wrap=True)
    if result.errors:
        raise typer.Exit(1)


@bench_app.command("cluster")
def bench_cluster(
    shared: Annotated[Path, typer.Option(help="the shared data folder")] = Path("../shared"),
) -> None:
    """Cost per article of the cluster core with 1k, 10k and 100k live stories."""
    from services.cluster.compiled import use_build

    use_build()  # before the cluster core's first import: the bench measures the build
    try:
        from lab.bench.cluster import bench_cluster as run
    except ModuleNotFoundError as error:
        _without_lab(error)

    run(shared)


@bench_app.command("board")
def bench_board() -> None:
    """GET /api/stories latency (p50/p95/p99) of a real board holding 1,000 live stories."""
    try:
        from lab.bench.board import run_bench
    except ModuleNotFoundError as error:
        _without_lab(error)
    from services.kafka import BrokerUnavailable

    try:
        run_bench(Settings())
    except BrokerUnavailable as exc:
        _fail(str(exc), 3)


@bench_app.command("story-size")
def bench_story_size(
    articles: Annotated[int, typer.Option(help="grow the story to this many articles")] = 20_000,
    shared: Annotated[Path, typer.Option(help="the shared data folder")] = Path("../shared"),
) -> None:
    """One story grown to 20,000 articles through the cluster worker and the broker: CPU,
    bytes written and the largest message per article at 100, 1k, 10k and 20k articles."""
    if articles < 2:
        _fail("--articles must be at least 2", 2)
    try:
        from lab.bench.story_size import run_story_size
    except ModuleNotFoundError as error:
        _without_lab(error)
    from services.kafka import BrokerUnavailable

    try:
        run_story_size(Settings(), shared, articles)
    except BrokerUnavailable as exc:
        _fail(str(exc), 3)


@bench_app.command("pipeline")
def bench_pipeline(
    quick: Annotated[bool, typer.Option(help="short run (~2-3 min): 30 s latency phase")] = False,
    write_docs: Annotated[
        bool, typer.Option(help="append the results to docs/benchmarks.md")
    ] = False,
    shared: Annotated[Path, typer.Option(help="the shared data folder")] = Path("../shared"),
    private_broker: Annotated[
        bool, typer.Option(help="run on a broker of the run's own (deploy/kafka/broker.sh on "
                           "free ports), so the broker CPU read is the pipeline's alone; "
                           "--no-private-broker uses the configured one")
    ] = True,
) -> None:
    """Throughput, latency and memory of the whole pipeline on the real broker.

    Bare NLP vs end to end (1 and 2 enrich workers), ingest-to-story latency at a fixed load,
    peak RSS per worker; the last line sums it up for CI history.
    """
    try:
        from lab.bench.pipeline import run_bench
    except ModuleNotFoundError as error:
        _without_lab(error)
    from services.kafka import BrokerUnavailable

    try:
        run_bench(
            Settings(), shared=shared, quick=quick,
            write_docs=Path("docs/benchmarks.md") if write_docs else None,
            private=private_broker,
        )
    except BrokerUnavailable as exc:
        _fail(str(exc), 3)


def main() -> None:
    try:
        app()
    except BrokenPipeError:  # `storywire tail | head` closed the pipe: a normal way to stop
        sys.stderr.close()


if __name__ == "__main__":
    main()
