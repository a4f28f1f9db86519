"""``scrapy crawl eastmoney_stock``: East Money's news listing of each security of a watchlist,
then each new story's page, every story tagged with that security (``via: listing``).

Arguments (each defaults to its ``NEWS_EASTMONEY_*`` setting): ``securities``
(``1.600519,0.000001``), ``watchlist`` (a file of secids, one a line, ``#`` comments), both
together if given; ``pages`` (listing pages per security at most), ``page_size`` (≤ 200),
``since``. A malformed secid stops the crawl before it starts. Each security's walk (keyed
``stock:<secid>``) stops at the first page with nothing new to storage (once past the frontier
of an unfinished previous walk), at an entry older than ``since``, at a page shorter than
``page_size`` or at ``pages``.

A listed story already stored, or requested this run for another security, is not fetched
again: when the crawl closes its stored story takes the tag (``securities/tagged``; with storage
off or down, ``securities/untagged``). The listing's shape is known only from other projects'
code: a page whose records lack its fields fails as ``bad/shape``.
"""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from crawler.options import option
from crawler.sources.eastmoney import FEEDS, ListingParser, stock_news_url
from crawler.sources.eastmoney.listing import EastMoneyEntry
from crawler.sources.eastmoney.securities import VIA_LISTING, Security, parse_secid
from crawler.spiders.eastmoney_common import SCOPE, EastMoneySpider
from crawler.store.writer import add_security

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Iterable, Iterator

    import scrapy
    from scrapy.crawler import Crawler
    from scrapy.http import Response

    from crawler.items import Article

logger = logging.getLogger(__name__)

MAX_PAGE_SIZE = 200


def read_watchlist(text: str) -> list[str]:
    """Return the secids of a watchlist file: one a line, blank lines and ``#`` comments
    skipped, anything after the secid on its line ignored (a name, for the reader)."""
    secids = []
    for line in text.splitlines():
        words = line.partition("#")[0].split()
        if words:
            secids.append(words[0])
    return secids


def watchlist(values: Iterable[str]) -> list[Security]:
    """Return the securities of ``values`` in order, each once; raise ``ValueError`` naming the
    malformed ones."""
    found: dict[str, Security] = {}
    malformed = []
    for value in values:
        security = parse_secid(value)
        if security is None:
            malformed.append(value)
        else:
            found.setdefault(security.secid, security)
    if malformed:
        raise ValueError(f"malformed secids {malformed}: expected <market>.<code>, as 1.600519")
    return list(found.values())


class EastMoneyStockSpider(EastMoneySpider):
    """News per security (``getListInfo``) and the article pages it lists."""

    name = "eastmoney_stock"
    #: A watchlist's listings often hold nothing new between runs, and an empty watchlist (as
    #: under ``crawlall`` when none is configured) is no failure: no items is a healthy run.
    expects_items = False
    securities: dict[str, Security]
    pages: int
    page_size: int
    parser: ListingParser

    def __init__(
        self,
        *args: Any,
        securities: str | None = None,
        watchlist: str | None = None,
        pages: str | int | None = None,
        page_size: str | int | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.securities_arg = securities
        self.watchlist_arg = watchlist
        self.pages_arg = pages
        self.page_size_arg = page_size

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> EastMoneyStockSpider:
        spider = super().from_crawler(crawler, *args, **kwargs)
        settings = crawler.settings
        listed = spider.securities_arg or option(settings, "NEWS_EASTMONEY_SECURITIES")
        values = [v.strip() for v in str(listed or "").split(",") if v.strip()]
        path = spider.watchlist_arg or option(settings, "NEWS_EASTMONEY_WATCHLIST")
        if path:
            values += read_watchlist(Path(path).read_text("utf-8"))
        spider.securities = {security.secid: security for security in watchlist(values)}
        if not spider.securities:
            logger.warning("eastmoney_stock: no securities given (-a securities=1.600519,…)")
        spider.pages = spider.option(spider.pages_arg, "NEWS_EASTMONEY_STOCK_PAGES")
        spider.page_size = spider.option(
            spider.page_size_arg, "NEWS_EASTMONEY_STOCK_PAGE_SIZE", MAX_PAGE_SIZE
        )
        spider.parser = ListingParser(FEEDS["stock"], spider.endpoint("NEWS_EASTMONEY_ARTICLE_URL"))
        return spider

    async def start(self) -> AsyncIterator[scrapy.Request]:
        for secid in self.securities:
            yield self.listing(secid, 1)

    def listing(self, secid: str, page_index: int) -> scrapy.Request:
        """Return the request of one page of a security's news."""
        url = stock_news_url(
            self.endpoint("NEWS_EASTMONEY_STOCK_API"), secid, page_index, self.page_size
        )
        return self.request(url, self.parse_listing, "stock", secid=secid, page_index=page_index)

    def security(self, secid: str) -> Security:
        """Return the watchlist's security of ``secid`` (a contract's comes from its argument)."""
        security = self.securities.get(secid) or parse_secid(secid)
        if security is None:
            raise ValueError(f"malformed secid {secid!r}")
        return security

    def parse_listing(
        self, response: Response, secid: str, page_index: int
    ) -> Iterator[scrapy.Request]:
        """Request the page's new stories, tagged with the security; note the others for
        tagging at close; then the next page unless the walk is over.

        @fixture eastmoney/stock_1.600519_page1.jsonp
        @cb_kwargs {"secid": "1.600519", "page_index": 1}
        @returns requests 2 2
        """
        listing = self.read_listing(response, self.parser)
        if listing is None:
            return
        triage = self.triage(SCOPE, listing, response.url)
        feed = f"stock:{secid}"
        records = len(listing.entries) + len(listing.skipped)
        end = "last_page" if records < self.page_size else None
        reason = self.step(SCOPE, feed, listing, triage, end, page_index, self.pages, response.url)
        tag = (self.security(secid).tagged(VIA_LISTING),)
        self.note_unfetched(secid, listing.entries, triage.new)
        for entry in triage.new:
            assert isinstance(entry, EastMoneyEntry)  # what East Money's parser makes
            tagged = dataclasses.replace(entry, securities=tag)
            yield self.request(entry.url, self.parse_article, "article", entry=tagged, feed=feed)
        if reason is None:
            yield self.listing(secid, page_index + 1)

    def parse_article(
        self, response: Response, entry: EastMoneyEntry, feed: str
    ) -> Iterator[Article]:
        """Read an article page into an article."""
        page = self.read_page(response)
        if page is not None:
            yield self.article(SCOPE, entry, page, feed)

    def closed(self, reason: str) -> None:
        """Tag the stored stories the listings named but this run did not fetch for them; then
        close as every walk does (after the item pipelines: this run's stories are stored)."""
        self.tag_unfetched("securities", self.add_listed)
        super().closed(reason)

    def add_listed(self, collection: Any, ids: list[str], secid: str) -> int:
        """Add security ``secid`` (``via: listing``) to the stored stories ``ids``."""
        return add_security(collection, ids, self.security(secid).tagged(VIA_LISTING))
