"""Body stage: raw article HTML becomes sanitised ``body_html`` and plain ``body_text``.

Two passes. lxml first removes what an allow-list cannot recognise (hidden elements,
boilerplate (:data:`crawler.vocabulary.BOILERPLATE`), and what a source's :class:`BodyRules`
name: its furniture, promotions, marked blocks), unwraps
what those rules keep as text, turns text-holding ``div``s into paragraphs and makes URLs absolute.
nh3 (the Rust ammonia sanitiser) then enforces the allow-list of tags, attributes and URL schemes,
so no script, handler or ``javascript:`` URL can survive. This module knows no source: the stage
chooses the rules (:mod:`crawler.sources.rules`).
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urljoin

import lxml.etree
import lxml.html
import nh3

from crawler.normalize.text import scrub
from crawler.vocabulary import (
    BODY_DROP_TAGS,
    BOILERPLATE_BLOCK,
    BOILERPLATE_WORDS,
    EDGE_BOILERPLATE,
    STATEMENT_LABEL_ONLY,
    is_hidden_junk,
)

if TYPE_CHECKING:
    from lxml.html import HtmlElement

ALLOWED_TAGS: frozenset[str] = frozenset(
    {
        "p", "br", "strong", "em", "b", "i", "a", "img", "ul", "ol", "li",
        "table", "thead", "tbody", "tfoot", "tr", "th", "td", "caption",
        "h2", "h3", "h4", "blockquote",
    }
)  # fmt: skip
ALLOWED_ATTRIBUTES: dict[str, set[str]] = {
    "a": {"href"},
    "img": {"src", "alt"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan"},
}
_NO_ATTRIBUTES: frozenset[str] = frozenset()
URL_SCHEMES: frozenset[str] = frozenset({"http", "https", "mailto"})
# Built once: nh3.clean() would convert the allow-lists to Rust sets on every call.
_SANITISER = nh3.Cleaner(
    tags=set(ALLOWED_TAGS),
    attributes=ALLOWED_ATTRIBUTES,
    url_schemes=set(URL_SCHEMES),
    link_rel=None,
    strip_comments=True,
)

# Tells, from an element's tag and attributes, whether a rule applies to it.
ElementTest = Callable[[str, Mapping[str, str]], bool]


@dataclass(frozen=True)
class BodyRules:
    """What a source adds to the generic cleaning of its bodies (none by default).

    ``drop``: elements removed with their content (furniture, ad slots); ``unwrap``: elements
    replaced by their content (links kept as text); ``promotion``: short blocks removed wherever
    they stand; ``marked_blocks``: (start, end) texts of the comments around removed runs.
    """

    drop: ElementTest | None = None
    unwrap: ElementTest | None = None
    promotion: re.Pattern[str] | None = None
    marked_blocks: tuple[tuple[str, str], ...] = ()


NO_RULES = BodyRules()

NOISE_MAX_CHARS = 200
DISCLAIMER_BLOCKS_AT_START = 2
DISCLAIMER_BLOCKS_AT_END = 3

_BLOCK_CONTAINERS = frozenset(
    {"div", "section", "article", "center", "header", "footer", "figure", "figcaption", "main",
     "aside", "pre", "address", "dd", "dt", "dl", "h1", "h5", "h6"}
)  # fmt: skip
_BLOCK_TAGS = frozenset(
    {"p", "li", "ul", "ol", "table", "tr", "td", "th", "thead", "tbody", "tfoot", "caption",
     "h2", "h3", "h4", "blockquote"} | _BLOCK_CONTAINERS
)  # fmt: skip
_HEADING_MAP = {"h1": "h2", "h5": "h4", "h6": "h4"}
_INDENT = " \t\r\n\u3000\xa0"
_LINE_SPACE = re.compile(r"[ \t\r\u3000\xa0]+")
_LINE_BREAKING_TAGS = _BLOCK_TAGS | {"br"}
# A tag of serialised HTML; attribute values may hold ">" inside their quotes.
_MARKUP_TAG = re.compile(r"""</?([A-Za-z][A-Za-z0-9]*)(?:[^>"']|"[^"]*"|'[^']*')*>""")
_COMMENT = re.compile(r"<!--.*?-->", re.S)
_EMPTY_PARAGRAPH = re.compile(r"<(p|h[234])>(?:\s|<br>|&nbsp;|\u3000)*</\1>")
# The indentation (U+3000, &nbsp;, spaces) that opens a Chinese paragraph, read in the final HTML:
# only there is it known what a block's text starts with (an empty <span> before it is gone).
_OPENING_INDENT = re.compile(r"(<(?:p|h[234]|li|blockquote|td|th)>)(?:\s|&nbsp;|\u3000)+")
# Blank text left loose at the body's start or end (an &nbsp; after the last paragraph).
_BLANK_EDGES = re.compile(r"^(?:\s|&nbsp;|\u3000)+|(?:\s|&nbsp;|\u3000)+$")
# Legacy tags whose content HTML parsers read as raw text, swallowing the markup after them.
_RAW_TEXT_TAG = re.compile(r"<(/?)(?:xmp|plaintext|listing)\b", re.I)
# Numeric references to characters no text may hold (``&#1;``): removed before parsing.
_CONTROL_REFERENCE = re.compile(r"&#(?:[xX]([0-9a-fA-F]+)|([0-9]+));?")
# More significant digits than the largest code point (U+10FFFF, 1114111) has.
_MAX_REFERENCE_DIGITS = 7
_LAZY_SRC = ("data-src", "data-original", "data-actualsrc", "data-lazy-src")
_FRAGMENT_PARSER = lxml.html.HTMLParser(remove_comments=False, remove_pis=True, encoding=None)
# What lxml.html takes for a whole document rather than a fragment to wrap in <html><body>.
_FULL_HTML = re.compile(r"^\s*<(?:html|!doctype)", re.IGNORECASE)


def _keep_storable(match: re.Match[str]) -> str:
    """Return a numeric character reference unless it names an unstorable character."""
    hex_digits, decimal = match.groups()
    digits = (hex_digits or decimal).lstrip("0") or "0"
    if len(digits) > _MAX_REFERENCE_DIGITS:  # no such character (and int() would refuse)
        return ""
    code = int(digits, 16) if hex_digits else int(digits)
    if code > 0x10FFFF or scrub(chr(code)) == "":
        return ""
    return match.group(0)


def _parse_fragment(raw_html: str) -> HtmlElement:
    """Parse an HTML fragment into a ``div`` root, comments kept (East Money marks blocks so).

    What ``lxml.html.fragment_fromstring(create_parent="div")`` returns, built in place: the
    parsed ``body`` is renamed, where lxml moves its content into a new tree node by node.
    """
    if not _FULL_HTML.match(raw_html):
        raw_html = f"<html><body>{raw_html}</body></html>"
    document = lxml.html.document_fromstring(raw_html, parser=_FRAGMENT_PARSER)
    bodies = document.findall("body")
    if not bodies:  # a whole document without a body holds no fragment
        return lxml.html.Element("div")
    root = bodies[0]
    for extra in bodies[1:]:  # a stray "</body><body>": libxml2 opens a second body
        _append_content(root, extra)
    root.tag = "div"
    if root.text is not None and not root.text.strip():
        root.text = None  # leading white space is dropped, as lxml does
    return root


def _append_content(target: HtmlElement, source: HtmlElement) -> None:
    """Move ``source``'s text and children to the end of ``target``; remove ``source``."""
    if source.text:
        if len(target):
            target[-1].tail = (target[-1].tail or "") + source.text
        else:
            target.text = (target.text or "") + source.text
    target.extend(list(source))
    source.getparent().remove(source)


def _sort_out(root: HtmlElement, rules: BodyRules) -> tuple[list[HtmlElement], list[HtmlElement]]:
    """Return the elements to remove and the elements to unwrap, in one walk of the tree.

    Only elements with attributes are looked at further.
    """
    # Comments go now, not in the final sanitiser: text after one would stay loose, unwrapped.
    dropped = list(root.iter(lxml.etree.Comment, lxml.etree.ProcessingInstruction))
    unwrapped = []
    drop, unwrap = rules.drop, rules.unwrap
    for element in root.iter(lxml.etree.Element):
        tag = element.tag
        if tag in BODY_DROP_TAGS:
            dropped.append(element)
            continue
        attributes = element.attrib
        if not attributes:
            continue
        if is_hidden_junk(element) or (drop is not None and drop(tag, attributes)):
            dropped.append(element)
        elif unwrap is not None and unwrap(tag, attributes):
            unwrapped.append(element)
    return dropped, unwrapped


def _remove(element: HtmlElement) -> None:
    """Remove ``element`` and its content, keeping the text that follows it."""
    parent = element.getparent()
    if parent is not None:
        element.drop_tree()


def _remove_marked_blocks(root: HtmlElement, markers: tuple[tuple[str, str], ...]) -> None:
    """Remove the siblings between a comment holding a start marker and the next holding its end
    marker (``<!-- EM_StockImg_Start -->`` … ``<!-- EM_StockImg_End -->``)."""
    for comment in list(root.iter(lxml.etree.Comment)):
        text = comment.text or ""
        for start, end in markers:
            if start in text:
                _remove_siblings_until(comment, end)


def _remove_siblings_until(comment: lxml.etree._Comment, end: str) -> None:
    """Remove the siblings after ``comment`` up to a comment holding ``end`` (or the last)."""
    sibling = comment.getnext()
    while sibling is not None:
        following = sibling.getnext()
        if isinstance(sibling, lxml.etree._Comment) and end in (sibling.text or ""):
            return
        _remove(sibling)
        sibling = following


def _leaf_blocks(root: HtmlElement) -> list[HtmlElement]:
    """Return the blocks holding no other block, in document order."""
    return [
        element
        for element in root.iter(*_BLOCK_TAGS)
        if element is not root and not any(c.tag in _BLOCK_TAGS for c in element.iterchildren())
    ]


def _remove_noise_blocks(root: HtmlElement, promotion_text: re.Pattern[str] | None) -> None:
    """Remove short blocks of promotion or boilerplate: the kinds removed anywhere wherever they
    stand, the others among the first or last blocks holding text (:data:`BOILERPLATE`).

    A block is also cut where boilerplate fills its lines from a ``<br>`` on
    (``正文。<br>郑重声明：…``), and a statement's label standing alone takes the block after it
    (the statement) along.
    """
    whole = root.text_content()
    # The promotion pattern, when a promotion stands somewhere in the body.
    promotion = promotion_text if promotion_text and promotion_text.search(whole) else None
    if promotion is None and not any(word in whole for word in BOILERPLATE_WORDS):
        return
    blocks = [
        (block, text)
        for block in _leaf_blocks(root)
        if (text := block.text_content().strip(_INDENT))
    ]
    last_start = len(blocks) - DISCLAIMER_BLOCKS_AT_END
    after_label = False
    for index, (block, text) in enumerate(blocks):
        at_edge = index < DISCLAIMER_BLOCKS_AT_START or index >= last_start
        label = STATEMENT_LABEL_ONLY.match(text) is not None
        if len(text) <= NOISE_MAX_CHARS and (
            after_label
            or label
            or _is_boilerplate(text, at_edge)
            or (promotion is not None and promotion.search(text))
        ):
            _remove(block)
        elif block.find("br") is not None:
            _cut_boilerplate_lines(block, at_edge)
        after_label = label


def _is_boilerplate(text: str, at_edge: bool) -> bool:
    """Tell whether a block's text is boilerplate where it stands."""
    # Every kind is anchored at the block's start.
    return (EDGE_BOILERPLATE if at_edge else BOILERPLATE_BLOCK).match(text) is not None


def _cut_boilerplate_lines(block: HtmlElement, at_edge: bool) -> None:
    """Remove a block's last lines from the first ``<br>`` after which they are boilerplate.

    The lines are read backwards, and only as far as a noise block may reach.
    """
    rest = ""
    cut: HtmlElement | None = None
    for child in block.iterchildren(reversed=True):
        tail = child.tail or ""
        if child.tag == "br":
            text = (tail + rest).strip(_INDENT)
            if text and _is_boilerplate(text, at_edge):
                cut = child
            rest = "\n" + tail + rest
        else:
            rest = (child.text_content() if isinstance(child.tag, str) else "") + tail + rest
        if len(rest) > NOISE_MAX_CHARS:
            break
    if cut is not None:
        for sibling in list(cut.itersiblings()):
            block.remove(sibling)
        block.remove(cut)


def _normalise_blocks(root: HtmlElement) -> None:
    """Map headings into h2–h4 and turn text-holding containers into paragraphs."""
    # An inline element around blocks (a span holding paragraphs) is unwrapped: in a paragraph
    # of its own, its blocks would end that paragraph when the HTML is read again.
    wrappers = [
        element
        for element in root.iter(lxml.etree.Element)
        if element.tag not in _BLOCK_TAGS
        and next(element.iterdescendants(*_BLOCK_TAGS), None) is not None
    ]
    for element in wrappers:
        element.drop_tag()
    for element in root.iter(*_BLOCK_CONTAINERS):
        if element is root:
            continue
        if element.tag in _HEADING_MAP:
            element.tag = _HEADING_MAP[element.tag]
        elif not any(child.tag in _BLOCK_TAGS for child in element.iterchildren()):
            element.tag = "p"
    # A heading holds text only: a block inside one (a div in an h1) is unwrapped, since an HTML
    # parser reading the body again closes the heading before it.
    for heading in list(root.iter("h2", "h3", "h4")):
        for inner in list(heading.iterdescendants(*_BLOCK_TAGS)):
            inner.drop_tag()


def _is_loose(node: HtmlElement) -> bool:
    """Tell whether a top-level node is inline content outside any block."""
    return isinstance(node.tag, str) and node.tag not in _BLOCK_TAGS


def _wrap_all_loose_content(root: HtmlElement) -> None:
    """Wrap loose content of the root and of every container that holds blocks.

    The root is a ``div`` (:func:`_parse_fragment`), so it is the first container found.
    """
    for container in list(root.iter(*_BLOCK_CONTAINERS)):
        _wrap_loose_content(container)


def _wrap_loose_content(root: HtmlElement) -> None:
    """Gather a container's own text and inline elements into paragraphs; a newline ends one.

    Plain-text bodies (the original system's early posts) and text between blocks end up in
    ``<p>`` elements like everything else.
    """
    children = list(root)
    if not (root.text or "").strip() and not any(
        _is_loose(child) or (child.tail or "").strip() for child in children
    ):
        return
    leading, root.text = root.text or "", None
    for child in children:
        root.remove(child)
    paragraph: HtmlElement | None = None

    def add_text(text: str) -> None:
        nonlocal paragraph
        for index, line in enumerate(text.split("\n")):
            if index:
                paragraph = None
            if not line.strip():
                continue
            if paragraph is None:
                paragraph = lxml.etree.SubElement(root, "p")
            if len(paragraph):
                paragraph[-1].tail = (paragraph[-1].tail or "") + line
            else:
                paragraph.text = (paragraph.text or "") + line

    add_text(leading)
    for child in children:
        tail, child.tail = child.tail or "", None
        if _is_loose(child):
            if paragraph is None:
                paragraph = lxml.etree.SubElement(root, "p")
            paragraph.append(child)
        else:
            paragraph = None
            root.append(child)
        add_text(tail)


def _clean_attributes(
    element: HtmlElement, tag: str, names: list[str], base_url: str | None
) -> None:
    """Keep allow-listed attributes only; make URLs absolute; promote lazy image sources.

    ``names`` are the element's attribute names. nh3 would keep its own generic attributes
    (``title``, ``lang``); this allow-list is ours.
    """
    if tag == "img":
        lazy = next((element.get(name) for name in _LAZY_SRC if element.get(name)), None)
        if lazy:
            element.set("src", lazy)
            names = element.keys()
    allowed = ALLOWED_ATTRIBUTES.get(tag, _NO_ATTRIBUTES)
    for name in names:
        if name not in allowed:
            del element.attrib[name]
        elif base_url and name in ("href", "src"):
            element.set(name, urljoin(base_url, element.get(name, "").strip()))


def _tidy_elements(root: HtmlElement, base_url: str | None) -> None:
    """Clean every element's attributes, in one walk (lxml builds the tag's string on every read:
    it is read once)."""
    for element in root.iter(lxml.etree.Element):
        tag = element.tag
        names = element.keys()  # the attribute names, without building the attrib proxy
        if names:
            _clean_attributes(element, tag, names, base_url)


def sanitize_body(
    raw_html: str | None, base_url: str | None = None, rules: BodyRules = NO_RULES
) -> str:
    """Return the article body as sanitised HTML ("" when nothing is left).

    ``rules`` are the source's additions to the generic cleaning (:class:`BodyRules`).
    """
    if not raw_html or not raw_html.strip():
        return ""
    raw_html = _RAW_TEXT_TAG.sub(r"<\1pre", _CONTROL_REFERENCE.sub(_keep_storable, scrub(raw_html)))
    try:
        root = _parse_fragment(raw_html)
    except (lxml.etree.ParserError, ValueError):
        return ""
    if rules.marked_blocks:
        _remove_marked_blocks(root, rules.marked_blocks)
    dropped, unwrapped = _sort_out(root, rules)
    for element in dropped:
        _remove(element)
    for element in unwrapped:
        element.drop_tag()
    _normalise_blocks(root)
    _wrap_all_loose_content(root)
    _remove_noise_blocks(root, rules.promotion)
    _tidy_elements(root, base_url)
    inner = (root.text or "") + "".join(
        lxml.html.tostring(child, encoding="unicode") for child in root
    )
    cleaned = _OPENING_INDENT.sub(r"\1", _SANITISER.clean(inner))
    return _BLANK_EDGES.sub("", _EMPTY_PARAGRAPH.sub("", cleaned))


def html_to_text(body_html: str | None) -> str:
    """Return the plain text of sanitised body HTML, one paragraph per line.

    Sanitised HTML is a serialiser's output (text ``<`` is always ``&lt;``), so its tags are
    found by a pattern, without parsing it again. Splitting on the pattern gives text and tag
    names in turn: a block or ``br`` tag becomes a newline, any other tag nothing.
    """
    if not body_html:
        return ""
    parts = _MARKUP_TAG.split(_COMMENT.sub("", body_html))
    breaks = ["\n" if name.lower() in _LINE_BREAKING_TAGS else "" for name in parts[1::2]]
    breaks.append("")
    text = html.unescape("".join(map(str.__add__, parts[0::2], breaks)))
    lines = _LINE_SPACE.sub(" ", text).split("\n")
    return "\n".join(line for line in (raw.strip() for raw in lines) if line)
