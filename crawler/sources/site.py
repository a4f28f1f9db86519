"""Article pages of configured sources read raw: the generic extractor, then the source's selectors.

A selector configured for a field (``title``, ``publish_time``, ``publisher``, ``authors``,
``body``) replaces the extractor's value when it matches something; otherwise the extractor's
value stands. Values stay as printed: the pipelines normalise them.
"""

from __future__ import annotations

import html
import logging
from typing import TYPE_CHECKING

from parsel import Selector

from crawler.extract import decode_body, extract_article
from crawler.items import Article
from crawler.sources.config import select
from crawler.sources.listing import Precedence, Side

if TYPE_CHECKING:
    from collections.abc import Mapping

    from crawler.sources.config import Source

logger = logging.getLogger(__name__)

#: How a listing entry and its page merge: what the page prints wins, the listing (a link's text,
#: a feed item) stands in. The URL is the listing's: a configured site's article id is its URL's,
#: and storage was asked about the listed one, not where a redirect leads.
PRECEDENCE = Precedence(
    url=Side.LISTING,
    title=Side.PAGE,
    published_text=Side.PAGE,
    publisher=Side.PAGE,
    summary=Side.LISTING,
)


def page_headers(
    headers: Mapping[str, str | bytes] | None, source: Source
) -> Mapping[str, str | bytes] | None:
    """Return the headers to decode a page by: the source's encoding hint replaces the server's."""
    if source.encoding:
        return {"Content-Type": f"text/html; charset={source.encoding}"}
    return headers


def read_article_page(
    body: bytes, headers: Mapping[str, str | bytes] | None, url: str, source: Source
) -> Article:
    """Return an article holding the page's raw title, time, publisher, authors and body HTML."""
    headers = page_headers(headers, source)
    extracted = extract_article(body, url=url, headers=headers)
    article = Article(
        url=url,
        title=extracted.title,
        published_text=extracted.publish_time,
        publisher=extracted.publisher,
        authors=list(extracted.authors),
        body_html=extracted.body_html,
    )
    if source.selectors:
        text, _ = decode_body(body, headers)
        apply_selectors(article, Selector(text=text or "<html></html>"), source.selectors)
    return article


def apply_selectors(article: Article, page: Selector, selectors: Mapping[str, str]) -> None:
    """Replace the article's fields by what the configured selectors find on the page."""
    for name, query in selectors.items():
        matches = select(page, query)
        if not matches:
            logger.debug("selector %s=%r matched nothing on %s", name, query, article.url)
            continue
        if name == "body":
            article.body_html = "<div>" + "".join(_html(m) for m in matches) + "</div>"
        elif name == "authors":
            article.authors = [t for m in matches if (t := _text(m))]
        else:
            value = next((t for m in matches if (t := _text(m))), None)
            setattr(article, _ARTICLE_FIELD[name], value or getattr(article, _ARTICLE_FIELD[name]))


#: The article field each selector fills.
_ARTICLE_FIELD: dict[str, str] = {
    "title": "title",
    "publish_time": "published_text",
    "publisher": "publisher",
}


def _text(match: Selector) -> str | None:
    """Return a match's text (an attribute or text node as is, an element's text joined)."""
    if isinstance(match.root, str):
        return match.root.strip() or None
    return " ".join(match.xpath("string()").get("").split()) or None


def _html(match: Selector) -> str:
    """Return a match as HTML (a text match becomes a paragraph)."""
    if isinstance(match.root, str):
        return f"<p>{html.escape(match.root)}</p>" if match.root.strip() else ""
    return match.get()
