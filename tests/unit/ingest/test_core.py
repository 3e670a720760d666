"""Reading copy from files: every article out, or the reason it could not be read."""

import json
from datetime import UTC, datetime
from pathlib import Path

from services.ingest.core import Accepted, Rejected, read_articles

NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


def test_each_seed_file_is_one_article_with_a_stable_id(seeds_dir: Path) -> None:
    first = list(read_articles([seeds_dir], now=NOW))
    again = list(read_articles([seeds_dir], now=NOW))
    assert len(first) == 5
    assert all(isinstance(item, Accepted) for item in first)
    articles = [item.article for item in first if isinstance(item, Accepted)]
    assert [a.id for a in articles] == sorted(p.stem for p in seeds_dir.glob("*.txt"))
    assert [a.id for a in articles] == [i.article.id for i in again if isinstance(i, Accepted)]
    assert articles[3].text is not None and "Kerry" in articles[3].text
    assert all(a.ingested_at == NOW for a in articles)


def test_jsonl_bad_lines_are_reported_with_file_and_line(tmp_path: Path) -> None:
    feed = tmp_path / "feed.jsonl"
    feed.write_text(
        json.dumps({"id": "a1", "title": "T", "text": "Body.", "source": "wire",
                    "published_at": "2016-03-24T10:00:00Z"}) + "\n"
        "{broken\n"
        "\n"
        + json.dumps({"id": "a2", "source": "wire"}) + "\n"
        + json.dumps(["not", "an", "object"]) + "\n"
    )
    items = list(read_articles([feed], now=NOW))
    assert isinstance(items[0], Accepted)
    assert items[0].article.published_at == datetime(2016, 3, 24, 10, tzinfo=UTC)
    rejected = [item for item in items if isinstance(item, Rejected)]
    assert [r.where for r in rejected] == [f"{feed}:2", f"{feed}:4", f"{feed}:5"]
    assert "invalid JSON" in rejected[0].reason
    assert "text" in rejected[1].reason or "html" in rejected[1].reason
    assert "JSON object" in rejected[2].reason


def test_records_without_id_or_source_get_stable_ones(tmp_path: Path) -> None:
    feed = tmp_path / "feed.json"
    feed.write_text(json.dumps([{"url": "https://news.example.org/a", "text": "Body."}]))
    [item] = list(read_articles([feed], now=NOW))
    [again] = list(read_articles([feed], now=NOW))
    assert isinstance(item, Accepted) and isinstance(again, Accepted)
    assert item.article.source == "news.example.org"
    assert item.article.id == again.article.id and len(item.article.id) == 16


def test_undecodable_text_file_is_rejected_not_dropped(tmp_path: Path) -> None:
    bad = tmp_path / "latin1.txt"
    bad.write_bytes("Caf\xe9 au lait".encode("latin-1"))
    [item] = list(read_articles([bad], now=NOW))
    assert isinstance(item, Rejected)
    assert "UTF-8" in item.reason and item.where == str(bad)


def test_plain_text_takes_its_outlet_from_its_folder_or_source_never_its_name(
    tmp_path: Path,
) -> None:
    for outlet, name in (("Reuters", "0412.txt"), ("SANA", "kerry.txt")):
        (tmp_path / outlet).mkdir()
        (tmp_path / outlet / name).write_text("Kerry met Putin in Moscow on Thursday.\n")
    by_folder = [i.article for i in read_articles([tmp_path], now=NOW) if isinstance(i, Accepted)]
    assert [(a.source, a.id) for a in by_folder] == [("Reuters", "0412"), ("SANA", "kerry")]
    given = [
        i.article for i in read_articles([tmp_path], source="Wire", now=NOW)
        if isinstance(i, Accepted)
    ]
    assert {a.source for a in given} == {"Wire"}


def test_json_records_carry_revision_and_withdrawn(tmp_path: Path) -> None:
    feed = tmp_path / "feed.jsonl"
    feed.write_text(
        json.dumps({"id": "a1", "source": "wire", "text": "Body v2.", "revision": 2}) + "\n"
        + json.dumps({"id": "a1", "source": "wire", "withdrawn": True, "revision": 3}) + "\n"
    )
    items = [i.article for i in read_articles([feed], now=NOW) if isinstance(i, Accepted)]
    assert [(a.revision, a.withdrawn) for a in items] == [(2, False), (3, True)]
