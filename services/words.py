"""Word forms shared by the stages that compare words (enrich's keywords, cluster's terms)."""


def without_possessive(word: str) -> str:
    """Lower case, typographic apostrophe straightened, possessive "'s" dropped."""
    word = word.lower().replace("’", "'")
    return word[:-2] if word.endswith("'s") else word


def singular(word: str) -> str:
    """A simple English plural stripped ("cities" -> "city", "quakes" -> "quake"), leaving
    words that only look plural ("press", "virus", "crisis") alone."""
    if not word.endswith("s"):  # most words: one test instead of three
        return word
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word
