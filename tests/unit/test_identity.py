"""An article's identity: unique per (source, id), whatever the two hold."""

from services.identity import article_key


def test_key_is_escaped_source_slash_id() -> None:
    assert article_key("xinhua", "20160324-kerry") == "xinhua/20160324-kerry"
    assert article_key("a/b", "c") == "a%2Fb/c"
    assert article_key("100%", "x/y") == "100%25/x/y"


def test_distinct_pairs_never_share_a_key() -> None:
    # Without escaping, ("a/b", "c") and ("a", "b/c") would both be "a/b/c"; and without
    # escaping '%' first, ("a%2Fb", "c") would collide with ("a/b", "c").
    pairs = [("a/b", "c"), ("a", "b/c"), ("a%2Fb", "c"), ("a%", "2Fb/c"), ("a", "b%2Fc")]
    keys = [article_key(source, article_id) for source, article_id in pairs]
    assert len(set(keys)) == len(pairs)
