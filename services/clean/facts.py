"""Facts found around an article's body: headline, dateline, publication time, language."""

import re
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta

import py3langid

# Agencies whose name appears in datelines. Anything else in the "(Agency)" slot of a classic
# "PLACE (Agency) -" dateline is accepted too; this list is for the looser shapes where only a
# known name tells a dateline from an ordinary opening ("Reuters, Moscow :", "Moscow, SANA-").
_AGENCIES = (
    "Reuters|AP|Associated Press|The Associated Press|AFP|Agence France-Presse|Xinhua|"
    "Xinhua News Agency|SANA|TASS|ITAR-TASS|RIA Novosti|RIA|Interfax|Sputnik|UPI|dpa|DPA|ANSA|"
    "EFE|Kyodo|Yonhap|IANS|PTI|ANI|UNI|Bernama|Anadolu|AA|IRNA|WAFA|KUNA|WAM|SPA|MENA|QNA|"
    "Bloomberg|CNN|BBC|NNA|APA|Trend|Ukrinform|PAP|CTK|BTA|Tanjug|HINA|MTI|Lusa|ANP|Belga|"
    "NTB|TT|STT|Ritzau|NZPA|AAP|CP|Canadian Press|Antara|PNA|VNA|KCNA|CNA|Jiji|Kyodo News|"
    "Prensa Latina|Notimex|Telam|Agencia Brasil|APS|MAP|TAP|SUNA|APP|Saba|Petra|NAN|KNA"
)
_PLACE = r"[A-Z][A-Za-z.'\-]+(?: [A-Z][A-Za-z.'\-]+){0,3}"
_DASH = r"\s*(?:-{1,2}|–|—|:)\s*"
_DATELINES = (
    # "MOSCOW, March 24 (Xinhua) --", "WASHINGTON (Reuters) -", "MOSCOW -"
    re.compile(
        rf"^(?P<place>[A-Z][A-Z.'\-]+(?: [A-Z][A-Z.'\-]+){{0,3}})"
        rf"(?:,\s*[A-Z][A-Za-z.]*(?: [A-Z][A-Za-z.]*)?(?: \d{{1,2}})?)?"
        rf"(?:\s*\((?P<agency>[A-Z][\w .&\-]{{1,30}})\))?{_DASH}(?=\S)"
    ),
    # "Reuters, Moscow :" / "AFP, Paris -"
    re.compile(rf"^(?P<agency>{_AGENCIES})\s*,\s*(?P<place>{_PLACE}){_DASH}(?=\S)"),
    # "Moscow, SANA-" / "Tehran (IRNA) -" / "Beijing, March 24 (Xinhua) -"
    re.compile(
        rf"^(?P<place>{_PLACE})(?:,\s*[A-Z][a-z]+\.? \d{{1,2}})?\s*(?:,\s*|\()"
        rf"(?P<agency>{_AGENCIES})\)?{_DASH}(?=\S)"
    ),
)
_STANDALONE_AGENCY = re.compile(rf"^\(?(?P<agency>{_AGENCIES})\)?$")

_MONTHS = {
    name: number
    for number, names in enumerate(
        (
            ("jan", "january"), ("feb", "february"), ("mar", "march"), ("apr", "april"),
            ("may",), ("jun", "june"), ("jul", "july"), ("aug", "august"),
            ("sep", "sept", "september"), ("oct", "october"), ("nov", "november"),
            ("dec", "december"),
        ),
        start=1,
    )
    for name in names
}
_MONTH = r"(?P<month>Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|" \
    r"Aug(?:ust)?|Sept?(?:ember)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\.?"
_TIME = (
    r"(?:,?\s*(?:at\s+)?(?P<hour>\d{1,2}):(?P<minute>\d{2})(?::\d{2})?\s*"
    r"(?P<ampm>[ap]\.?m\.?)?\s*(?P<zone>[A-Z]{2,4}|[+-]\d{2}:?\d{2})?)?"
)
_DATES = (
    re.compile(
        r"(?P<year>(?:19|20)\d{2})-(?P<month>\d{1,2})-(?P<day>\d{1,2})"
        r"(?:[T ](?P<hour>\d{1,2}):(?P<minute>\d{2})(?::\d{2}(?:\.\d+)?)?"
        r"\s*(?P<zone>Z|[+-]\d{2}:?\d{2}|[A-Z]{2,4})?)?"
    ),
    re.compile(rf"{_MONTH}\s+(?P<day>\d{{1,2}}),?\s+(?P<year>(?:19|20)\d{{2}}){_TIME}", re.I),
    re.compile(rf"(?P<day>\d{{1,2}})\s+{_MONTH},?\s+(?P<year>(?:19|20)\d{{2}}){_TIME}", re.I),
)
# Zones news sites print after a time. Unknown or absent zones are read as UTC.
_ZONES = {
    "UTC": 0, "GMT": 0, "Z": 0, "BST": 1, "CET": 1, "CEST": 2, "EET": 2, "EEST": 3, "MSK": 3,
    "IST": 5.5, "CST": -6, "CDT": -5, "EST": -5, "EDT": -4, "ET": -5, "PST": -8, "PDT": -7,
    "PT": -8, "MST": -7, "MDT": -6, "JST": 9, "KST": 9, "AEST": 10, "AEDT": 11, "HKT": 8,
    "SGT": 8,
}
_PUBLISHED_HINT = re.compile(r"\b(?:updated|published|posted|first published|date)\b", re.I)
_DATE_LINE_MAX_CHARS = 120
_TITLE_SUFFIX = re.compile(r"\s+(?:[|\-–—·:]|::)\s+[^|\-–—·]{2,60}$")
_HEADLINE_MIN_WORDS = 3
_HEADLINE_MAX_CHARS = 300
LANGUAGE_SAMPLE_CHARS = 400  # enough for langid on prose; its cost grows with length


def identify_language(text: str) -> str | None:
    """ISO 639-1 code of `text` by py3langid's packaged model; None when there is nothing to
    identify (no letters)."""
    sample = text[:LANGUAGE_SAMPLE_CHARS]
    if not any(char.isalpha() for char in sample):
        return None
    language, _score = py3langid.classify(sample)
    return str(language)


def find_dateline(
    first_body_line: str, lines_before: Sequence[str] = ()
) -> tuple[str | None, str | None]:
    """(place, agency) from the dateline opening the body, or a lone "(Xinhua)" line above it.

    Places printed in capitals ("MOSCOW") come back title-cased ("Moscow").
    """
    place = agency = None
    for pattern in _DATELINES:
        match = pattern.match(first_body_line)
        if match:
            place = match.group("place").strip(" .,")
            agency = match.group("agency")
            break
    if place is not None and place.isupper():
        place = place.title()
    if agency is None:
        for line in reversed(lines_before[-8:]):
            standalone = _STANDALONE_AGENCY.match(line.strip())
            if standalone:
                agency = standalone.group("agency")
                break
    return place, agency.strip() if agency else None


def _to_datetime(match: re.Match[str]) -> datetime | None:
    fields = match.groupdict()
    month_text = fields["month"]
    month = int(month_text) if month_text.isdigit() else _MONTHS.get(month_text.lower()[:4])
    if month is None:
        month = _MONTHS.get(month_text.lower()[:3])
    hour = int(fields["hour"]) if fields.get("hour") else 0
    minute = int(fields["minute"]) if fields.get("minute") else 0
    ampm = (fields.get("ampm") or "").replace(".", "").lower()
    if ampm == "pm" and hour < 12:
        hour += 12
    elif ampm == "am" and hour == 12:
        hour = 0
    zone = fields.get("zone") or "UTC"
    if zone[0] in "+-":
        digits = zone[1:].replace(":", "")
        offset = (int(digits[:2]) + int(digits[2:]) / 60) * (1 if zone[0] == "+" else -1)
    else:
        offset = _ZONES.get(zone.upper(), 0)
    try:
        local = datetime(int(fields["year"]), month or 0, int(fields["day"]), hour, minute,
                         tzinfo=UTC)
    except ValueError:
        return None
    return local - timedelta(hours=offset)


def find_published_at(lines: Sequence[str], now: datetime) -> datetime | None:
    """Publication time printed near the top of the copy ("Updated: 2016-03-25 09:41",
    "Nov. 19, 2019 8:03 am ET"), as UTC; None when there is none.

    Only short lines are read (a date inside a body sentence is news, not the article's time),
    lines saying updated/published/posted first. A time without a zone is taken as UTC.
    """
    candidates = [line for line in lines if len(line) <= _DATE_LINE_MAX_CHARS]
    ranked = [line for line in candidates if _PUBLISHED_HINT.search(line)] + candidates
    for line in ranked:
        for pattern in _DATES:
            match = pattern.search(line)
            if match is None:
                continue
            found = _to_datetime(match)
            # Dates far in the future are typos or event dates, not publication times.
            if found is not None and found <= now + timedelta(days=1):
                return found
    return None


# Headlines are a line; a longer "headline" is copy that lost its line breaks, cut to this.
HEADLINE_LIMIT_CHARS = 500
# Publication times storywire believes: from the first newspapers' era to a day ahead (time
# zones, embargoed copy). Outside it a given time is a feed's error, not news.
_EARLIEST_PUBLISHED = datetime(1800, 1, 1, tzinfo=UTC)
_PUBLISHED_AHEAD = timedelta(days=1)


def plausible_time(published_at: datetime | None, now: datetime) -> bool:
    """Whether a feed's publication time is one to keep (else the copy's own is looked for)."""
    return published_at is not None and (
        _EARLIEST_PUBLISHED <= published_at <= now + _PUBLISHED_AHEAD
    )


def bounded_headline(headline: str) -> str:
    """`headline`, cut at a word to `HEADLINE_LIMIT_CHARS` when it is longer."""
    if len(headline) <= HEADLINE_LIMIT_CHARS:
        return headline
    cut = headline[:HEADLINE_LIMIT_CHARS]
    return (cut.rsplit(" ", 1)[0] if " " in cut[HEADLINE_LIMIT_CHARS // 2 :] else cut).rstrip()


def clean_headline(title: str) -> str:
    """A page title without the site's name ("Putin meets Kerry - Reuters" -> "Putin meets
    Kerry"), when what is left still reads as a headline."""
    title = " ".join(title.split())
    stripped = _TITLE_SUFFIX.sub("", title)
    if len(stripped.split()) >= _HEADLINE_MIN_WORDS:
        return stripped
    return title


def pick_headline(lines_before_body: Iterable[str], body_lines: Sequence[str]) -> str:
    """The headline of a flattened page: the first line above the body that reads like one
    (several words, no trailing full stop, not a date), else the body's first sentence."""
    for line in lines_before_body:
        words = line.split()
        if (
            len(words) >= _HEADLINE_MIN_WORDS
            and len(line) <= _HEADLINE_MAX_CHARS
            and not line.endswith(".")
            and not any(pattern.search(line) for pattern in _DATES)
        ):
            return clean_headline(line)
    first = body_lines[0] if body_lines else ""
    sentence = re.split(r"(?<=[.!?])\s", first, maxsplit=1)[0]
    return sentence[:_HEADLINE_MAX_CHARS]
