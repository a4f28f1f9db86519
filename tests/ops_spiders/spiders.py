"""Test spiders crawling a local mock server (``OPS_BASE_URL``): a listing, then its articles."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import scrapy

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Iterator

    from scrapy.http import Response


class OpsPagesSpider(scrapy.Spider):
    """Follow every link of ``/list.html`` and yield one article per page."""

    name = "ops_pages"

    async def start(self) -> AsyncIterator[Any]:
        yield scrapy.Request(self.settings.get("OPS_BASE_URL") + "/list.html")

    def parse(self, response: Response) -> Iterator[scrapy.Request]:
        yield from response.follow_all(css="a", callback=self.parse_article)

    def parse_article(self, response: Response) -> Iterator[dict[str, Any]]:
        yield {
            "url": response.url,
            "source": self.name,
            "title": response.css("h1::text").get(),
            "published_at": response.css("time::text").get(),
            "body_text": response.css("div.body::text").get(),
            "publisher": response.css("p.publisher::text").get(),
        }


class OpsEmptySpider(OpsPagesSpider):
    """Crawl a listing that links to nothing: a run that finds no article."""

    name = "ops_empty"

    async def start(self) -> AsyncIterator[Any]:
        yield scrapy.Request(self.settings.get("OPS_BASE_URL") + "/empty.html")


class OpsBrokenSpider(OpsPagesSpider):
    """A spider whose ``from_crawler`` raises: its crawler never opens."""

    name = "ops_broken"

    @classmethod
    def from_crawler(cls, crawler: Any, *args: Any, **kwargs: Any) -> OpsBrokenSpider:
        raise ValueError("OPS_BASE_URL is not a URL")
