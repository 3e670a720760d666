"""`storywire eval cleaning`: run the clean core over a folder of pages and score it.

The folder is laid out like the extraction benchmark: `text/<id>.txt` or `html/<id>.html.gz`,
and `ground-truth.json` (`{id: {"articleBody", "url"}}`) when the true bodies are known. Pages
go through `clean()` one by one as a stream, sharing one fresh `SourceMemory`, exactly as the
stage would see them.
"""

import argparse
import gzip
import json
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlparse

from rich.console import Console
from rich.progress import Progress

from schemas.articles import RawArticleV1
from services.clean.core import clean, warm_up
from services.clean.memory import SourceMemory
from services.clean.scoring import score_pages
from services.errors import InvalidArticle

# The stage's default (services.settings); the eval must not read the environment.
MAX_BODY_CHARS = 200_000


def _read_page(path: Path, input_kind: Literal["text", "html"]) -> str:
    data = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
    return data.decode("utf-8", errors="replace")


def evaluate_cleaning(
    directory: Path, input_kind: Literal["text", "html"], out: Path | None
) -> dict[str, Any]:
    """Clean every page of `directory`, write `{id: body}` to `out`, score against the truth.

    Returns (and prints) `pages`, `cpu_seconds`, `wall_seconds`, `pages_per_second` (per core:
    pages over CPU seconds spent in `clean`), `rejected` (reason -> count)
    and, with a ground truth, `precision`, `recall`, `f1` (4-gram shingles, as the referee).
    A rejected page predicts an empty body.
    """
    suffix = ".txt" if input_kind == "text" else ".html.gz"
    pages = sorted((directory / input_kind).glob(f"*{suffix}"))
    truth_path = directory / "ground-truth.json"
    truth = json.loads(truth_path.read_text()) if truth_path.exists() else {}
    memory = SourceMemory(templates={}, fingerprints={})
    # Load the language model and the rest now, as a worker does at start-up, so speed is per
    # page.
    warm_up()
    ingested_at = datetime.now(UTC)
    predictions: dict[str, str] = {}
    rejected: dict[str, int] = {}
    # CPU seconds of this thread inside clean() (not the progress bar's refresh thread): pages/s
    # per core, unaffected by whatever else shares the machine; wall seconds beside it.
    seconds = wall_seconds = 0.0
    with Progress(transient=True) as progress:
        task = progress.add_task(f"cleaning {input_kind}", total=len(pages))
        for path in pages:
            page_id = path.name.removesuffix(suffix)
            url = truth.get(page_id, {}).get("url")
            copy = _read_page(path, input_kind)
            started, wall_started = time.thread_time(), time.perf_counter()
            try:
                raw = RawArticleV1(
                    id=page_id,
                    source=(urlparse(url).hostname if url else None) or "unknown",
                    url=url,
                    ingested_at=ingested_at,
                    **{input_kind: copy},
                )
                predictions[page_id] = clean(raw, memory, max_body_chars=MAX_BODY_CHARS).body
            except InvalidArticle as error:
                rejected[error.reason] = rejected.get(error.reason, 0) + 1
                predictions[page_id] = ""
            except ValueError:  # the contract refuses blank copy: count it like the stage would
                rejected["empty_copy"] = rejected.get("empty_copy", 0) + 1
                predictions[page_id] = ""
            seconds += time.thread_time() - started
            wall_seconds += time.perf_counter() - wall_started
            progress.advance(task)
    if out is not None:
        out.write_text(json.dumps(predictions, ensure_ascii=False, indent=1))
    report: dict[str, Any] = {
        "pages": len(pages),
        "cpu_seconds": round(seconds, 3),
        "wall_seconds": round(wall_seconds, 3),
        "pages_per_second": round(len(pages) / seconds, 1) if seconds else 0.0,
        "rejected": rejected,
    }
    if truth:
        gold = {page_id: item["articleBody"] for page_id, item in truth.items()}
        score = score_pages(gold, predictions)
        report |= {"precision": score.precision, "recall": score.recall, "f1": score.f1}
    _print_report(report, input_kind)
    return report


def _print_report(report: dict[str, Any], input_kind: str) -> None:
    console = Console()
    line = f"input={input_kind} pages={report['pages']}"
    if "f1" in report:
        line += (
            f" precision={report['precision']:.3f} recall={report['recall']:.3f}"
            f" f1={report['f1']:.3f}"
        )
    line += (
        f" speed={report['pages_per_second']:.1f} pages/s per core"
        f" (wall {report['wall_seconds']:.2f}s)"
    )
    if report["rejected"]:
        line += f" rejected={report['rejected']}"
    console.print(line)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("directory", type=Path)
    parser.add_argument("--input", choices=("text", "html"), default="text")
    parser.add_argument("--out", type=Path, default=None, help="write {id: body} JSON here")
    arguments = parser.parse_args(argv)
    evaluate_cleaning(arguments.directory, arguments.input, arguments.out)


if __name__ == "__main__":
    main()
