"""`storywire eval clustering --through-kafka`: the same replay, through the real pipeline.

The articles go, in the same seeded shuffled order as the in-process evaluation, into fresh
topics of the configured broker; real clean, enrich and cluster workers turn them into story
events; the stories' memberships are scored. The run uses one partition per topic so that the
cluster stage sees the articles in exactly the replay order, which is what lets the two modes
agree article for article.
"""

import json
import random
import tempfile
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rich.console import Console

from lab.cluster.evaluate import read_gold, referee_ids, seeds_check
from lab.cluster.scoring import bcubed, pairwise
from lab.pipeline import LocalPipeline, free_port_block
from lab.story_view import StoryBoard
from services.ingest.producer import ingest
from services.kafka import create_topics, delete_run_topics
from services.settings import Settings


def evaluate_through_kafka(
    jsonl: Path,
    out: Path | None,
    seed: int,
    settings: Settings,
    *,
    extra: Sequence[Path] = (),
    timeout_s: float = 1800.0,
    metrics_base_port: int | None = None,
    quiet: bool = False,
) -> dict[str, Any]:
    console = Console(stderr=True)
    run = uuid.uuid4().hex[:8]
    settings = settings.model_copy(
        update={
            "topic_prefix": f"eval-{run}.",
            "group_prefix": f"storywire-eval-{run}",
            "topic_partitions": 1,
        }
    )
    raws, gold_all = read_gold([jsonl, *extra])
    _, gold = read_gold([jsonl])  # scores cover the JSONL's articles, as the referee's do
    order = list(raws)
    random.Random(seed).shuffle(order)
    create_topics(settings)
    with tempfile.TemporaryDirectory() as tmp:
        feed = Path(tmp) / "replay.jsonl"
        with feed.open("w", encoding="utf-8") as replay:
            for raw in order:
                record = raw.model_dump(mode="json", exclude={"schema_version", "ingested_at"})
                replay.write(json.dumps(record) + "\n")
        log_dir = Path(".run") / "eval" / run
        # Free ports unless told: 9401-9403 belong to `make up`'s workers.
        ports = metrics_base_port or free_port_block(3)
        with LocalPipeline(settings, log_dir, metrics_base_port=ports) as pipeline:
            pipeline.wait_until_ready()
            report = ingest([feed], settings, console=console, show_progress=not quiet)
            board = StoryBoard(settings)
            with console.status("waiting for every article's story ...") as status:
                placed = board.wait(
                    lambda: board.accounts_for(report.sent),
                    pipeline.check,
                    timeout_s,
                    on_poll=lambda: status.update(
                        f"waiting for every article's story ... "
                        f"{len(board.assignments())}/{len(report.sent)} placed"
                    ),
                )
            board.close()
            if not placed:
                raise TimeoutError("not every article reached a story in time")
    delete_run_topics(settings)  # kept on failure, for looking into
    predicted = board.assignments()
    b, p = bcubed(gold, predicted), pairwise(gold, predicted)
    if out is not None:
        out.write_text(
            json.dumps(referee_ids(predicted), indent=0, sort_keys=True), encoding="utf-8"
        )
    result: dict[str, Any] = {
        "bcubed": b._asdict(), "pairwise": p._asdict(), "predicted": predicted
    }
    if extra:
        result["seeds_one_story"], result["seeds_check"] = seeds_check(gold_all, predicted)
    if quiet:
        return result
    print(
        f"articles={len(gold)} events={len(set(gold.values()))} "
        f"stories={len({predicted.get(i, i) for i in gold})} (seed={seed}, through kafka)"
    )
    print(f"pairwise precision={p.precision:.3f} recall={p.recall:.3f} f1={p.f1:.3f}")
    print(f"bcubed precision={b.precision:.3f} recall={b.recall:.3f} f1={b.f1:.3f}")
    if extra:
        verdict = "ok" if result["seeds_one_story"] else "FAILED"
        print(f"seeds check: {verdict}: {result['seeds_check']}")
    return result
