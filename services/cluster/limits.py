"""What the cluster stage accepts of an enriched article beyond its contract.

The enrich stage reads a bounded slice of each article (`services.enrich.core`), so what it
writes is small: a few dozen entities, a few keywords, a headline of a line. Copy written to
`articles.enriched` by anything else could carry thousands, and the clusterer's cost and its
stored stories grow with them; such copy is refused, not cut, since cutting would decide what
the article is about.
"""

import re

from schemas.articles import EnrichedArticleV1
from services.errors import InvalidArticle

MAX_HEADLINE_CHARS = 2_000
MAX_ENTITIES = 500
MAX_KEYWORDS = 200
# A language shard is named by an ISO 639 code, as the clean stage's language identifier
# writes it; anything else would make a shard no tick can name.
LANGUAGE = re.compile(r"[a-z]{2,3}")


def admissible(article: EnrichedArticleV1) -> EnrichedArticleV1:
    """`article`, or InvalidArticle("language_invalid") / ("headline_too_long") /
    ("too_many_features")."""
    if not LANGUAGE.fullmatch(article.language):
        raise InvalidArticle(
            "language_invalid", f"{article.language[:40]!r} is no ISO 639 language code"
        )
    if len(article.headline) > MAX_HEADLINE_CHARS:
        raise InvalidArticle(
            "headline_too_long", f"{len(article.headline)} > {MAX_HEADLINE_CHARS} characters"
        )
    if len(article.entities) > MAX_ENTITIES or len(article.keywords) > MAX_KEYWORDS:
        raise InvalidArticle(
            "too_many_features",
            f"{len(article.entities)} entities (at most {MAX_ENTITIES}), "
            f"{len(article.keywords)} keywords (at most {MAX_KEYWORDS})",
        )
    return article
