"""The benchmark's copy: real articles chained and cut to wire length, with fresh ids.

The copy is the ECB+ dev articles and the extraction benchmark's true bodies (`load_copy`);
`compose_articles` turns them into articles of about `TARGET_WORDS` words, so short ECB+
articles and long feature bodies both become wire-length copy and no two share all their text.
"""

import json
import random
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from schemas.articles import RawArticleV1
from services.identity import article_key

TARGET_WORDS = 500
SOURCES = 32  # outlets the benchmark copy is spread over (articles.raw is keyed by source)
_SENTENCE_END = re.compile(r"(?<=[.!?\"”])\s+")


@dataclass(frozen=True)
class BenchArticle:
    """One benchmark article before ingest (`ingested_at` is stamped when it is sent)."""

    id: str
    source: str
    title: str
    text: str

    @property
    def key(self) -> str:
        """The id the article goes by in stories and dead letters (`article_key`)."""
        return article_key(self.source, self.id)

    def raw(self, ingested_at: datetime) -> RawArticleV1:
        return RawArticleV1(
            id=self.id, source=self.source, title=self.title, text=self.text,
            ingested_at=ingested_at,
        )


def word_count(text: str) -> int:
    return len(text.split())


def load_copy(shared: Path) -> list[tuple[str, str]]:
    """(headline, body) of every ECB+ dev article and every extraction ground-truth body."""
    copy: list[tuple[str, str]] = []
    with (shared / "data" / "ecbplus" / "articles.dev.jsonl").open(encoding="utf-8") as ecb:
        for line in ecb:
            if line.strip():
                record = json.loads(line)
                copy.append((record.get("title") or "", record["text"]))
    truth = json.loads((shared / "data" / "extraction" / "ground-truth.json").read_text())
    for page in truth.values():
        body = page["articleBody"]
        copy.append(("", body))
    return [(title, body) for title, body in copy if word_count(body) >= 20]


def _headline(title: str, body: str) -> str:
    """The copy's own headline, else its first sentence (at most 14 words)."""
    if title.strip():
        return title.strip()
    first = _SENTENCE_END.split(body.strip(), 1)[0]
    return " ".join(first.split()[:14])


def _cut(paragraph: str, words_wanted: int) -> str:
    """The paragraph's leading sentences holding about `words_wanted` words (at least one)."""
    kept: list[str] = []
    count = 0
    for sentence in _SENTENCE_END.split(paragraph):
        if kept and count + word_count(sentence) / 2 > words_wanted:
            break
        kept.append(sentence)
        count += word_count(sentence)
    return " ".join(kept)


def compose_articles(
    copy: Sequence[tuple[str, str]],
    count: int,
    *,
    run: str,
    target_words: int = TARGET_WORDS,
    seed: int = 6,
) -> list[BenchArticle]:
    """`count` articles of about `target_words` words each, with ids unique to `run`.

    Each starts from a random piece of copy (its headline is that copy's) and goes on with the
    paragraphs of further random pieces until it reaches the target, the last paragraph cut at
    a sentence end. Short ECB+ articles and long feature bodies thus both become wire-length
    articles, and no two articles share all their text.
    """
    chooser = random.Random(seed)
    articles = []
    for number in range(count):
        title, body = copy[chooser.randrange(len(copy))]
        paragraphs: list[str] = []
        words = 0
        piece = body
        while words < target_words:
            for paragraph in piece.split("\n\n"):
                paragraph = " ".join(paragraph.split())
                if not paragraph:
                    continue
                wanted = target_words - words
                if word_count(paragraph) > wanted:
                    paragraph = _cut(paragraph, wanted)
                paragraphs.append(paragraph)
                words += word_count(paragraph)
                if words >= target_words:
                    break
            piece = copy[chooser.randrange(len(copy))][1]
        articles.append(
            BenchArticle(
                id=f"bench-{run}-{number:06d}",
                source=f"bench-wire-{number % SOURCES:02d}",
                title=_headline(title, body),
                text="\n\n".join(paragraphs),
            )
        )
    return articles
