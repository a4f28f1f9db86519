"""``scrapy extract PATH_OR_URL…``: run the generic extractor and print one JSON object per page.

How an operator checks a new site before declaring it as a source. Pages are fetched through
Scrapy (files as ``file://`` URLs), read by the generic extractor, normalised by the same stages
as any crawl (without validation and storage: a page that would be dropped is still shown), and
printed in the order given. A page that cannot be read (a network error, larger than
``DOWNLOAD_MAXSIZE``) is named on stderr with the reason, and the command exits 1.
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from scrapy import Request, Spider, signals
from scrapy.commands import ScrapyCommand
from scrapy.exceptions import UsageError
from w3lib.url import is_url

from crawler.extract import extract_from_response
from crawler.items import Article
from crawler.normalize.dates import in_source_zone
from crawler.options import NORMALIZE_STAGES, item_pipelines

if TYPE_CHECKING:
    from argparse import Namespace
    from collections.abc import AsyncIterator

    from scrapy.http import Response
    from twisted.python.failure import Failure

# The stages an extracted page goes through: the normalising ones, without validation.
EXTRACT_PIPELINES = item_pipelines(NORMALIZE_STAGES)


def page_record(article: Article, label: dict[str, str]) -> dict[str, Any]:
    """Return the JSON object printed for one page."""
    published = (
        in_source_zone(article.published_at, article.published_tz).isoformat()
        if article.published_at
        else None
    )
    return {
        **label,
        "title": article.title,
        "publish_time": published,
        "source": article.publisher,
        "authors": article.authors,
        "body_text": article.body_text,
        "lang": article.lang,
    }


def target_url(argument: str) -> str:
    """Return the URL to fetch for a command-line argument (a URL or a file path)."""
    if is_url(argument):
        return argument
    path = Path(argument)
    if not path.is_file():
        raise UsageError(f"no such file: {argument}")
    return path.resolve().as_uri()


class ExtractSpider(Spider):
    """Fetch the given targets and hand each page to the generic extractor."""

    name = "extract"
    custom_settings = {"ROBOTSTXT_OBEY": False, "HTTPERROR_ALLOW_ALL": True}

    def __init__(self, targets: list[str], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.targets = targets
        #: Why each unread target (by index) could not be read.
        self.failures: dict[int, str] = {}

    async def start(self) -> AsyncIterator[Request]:
        for index, argument in enumerate(self.targets):
            yield Request(
                target_url(argument),
                meta={"news_index": index},
                dont_filter=True,
                errback=self.failed,
            )

    def failed(self, failure: Failure) -> None:
        """Remember why a target could not be read."""
        request = failure.request  # type: ignore[attr-defined]
        reason = str(failure.value) or type(failure.value).__name__
        self.failures[request.meta["news_index"]] = reason

    def parse(self, response: Response, **kwargs: Any) -> Any:
        extracted = extract_from_response(response)  # type: ignore[arg-type]
        url = None if response.url.startswith("file:") else response.url
        yield Article(
            url=url or response.url,
            source="extract",
            fetched_at=datetime.now(UTC),
            title=extracted.title,
            published_text=extracted.publish_time,
            publisher=extracted.publisher,
            authors=list(extracted.authors),
            body_html=extracted.body_html,
            feed=str(response.meta["news_index"]),
        )


class Command(ScrapyCommand):
    requires_project = True

    def syntax(self) -> str:
        return "PATH_OR_URL [PATH_OR_URL …]"

    def short_desc(self) -> str:
        return "Extract articles with the generic extractor; print one JSON object per page"

    def run(self, args: list[str], opts: Namespace) -> None:
        if not args:
            raise UsageError("give at least one file or URL")
        for argument in args:
            target_url(argument)
        assert self.settings is not None
        assert self.crawler_process is not None
        self.settings.set("ITEM_PIPELINES", EXTRACT_PIPELINES, priority="cmdline")
        records: dict[int, dict[str, Any]] = {}

        def collect(item: Article, response: Response) -> None:
            index = int(item.feed or 0)
            argument = args[index]
            label = {"url": argument} if is_url(argument) else {"file": Path(argument).name}
            records[index] = page_record(item, label)

        crawler = self.crawler_process.create_crawler(ExtractSpider)
        crawler.signals.connect(collect, signal=signals.item_scraped)
        self.crawler_process.crawl(crawler, targets=args)
        self.crawler_process.start()
        for index in sorted(records):
            sys.stdout.write(json.dumps(records[index], ensure_ascii=False) + "\n")
        assert isinstance(crawler.spider, ExtractSpider)
        for index, reason in sorted(crawler.spider.failures.items()):
            sys.stderr.write(f"extract: {args[index]}: {reason}\n")
        missing = len(args) - len(records)
        if missing:
            sys.stderr.write(f"extract: {missing} of {len(args)} pages could not be read\n")
            self.exitcode = 1
