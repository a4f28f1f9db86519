"""``scrapy crawl eastmoney_724``: East Money's 7×24 flash list, walked with its cursor.

A flash is an article made from its list item: the title, and the text (the item's ``summary``
without its leading ``【title】``) as the body. Its page adds nothing but chrome, so the page is
fetched only when the item cannot stand alone (no text past the title, or text cut with ``…``);
``NEWS_EASTMONEY_724_FETCH_PAGES`` = ``auto`` (that rule), ``always`` or ``never``.
Arguments: ``columns`` (the topic columns walked, ``102,103``: ``NEWS_EASTMONEY_724_COLUMNS``),
``pages`` (per column), ``page_size`` (≤ 200), ``since``. Each column's walk (keyed ``724`` for
102, every flash; ``724:<column>`` for the others) stops at the first page with nothing new to
storage (once past the frontier of an unfinished previous walk), at a flash older than
``since``, when the cursor does not move back, or at ``pages``.

A flash stores the columns it was listed in (``topics``). A flash already stored, or requested
this run from another column, is not fetched again: when the crawl closes its stored story takes
the column (``topics/tagged``; with storage off or down, ``topics/untagged``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from itemadapter import ItemAdapter
from scrapy import signals

from crawler.options import option
from crawler.sources.eastmoney import (
    ALL_FLASHES,
    FEEDS,
    ListingParser,
    fast_news_url,
    flash_article,
    flash_needs_page,
)
from crawler.spiders.eastmoney_common import SCOPE, EastMoneySpider, positive_int
from crawler.store.writer import add_topic

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Iterator

    import scrapy
    from scrapy.crawler import Crawler
    from scrapy.http import Response
    from twisted.python.failure import Failure

    from crawler.items import Article
    from crawler.sources.listing import ListingEntry

FEED = "724"
MAX_PAGE_SIZE = 200
FETCH_MODES = ("auto", "always", "never")


def cursor_moves_back(cursor: str | None, sort_end: str) -> bool:
    """Tell whether the next page's cursor lies before this one's (older flashes), so the walk
    cannot loop; an absent or non-numeric cursor does not move."""
    if not cursor or not cursor.isdigit():
        return False
    return not sort_end or int(cursor) < int(sort_end)


def walk_key(column: int) -> str:
    """Return the key of a column's walk: ``724`` for every flash, else ``724:<column>``."""
    return FEED if column == ALL_FLASHES else f"{FEED}:{column}"


class EastMoneyFlashSpider(EastMoneySpider):
    """7×24 flashes (``getFastNewsList``), each an article of its own."""

    name = "eastmoney_724"
    columns: list[int]
    pages: int
    page_size: int
    fetch_pages: str
    article_url: str
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
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> EastMoneyFlashSpider:
        spider = super().from_crawler(crawler, *args, **kwargs)
        crawler.signals.connect(spider.passed, signal=signals.item_scraped)
        settings = crawler.settings
        columns = spider.columns_arg or option(settings, "NEWS_EASTMONEY_724_COLUMNS")
        spider.columns = list(
            dict.fromkeys(positive_int("columns", c) for c in str(columns).split(",") if c.strip())
        ) or [ALL_FLASHES]
        spider.pages = spider.option(spider.pages_arg, "NEWS_EASTMONEY_724_PAGES")
        spider.page_size = spider.option(
            spider.page_size_arg, "NEWS_EASTMONEY_724_PAGE_SIZE", MAX_PAGE_SIZE
        )
        spider.fetch_pages = option(settings, "NEWS_EASTMONEY_724_FETCH_PAGES")
        if spider.fetch_pages not in FETCH_MODES:
            raise ValueError(f"NEWS_EASTMONEY_724_FETCH_PAGES must be one of {FETCH_MODES}")
        spider.article_url = spider.endpoint("NEWS_EASTMONEY_ARTICLE_URL")
        spider.parser = ListingParser(FEEDS[FEED], spider.article_url)
        return spider

    async def start(self) -> AsyncIterator[scrapy.Request]:
        if self.follower is None:  # a follower sends its polls itself
            for request in self.poll_requests().values():
                yield request

    def poll_requests(self) -> dict[str, scrapy.Request]:
        """Return the newest page of every column, by walk key."""
        return {walk_key(column): self.listing("", 1, column) for column in self.columns}

    def listing(self, sort_end: str, page_number: int, column: int = ALL_FLASHES) -> scrapy.Request:
        """Return the request of a column's flashes before cursor ``sort_end`` (empty: the
        newest)."""
        base = self.endpoint("NEWS_EASTMONEY_FAST_API")
        url = fast_news_url(base, sort_end, self.page_size, column)
        return self.request(
            url,
            self.parse_listing,
            "724",
            sort_end=sort_end,
            page_number=page_number,
            column=column,
        )

    def wants_page(self, entry: ListingEntry) -> bool:
        """Tell whether a flash's article page is worth a request."""
        if self.fetch_pages == "auto":
            return flash_needs_page(entry)
        return self.fetch_pages == "always"

    def parse_listing(
        self, response: Response, sort_end: str, page_number: int, column: int = ALL_FLASHES
    ) -> Iterator[Article | scrapy.Request]:
        """Turn new flashes into articles (or page requests), then follow the cursor.

        @fixture eastmoney/FIXTURE_em_getFastNewsList_response.json
        @cb_kwargs {"sort_end": "", "page_number": 1}
        @returns items 1 1
        @returns requests 1 1
        @scrapes title published_text body_html url source native_id feed fetched_at
        """
        listing = self.read_listing(response, self.parser)
        if listing is None:
            return
        triage = self.triage(SCOPE, listing, response.url)
        cursor = listing.cursor
        end = None if cursor_moves_back(cursor, sort_end) else "cursor"
        reason = self.step(
            SCOPE, walk_key(column), listing, triage, end, page_number, self.pages, response.url
        )
        self.note_unfetched(column, listing.entries, triage.new)
        for entry in triage.new:
            if self.wants_page(entry):
                request = self.request(
                    entry.url, self.parse_flash_page, "724", entry=entry, column=column
                )
                yield request.replace(errback=self.flash_page_failed)
            else:
                yield self.flash(entry, flash_article(entry), column)
        if reason is None:
            yield self.listing(cursor or "", page_number + 1, column)

    def flash(self, entry: ListingEntry, page: Article, column: int) -> Article:
        """Return the article of a flash listed in topic ``column``."""
        article = self.article(SCOPE, entry, page, FEED)
        article.topics = [column]
        return article

    def parse_flash_page(
        self, response: Response, entry: ListingEntry, column: int = ALL_FLASHES
    ) -> Iterator[Article]:
        """Read a flash's page; when it is bad, the list item still makes the article."""
        page = self.read_page(response)
        if page is None:
            self.count(SCOPE, "flash/page_fallback", response.url)
            page = flash_article(entry)
        yield self.flash(entry, page, column)

    def flash_page_failed(self, failure: Failure) -> Iterator[Article]:
        """Count a flash page that could not be fetched; the list item makes the article."""
        self.failed(failure)
        kwargs = failure.request.cb_kwargs  # type: ignore[attr-defined]
        entry = kwargs["entry"]
        self.count(SCOPE, "flash/page_fallback", entry.url)
        yield self.flash(entry, flash_article(entry), kwargs.get("column", ALL_FLASHES))

    def passed(self, item: Any) -> None:
        """Remember a flash through the pipelines as tagged with its columns: it is stored (or
        spooled) with them, so the next poll, listing it as stored, need not add them (on a
        server without indexes each addition reads the whole collection)."""
        adapter = ItemAdapter(item)
        if (story := adapter.get("id")) and (topics := adapter.get("topics")):
            self.tagged.add((topic, story) for topic in topics)

    def end_walks(self) -> None:
        """End a poll's walks (follow mode), and tag the stored flashes they listed; what is
        left untagged (storage down) a later poll's listing tags."""
        super().end_walks()
        self.tag_unfetched("topics", add_topic)
        self.unfetched.clear()

    def closed(self, reason: str) -> None:
        """Add each column to the stored flashes it listed but this run did not fetch for it;
        then close as every walk does (after the item pipelines: this run's flashes are
        stored)."""
        self.tag_unfetched("topics", add_topic)
        super().closed(reason)
