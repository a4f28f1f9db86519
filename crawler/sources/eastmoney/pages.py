"""East Money's article bodies read raw: the article page in its current and old layouts, and
the ``GetNewsText`` body the original system's feeds point to.

Bodies keep East Money's noise (furniture, promotions, stock images): the body stage removes it
later, with East Money's own cleaning rules.
"""

from __future__ import annotations

import codecs
import html
import re
from typing import TYPE_CHECKING, Any, ClassVar

from lxml import etree

from crawler.extract.encoding import decode_body
from crawler.items import Article
from crawler.sources.eastmoney.payload import FeedError, load_payload, raw_value

if TYPE_CHECKING:
    from scrapy.http import Response

_SPACES_RE = re.compile(r"\s+")
_CLASS_SPLIT_RE = re.compile(r"[ \t\r\n]+")


def news_text_body(text: str) -> str:
    """Return the body HTML of a ``GetNewsText.do`` response (key ``content`` or ``text``)."""
    payload = load_payload(text, check_code=False)
    if isinstance(payload, dict):
        for key in ("content", "text"):
            body = raw_value(payload.get(key))
            if body:
                return body
    raise FeedError("no_body", "no content/text in GetNewsText response")


# --- article pages ----------------------------------------------------------------------------


def _string(element: etree._Element) -> str:
    """Return an element's string value (its text and its descendants', as XPath's ``.``)."""
    return etree.tostring(element, method="text", encoding="unicode", with_tail=False)


def _text(element: etree._Element | None) -> str | None:
    """Return an element's text with whitespace runs collapsed, ``None`` when blank."""
    if element is None:
        return None
    return _SPACES_RE.sub(" ", _string(element)).strip() or None


def _html(element: etree._Element) -> str:
    """Return an element's HTML as on the page (its tail excluded)."""
    return etree.tostring(element, method="html", encoding="unicode", with_tail=False)


def _found(xpath: etree.XPath, root: etree._Element) -> list[Any]:
    """Return what a node-set ``xpath`` finds (elements, text or attribute strings)."""
    found = xpath(root)
    return found if isinstance(found, list) else []


def _first(xpath: etree.XPath, root: etree._Element) -> etree._Element | None:
    """Return the first node ``xpath`` finds, or ``None``."""
    found = _found(xpath, root)
    return found[0] if found else None


def _class(name: str) -> str:
    """Return an XPath predicate matching elements that carry CSS class ``name``."""
    # The plain contains() first: cheap, and false for almost every element of a page.
    return (
        f"(contains(@class, '{name}')"
        f" and contains(concat(' ', normalize-space(@class), ' '), ' {name} '))"
    )


def _tokens(node: etree._Element) -> list[str]:
    """Return an element's CSS classes (split as XPath's ``normalize-space`` would)."""
    return _CLASS_SPLIT_RE.split((node.get("class") or "").strip(" \t\r\n"))


class EastMoneyArticlePage:
    """The current article layout (≈2020 on, UTF-8): ``div.title``, ``div.infos``, txtinfos.

    Every node a field is read from is found by one XPath call and sorted out in Python: the
    page holds a handful of them, and each XPath call costs more than the walk itself.
    """

    layout: ClassVar[str] = "current"
    landmarks = etree.XPath(
        "//div[@id='ContentBody'"
        f" or {_class('title')} or {_class('infos')} or {_class('sublab')}]"
        " | //title"
        f" | //p[starts-with(normalize-space(.), '（责任编辑') or {_class('res-edit')}]"
    )
    info_items = etree.XPath(f".//div[{_class('item')}]")

    def read(self, root: etree._Element) -> Article | None:
        """Return the page's raw fields, ``None`` when the page is in another layout; raise
        :class:`FeedError` when it is in this one but holds no article."""
        marker = False
        body = title = head_title = original_title = None
        infos: list[etree._Element] = []
        editors: list[etree._Element] = []
        for node in _found(self.landmarks, root):
            if node.tag == "title":
                head_title = head_title if head_title is not None else node
                continue
            if node.tag == "p":
                editors.append(node)
                continue
            tokens = _tokens(node)
            if node.get("id") == "ContentBody":
                marker = marker or "txtinfos" in tokens
                body = body if body is not None else node
            if "infos" in tokens:
                marker = True
                infos.append(node)
            if "title" in tokens and title is None:
                title = node
            if "sublab" in tokens and original_title is None and "原标题" in _string(node):
                original_title = node
        if not marker:
            return None
        if body is None:
            raise FeedError("not_article", "no div#ContentBody")
        # The info line is the first div.infos holding items: time first, then source, author.
        items = next((found for info in infos if (found := _found(self.info_items, info))), [])
        texts = [_text(item) for item in items]
        return Article(
            title=_text(title) or _text(head_title),
            published_text=texts[0] if texts else None,
            publisher=next((text for text in texts if text and "来源" in text), None),
            authors=[text for text in texts if text and "作者" in text],
            original_title=_text(original_title),
            body_html=_html(body),
            editor=_text(editors[-1]) if editors else None,
        )


class EastMoneyArticlePageOld:
    """The old layout (≈2012–2020, GBK): ``div.newsContent``, ``div.time``, ``div.source``."""

    layout: ClassVar[str] = "old"
    marker = etree.XPath(f"//div[{_class('newsContent')}]")
    # Its paths are absolute: they find the same nodes from the info block or from the root.
    title_node = etree.XPath(f"//div[{_class('newsContent')}]//h1")
    head_title = etree.XPath("//title")
    time_node = etree.XPath(f"//div[{_class('newsContent')}]//div[{_class('time')}]")
    source_attr = etree.XPath(f"//div[{_class('source')} and {_class('data-source')}]/@data-source")
    source_node = etree.XPath(f"//div[{_class('newsContent')}]//div[{_class('source')}]")
    author_nodes = etree.XPath(f"//div[{_class('newsContent')}]//div[{_class('author')}]")
    original_title_node = etree.XPath(f"//div[{_class('sublab')}][contains(., '原标题')]")
    body_node = etree.XPath("//div[@id='ContentBody']")
    # The body ends where the page's comments block begins.
    body_parts = etree.XPath(
        "//div[@id='ContentBody']/node()[not(self::div[@id='comBodyEnd'])]"
        "[not(preceding-sibling::div[@id='comBodyEnd'])]"
    )
    body_open = '<div id="ContentBody" class="Body">'
    editor_nodes = etree.XPath(
        f"//p[starts-with(normalize-space(.), '（责任编辑') or {_class('res-edit')}]"
    )

    def read(self, root: etree._Element) -> Article | None:
        """Return the page's raw fields, ``None`` when the page is in another layout; raise
        :class:`FeedError` when it is in this one but holds no article."""
        if not _found(self.marker, root):
            return None
        body = self.body_html(root)
        if body is None:
            raise FeedError("not_article", "no div#ContentBody")
        editors = _found(self.editor_nodes, root)
        return Article(
            title=_text(_first(self.title_node, root)) or _text(_first(self.head_title, root)),
            published_text=_text(_first(self.time_node, root)),
            publisher=self.publisher(root),
            authors=[text for node in _found(self.author_nodes, root) if (text := _text(node))],
            original_title=_text(_first(self.original_title_node, root)),
            body_html=body,
            editor=_text(editors[-1]) if editors else None,
        )

    def publisher(self, root: etree._Element) -> str | None:
        """The ``data-source`` attribute, else the source line's text."""
        values = _found(self.source_attr, root)
        if values and str(values[0]).strip():
            return str(values[0]).strip()
        return _text(_first(self.source_node, root))

    def body_html(self, root: etree._Element) -> str | None:
        """``div#ContentBody`` up to ``div#comBodyEnd``."""
        if not _found(self.body_node, root):
            return None
        parts = [
            _html(node) if isinstance(node, etree._Element) else html.escape(str(node), quote=False)
            for node in _found(self.body_parts, root)
        ]
        return f"{self.body_open}{''.join(parts)}</div>"


#: Article page layouts, newest first: the first that recognises a page reads it.
ARTICLE_LAYOUTS: tuple[EastMoneyArticlePage | EastMoneyArticlePageOld, ...] = (
    EastMoneyArticlePage(),
    EastMoneyArticlePageOld(),
)


# huge_tree: pages nested deeper than libxml2's default limit (255) are still read in full.
_PAGE_PARSER = etree.HTMLParser(encoding="utf-8", recover=True, huge_tree=True)


def utf8_page(body: bytes, headers: Any) -> bytes:
    """Return a page as UTF-8 bytes without NUL characters, for lxml.

    Bytes that are valid UTF-8 are UTF-8 whatever the page declares (:func:`decode_body`), so
    they are kept as served; anything else is decoded by :func:`decode_body` and re-encoded.
    """
    data = body[len(codecs.BOM_UTF8) :] if body.startswith(codecs.BOM_UTF8) else body
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        text, _ = decode_body(body, headers)
        return text.replace("\x00", "").encode("utf-8")
    return data.replace(b"\x00", b"")


def parse_article_page(response: Response) -> Article:
    """Read an East Money article page in whichever layout it has.

    The page is decoded by its declared charset when the bytes agree, else by detection (old
    pages are GBK; some declare gb2312 and are UTF-8).
    """
    if not response.body.strip():
        raise FeedError("empty")
    # lxml directly: parsel's Selector would cost half as much again for nothing used here.
    root = etree.fromstring(utf8_page(response.body, response.headers), _PAGE_PARSER)
    if root is None:
        raise FeedError("not_article", "no HTML")
    for layout in ARTICLE_LAYOUTS:
        article = layout.read(root)
        if article is not None:
            return article
    raise FeedError("not_article", "no known article layout")
