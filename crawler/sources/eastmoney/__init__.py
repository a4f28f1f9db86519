"""East Money (东方财富): URL builders, the list APIs' JSON and the article pages, read raw.

Everything known about the site is in ``../shared/sources.md`` §1–3; this module turns it into
tables (:data:`FEEDS`, :data:`NEWS_COLUMNS`, :data:`DEFAULT_URLS`) and small readers. Parsers
read, pipelines normalise: every string returned here is as the feed or page printed it (titles
may hold ``<em>``, times are China time without a zone, bodies keep East Money's noise, which
``pipelines/body.py`` removes).
"""

from __future__ import annotations

import codecs
import html
import json
import re
import reprlib
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import urlencode, urlsplit

from lxml import etree

from crawler.extract.encoding import decode_body
from crawler.items import Article

if TYPE_CHECKING:
    from scrapy.http import Response

SOURCE = "eastmoney"

#: Column ids of the news columns (sources.md §2); the default column list of the spider.
NEWS_COLUMNS: dict[int, str] = {
    344: "财经导读",
    345: "要闻精华",
    350: "国内经济",
    351: "国际经济",
    353: "证券聚焦",
    355: "产经新闻",
    1207: "财经早餐",
    408: "板块聚焦",
}

#: Endpoints, overridable by the ``NEWS_EASTMONEY_*`` / ``NEWS_FINEWS_*`` settings named as keys.
DEFAULT_URLS: dict[str, str] = {
    "NEWS_EASTMONEY_COLUMN_API": "https://np-listapi.eastmoney.com/comm/web/getNewsByColumns",
    "NEWS_EASTMONEY_FAST_API": "https://np-weblist.eastmoney.com/comm/web/getFastNewsList",
    "NEWS_EASTMONEY_ARTICLE_URL": "https://finance.eastmoney.com/a/{code}.html",
    "NEWS_FINEWS_ROLLING_URL": "http://183.136.162.242/web/webapi?type=102&count=100&newsid=1",
    "NEWS_FINEWS_MEDIA_URL": "http://183.136.162.242/web/webapi?type=45&count=100&newsid=1",
    "NEWS_FINEWS_MARKET_URL": (
        "http://43.240.125.15:1818/information/newmarket/web/webapi"
        "?marketType={market_type}&count=100"
    ),
    "NEWS_FINEWS_BODY_URL": "http://choicewzp1.eastmoney.com/NewsData/GetNewsText.do?id={info_code}",
}

#: What the site's own pages send: a desktop browser, and a Referer on the site.
BROWSER_USER_AGENT = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0.0.0 Safari/537.36"
)
REFERERS: dict[str, str] = {
    "column": "https://finance.eastmoney.com/",
    "724": "https://kuaixun.eastmoney.com/",
    "article": "https://finance.eastmoney.com/",
}

#: Where the site sends a request that needs an account: a redirect there is a bad response.
LOGIN_URL_RE = re.compile(r"passport\d*\.eastmoney\.com|/login", re.IGNORECASE)

COLUMN_FIELDS = "code,showTime,title,mediaName,summary,image,url,uniqueUrl,Np_dst"
#: ``Np_dst`` of 财富号 posts: another host and another kind of page, not news articles.
CFH_MARKER = "CFH"

# infoCode ``NW<code>``, the bare code, ``/a/<code>.html`` and ``/news/<column>,<code>.html``.
_CODE_RE = re.compile(r"(?:NW)?(\d{18})")
_URL_CODE_RE = re.compile(r"/(?:a/|news/\d+,)(\d{18})\.html?$")
_JSONP_RE = re.compile(r"^\s*[\w$.]+\s*\((.*)\)\s*;?\s*$", re.DOTALL)
_TITLE_PREFIX_RE = re.compile(r"^\s*【[^】]*】\s*")
_TRUNCATED_RE = re.compile(r"(?:…|\.\.\.)\s*$")
_SPACES_RE = re.compile(r"\s+")
_CLASS_SPLIT_RE = re.compile(r"[ \t\r\n]+")


class FeedError(ValueError):
    """A response that holds no usable data; ``reason`` is the stats key (``not_json``…)."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


def native_id(value: object) -> str | None:
    """Return the 18-digit article code of a code, an ``NW`` infoCode or any article URL.

    ``None`` when ``value`` holds none, an unparsable URL (``http://[x/…``) included.
    """
    if value is None:
        return None
    text = str(value).strip()
    match = _CODE_RE.fullmatch(text)
    if match:
        return match.group(1)
    if "://" not in text:
        return None
    try:
        path = urlsplit(text).path
    except ValueError:  # Invalid IPv6 URL and the like
        return None
    match = _URL_CODE_RE.search(path)
    return match.group(1) if match else None


def info_code(code: str) -> str:
    """Return the ``NW``-prefixed infoCode of an article code."""
    return f"NW{code}"


def req_trace() -> str:
    """Return the millisecond timestamp the list APIs expect as ``req_trace``."""
    return str(int(time.time() * 1000))


def column_api_url(base: str, column: int, page_index: int, page_size: int) -> str:
    """Return the ``getNewsByColumns`` URL of one column page."""
    query = {
        "client": "web",
        "biz": "web_news_col",
        "column": column,
        "order": 1,
        "needInteractData": 0,
        "page_index": page_index,
        "page_size": page_size,
        "req_trace": req_trace(),
        "fields": COLUMN_FIELDS,
        "types": "1,20",
    }
    return f"{base}?{urlencode(query, safe=',')}"


def fast_news_url(base: str, sort_end: str, page_size: int) -> str:
    """Return the ``getFastNewsList`` URL of the page that ends before cursor ``sort_end``."""
    query = {
        "client": "web",
        "biz": "web_724",
        "fastColumn": 102,
        "sortEnd": sort_end,
        "pageSize": page_size,
        "req_trace": req_trace(),
    }
    return f"{base}?{urlencode(query)}"


def load_payload(text: str, *, check_code: bool = True) -> Any:
    """Decode a list API body (JSON or JSONP); raise :class:`FeedError` when it holds no data."""
    stripped = text.strip()
    if not stripped:
        raise FeedError("empty")
    if stripped.startswith("<"):
        raise FeedError("html", stripped[:80])
    match = _JSONP_RE.match(stripped)
    if match and not stripped.startswith(("{", "[")):
        stripped = match.group(1)
    try:
        payload = json.loads(stripped)
    except ValueError as exc:
        raise FeedError("not_json", str(exc)) from None
    except RecursionError:
        raise FeedError("not_json", "nested too deeply") from None
    if check_code:
        code = payload.get("code") if isinstance(payload, dict) else None
        if str(code) != "1":
            message = payload.get("message") if isinstance(payload, dict) else None
            raise FeedError("api_error", f"code={code!r} message={message!r}")
    return payload


def _dig(payload: Any, path: tuple[str, ...]) -> Any:
    """Return ``payload[path[0]][path[1]]…``, or ``None`` where the path breaks."""
    for key in path:
        if not isinstance(payload, dict):
            return None
        payload = payload.get(key)
    return payload


def _raw(value: Any) -> str | None:
    """Return a feed value as a string (numbers too), ``None`` when absent or blank."""
    if value is None:
        return None
    text = str(value)
    return text if text.strip() else None


@dataclass(frozen=True, slots=True)
class FeedEntry:
    """One record of a listing: what the feed says about an article, raw."""

    native_id: str
    url: str
    title: str
    published_text: str
    summary: str | None = None
    publisher: str | None = None
    cursor: str | None = None


@dataclass(slots=True)
class ListingPage:
    """A listing response read: its entries, paging facts, and records it had to skip."""

    entries: list[FeedEntry] = field(default_factory=list)
    total: int | None = None
    skipped: list[tuple[str, str]] = field(default_factory=list)

    @property
    def cursor(self) -> str | None:
        """The last cursor of the page (7×24: pass it as ``sortEnd`` for the next page)."""
        return next((e.cursor for e in reversed(self.entries) if e.cursor), None)


@dataclass(frozen=True, slots=True)
class FeedShape:
    """Where a list API keeps its records and their fields (sources.md §1–2)."""

    records: tuple[str, ...]
    code: tuple[str, ...]
    title: str
    time: str
    summary: str | None = None
    publisher: str | None = None
    url: str | None = None
    cursor: str | None = None
    total: tuple[str, ...] | None = None
    skip_field: tuple[str, str] | None = None
    check_code: bool = True


#: Every list feed, by the ``feed`` value its articles carry (``column:<id>`` uses ``column``).
FEEDS: dict[str, FeedShape] = {
    "column": FeedShape(
        records=("data", "list"),
        code=("code",),
        title="title",
        time="showTime",
        summary="summary",
        publisher="mediaName",
        url="url",
        total=("data", "totle_hits"),
        skip_field=("Np_dst", CFH_MARKER),
    ),
    "724": FeedShape(
        records=("data", "fastNewsList"),
        code=("code",),
        title="title",
        time="showTime",
        summary="summary",
        cursor="realSort",
    ),
    "rolling": FeedShape(
        records=("records",),
        code=("infoCode", "id"),
        title="title",
        time="showtime",
        summary="digest",
        url="url_w",
        check_code=False,
    ),
    "media": FeedShape(
        records=("nodeList",),
        code=("infocode",),
        title="title",
        time="showtime",
        summary="simdigest",
        publisher="from",
        check_code=False,
    ),
    "market": FeedShape(
        records=("record",),
        code=("infoCode",),
        title="title",
        time="datetime",
        publisher="medianame",
        check_code=False,
    ),
}


class ListingParser:
    """Read one list API response of a :class:`FeedShape` into :class:`FeedEntry` records."""

    def __init__(self, shape: FeedShape, article_url: str) -> None:
        self.shape = shape
        self.article_url = article_url

    def parse(self, text: str) -> ListingPage:
        """Return the page's entries; raise :class:`FeedError` for a response without data."""
        payload = load_payload(text, check_code=self.shape.check_code)
        records = _dig(payload, self.shape.records)
        if not isinstance(records, list):
            raise FeedError("api_error", f"no list at {'.'.join(self.shape.records)}")
        page = ListingPage(total=self.total(payload))
        for record in records:
            try:
                entry, reason = self.entry(record)
            except (ValueError, TypeError, OverflowError, RecursionError):
                # One malformed record never costs the page its good ones.
                entry, reason = None, "incomplete"
            if entry is None:
                page.skipped.append((reason, self.describe(record)))
            else:
                page.entries.append(entry)
        return page

    def total(self, payload: Any) -> int | None:
        """Return the number of hits the API reports (``totle_hits``, sic), if it does."""
        if self.shape.total is None:
            return None
        value = _dig(payload, self.shape.total)
        try:
            return int(value)
        except (TypeError, ValueError, OverflowError):  # NaN is a ValueError, Infinity overflows
            return None

    def entry(self, record: Any) -> tuple[FeedEntry | None, str]:
        """Return the entry of one record, or ``None`` and the reason it is skipped."""
        if not isinstance(record, dict):
            return None, "incomplete"
        shape = self.shape
        if shape.skip_field and record.get(shape.skip_field[0]) == shape.skip_field[1]:
            return None, "cfh"
        code = next((c for key in shape.code if (c := native_id(record.get(key)))), None)
        title = _raw(record.get(shape.title))
        published = _raw(record.get(shape.time))
        if code is None or title is None or published is None:
            return None, "incomplete"
        return (
            FeedEntry(
                native_id=code,
                url=self.url(record, code),
                title=title,
                published_text=published,
                summary=_raw(record.get(shape.summary)) if shape.summary else None,
                publisher=_raw(record.get(shape.publisher)) if shape.publisher else None,
                cursor=_raw(record.get(shape.cursor)) if shape.cursor else None,
            ),
            "",
        )

    def url(self, record: dict[str, Any], code: str) -> str:
        """Return the record's article URL when it names this article, else the built one."""
        given = _raw(record.get(self.shape.url)) if self.shape.url else None
        if given and native_id(given) == code:
            return given.strip()
        return self.article_url.format(code=code)

    def describe(self, record: Any) -> str:
        """Return a short description of a skipped record for the log."""
        if not isinstance(record, dict):
            return reprlib.repr(record)
        codes = [_short(record.get(key)) for key in self.shape.code if record.get(key)]
        return f"code={'/'.join(codes) or '?'} title={reprlib.repr(record.get(self.shape.title))}"


def _short(value: Any) -> str:
    """Return a feed value for the log: a string or number as is (cut), anything else abridged."""
    if isinstance(value, str | int | float):
        return str(value)[:40]
    return reprlib.repr(value)


def flash_text(entry: FeedEntry) -> str:
    """Return a flash's text without its leading ``【title】`` (the list repeats the title)."""
    return _TITLE_PREFIX_RE.sub("", entry.summary or "", count=1).strip()


def flash_needs_page(entry: FeedEntry) -> bool:
    """Tell whether a flash's list item cannot stand alone: no text past its title, or cut."""
    text = flash_text(entry)
    return not text or bool(_TRUNCATED_RE.search(text))


def flash_article(entry: FeedEntry) -> Article:
    """Return the article a 7×24 flash makes by itself: its title and its text as the body."""
    text = flash_text(entry) or (entry.summary or "").strip()
    return Article(
        title=entry.title,
        published_text=entry.published_text,
        body_html=f"<p>{html.escape(text, quote=False)}</p>" if text else None,
    )


def news_text_body(text: str) -> str:
    """Return the body HTML of a ``GetNewsText.do`` response (key ``content`` or ``text``)."""
    payload = load_payload(text, check_code=False)
    if isinstance(payload, dict):
        for key in ("content", "text"):
            body = _raw(payload.get(key))
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
