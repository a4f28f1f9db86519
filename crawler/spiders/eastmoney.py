"""``scrapy crawl eastmoney``: East Money's column news API, then each new article's page.

Arguments (each defaults to its ``NEWS_EASTMONEY_*`` setting): ``columns`` (``345,350``),
``pages`` (listing pages per column at most), ``page_size``, ``since`` (``6h``, ``2d``,
``2022-05-20``). A column's walk (keyed ``column:<id>``) stops at the first page with nothing
new to storage (once past the frontier of an unfinished previous walk), at an entry older than
``since``, at the last page (``page_index*page_size >= totle_hits``) or at
``pages``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from crawler.options import option
from crawler.sources.eastmoney import FEEDS, NEWS_COLUMNS, ListingParser, column_api_url
from crawler.spiders.eastmoney_common import SCOPE, EastMoneySpider, positive_int

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Iterator

    import scrapy
    from scrapy.crawler import Crawler
    from scrapy.http import Response

    from crawler.items import Article
    from crawler.sources.listing import ListingEntry

MAX_PAGE_SIZE = 100


class EastMoneyColumnSpider(EastMoneySpider):
    """Column news (``getNewsByColumns``) and the article pages it lists."""

    name = "eastmoney"
    columns: list[int]
    pages: int
    page_size: int
    parser: ListingParser

    def __init__(
        self,
        *args: Any,
        columns: str | None = None,
        pages: str | int | None = None,
        page_size: str | int | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.columns_arg = columns
        self.pages_arg = pages
        self.page_size_arg = page_size

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> EastMoneyColumnSpider:
        spider = super().from_crawler(crawler, *args, **kwargs)
        settings = crawler.settings
        columns = spider.columns_arg or option(settings, "NEWS_EASTMONEY_COLUMNS")
        spider.columns = (
            [positive_int("columns", c) for c in str(columns).split(",") if c.strip()]
            if columns
            else list(NEWS_COLUMNS)
        )
        spider.pages = spider.option(spider.pages_arg, "NEWS_EASTMONEY_PAGES")
        spider.page_size = spider.option(
            spider.page_size_arg, "NEWS_EASTMONEY_PAGE_SIZE", MAX_PAGE_SIZE
        )
        spider.parser = ListingParser(
            FEEDS["column"], spider.endpoint("NEWS_EASTMONEY_ARTICLE_URL")
        )
        return spider

    async def start(self) -> AsyncIterator[scrapy.Request]:
        if self.follower is None:  # a follower sends its polls itself
            for request in self.poll_requests().values():
                yield request

    def poll_requests(self) -> dict[str, scrapy.Request]:
        """Return the first page of every column, by walk key."""
        return {f"column:{column}": self.listing(column, 1) for column in self.columns}

    def listing(self, column: int, page_index: int) -> scrapy.Request:
        """Return the request of one column page."""
        url = column_api_url(
            self.endpoint("NEWS_EASTMONEY_COLUMN_API"), column, page_index, self.page_size
        )
        return self.request(url, self.parse_listing, "column", column=column, page_index=page_index)

    def parse_listing(
        self, response: Response, column: int, page_index: int
    ) -> Iterator[scrapy.Request]:
        """Request the page's new articles, then the next page unless the walk is over.

        @fixture eastmoney/column_345_page1.json
        @cb_kwargs {"column": 345, "page_index": 1}
        @returns requests 1 1
        """
        listing = self.read_listing(response, self.parser)
        if listing is None:
            return
        triage = self.triage(SCOPE, listing, response.url)
        feed = f"column:{column}"
        last = page_index * self.page_size >= (listing.total or 0)
        end = "last_page" if last else None
        reason = self.step(SCOPE, feed, listing, triage, end, page_index, self.pages, response.url)
        for entry in triage.new:
            yield self.request(entry.url, self.parse_article, "article", entry=entry, feed=feed)
        if reason is None:
            yield self.listing(column, page_index + 1)

    def parse_article(
        self, response: Response, entry: ListingEntry, feed: str
    ) -> Iterator[Article]:
        """Read an article page into an article."""
        page = self.read_page(response)
        if page is not None:
            yield self.article(SCOPE, entry, page, feed)
