"""Article contracts: raw copy in, clean copy, enriched copy."""

from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

EntityLabel = Literal[
    "PERSON", "ORG", "GPE", "LOC", "NORP", "EVENT", "FAC", "PRODUCT", "WORK_OF_ART", "LAW"
]

# The sender's corrections and kills, carried from raw copy to the cluster stage.
_REVISION = Field(
    default=None, ge=0,
    description="the sender's version of this item (ninjs `version`): copy under the same id "
    "with a higher revision corrects the earlier copy; a lower or equal one changes nothing",
)
_WITHDRAWN = Field(
    default=False,
    description="the sender killed the item (ninjs `pubstatus` canceled or withheld): it "
    "leaves its story",
)

class _Contract(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

class RawArticleV1(_Contract):
    """One piece of wire copy as it was fed in (topic `articles.raw`).

    Exactly what the ingest command read: either plain text (a scraper's flattened page) or
    HTML, never both required. `id` is stable: the same copy fed twice keeps the same id.
    """

    schema_version: Literal[1] = 1
    id: str = Field(min_length=1, max_length=200)
    source: str = Field(min_length=1, max_length=200, description="outlet or feed name")
    url: str | None = None
    title: str | None = Field(default=None, description="headline if the feed gave one")
    text: str | None = Field(default=None, description="plain text body, junk and all")
    html: str | None = Field(default=None, description="the page's HTML")
    published_at: AwareDatetime | None = None
    ingested_at: AwareDatetime
    revision: int | None = _REVISION
    withdrawn: bool = _WITHDRAWN
    language: str | None = Field(
        default=None, max_length=35,
        description="the sender's language tag (BCP 47, e.g. ninjs `language`): a hint the clean "
        "stage uses when it cannot identify the language itself (a kill without copy)",
    )
    located: str | None = Field(
        default=None, max_length=200,
        description="where the copy was filed, as the sender says (ninjs `located`): the dateline "
        "place when the copy prints none",
    )

    @model_validator(mode="after")
    def _has_copy(self) -> "RawArticleV1":
        # A kill names the item it withdraws; agencies often send it without the copy.
        if self.withdrawn:
            return self
        if not (self.text and self.text.strip()) and not (self.html and self.html.strip()):
            raise ValueError("an article needs a non-empty `text` or `html`")
        return self

class CleanArticleV1(_Contract):
    """The article and nothing else, with the facts found around it (topic `articles.clean`)."""

    schema_version: Literal[1] = 1
    id: str
    source: str
    url: str | None = None
    headline: str
    body: str = Field(min_length=1)
    language: str = Field(description="ISO 639-1 code from the language identifier")
    dateline_place: str | None = Field(default=None, description='e.g. "Moscow"')
    dateline_agency: str | None = Field(default=None, description='e.g. "Reuters", "Xinhua"')
    published_at: AwareDatetime | None = None
    ingested_at: AwareDatetime
    duplicate_of: str | None = Field(
        default=None, description="id of the first copy when this one is a (near-)duplicate"
    )
    revision: int | None = _REVISION
    withdrawn: bool = _WITHDRAWN

class EntityV1(_Contract):
    """One canonical named entity of an article."""

    text: str = Field(description='canonical form, e.g. "Vladimir Putin"')
    label: EntityLabel
    count: int = Field(ge=1, description="mentions in the text the NER read")
    in_headline: bool = False
    in_lead: bool = False

class EnrichedArticleV1(CleanArticleV1):
    """A clean article with its named entities and keywords (topic `articles.enriched`)."""

    entities: tuple[EntityV1, ...] = ()
    keywords: tuple[str, ...] = Field(default=(), description="top terms, most salient first")
    enriched_at: AwareDatetime | None = None
