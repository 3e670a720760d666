"""IPTC ninjs in: every example the IPTC publishes is accepted as an article or refused with
its reason; corrections and kills carry their version and status."""

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from services.ingest.core import Accepted, Rejected, from_record, read_articles
from services.ingest.ninjs import SCHEMAS, NinjsRefused, from_ninjs, generation

NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)

CAPTAIN = "Captain of wrecked cruise ship on trial in Italy"
# Every example document, as (source, headline start, copy kind) when it is text copy, or the
# start of its refusal. Written out by hand from reading each document.
EXPECTED: dict[str, tuple[str, str, str] | str] = {
    "1.4/businesswire-newsml-20130515006361.json": (
        "www.businesswire.com", "Dell Redefines", "html"
    ),
    "1.4/businesswire-newsml-20130605006126.json": ("www.businesswire.com", "Cambrios", "html"),
    "1.4/businesswire-newsml-20130612006110.json": ("www.businesswire.com", "APP", "html"),
    "1.4/businesswire-newsml-20130731006140.json": ("www.businesswire.com", "Lunch Taking", "html"),
    "1.4/ninjs-1-4-examples.json": ("ninjs.example.com", "Test of three new properties", "html"),
    "1.4/ninjsExComplex1.json": ("ninjs.example.com", CAPTAIN, "text"),
    "1.4/ninjsExComplex2.json": ("ninjs.example.com", CAPTAIN, "text"),
    "1.4/ninjsExMediumText1.json": ("ninjs.example.com", CAPTAIN, "text"),
    "1.4/ninjsExSimplePhoto1.json": "a picture item, not text",
    "1.4/ninjsExSimpleText1.json": ("ninjs.example.com", CAPTAIN, "text"),
    "2.1/SIPA_image_2.json": "a picture item, not text",
    "2.1/ap_audio.json": "an audio item, not text",
    "2.1/ap_image.json": "a picture item, not text",
    "2.1/ap_video.json": "a video item, not text",
    "2.1/businesswire-newsml-20130605006126.json": ("www.businesswire.com", "Cambrios", "html"),
    "2.1/businesswire-newsml-20130731006140.json": ("www.businesswire.com", "Lunch Taking", "html"),
    "2.1/dpa_text.json": ("dpa", "Faktencheck Derby-Elfmeter", "html"),
    "2.1/imageEncodedRights.json": "a picture item, not text",
    "2.1/imageLinkedRights.json": "a picture item, not text",
    "2.1/ninjsExSimpleText_2.json": ("ninjs.example.com", CAPTAIN, "text"),
    "2.1/ntb_text.json": ("NTB", "Google har kjøpt giganttomt i Skien", "text"),
    "2.1/tt_text_image_2.json": ("TT", "Militärövning i jätteformat", "text"),
    "3.0/20231004-UEFA-ChampionLeague.json": "an event item, not text",
    "3.0/20231005-65-addb-event.json": "an event item, not text",
    "3.0/20231008-anti-doping-measures-at-the-tour-down-under-will-be-the-toughest-ever-addb-ninjs-nitf.json": (  # noqa: E501 - the example's own name
        "antidopingdatabase.com", "Anti-doping measures", "html"  # NITF, read as markup
    ),
    "3.0/20231016-addb-example-press-conference.json": "an event item, not text",
    "3.0/SIPA_image_3.json": "a picture item, not text",
    "3.0/ap_audio.json": "an audio item, not text",
    "3.0/ap_image.json": "a picture item, not text",
    "3.0/ap_video.json": "a video item, not text",
    "3.0/businesswire-newsml-20130605006126.json": ("www.businesswire.com", "Cambrios", "html"),
    "3.0/businesswire-newsml-20130731006140.json": ("www.businesswire.com", "Lunch Taking", "html"),
    "3.0/dpa_text.json": ("dpa", "Faktencheck Derby-Elfmeter", "html"),
    "3.0/imageEncodedRights.json": "a picture item, not text",
    "3.0/imageLinkedRights.json": "a picture item, not text",
    "3.0/ninjsExSimpleText_3.json": ("ninjs.example.com", CAPTAIN, "text"),
    "3.0/ntb_text.json": ("NTB", "Google har kjøpt giganttomt i Skien", "text"),
    "3.0/simpleEvent.json": "an event item, not text",
    "3.0/tt_event_pressconference_3.0.json": "an event item, not text",
    "3.0/tt_text_image_3.json": ("TT", "Militärövning i jätteformat", "text"),
    "spec-1.6/001_simple_example.json": ("ninjs.example.com", CAPTAIN, "text"),
    "spec-1.6/002_renditions_example.json": "its body has no words",
    "spec-1.6/003_associations_example.json": "its body has no words",
    "spec-1.6/004_simple_text_article.json": ("ninjs.example.com", CAPTAIN, "text"),
    "spec-1.6/005_complex_text_article.json": ("ninjs.example.com", CAPTAIN, "text"),
    "spec-1.6/006_photo_only.json": "a picture item, not text",
    "spec-1.6/007_multimedia.json": ("ninjs.example.com", CAPTAIN, "text"),
    "spec-2.2/001_simple_example.json": ("ninjs.example.com", CAPTAIN, "text"),
    "spec-2.2/002_renditions_example.json": "its body has no words",
    "spec-2.2/003_associations_example.json": "its body has no words",
    "spec-2.2/004_simple_text_article.json": ("ninjs.example.com", CAPTAIN, "text"),
    "spec-2.2/005_complex_text_article.json": ("ninjs.example.com", CAPTAIN, "text"),
    "spec-2.2/006_photo_only.json": "a picture item, not text",
    "spec-2.2/007_multimedia.json": ("ninjs.example.com", CAPTAIN, "text"),
    "spec-3.1/001_simple_example.json": ("ninjs.example.com", CAPTAIN, "text"),
    "spec-3.1/002_renditions_example.json": "its body has no words",
    "spec-3.1/003_associations_example.json": "its body has no words",
    "spec-3.1/004_simple_text_article.json": ("ninjs.example.com", CAPTAIN, "text"),
    "spec-3.1/005_complex_text_article.json": ("ninjs.example.com", CAPTAIN, "text"),
    "spec-3.1/006_photo_only.json": "a picture item, not text",
    "spec-3.1/007_multimedia.json": ("ninjs.example.com", CAPTAIN, "text"),
    "spec-3.1/008_event.json": "an event item, not text",
}


@pytest.fixture(scope="module")
def examples(shared: Path) -> Path:
    return shared / "formats" / "ninjs" / "examples"


def test_every_example_is_listed(examples: Path) -> None:
    found = {str(p.relative_to(examples)) for p in examples.glob("*/*.json")}
    assert found == set(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_example_is_accepted_or_refused_with_its_reason(examples: Path, name: str) -> None:
    document = json.loads((examples / name).read_text(encoding="utf-8"))
    [item] = list(read_articles([examples / name], now=NOW))
    expected = EXPECTED[name]
    if isinstance(expected, str):
        assert isinstance(item, Rejected)
        assert item.reason.startswith(f"ninjs: {expected}")
        return
    assert isinstance(item, Accepted), item
    article = item.article
    source, headline, kind = expected
    assert article.id == document["uri"]
    assert article.source == source
    assert (article.title or "").startswith(headline)
    assert getattr(article, kind)
    assert article.withdrawn is False


def test_the_schemas_are_the_shared_ones_unchanged(shared: Path) -> None:
    for name in ("ninjs-schema_1.6.json", "ninjs-schema_2.2.json", "ninjs-schema_3.1.json"):
        shared_copy = shared / "formats" / "ninjs" / "schemas" / name
        assert (SCHEMAS / name).read_bytes() == shared_copy.read_bytes()


def test_dpa_item_maps_time_version_language_and_outlet(examples: Path) -> None:
    document = json.loads((examples / "3.0/dpa_text.json").read_text(encoding="utf-8"))
    fields = from_ninjs(document).fields
    assert fields["source"] == "dpa"
    assert fields["revision"] == 2
    assert fields["language"] == "de"
    assert fields["published_at"] == datetime.fromisoformat(document["versionCreated"])
    assert generation(document) == (3, False)


def test_first_creation_is_the_publication_time_and_located_the_dateline(examples: Path) -> None:
    document = json.loads((examples / "2.1/ntb_text.json").read_text(encoding="utf-8"))
    fields = from_ninjs(document).fields
    assert fields["published_at"] == datetime(2019, 8, 9, 9, 30, 4, tzinfo=UTC)
    assert fields["located"] == "Telemark"  # its only place
    assert fields["text"].startswith("IT-giganten Google")  # NTB sends the lead as description


def _item(**extra: object) -> dict[str, object]:
    return {
        "uri": "urn:agency:story-1", "type": "text", "version": "1",
        "versioncreated": "2026-01-02T03:00:00Z", "copyrightholder": "Agency",
        "headlines": [{"value": "Dam bursts upstream"}],
        "bodies": [{"role": "main", "contenttype": "text/plain", "value": "Water rose fast."}],
        **extra,
    }


def test_a_higher_version_carries_its_revision_under_the_same_id() -> None:
    first = from_record("a", _item(), None, NOW)
    second = from_record("b", _item(version="3"), None, NOW)
    assert isinstance(first, Accepted) and isinstance(second, Accepted)
    assert first.article.id == second.article.id == "urn:agency:story-1"
    assert (first.article.revision, second.article.revision) == (1, 3)


@pytest.mark.parametrize("status", ["canceled", "withheld"])
def test_a_kill_without_copy_is_accepted_as_withdrawn(status: str) -> None:
    kill = _item(pubstatus=status, version="4")
    del kill["bodies"]
    item = from_record("k", kill, None, NOW)
    assert isinstance(item, Accepted)
    assert item.article.withdrawn is True
    assert item.article.text is None and item.article.html is None
    assert item.article.revision == 4


def test_a_usable_item_without_copy_is_refused() -> None:
    item = dict(_item())
    del item["bodies"]
    with pytest.raises(NinjsRefused, match="a text item without a body"):
        from_ninjs(item)


def test_a_document_that_breaks_its_schema_is_refused_with_where_and_why() -> None:
    result = from_record("x", _item(pubstatus="deleted"), None, NOW)
    assert isinstance(result, Rejected)
    assert result.reason.startswith("ninjs: not valid ninjs 2.2: at pubstatus:")
    assert "deleted" in result.reason


def test_html_body_goes_to_html_and_the_outlet_falls_back_to_the_given_source() -> None:
    item = _item(bodies=[{"contenttype": "text/html", "value": "<p>Water rose fast.</p>"}])
    del item["copyrightholder"]
    result = from_record("h", item, "Fallback Wire", NOW)
    assert isinstance(result, Accepted)
    assert result.article.html == "<p>Water rose fast.</p>" and result.article.text is None
    assert result.article.source == "Fallback Wire"


def test_a_ninjs_file_in_a_folder_is_read_like_any_json(tmp_path: Path) -> None:
    (tmp_path / "one.json").write_text(json.dumps(_item()))
    (tmp_path / "batch.json").write_text(json.dumps([_item(uri="urn:x:2"), {"uri": 3}]))
    items = list(read_articles([tmp_path], now=NOW))
    accepted = [i.article.id for i in items if isinstance(i, Accepted)]
    rejected = [i for i in items if isinstance(i, Rejected)]
    assert sorted(accepted) == ["urn:agency:story-1", "urn:x:2"]
    assert len(rejected) == 1 and "not valid ninjs" in rejected[0].reason
