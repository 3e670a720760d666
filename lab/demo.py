"""`storywire demo`: the whole pipeline on the founding example, start to finish.

Fresh topics (a per-run prefix) so a demo shows only its own stories; real worker processes;
the five seed articles mixed with unrelated ECB+ copy; progress while the stories form, then
the stories and the founding example's story in full.
"""

import json
import random
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from rich.console import Console

from lab.board import BoardProcess, port_is_free, stop_recorded
from lab.pipeline import LocalPipeline, free_port_block
from lab.seeds import lay_out_by_outlet
from lab.story_view import StoryBoard
from schemas.stories import StoryEventV2
from services.identity import article_id_of
from services.ingest.producer import ingest
from services.kafka import create_topics
from services.settings import Settings
from services.text_safety import printable


def sample_ecb(path: Path, count: int, seed: int = 7) -> list[dict[str, object]]:
    """`count` ECB+ articles drawn from every topic, so the seeds meet many kinds of news."""
    records = [json.loads(line) for line in path.open() if line.strip()]
    random.Random(seed).shuffle(records)
    return records[:count]


def run_demo(settings: Settings, *, shared: Path, ecb_articles: int, console: Console) -> int:
    run = datetime.now(UTC).strftime("%Y%m%d%H%M%S")
    settings = settings.model_copy(
        update={"topic_prefix": f"demo-{run}.", "group_prefix": f"storywire-demo-{run}"}
    )
    seeds = shared / "seeds"
    ecb = shared / "data" / "ecbplus" / "articles.dev.jsonl"
    for needed in (seeds, ecb):
        if not needed.exists():
            console.print(f"[red]demo: {needed} is missing (the shared data folder)[/red]")
            return 2
    create_topics(settings)
    console.print(f"demo: topics with prefix [bold]{settings.topic_prefix}[/bold] created")
    log_dir = Path(".run") / "demo" / run
    board_process = start_board(settings, log_dir, console)
    try:
        code = run_pipeline(settings, shared, ecb_articles, console, log_dir)
    except BaseException:
        board_process.stop()
        BOARD_PID.unlink(missing_ok=True)
        raise
    if code != 0:
        board_process.stop()
        BOARD_PID.unlink(missing_ok=True)
        return code
    console.print(
        f"demo: the story board shows these stories at [bold]{board_process.url}/[/bold] "
        f"(log {board_process.log_path}; `make board-stop` stops it)"
    )
    return 0


BOARD_PID = Path(".run") / "board.pid"


def start_board(settings: Settings, log_dir: Path, console: Console) -> BoardProcess:
    """`storywire board` over the demo's topics, left running after the demo (pid in
    .run/board.pid): it fills while the stories form. A board an earlier demo left is
    stopped first; if the board's port is taken all the same, another free one is used."""
    if stop_recorded(BOARD_PID) is not None:
        console.print("demo: stopped the story board an earlier demo left running")
    port = settings.board_port
    if not port_is_free(settings.board_host, port):
        port = free_port_block(1)
        console.print(f"demo: port {settings.board_port} is taken; the board uses {port}")
    board = BoardProcess(
        settings, log_dir / "board.log", port=port, host=settings.board_host, detach=True,
        pid_file=BOARD_PID,
    )
    with board:  # waits until it serves and has read the (empty) topics
        pass
    return board


def run_pipeline(
    settings: Settings, shared: Path, ecb_articles: int, console: Console, log_dir: Path
) -> int:
    seeds = shared / "seeds"
    ecb = shared / "data" / "ecbplus" / "articles.dev.jsonl"
    # Free ports, not 9401-9403: those belong to `make up`'s workers, which may be running.
    ports = free_port_block(3)
    pipeline_run = LocalPipeline(settings, log_dir, metrics_base_port=ports)
    with tempfile.TemporaryDirectory() as tmp, pipeline_run as pipeline:
        unrelated = Path(tmp) / "ecbplus-sample.jsonl"
        with unrelated.open("w") as sample:
            for record in sample_ecb(ecb, ecb_articles):
                sample.write(json.dumps(record) + "\n")
        console.print("demo: starting the clean, enrich and cluster workers (logs in "
                      f"{log_dir}; /metrics on 127.0.0.1:{ports}-{ports + 2}) ...")
        pipeline.wait_until_ready()
        # One folder per outlet: plain-text copy takes its outlet (`source`) from its folder.
        by_outlet = lay_out_by_outlet(seeds, Path(tmp) / "seeds")
        report = ingest([by_outlet, unrelated], settings, console=console)
        expected = set(report.sent)
        console.print(f"demo: fed {len(expected)} articles; waiting for their stories ...")
        board = StoryBoard(settings)
        started = time.monotonic()
        with console.status("stories forming ...") as status:
            placed = board.wait(
                lambda: board.accounts_for(expected),
                pipeline.check,
                timeout_s=600,
                on_poll=lambda: status.update(
                    f"stories forming ... {len(board.assignments())}/{len(expected)} articles "
                    f"placed in {len(board.latest())} stories"
                ),
            )
        if not placed:
            console.print("[red]demo: not every article reached a story in 10 min[/red]")
            return 1
        elapsed = time.monotonic() - started
        board.close()
    # Ids downstream are keys (source/id): the seeds' are those whose id is a seed file's.
    stems = {path.stem for path in seeds.glob("*.txt")}
    seed_ids = {key for key in expected if article_id_of(key) in stems}
    print_stories(console, board, seed_ids, elapsed, len(expected))
    return 0


def print_stories(
    console: Console, board: StoryBoard, seed_ids: set[str], seconds: float, fed: int
) -> None:
    stories: list[StoryEventV2] = board.latest()
    # Each story's full membership, rebuilt from stories.members as a subscriber does.
    members = {story.story_id: board.articles_of(story.story_id) for story in stories}
    multi = sorted(
        (s for s in stories if s.article_count > 1), key=lambda s: -s.article_count
    )
    console.rule("[bold]stories")
    for story in multi[:25]:
        entities = printable(", ".join(e.text for e in story.top_entities[:3]))
        console.print(
            f"{story.article_count:>3} articles {story.source_count:>3} sources  "
            f"[bold]{printable(story.title[:70])}[/bold]  "
            f"[dim]{printable(story.story_id)} · {entities}[/dim]",
            overflow="fold",
        )
    singles = sum(1 for s in stories if s.article_count == 1)
    console.print(
        f"{fed} articles -> {len(stories)} stories ({len(multi)} with 2+ articles, "
        f"{singles} single) in {seconds:.1f}s"
    )
    seed_stories = [s for s in stories if seed_ids & set(members[s.story_id])]
    console.rule("[bold]the founding example: Kerry meets Putin in Moscow")
    for story in seed_stories:
        outsiders = set(members[story.story_id]) - seed_ids
        console.print(
            f"story [bold]{printable(story.story_id)}[/bold] v{story.version}: "
            f"{printable(story.title)}\n"
            f"  articles: {printable(', '.join(members[story.story_id]))}\n"
            f"  sources: {printable(', '.join(s.source for s in story.sources))}\n"
            f"  top entities: "
            + ", ".join(
                printable(f"{e.text} [{e.label}] ({e.articles})") for e in story.top_entities[:10]
            )
            + (
                f"\n  [red]unrelated articles in it: {printable(str(sorted(outsiders)))}[/red]"
                if outsiders else ""
            )
        )
    verdict = (
        "[green]all five seed articles in one story, nothing else in it[/green]"
        if len(seed_stories) == 1 and set(members[seed_stories[0].story_id]) == seed_ids
        else f"[red]the seeds ended up in {len(seed_stories)} stories[/red]"
    )
    console.print(verdict)
