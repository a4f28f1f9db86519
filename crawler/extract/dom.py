"""The page as an lxml tree: parsing, junk removal and the text views the extractor reads."""

from __future__ import annotations

import logging
from bisect import bisect_right
from dataclasses import dataclass
from typing import cast

from lxml import etree, html
from lxml.html import HtmlElement

from crawler.extract.patterns import (
    BINARY_CONTROL_SHARE,
    BINARY_SNIFF_CHARS,
    CONTROL_CHARS_RE,
    INLINE_TAGS,
    WHITESPACE_RE,
)
from crawler.vocabulary import JUNK_TAGS, is_hidden_junk

logger = logging.getLogger(__name__)

_SCRIPTS = etree.XPath("//script[not(@src)]/text()")
_METAS = etree.XPath("//meta[@content]")
# The elements that may be hidden (the vocabulary's policy decides).
_MAYBE_HIDDEN = etree.XPath("//*[@hidden or @aria-hidden or @style]")


def parse_html(text: str) -> HtmlElement | None:
    """Parse `text` into an lxml tree, or return None when there is nothing to read."""
    if not text or not text.strip() or "<" not in text:
        return None
    head = text[:BINARY_SNIFF_CHARS]
    if len(CONTROL_CHARS_RE.findall(head)) > BINARY_CONTROL_SHARE * len(head):
        logger.debug("binary content, not HTML")
        return None
    try:
        root = html.document_fromstring(text)
    except (etree.ParserError, ValueError) as exc:
        logger.debug("unparseable page: %s", exc)
        return None
    return root if isinstance(root.tag, str) else None


def script_texts(root: HtmlElement) -> str:
    """Return the text of all inline scripts, joined."""
    return "\n".join(cast("list[str]", _SCRIPTS(root)))


def meta_values(root: HtmlElement) -> dict[str, str]:
    """Return <meta> contents by lower-cased name, property or itemprop (first one wins)."""
    values: dict[str, str] = {}
    for meta in cast("list[HtmlElement]", _METAS(root)):
        key = meta.get("name") or meta.get("property") or meta.get("itemprop")
        content = (meta.get("content") or "").strip()
        if key and content:
            values.setdefault(key.strip().lower(), content)
    return values


def remove_junk(root: HtmlElement) -> None:
    """Drop scripts, styles, comments, form controls and hidden junk in place.

    A hidden element holding an article's worth of text stays (:func:`is_hidden_junk`).
    """
    etree.strip_elements(
        root, etree.Comment, etree.ProcessingInstruction, *JUNK_TAGS, with_tail=False
    )
    for element in cast("list[HtmlElement]", _MAYBE_HIDDEN(root)):
        if is_hidden_junk(element):
            element.drop_tree()


def collapse(text: str | None) -> str:
    """Collapse runs of whitespace to one space and strip the ends."""
    return WHITESPACE_RE.sub(" ", text or "").strip()


def squeeze(text: str | None) -> str:
    """Remove all whitespace (for length and similarity measures)."""
    return WHITESPACE_RE.sub("", text or "")


def is_inline(element: HtmlElement) -> bool:
    """Tell whether an element flows inside a paragraph."""
    return isinstance(element.tag, str) and element.tag in INLINE_TAGS


def own_text(element: HtmlElement) -> tuple[str, str]:
    """Return (text, link text) of the paragraph an element holds directly (inline children)."""
    parts = [element.text or ""]
    links: list[str] = []
    for child in element:
        if is_inline(child):
            child_text = child.text_content()
            parts.append(child_text)
            if child.tag == "a":
                links.append(child_text)
            else:
                links.extend(a.text_content() for a in child.iter("a"))
        parts.append(child.tail or "")
    return squeeze("".join(parts)), squeeze("".join(links))


def link_density(element: HtmlElement) -> float:
    """Return the share of an element's text that sits inside links."""
    text = len(squeeze(element.text_content()))
    if not text:
        return 0.0
    linked = sum(len(squeeze(a.text_content())) for a in element.iter("a"))
    return min(1.0, linked / text)


def class_and_id(element: HtmlElement) -> str:
    """Return an element's class and id attributes as one string."""
    return f"{element.get('class', '')} {element.get('id', '')}"


@dataclass(frozen=True)
class TextIndex:
    """The page's visible text in document order, with each element's span in it."""

    text: str
    spans: dict[HtmlElement, tuple[int, int]]
    pieces: list[tuple[int, int]]

    def span(self, element: HtmlElement | None) -> tuple[int, int] | None:
        """Return the (start, end) offsets of an element's text, or None."""
        return self.spans.get(element) if element is not None else None

    def piece_at(self, offset: int) -> tuple[int, int]:
        """Return the (start, end) of the text node that contains `offset`."""
        index = bisect_right(self.pieces, (offset, float("inf"))) - 1
        if index >= 0 and self.pieces[index][0] <= offset < self.pieces[index][1]:
            return self.pieces[index]
        return offset, offset


def build_text_index(root: HtmlElement) -> TextIndex:
    """Walk the tree once and record the text and every element's span."""
    chunks: list[str] = []
    spans: dict[HtmlElement, tuple[int, int]] = {}
    pieces: list[tuple[int, int]] = []
    starts: dict[HtmlElement, int] = {}
    length = 0
    line_break = False

    def add(text: str | None) -> None:
        nonlocal length, line_break
        if text and text.strip():
            piece = collapse(text)
            chunks.append("\n" if line_break else " ")
            chunks.append(piece)
            pieces.append((length + 1, length + 1 + len(piece)))
            length += 1 + len(piece)
            line_break = False

    for event, element in etree.iterwalk(root, events=("start", "end")):
        if not isinstance(element.tag, str):
            continue
        line_break = line_break or not is_inline(element)
        if event == "start":
            starts[element] = length
            add(element.text)
        else:
            spans[element] = (starts.pop(element, length), length)
            add(element.tail)
    return TextIndex("".join(chunks), spans, pieces)


def text_lines(element: HtmlElement) -> list[str]:
    """Return an element's visible text, one line per block or <br>, blank lines dropped."""
    chunks: list[str] = []
    for event, node in etree.iterwalk(element, events=("start", "end")):
        if not isinstance(node.tag, str):
            continue
        block = not is_inline(node) or node.tag == "br"
        if event == "start":
            if block:
                chunks.append("\n")
            chunks.append(node.text or "")
        else:
            if block:
                chunks.append("\n")
            if node is not element:
                chunks.append(node.tail or "")
    lines = (collapse(line) for line in "".join(chunks).split("\n"))
    return [line for line in lines if line]
