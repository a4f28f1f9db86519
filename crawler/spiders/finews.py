"""``scrapy crawl finews``: the original finews system's three East Money feeds.

Rolling news (``type=102``), media news (``type=45``) and market news (``marketType`` each of
``NEWS_FINEWS_MARKET_TYPES``), with bodies from ``GetNewsText.do?id=NW<code>``. Feed URLs are the
``NEWS_FINEWS_*_URL`` settings (defaults: the original system's). A record with an empty title,
time or id (the original wrote a broken post for one) is counted as ``skipped/incomplete`` and
logged, never made an article. Argument: ``since``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from crawler.items import Article
from crawler.options import option
from crawler.sources.eastmoney import FEEDS, ListingParser, info_code, news_text_body
from crawler.spiders.eastmoney_common import SCOPE, EastMoneySpider

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Iterator

    import scrapy
    from scrapy.crawler import Crawler
    from scrapy.http import Response

    from crawler.sources.listing import ListingEntry


class FinewsSpider(EastMoneySpider):
    """The original system's feeds: rolling, media and market news with their bodies."""

    name = "finews"
    parsers: dict[str, ListingParser]
    market_types: list[str]

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> FinewsSpider:
        spider = super().from_crawler(crawler, *args, **kwargs)
        article_url = spider.endpoint("NEWS_EASTMONEY_ARTICLE_URL")
        spider.parsers = {
            feed: ListingParser(FEEDS[feed], article_url) for feed in ("rolling", "media", "market")
        }
        types = option(crawler.settings, "NEWS_FINEWS_MARKET_TYPES")
        spider.market_types = [t.strip() for t in str(types).split(",") if t.strip()]
        return spider

    async def start(self) -> AsyncIterator[scrapy.Request]:
        yield self.listing("rolling", self.endpoint("NEWS_FINEWS_ROLLING_URL"))
        yield self.listing("media", self.endpoint("NEWS_FINEWS_MEDIA_URL"))
        market = self.endpoint("NEWS_FINEWS_MARKET_URL")
        for market_type in self.market_types:
            yield self.listing("market", market.format(market_type=market_type))

    def listing(self, feed: str, url: str) -> scrapy.Request:
        """Return the request of one feed."""
        return self.request(url, self.parse_listing, "article", feed=feed)

    def parse_listing(self, response: Response, feed: str) -> Iterator[scrapy.Request]:
        """Request the body of every new record.

        @fixture eastmoney/finews_rolling.json
        @cb_kwargs {"feed": "rolling"}
        @returns requests 1 1
        """
        listing = self.read_listing(response, self.parsers[feed])
        if listing is None:
            return
        body_url = self.endpoint("NEWS_FINEWS_BODY_URL")
        for entry in self.triage(SCOPE, listing, response.url).new:
            assert entry.native_id is not None  # every East Money entry has its code
            url = body_url.format(info_code=info_code(entry.native_id))
            yield self.request(url, self.parse_body, "article", entry=entry, feed=feed)

    def parse_body(self, response: Response, entry: ListingEntry, feed: str) -> Iterator[Article]:
        """Make the article of a record and its ``GetNewsText`` body."""
        body = self.read(response, news_text_body)
        if body is not None:
            yield self.article(SCOPE, entry, Article(body_html=body), feed)
