"""The five founding seeds through the clean core: junk gone, body intact, facts found."""

from datetime import UTC, datetime
from pathlib import Path

import pytest

from schemas.articles import CleanArticleV1, RawArticleV1
from services.clean.core import clean
from services.clean.memory import SourceMemory

SEEDS = Path(__file__).resolve().parents[3] / ".." / "shared" / "seeds"
NOW = datetime(2016, 3, 26, tzinfo=UTC)


def _seed(prefix: str) -> CleanArticleV1:
    path = next(SEEDS.glob(f"{prefix}_*.txt"))
    raw = RawArticleV1(
        id=path.stem, source=f"outlet-{prefix}", text=path.read_text(), ingested_at=NOW
    )
    return clean(raw, SourceMemory({}, {}), max_body_chars=200_000, now=NOW)


def test_seed_000_drops_the_widget_lines_and_repairs_the_glued_clause() -> None:
    article = _seed("000")
    assert "Open news feed" not in article.body
    assert "A A" not in article.body.splitlines()
    assert "Politics" not in article.body.splitlines()
    assert "Barack Obama, Putin said in his opening remarks" in article.body
    assert article.body.startswith("U.S. Secretary of State John Kerry and Russian President")
    assert article.body.endswith('political transition process of Syria," Kerry said.')
    assert article.headline.startswith("Putin holds 'constructive' meeting with Kerry")
    assert article.language == "en"


def test_seed_001_drops_the_doubled_caption_and_block_and_finds_the_reuters_dateline() -> None:
    article = _seed("001")
    assert "shakes hands with Russian President Vladimir Putin at the Kremlin" not in article.body
    assert "block" not in article.body.split()
    # Sentences glued by a missing space are apart again; U.S./U.N. abbreviations untouched.
    assert "conflict in Syria. Speaking at the beginning of talks" in article.body
    assert 'transition in Syria. "The serious approach' in article.body
    assert "U.N.-brokered Geneva peace talks" in article.body
    assert (article.dateline_agency, article.dateline_place) == ("Reuters", "Moscow")
    assert article.headline == "Putin, Kerry acknowledge cooperation helped progress in Syria"


def test_seed_002_keeps_one_copy_of_no_caption_and_drops_the_donation_appeal() -> None:
    article = _seed("002")
    assert article.body.count("Vladimir Putin with John Kerry") == 0
    assert "Vladimir Putin and John Kerry in the Meeting" not in article.body
    assert "donations" not in article.body
    assert "Support RMN News Service" not in article.body
    assert "Rakesh Raman" not in article.body
    assert "Photo courtesy" not in article.body
    # Decimals survive the glue repair.
    assert "An estimated 3.7 million Syrian children" in article.body
    assert "complete fulfilment of the Minsk Agreements by the Ukrainian authorities." in (
        article.body
    )
    assert article.headline == "John Kerry Meets Vladimir Putin to Discuss Syria"


def test_seed_003_drops_the_related_headlines_and_finds_xinhua_moscow_and_the_time() -> None:
    article = _seed("003")
    assert "Dancing in bright colors of Holi" not in article.body
    assert "Raul Castro and Obama hold talks in Havana" not in article.body
    assert "Most Viewed" not in article.body
    assert "Geared to go" not in article.body
    assert "[Photo/IC]" not in article.body
    assert article.body.startswith("MOSCOW - Russian President Vladimir Putin on Thursday")
    assert "mainly focused on issues related to Syrian and Ukrainian crises." in article.body
    assert (article.dateline_agency, article.dateline_place) == ("Xinhua", "Moscow")
    assert article.published_at == datetime(2016, 3, 25, 9, 41, tzinfo=UTC)
    assert article.headline == "Putin hopes Kerry's visit would narrow gaps between Russia, US"


def test_seed_004_drops_the_check_also_tail_and_finds_the_sana_dateline() -> None:
    article = _seed("004")
    assert "Check Also" not in article.body
    assert "Iran urges UNSC" not in article.body
    assert "Iravani" not in article.body
    assert "comes from ISIS terrorist organization." in article.body
    assert (article.dateline_agency, article.dateline_place) == ("SANA", "Moscow")
    assert article.headline.startswith("President Putin: We hope Kerry's visit")
    # The headline is not repeated as the body's first paragraph.
    assert article.body.startswith("Moscow, SANA-Russian President Vladimir Putin")


@pytest.mark.parametrize("prefix", ["000", "001", "002", "003", "004"])
def test_every_seed_alone_is_english_and_an_original(prefix: str) -> None:
    article = _seed(prefix)
    assert article.language == "en"
    assert article.duplicate_of is None
    assert article.ingested_at == NOW
