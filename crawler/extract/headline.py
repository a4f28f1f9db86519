"""Find the headline: the heading or title-like element that best matches <title> / og:title."""

from __future__ import annotations

from difflib import SequenceMatcher
from typing import TYPE_CHECKING

from lxml import etree

from crawler.extract.dom import class_and_id, collapse, squeeze
from crawler.extract.patterns import (
    BYLINE_CHARS,
    HEADING_RANK,
    TITLE_HINT_RE,
    TITLE_MAX_CHARS,
    TITLE_META_KEYS,
    TITLE_MIN_CHARS,
    TITLE_MIN_OVERLAP,
    TITLE_SPLIT_RE,
)
from crawler.vocabulary import DATETIME_RE

if TYPE_CHECKING:
    from lxml.html import HtmlElement

    from crawler.extract.dom import TextIndex

_PAGE_TITLE = etree.XPath("string(//head/title | //title)")


def common_run(text: str, reference: str) -> int:
    """Return the length of the longest run of characters `text` shares with `reference`."""
    if text in reference:
        return len(text)
    matcher = SequenceMatcher(None, text, reference, autojunk=False)
    return matcher.find_longest_match(0, len(text), 0, len(reference)).size


def shares_enough(text: str, reference: str) -> bool:
    """Cheap filter: do most of `text`'s characters occur in `reference` at all?"""
    chars = set(text)
    return len(chars & set(reference)) >= TITLE_MIN_OVERLAP * len(chars)


def reference_titles(root: HtmlElement, metas: dict[str, str]) -> list[str]:
    """Return the page's own statements of its title: <title> then title metas."""
    titles = [collapse(str(_PAGE_TITLE(root)))] + [
        collapse(metas.get(key)) for key in TITLE_META_KEYS
    ]
    return [title for title in dict.fromkeys(titles) if title]


def strip_site_name(title: str) -> str:
    """Return the longest part of a <title> split on site-name separators (`_`, `|`, ` - `)."""
    parts = [part.strip() for part in TITLE_SPLIT_RE.split(title) if part and part.strip()]
    return max(parts, key=len) if parts else title


def element_rank(element: HtmlElement) -> int:
    """Rank a headline holder: headings, then title-classed, then others; links last."""
    if element.tag == "a" or any(True for _ in element.iterancestors("a")):
        return -1
    if element.tag in HEADING_RANK:
        return 1 + HEADING_RANK[element.tag]
    return 1 if TITLE_HINT_RE.search(class_and_id(element)) else 0


def title_overlap(text: str, references: list[str]) -> int:
    """Return the longest run `text` shares with any reference title."""
    return max(
        (common_run(text, reference) for reference in references if shares_enough(text, reference)),
        default=0,
    )


def find_headline(
    root: HtmlElement, metas: dict[str, str], index: TextIndex
) -> tuple[HtmlElement | None, str | None]:
    """Return the headline element (if one matches) and the headline text.

    Candidates are elements whose text overlaps <title>/og:title; the longest overlap wins, then
    the purest, then the one followed by a printed time (a byline), then the heading rank.
    """
    references = [squeeze(title) for title in reference_titles(root, metas)]
    overlaps: dict[str, int] = {}
    candidates: list[tuple[int, float, HtmlElement]] = []
    body = root.find("body")
    for element, (start, end) in index.spans.items():
        if not TITLE_MIN_CHARS <= end - start <= 2 * TITLE_MAX_CHARS or element is body:
            continue
        text = squeeze(index.text[start:end])
        if not TITLE_MIN_CHARS <= len(text) <= TITLE_MAX_CHARS:
            continue
        if text not in overlaps:
            overlaps[text] = title_overlap(text, references)
        overlap = overlaps[text]
        if overlap >= TITLE_MIN_CHARS and overlap >= TITLE_MIN_OVERLAP * len(text):
            candidates.append((overlap, overlap / len(text), element))
    if candidates:
        top = max((overlap, purity) for overlap, purity, _ in candidates)
        tied = [element for overlap, purity, element in candidates if (overlap, purity) == top]
        element = max(tied, key=lambda el: (followed_by_time(el, index), element_rank(el)))
        return element, collapse(element.text_content())
    titles = reference_titles(root, metas)
    return None, strip_site_name(titles[0]) if titles else None


def followed_by_time(element: HtmlElement, index: TextIndex) -> bool:
    """Tell whether a printed date follows the element closely, as a byline follows a headline."""
    span = index.span(element)
    return (
        span is not None
        and DATETIME_RE.search(index.text, span[1], span[1] + BYLINE_CHARS) is not None
    )
