"""Listings of configured sources read raw: HTML link lists, RSS and Atom feeds, news sitemaps.

Each reader returns a :class:`~crawler.sources.listing.Listing`: the article links found (with what
the listing says of them: title, time as printed, summary), the next page to walk, the child
sitemaps of a sitemap index, and the entries skipped with a reason. Nothing here fetches or
normalises.
"""

from __future__ import annotations

import logging
import re
import zlib
from typing import TYPE_CHECKING
from urllib.parse import urljoin, urlsplit

from lxml import etree
from parsel import Selector
from w3lib.html import get_base_url

from crawler.sources.config import select
from crawler.sources.listing import Listing, ListingEntry

if TYPE_CHECKING:
    from collections.abc import Iterator

    from crawler.sources.config import Source

logger = logging.getLogger(__name__)

#: The root element of an XML listing and the kind it makes.
ROOT_KINDS: dict[str, str] = {
    "rss": "rss",
    "rdf": "rss",
    "feed": "atom",
    "urlset": "sitemap",
    "sitemapindex": "sitemap",
}
_FIRST_TAG_RE = re.compile(rb"<([A-Za-z][\w.-]*:)?([A-Za-z][\w.-]*)")
_SNIFF_BYTES = 2048
_MAX_XML_BYTES = 50_000_000
_XML_PARSER = etree.XMLParser(
    resolve_entities=False, no_network=True, recover=True, remove_comments=True, huge_tree=False
)


def detect_kind(body: bytes) -> str:
    """Tell a listing's kind by its first element: ``rss``, ``atom``, ``sitemap`` or ``html``."""
    head = _unzip(body)[:_SNIFF_BYTES]
    for match in _FIRST_TAG_RE.finditer(head):
        local = match.group(2).decode("ascii").lower()
        return ROOT_KINDS.get(local, "html")
    return "html"


def read_listing(kind: str, body: bytes, text: str, url: str, source: Source) -> Listing:
    """Read a listing of ``kind`` (``html`` from ``text``, the XML kinds from ``body``)."""
    if kind == "html":
        return read_html_listing(text, url, source)
    listing = read_xml_listing(body, url)
    if listing.kind == "html":
        listing.skipped.append(("not_xml", url))
        return listing
    kept = []
    for entry in listing.entries:
        if source.is_article_url(entry.url):
            kept.append(entry)
        else:
            listing.skipped.append(("off_pattern", entry.url))
    listing.entries = kept
    return listing


def read_html_listing(text: str, url: str, source: Source) -> Listing:
    """Read an HTML listing: links matching the source's article selector and pattern."""
    selector = Selector(text=text or "<html></html>")
    try:
        base = get_base_url(text, url)
    except ValueError:  # a <base href> urljoin cannot read (``http://[x/``)
        base = url
    nodes = select(selector, source.article_links) if source.article_links else selector.css("a")
    listing = Listing("html")
    seen: set[str] = set()
    for node in nodes:
        href, title = _link(node)
        absolute = _absolute(base, href)
        if absolute is None or absolute in seen or not source.is_article_url(absolute):
            continue
        seen.add(absolute)
        listing.entries.append(ListingEntry(absolute, title=title))
    if source.next_page:
        for node in select(selector, source.next_page):
            listing.next_url = _absolute(base, _link(node)[0])
            if listing.next_url:
                break
    return listing


def read_xml_listing(body: bytes, url: str) -> Listing:
    """Read an RSS, Atom or sitemap document (kind from its root); ``html`` when it is none."""
    root = parse_xml(body)
    if root is None:
        return Listing("html")
    kind = ROOT_KINDS.get(_local(root).lower(), "html")
    listing = Listing(kind)
    if kind == "rss":
        for item in _descendants(root, "item"):
            link = _child_text(item, "link") or _permalink_guid(item)
            _add(listing, url, link, item, ("title",), ("pubDate", "date"), ("description",))
    elif kind == "atom":
        for entry in _descendants(root, "entry"):
            _add(listing, url, _atom_link(entry), entry, ("title",), ("published", "updated"),
                 ("summary",))  # fmt: skip
    elif kind == "sitemap":
        for node in _descendants(root, "sitemap"):
            child = _absolute(url, _child_text(node, "loc"))
            if child:
                listing.sitemaps.append(child)
        for node in _descendants(root, "url"):
            news = next(_descendants(node, "news"), None)
            details = news if news is not None else node
            _add(listing, url, _child_text(node, "loc"), details, ("title",),
                 ("publication_date",), ())  # fmt: skip
    return listing


def parse_xml(body: bytes) -> etree._Element | None:
    """Parse XML safely (no entities, no network); ``None`` when it holds no element."""
    data = _unzip(body)
    if not data.strip():
        return None
    try:
        return etree.fromstring(data, parser=_XML_PARSER)
    except etree.XMLSyntaxError:
        return None


def _add(
    listing: Listing,
    base: str,
    link: str | None,
    node: etree._Element,
    titles: tuple[str, ...],
    times: tuple[str, ...],
    summaries: tuple[str, ...],
) -> None:
    """Append an entry from a feed item, or record it as skipped when it has no usable link."""
    url = _absolute(base, link)
    if url is None:
        listing.skipped.append(("no_link", _child_text(node, *titles) or base))
        return
    listing.entries.append(
        ListingEntry(
            url,
            title=_child_text(node, *titles),
            published_text=_child_text(node, *times),
            summary=_child_text(node, *summaries) if summaries else None,
        )
    )


def _link(node: Selector) -> tuple[str | None, str | None]:
    """Return the href and text of a selected link (or of the first link inside it)."""
    if isinstance(node.root, str):
        return node.root, None
    anchors = [node] if node.xpath("@href") else node.css("a[href]")[:1]
    if not anchors:
        return None, None
    first = anchors[0]
    text = " ".join(first.xpath("string()").get("").split())
    return first.xpath("@href").get(), text or None


def _absolute(base: str, href: str | None) -> str | None:
    """Return ``href`` resolved against ``base`` when it is an http(s) URL, else ``None``."""
    if not href or not href.strip():
        return None
    try:
        url = urljoin(base, href.strip())
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises on a port out of range or not a number
    except ValueError:  # Invalid IPv6 URL, Port out of range
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    return url.partition("#")[0]


def _local(node: etree._Element) -> str:
    """Return an element's tag without its namespace."""
    return etree.QName(node).localname if isinstance(node.tag, str) else ""


def _descendants(node: etree._Element, local: str) -> Iterator[etree._Element]:
    """Yield the descendants of ``node`` named ``local`` in any namespace."""
    return (e for e in node.iter() if e is not node and _local(e) == local)


def _child_text(node: etree._Element, *locals_: str) -> str | None:
    """Return the stripped text of the first child named one of ``locals_``, else ``None``."""
    for local in locals_:
        for child in node:
            if _local(child) == local:
                text = "".join(str(t) for t in child.itertext()).strip()
                if text:
                    return text
    return None


def _permalink_guid(item: etree._Element) -> str | None:
    """Return an RSS item's ``guid`` when it is a permalink."""
    for child in item:
        if _local(child) == "guid" and child.get("isPermaLink", "true").lower() == "true":
            return (child.text or "").strip() or None
    return None


def _atom_link(entry: etree._Element) -> str | None:
    """Return an Atom entry's ``alternate`` link."""
    for child in entry:
        if _local(child) == "link" and child.get("rel", "alternate") == "alternate":
            return child.get("href")
    return None


def _unzip(body: bytes) -> bytes:
    """Return ``body`` gunzipped when it is gzip data (a ``sitemap.xml.gz``), else as is."""
    if not body.startswith(b"\x1f\x8b"):
        return body
    try:
        decompressor = zlib.decompressobj(16 + zlib.MAX_WBITS)
        return decompressor.decompress(body, _MAX_XML_BYTES)
    except zlib.error:
        return b""
