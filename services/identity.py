"""What identifies an article across the pipeline: one function, used by every stage."""


def article_key(source: str, article_id: str) -> str:
    """The pipeline-wide identity of the article `article_id` fed in by `source`.

    A raw article's `id` is unique only within its source (two outlets may both number their
    copy "1234"), so ids downstream of the clean stage are namespaced by source:
    `<escaped source>/<id>`. The source is escaped ('%' -> '%25', then '/' -> '%2F') so the
    first '/' always ends it: distinct (source, id) pairs give distinct keys, even when the
    source or the id holds a '/' or a '%'. The id is kept as it is.
    """
    escaped_source = source.replace("%", "%25").replace("/", "%2F")
    return f"{escaped_source}/{article_id}"


def article_id_of(key: str) -> str:
    """The id a source gave the article whose key is `key` (`article_key`'s inverse, part)."""
    return key.split("/", 1)[1]
