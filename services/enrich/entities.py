"""Canonical named entities: one name per real-world thing within an article.

Two steps turn the NER's raw mentions into the article's entities:
1. `normalise_mention` cleans one mention ("the U.S.'s" -> "United States") with the alias table.
2. `canonicalise` joins the variants of one name within the article ("Putin" and
   "President Vladimir Putin" -> "Vladimir Putin"), so a story sees one entity per person, not
   three weaker ones.
"""

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from schemas.articles import EntityLabel

# The labels a story is told by: who, where, which organisation or event. Dates, numbers and
# quantities say little about which story an article belongs to, so the NER's other labels drop.
STORY_LABELS: frozenset[str] = frozenset(
    {"PERSON", "ORG", "GPE", "LOC", "NORP", "EVENT", "FAC", "PRODUCT", "WORK_OF_ART", "LAW"}
)

# Common aliases, keyed by `alias_key` (lower case, no dots or spaces): the name wire copy writes
# most often -> (canonical name, label). The label is forced because the small model often calls
# "U.S." an ORG and "UN" a GPE.
ALIASES: dict[str, tuple[str, EntityLabel]] = {
    **dict.fromkeys(
        ["us", "usa", "unitedstates", "unitedstatesofamerica", "america", "theus", "theusa"],
        ("United States", "GPE"),
    ),
    **dict.fromkeys(
        ["uk", "britain", "greatbritain", "unitedkingdom", "theuk"], ("United Kingdom", "GPE")
    ),
    **dict.fromkeys(["un", "unitednations", "theun"], ("United Nations", "ORG")),
    **dict.fromkeys(["eu", "europeanunion"], ("European Union", "ORG")),
    **dict.fromkeys(["nato", "northatlantictreatyorganization"], ("NATO", "ORG")),
    **dict.fromkeys(["russia", "russianfederation"], ("Russia", "GPE")),
    **dict.fromkeys(["uae", "unitedarabemirates"], ("United Arab Emirates", "GPE")),
    **dict.fromkeys(["drc", "drcongo", "democraticrepublicofcongo"], ("DR Congo", "GPE")),
    **dict.fromkeys(["nyc", "newyorkcity"], ("New York City", "GPE")),
    **dict.fromkeys(["la", "losangeles"], ("Los Angeles", "GPE")),
    **dict.fromkeys(["fbi", "federalbureauofinvestigation"], ("FBI", "ORG")),
    **dict.fromkeys(["cia", "centralintelligenceagency"], ("CIA", "ORG")),
    **dict.fromkeys(
        ["isis", "isil", "islamicstate", "islamicstategroup"], ("Islamic State", "ORG")
    ),
    **dict.fromkeys(["statedepartment", "usstatedepartment"], ("State Department", "ORG")),
    **dict.fromkeys(["kremlin"], ("Kremlin", "ORG")),
    **dict.fromkeys(["whitehouse"], ("White House", "ORG")),
}

# Titles and honorifics that precede a name but are not part of it: "President Vladimir Putin".
_TITLES = frozenset(
    {
        "mr", "mrs", "ms", "miss", "dr", "sir", "dame", "lord", "lady", "president", "pres",
        "prime", "minister", "secretary", "senator", "sen", "rep", "gov", "governor", "mayor",
        "general", "gen", "col", "capt", "captain", "lt", "sgt", "officer", "judge", "justice",
        "king", "queen", "prince", "princess", "pope", "rev", "reverend", "father", "chancellor",
        "coach", "actor", "actress", "singer", "star", "chief", "ceo", "state", "foreign",
    }
)

_SPACE = re.compile(r"\s+")
# A date or time the NER ran a name into, mostly a dateline glued to it ("Gulf of Eden Sat Nov 12
# 2011", "DUI February 5, 2009 For", "08.07.2012 Wladimir Klitschko"). A month needs a day
# number beside it, so "Theresa May" and "April Ryan" stay whole; a lone year stays too
# ("2013 Academy Awards").
_MONTH = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?"
)
_WEEKDAY = (
    r"(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday"
    r"|mon|tues?|wed|thu(?:rs?)?|fri|sat|sun)\.?"
)
_DAY = r"\d{1,2}(?:st|nd|rd|th)?"
_DATE_RUN = re.compile(
    rf"(?<!\w)(?:"
    rf"\d{{1,2}}[./-]\d{{1,2}}[./-]\d{{2,4}}"  # 08.07.2012
    rf"|(?:{_WEEKDAY},?\s+)?{_MONTH}\s+{_DAY}(?!\w)(?:,?\s+\d{{4}})?"  # Sat Nov 12 2011
    rf"|(?:{_WEEKDAY},?\s+)?{_DAY}\s+{_MONTH}(?!\w)(?:\s+\d{{4}})?"  # 9 September 2013
    rf"|{_WEEKDAY}\s+{_MONTH}(?!\w)"  # Sun Sep
    rf"|\d{{1,2}}:\d{{2}}"  # 14:25
    rf")",
    re.IGNORECASE,
)
_FULL_DATE = re.compile(r"\d{4}|\d[./:]\d")
# Time zones name no place or organisation; the NER tags those of datelines ("20:09 IST",
# "13:59 GMT") as organisations.
_TIME_ZONES = frozenset(
    {
        "gmt", "utc", "bst", "cet", "cest", "eet", "eest", "wet", "west", "msk", "ist", "jst",
        "kst", "hkt", "aest", "aedt", "acst", "awst", "nzst", "nzdt", "est", "edt", "cst",
        "cdt", "mst", "mdt", "pst", "pdt", "akst", "akdt", "hst",
    }
)
_EDGE_JUNK = "\"'“”‘’`.,;:!?()[]{}<>|-–—*#"
_POSSESSIVE = re.compile(r"(?:'s|’s|'|’)$")


@dataclass(frozen=True, slots=True)
class Mention:
    """One NER mention after cleaning: where it is and what it says."""

    text: str
    label: EntityLabel
    in_headline: bool
    in_lead: bool


def alias_key(text: str) -> str:
    """The alias table's key for a name: lower case, dots and spaces out ("U.S.A." -> "usa")."""
    return re.sub(r"[.\s\-]", "", text.lower())


def normalise_mention(text: str, label: str) -> tuple[str, EntityLabel] | None:
    """Clean one mention's text and label; None when nothing nameable is left.

    Strips surrounding punctuation, a date or time run into the name (and a dateline's rest
    after it), a leading "the", a possessive "'s", drops time zones ("GMT"), and maps the
    alias table's variants to their canonical name and label.
    """
    if label not in STORY_LABELS:
        return None
    name = _SPACE.sub(" ", text).strip(_EDGE_JUNK + " ")
    date = _DATE_RUN.search(name)
    if date is not None:
        # A later date goes with all that follows it (a dateline's rest); a leading one goes
        # when it is all there is, or a full date or a time: the dateline before a name
        # ("March 4 Justice" is a name).
        if date.start() > 0:
            name = name[: date.start()].strip(_EDGE_JUNK + " ")
        elif date.end() == len(name) or _FULL_DATE.search(date.group()):
            name = name[date.end() :].strip(_EDGE_JUNK + " ")
    if name.lower().startswith("the "):
        name = name[4:]
    name = _POSSESSIVE.sub("", name).strip(_EDGE_JUNK + " ")
    if len(name) < 2 or name.lower() == "the" or not any(ch.isalpha() for ch in name):
        return None
    if name.isupper() and name.lower() in _TIME_ZONES:
        return None
    alias = ALIASES.get(alias_key(name))
    if alias is not None:
        return alias
    return name, label  # type: ignore[return-value]  # label checked against STORY_LABELS above


def _name_tokens(name: str) -> tuple[str, ...]:
    """A person's name without its titles, lower case: "President Vladimir Putin" -> (vladimir,
    putin)."""
    tokens = [t.strip(".").lower() for t in name.split()]
    while len(tokens) > 1 and tokens[0] in _TITLES:
        tokens.pop(0)
    return tuple(tokens)


def _is_part(short: tuple[str, ...], long: tuple[str, ...]) -> bool:
    """Whether `short` is a contiguous run of `long`'s tokens (and strictly shorter)."""
    n = len(short)
    return n < len(long) and any(long[i : i + n] == short for i in range(len(long) - n + 1))


def canonicalise(mentions: Iterable[Mention]) -> list[tuple[str, EntityLabel, int, bool, bool]]:
    """Join one article's mentions into canonical entities.

    Returns (name, label, mentions, in_headline, in_lead) per entity, most mentioned first.
    A name that is a contiguous part of a longer name of the same label in the same article
    joins it ("Kerry" -> "John Kerry", "Promises" -> "Promises Treatment Center"); a one-word
    name of another label joins a PERSON whose name it ends with, because the small model often
    labels a bare surname GPE or ORG. A part matching several longer names joins the most
    mentioned one. Titles are dropped from person names ("President Putin" is "Putin").
    """
    mentions = list(mentions)
    # A person's surface form without titles: "President Vladimir Putin" -> "Vladimir Putin".
    cleaned: list[Mention] = []
    for m in mentions:
        text = m.text
        if m.label == "PERSON":
            words = text.split()
            while len(words) > 1 and words[0].strip(".").lower() in _TITLES:
                words.pop(0)
            text = " ".join(words)
        cleaned.append(Mention(text, m.label, m.in_headline, m.in_lead))

    # A title-case headline lets the NER run a person's name into the next word ("John Kerry
    # Meets Vladimir Putin"). When the copy below the headline names the person only by
    # surname ("Kerry said"), the overrun name finds no full name to join (see below): a
    # headline name cut after a word the rest of the copy ends a name with is that name.
    ends_below = {m.text.split()[-1].lower() for m in cleaned if not m.in_headline and m.text}
    cut: list[Mention] = []
    for m in cleaned:
        words = m.text.split()
        if m.in_headline and m.label == "PERSON" and words and words[-1].lower() not in ends_below:
            for k in range(len(words) - 1, 1, -1):
                if words[k - 1].lower() in ends_below:
                    m = Mention(" ".join(words[:k]), m.label, m.in_headline, m.in_lead)
                    break
        cut.append(m)
    cleaned = cut

    # Case variants are one name ("MOSCOW -" datelines): the form written most often, preferring
    # one that is not all capitals, stands for all of them.
    forms: dict[str, Counter[str]] = {}
    for m in cleaned:
        forms.setdefault(m.text.lower(), Counter())[m.text] += 1
    display = {
        key: max(c, key=lambda f: (not (f.isupper() and len(f) > 4), c[f], f))
        for key, c in forms.items()
    }
    cleaned = [
        Mention(display[m.text.lower()], m.label, m.in_headline, m.in_lead) for m in cleaned
    ]

    surface_count: Counter[str] = Counter(m.text for m in cleaned)
    labels_of: dict[str, Counter[str]] = {}
    for m in cleaned:
        labels_of.setdefault(m.text, Counter())[m.label] += 1
    # Longest names first so a part always finds its whole before being considered one.
    names = sorted(surface_count, key=lambda s: (-len(_name_tokens(s)), -surface_count[s], s))
    tokens_of = {name: _name_tokens(name) for name in names}
    major_label = {name: labels_of[name].most_common(1)[0][0] for name in names}
    target: dict[str, str] = {}
    # A rare long name holding a more frequent full name is the NER running over a neighbouring
    # word, mostly in title-case headlines ("John Kerry Meets"): it is that full name.
    for name in names:
        if surface_count[name] > 1:
            continue
        for part in names:
            if (
                part != name
                and len(tokens_of[part]) >= 2
                and surface_count[part] >= 2
                and major_label[part] == major_label[name]
                and _is_part(tokens_of[part], tokens_of[name])
            ):
                target[name] = part
                break
    for name in names:
        if name in target:
            continue
        short = tokens_of[name]
        best: str | None = None
        for whole in names:
            if whole == name or target.get(whole, whole) != whole:
                continue  # a whole that is itself a variant is not a canonical name
            long = tokens_of[whole]
            if not _is_part(short, long):
                continue
            same_label = major_label[whole] == major_label[name]
            surname_of_person = (
                major_label[whole] == "PERSON" and len(short) == 1 and long[-1] == short[0]
            )
            if (same_label or surname_of_person) and (
                best is None or surface_count[whole] > surface_count[best]
            ):
                best = whole
        target[name] = best or name

    counts: Counter[str] = Counter()
    labels: dict[str, Counter[str]] = {}
    in_headline: dict[str, bool] = {}
    in_lead: dict[str, bool] = {}
    for m in cleaned:
        name = target[m.text]
        counts[name] += 1
        # The whole name's own label wins: a surname labelled GPE still names a PERSON.
        labels.setdefault(name, Counter())[m.label] += 2 if m.text == name else 1
        in_headline[name] = in_headline.get(name, False) or m.in_headline
        in_lead[name] = in_lead.get(name, False) or m.in_lead
    entities = [
        (name, labels[name].most_common(1)[0][0], n, in_headline[name], in_lead[name])
        for name, n in counts.items()
    ]
    entities.sort(key=lambda e: (-e[2], not e[3], e[0]))
    return entities  # type: ignore[return-value]  # labels come from Mention.label


def mentions_beyond(
    entities: Iterable[tuple[str, EntityLabel, int, bool, bool]], unread: str
) -> Counter[str]:
    """How often each canonical entity is named again in body text the NER did not read.

    The NER reads a bounded slice (what it costs grows with the text); the rest of the copy
    mostly repeats the names the top already gave, so counting those repeats by string match
    keeps the mention counts (and so the entity weights) close to a full-text read at almost no
    cost. A person is matched by full name or surname ("Putin"), anything else by its name.
    Names first seen after the slice stay unknown: that is the price of the bounded slice.
    """
    forms: dict[str, str] = {}
    for name, label, *_ in entities:
        forms.setdefault(name, name)
        words = name.split()
        if label == "PERSON" and len(words) > 1 and len(words[-1]) > 2:
            forms.setdefault(words[-1], name)
    counts: Counter[str] = Counter()
    if not forms or not unread:
        return counts
    # Longest form first: "John Kerry" is one mention, not also a "Kerry".
    alternatives = "|".join(re.escape(form) for form in sorted(forms, key=len, reverse=True))
    for match in re.finditer(rf"(?<!\w)(?:{alternatives})(?!\w)", unread):
        counts[forms[match.group(0)]] += 1
    return counts
