"""Which contract each topic carries, and the checked-in JSON Schema files made from them."""

import json
from pathlib import Path

from pydantic import BaseModel

from schemas.articles import CleanArticleV1, EnrichedArticleV1, RawArticleV1
from schemas.deadletter import DeadLetterV1
from schemas.stories import StoryEventV2, StoryMemberV1
from schemas.ticks import ClusterTickV1
from schemas.topics import Topic

CONTRACTS: dict[Topic, type[BaseModel]] = {
    Topic.RAW: RawArticleV1,
    Topic.CLEAN: CleanArticleV1,
    Topic.ENRICHED: EnrichedArticleV1,
    Topic.STORIES: StoryEventV2,
    Topic.MEMBERS: StoryMemberV1,
    Topic.DLQ_CLEAN: DeadLetterV1,
    Topic.DLQ_ENRICH: DeadLetterV1,
    Topic.DLQ_CLUSTER: DeadLetterV1,
    Topic.CLUSTER_TICKS: ClusterTickV1,
}

JSON_DIR = Path(__file__).parent / "json"
EXAMPLES_DIR = Path(__file__).parent / "examples"


def schema_files() -> dict[Path, str]:
    """Each contract's JSON Schema as the text that belongs in `schemas/json/`."""
    files = {}
    for model in sorted(set(CONTRACTS.values()), key=lambda m: m.__name__):
        text = json.dumps(model.model_json_schema(mode="serialization"), indent=2) + "\n"
        files[JSON_DIR / f"{model.__name__}.json"] = text
    return files


def stale_schema_files() -> list[Path]:
    """Checked-in schema files that differ from the models (or are missing or extra)."""
    wanted = schema_files()
    stale = [path for path, text in wanted.items() if not path.exists() or path.read_text() != text]
    stale += [path for path in JSON_DIR.glob("*.json") if path not in wanted]
    return stale


def write_schema_files() -> list[Path]:
    JSON_DIR.mkdir(exist_ok=True)
    for path in JSON_DIR.glob("*.json"):
        path.unlink()
    for path, text in schema_files().items():
        path.write_text(text)
    return sorted(schema_files())
