"""Which of trafilatura's paragraphs are the article: a vote of independent extractors.

In: trafilatura's paragraphs of a page (precision mode) and `Voters`, the other extractors'
readings of the same page. Out: trafilatura's paragraphs that enough of the others also keep,
in trafilatura's order, plus paragraphs only readability found where the other two agree they
are article. The vote never loses the article: when it would drop more than `guard_share` of
trafilatura's text, trafilatura's paragraphs are kept whole.

Each voter judges by evidence of its own, so their errors are not the same errors:
- readability (trafilatura's port of arc90's): which element holds the most comma-rich,
  link-poor paragraph text, and that element's siblings: markup density;
- jusText, with its own classifier: each paragraph's length, link density and stopword
  density, revised by its neighbours';
- storywire's plain-text line model (`lines.py`) over the page flattened to text lines, as a
  scraper would see it: no markup at all, only the lines' shapes, words and neighbours;
- optionally the body the page declares (JSON-LD `articleBody`): what the publisher says.
trafilatura keeps a teaser box, a caption or a "read more" block now and then; the others
rarely keep the same one. The setting (how many votes a paragraph needs, whether readability's
additions are taken, whether the declared body votes, whether only the edges are trimmed) is
chosen by nested site-fold cross-validation in `lab.clean.htmlvote` (docs/cleaning.md).

Voters are run lazily and in order of cost, each only while its vote can still change the
outcome: when readability keeps what decides (the first and last paragraphs, with the shipped
setting) and found nothing long that trafilatura missed, jusText and the line model are never
run.
"""

from collections.abc import Callable, Sequence
from copy import deepcopy
from dataclasses import dataclass
from functools import cached_property, lru_cache
from typing import Any, Protocol

import justext
import lxml.html
from justext.core import ParagraphMaker, classify_paragraphs, revise_paragraph_classification
from justext.paragraph import Paragraph
from lxml import etree
from trafilatura.readability_lxml import Document as Readability

from services.clean import lines as article_lines
from services.clean import text

_SHINGLE = 3  # words per shingle: a paragraph is matched by its word 3-grams
_READABILITY_MIN_TEXT = 25  # as trafilatura runs it: shortest paragraph readability scores


@dataclass(frozen=True)
class VoteSetting:
    """How the vote decides.

    `min_votes`: other voters (of readability, jusText, the line model and, with
    `declared_votes`, the declared body) that must keep a trafilatura paragraph for it to
    stay. `guard_share`: the largest share of trafilatura's characters the vote may drop;
    beyond it trafilatura is kept whole. `add_readability`: take paragraphs only readability
    found when jusText and the line model both keep them. `match_share`: the share of a
    paragraph's word shingles another voter's text must hold for the voter to keep it.
    `edges_only`: drop only the paragraphs before the first and after the last voted one
    (where teasers, captions and "read more" boxes sit); those between are the article's
    embedded tweets, tables and subheads, which the others often read differently.
    `add_min_chars`: readability's additions shorter than this are not considered (a
    caption, a byline, a "Share" button: what readability keeps and trafilatura drops is
    mostly short furniture, and the others would have to be run to refuse it).
    """

    min_votes: int = 1
    guard_share: float = 0.5
    add_readability: bool = True
    declared_votes: bool = False
    match_share: float = 0.5
    edges_only: bool = False
    add_min_chars: int = 0


# Chosen by `python -m lab.clean.htmlvote` (nested site-fold CV): see docs/cleaning.md.
SHIPPED = VoteSetting(
    min_votes=1, guard_share=0.5, add_readability=True, declared_votes=False, match_share=0.5,
    edges_only=True, add_min_chars=60,
)
# What `html.extract` uses (None: trafilatura alone); the lab swaps in each fold's choice to
# cross-validate, and None to compare.
setting: VoteSetting | None = SHIPPED


def shingles(paragraph: str) -> frozenset[tuple[str, ...]]:
    """The paragraph's lower-cased word 3-grams; a shorter paragraph is one shingle."""
    words = text.words(paragraph.lower())
    if len(words) < _SHINGLE:
        return frozenset({tuple(words)}) if words else frozenset()
    return frozenset(zip(*(words[i:] for i in range(_SHINGLE)), strict=False))  # word runs


class Reading:
    """One extractor's reading of a page: the paragraphs it keeps, and their shingles."""

    def __init__(self, paragraphs: Sequence[str]) -> None:
        self.paragraphs = [" ".join(p.split()) for p in paragraphs if p.strip()]
        # Of the text joined, not of each paragraph: a table row trafilatura prints on one
        # line is one cell a line in another extractor's reading.
        self.all = shingles(" ".join(self.paragraphs))
        # Short paragraphs (fewer words than a shingle) are matched as words in the text.
        self.words = " " + " ".join(" ".join(text.words(p.lower())) for p in self.paragraphs)
        self.words += " "

    @cached_property
    def each(self) -> list[frozenset[tuple[str, ...]]]:
        """Each paragraph's shingles (asked of trafilatura's and readability's only)."""
        return [shingles(p) for p in self.paragraphs]

    def keeps(self, paragraph: frozenset[tuple[str, ...]], match_share: float) -> bool:
        """Whether this reading holds the paragraph (given by its shingles)."""
        if not paragraph:
            return False
        if len(paragraph) == 1:
            (only,) = paragraph
            if len(only) < _SHINGLE:
                return f" {' '.join(only)} " in self.words
        return len(paragraph & self.all) >= match_share * len(paragraph)


class Readings(Protocol):
    """The other extractors' readings of a page, as the vote asks for them (in this order)."""

    @property
    def readability(self) -> Reading | None: ...
    @property
    def justext(self) -> Reading | None: ...
    @property
    def line_model(self) -> Reading: ...
    @property
    def declared(self) -> Reading: ...


class Voters:
    """The other extractors' readings of one page, each run on first use (and only once).

    A reading is None when its extractor could not read the page (readability's port fails on
    some hostile markup): that voter abstains. `tree` is the page parsed once; each voter
    works on its own copy, since readability and jusText's cleaning change the tree.
    `identify_language` gives the page's language (for jusText's stopwords and the line
    model), asked only if one of them runs.
    """

    def __init__(
        self,
        tree: lxml.html.HtmlElement | None,
        identify_language: Callable[[], str],
        title: str | None,
        flatten: Callable[[lxml.html.HtmlElement], list[str]],
        declared: Callable[[], list[str]],
    ) -> None:
        self._tree = tree
        self._identify_language = identify_language
        self.title = title
        self._flatten = flatten
        self._declared = declared

    @cached_property
    def language(self) -> str:
        return self._identify_language()

    @cached_property
    def readability(self) -> Reading | None:
        if self._tree is None:
            return None
        try:
            summary = Readability(
                deepcopy(self._tree), min_text_length=_READABILITY_MIN_TEXT
            ).summary()
            # A document parse: the summary is a <div>, or the whole page when readability
            # found no candidate (which lxml's fragment parser refuses with an assertion).
            article = lxml.html.document_fromstring(summary)
        # What the port raises on hostile markup (found by fuzzing the benchmark's pages,
        # lab notes in docs/experiments/cleaning.md): AssertionError from lxml's drop_tree(),
        # which asserts the element has a parent, when the sanitiser drops the very element
        # it was handed; ValueError when it moves text holding a control character lxml's
        # parser let in (lxml refuses to set such a string); lxml's ParserError for a summary
        # with nothing to parse. Anything else is a bug and is not caught.
        except (AssertionError, ValueError, etree.ParserError):
            return None
        return Reading(self._flatten(article))

    @cached_property
    def justext(self) -> Reading | None:
        if self._tree is None:
            return None
        stopwords = text.stoplist(self.language) or _every_stoplist()
        tree = deepcopy(self._tree)
        # jusText's own preprocessing, without its (slow) generic HTML cleaner.
        etree.strip_elements(
            tree, "head", "script", "style", "noscript", "form", "iframe", "object", "embed",
            etree.Comment, etree.ProcessingInstruction, with_tail=False,
        )
        # Nothing caught: jusText's walk (lxml.sax, recursive) only reads the tree, which
        # lxml's parser keeps under 256 levels deep, and raised nothing in the fuzzing.
        paragraphs = _ParagraphMaker.make_paragraphs(tree)
        for paragraph in paragraphs:
            paragraph.freeze()
        classify_paragraphs(paragraphs, stopwords)
        revise_paragraph_classification(paragraphs)
        return Reading([p.text for p in paragraphs if not p.is_boilerplate])

    @cached_property
    def flattened(self) -> list[str]:
        """The page as text lines, as a scraper would see it."""
        return self._flatten(self._tree) if self._tree is not None else []

    @cached_property
    def line_model(self) -> Reading:
        page = self.flattened
        kept, _words = article_lines.find_body_and_words(page, self.language, (), self.title)
        return Reading([page[i] for i in kept])

    @cached_property
    def declared(self) -> Reading:
        return Reading(self._declared())


class _Paragraph(Paragraph):  # type: ignore[misc]  # justext ships no type hints
    """jusText's paragraph, two costs spared: its XPath (which its classifier never reads) is
    not built for each of the hundreds of empty paragraphs a page's markup opens, and its
    text, which the classifier asks for dozens of times, is joined once when complete."""

    def __init__(self, path: Any) -> None:
        self.dom_path = path.dom
        self.xpath = ""
        self.text_nodes: list[str] = []
        self.chars_count_in_links = 0
        self.tags_count = 0
        self.class_type = ""
        self._text: str | None = None

    def freeze(self) -> None:
        self._text = Paragraph.text.fget(self)

    @property
    def text(self) -> str:
        return self._text if self._text is not None else Paragraph.text.fget(self)


class _Path:
    """The open elements' names: all of jusText's `PathInfo` its classifier reads (`dom`, for
    headings), without the sibling counts it keeps for the XPath we do not build."""

    def __init__(self) -> None:
        self.names: list[str] = []

    @property
    def dom(self) -> str:
        return ".".join(self.names)

    def append(self, name: str) -> None:
        self.names.append(name)

    def pop(self) -> None:
        self.names.pop()


class _ParagraphMaker(ParagraphMaker):  # type: ignore[misc]  # justext ships no type hints
    """jusText's paragraph maker, making `_Paragraph`s, fed by a walk of the tree.

    jusText feeds it through `lxml.sax`, which builds every element's attributes, qualified
    name and namespace map for handler calls that read only the tag's local name: a third of
    the paragraph making's cost (3.7 against 2.4 ms a page on the benchmark). The walk makes
    the same calls in the same order (an element's start, its text, its children, its end,
    its tail; a comment or processing instruction gives only its tail), so the paragraphs are
    the same.
    """

    paragraph: Any
    paragraphs: list[Any]

    def __init__(self) -> None:
        super().__init__()
        self.path = _Path()

    def _start_new_pragraph(self) -> None:
        if self.paragraph and self.paragraph.contains_text():
            self.paragraphs.append(self.paragraph)
        self.paragraph = _Paragraph(self.path)

    @classmethod
    def make_paragraphs(cls, root: lxml.html.HtmlElement) -> list[Any]:
        maker = cls()
        start, end, characters = maker.startElementNS, maker.endElementNS, maker.characters
        walk = etree.iterwalk(root, events=("start", "end", "comment", "pi"))
        for event, element in walk:
            if event in ("comment", "pi"):
                if element.tail:
                    characters(element.tail)
                continue
            name = (None, element.tag.rpartition("}")[2])  # lxml.sax's (namespace, local name)
            if event == "start":
                start(name, None, None)
                if element.text:
                    characters(element.text)
            else:
                end(name, None)
                if element.tail:
                    characters(element.tail)
        maker.endDocument()
        return maker.paragraphs


@lru_cache(maxsize=1)
def _every_stoplist() -> frozenset[str]:
    """Every language's stopwords: for a page in a language jusText has no list for (as
    trafilatura does)."""
    return frozenset(
        word for name in justext.get_stoplists() for word in justext.get_stoplist(name)
    )


def vote(paragraphs: Sequence[str], voters: Readings, chosen: VoteSetting) -> list[str]:
    """trafilatura's `paragraphs` the others agree are article, with readability's additions
    (see the module's docstring), blank ones aside.

    The voters are asked in order of cost (readability, the line model, jusText, the declared
    body), each only while its vote can still change the outcome: while a paragraph that
    would be dropped lacks votes, or readability's additions await confirmation.
    """
    paragraphs = [p for p in paragraphs if p.strip()]
    readability = voters.readability
    if readability is None or not paragraphs:
        return paragraphs
    own = Reading(paragraphs)
    match, needed = chosen.match_share, chosen.min_votes
    votes = [int(readability.keeps(p, match)) for p in own.each]
    # Readability's paragraphs trafilatura has not, still to be confirmed by both others.
    extra = [
        j for j, p in enumerate(readability.each)
        if chosen.add_readability
        and len(readability.paragraphs[j]) >= chosen.add_min_chars
        and p
        and not own.keeps(p, match)
    ]
    others = ["line_model", "justext"] + (["declared"] if chosen.declared_votes else [])
    for name in others:
        # With `edges_only`, only the first and last paragraphs' votes decide what is dropped.
        undecided = (votes[0], votes[-1]) if chosen.edges_only else votes
        if min(undecided) >= needed and not extra:
            break
        reading: Reading | None = getattr(voters, name)
        for i, p in enumerate(own.each):
            if votes[i] < needed and reading is not None and reading.keeps(p, match):
                votes[i] += 1
        if name != "declared":
            extra = [
                j for j in extra
                if reading is not None and reading.keeps(readability.each[j], match)
            ]
    kept = [i for i, count in enumerate(votes) if count >= needed]
    if chosen.edges_only and kept:
        kept = list(range(kept[0], kept[-1] + 1))
    own_chars = sum(map(len, own.paragraphs))
    if sum(len(own.paragraphs[i]) for i in kept) < (1 - chosen.guard_share) * own_chars:
        kept = list(range(len(own.paragraphs)))
    if len(kept) == len(own.paragraphs) and not extra:
        return paragraphs
    return _merge(own, kept, readability, extra)


def _merge(
    own: Reading, kept: list[int], readability: Reading, added: list[int]
) -> list[str]:
    """trafilatura's kept paragraphs, in its order, with readability's `added` ones, each
    placed after the last kept paragraph that sits before it in readability's reading."""
    # Where each trafilatura paragraph sits in readability's reading (-1: nowhere).
    position = [
        next((j for j, r in enumerate(readability.each) if r & p), -1) for p in own.each
    ]
    body = [own.paragraphs[i] for i in kept]
    places = [
        (max((k + 1 for k, i in enumerate(kept) if 0 <= position[i] < j), default=0), j)
        for j in added
    ]
    for after, j in sorted(places, reverse=True):  # from the end: earlier places still hold
        body.insert(after, readability.paragraphs[j])
    return body
