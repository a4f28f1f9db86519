"""Generic article extraction for any Chinese news page: raw title, time, source, authors, body."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from lxml import etree

from crawler.extract.body import clean_body, find_body
from crawler.extract.byline import find_authors, find_publish_time, find_publisher, header_zone
from crawler.extract.dom import (
    build_text_index,
    meta_values,
    parse_html,
    remove_junk,
    script_texts,
    text_lines,
)
from crawler.extract.encoding import decode_body
from crawler.extract.headline import find_headline

if TYPE_CHECKING:
    from collections.abc import Mapping

    from scrapy.http import TextResponse

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ExtractedArticle:
    """Fields as printed on the page, before normalisation."""

    title: str | None = None
    publish_time: str | None = None
    publisher: str | None = None
    authors: list[str] = field(default_factory=list)
    body_html: str | None = None
    encoding: str = "utf-8"


def extract_article(
    body: bytes,
    *,
    url: str | None = None,
    headers: Mapping[str, str | bytes] | None = None,
    now: datetime | None = None,
) -> ExtractedArticle:
    """Extract an article's raw fields from an HTML page's bytes; never raises on bad input.

    Printed times count when plausible at ``now`` (the fetch time; the clock when not given).
    """
    text, encoding = decode_body(body or b"", headers)
    root = parse_html(text)
    if root is None:
        logger.debug("no HTML to extract from %s", url)
        return ExtractedArticle(encoding=encoding)
    now = now or datetime.now(UTC)
    metas = meta_values(root)
    scripts = script_texts(root)
    remove_junk(root)
    page = root.find("body")
    index = build_text_index(page if page is not None else root)
    headline, title = find_headline(root, metas, index)
    article = find_body(root, index, headline)
    zone = header_zone(index, headline, article)
    publish_time = find_publish_time(index, zone, article, metas, scripts, now)
    authors = find_authors(root, index, zone)
    body_html = None
    lines: list[str] = []
    if article is not None:
        clean_body(article, headline)
        lines = text_lines(article)
        body_html = etree.tostring(article, encoding="unicode", method="html", with_tail=False)
    return ExtractedArticle(
        title=title,
        publish_time=publish_time,
        publisher=find_publisher(root, index, zone, lines, metas, now),
        authors=authors,
        body_html=body_html if lines else None,
        encoding=encoding,
    )


def extract_from_response(response: TextResponse) -> ExtractedArticle:
    """Extract an article from a Scrapy response (its raw bytes and Content-Type header)."""
    content_type = response.headers.get(b"Content-Type")
    headers = {"Content-Type": content_type} if content_type else None
    return extract_article(response.body, url=response.url, headers=headers)
