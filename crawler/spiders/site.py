"""``scrapy crawl site -a source=<name>``: any news site declared in the sources file.

Arguments: ``source`` (an entry of ``NEWS_SOURCES_FILE``, or several separated by commas; without
it every enabled entry), ``date`` (``2015-03-02``: the day that
fills ``{date:…}`` placeholders in start URLs; default today in ``NEWS_DEFAULT_TIMEZONE``).
Listings (HTML, RSS, Atom, sitemaps) are read by :mod:`crawler.sources.feeds`, article pages by
:mod:`crawler.sources.site`. Storage is asked once per listing page which links it lacks; an HTML
listing's walk stops at a page with nothing new, at its last page or at the source's
``max_pages``. Each source's requests share one download slot (named after it) with the
source's ``download_delay`` and ``concurrency``. Stats live under ``news/site/<source>/``:
``listing/<kind>``, ``skipped/<reason>``, ``bad/<reason>``, ``stop/<reason>``, ``articles/<kind>``.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any, Self
from zoneinfo import ZoneInfo

import scrapy
from scrapy.spidermiddlewares.httperror import HttpError

from crawler.extract import decode_body
from crawler.incremental import KnownArticles
from crawler.normalize.identity import article_id, canonicalize
from crawler.sources.config import SourcesError, load_sources, sources_file
from crawler.sources.feeds import ListingEntry, detect_kind, read_listing
from crawler.sources.site import page_headers, read_article_page

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Mapping

    from scrapy.crawler import Crawler
    from scrapy.http import Response
    from twisted.python.failure import Failure

    from crawler.items import Article
    from crawler.sources.config import Source
    from crawler.sources.feeds import Listing

logger = logging.getLogger(__name__)

STATS_PREFIX = "news/site"


class SiteSpider(scrapy.Spider):
    """Crawl configured sources: their listings, then each article storage does not have yet."""

    name = "site"
    sources: dict[str, Source]
    day: date
    known: KnownArticles

    def __init__(
        self, *args: Any, source: str | None = None, date: str | None = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.source_arg = source
        self.date_arg = date
        self.requested: set[str] = set()

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> Self:
        spider = super().from_crawler(crawler, *args, **kwargs)
        spider.sources = choose_sources(crawler, spider.source_arg)
        zone = ZoneInfo(crawler.settings.get("NEWS_DEFAULT_TIMEZONE", "Asia/Shanghai"))
        spider.day = crawl_day(spider.date_arg, datetime.now(zone).date())
        slots = download_slots(spider.sources.values(), crawler.settings.getdict("DOWNLOAD_SLOTS"))
        crawler.settings.set("DOWNLOAD_SLOTS", slots, priority="spider")
        spider.known = KnownArticles.from_crawler(crawler)
        return spider

    def closed(self, reason: str) -> None:
        """Release the storage lookup."""
        self.known.close()

    async def start(self) -> AsyncIterator[scrapy.Request]:
        for source in self.sources.values():
            for start in source.start_urls:
                issue = self.day.isoformat() if start.dated else None
                yield self.listing(source, start.expand(self.day), start.kind, 1, issue)

    def request(
        self, source: Source, url: str, callback: Callable[..., Any], **cb_kwargs: Any
    ) -> scrapy.Request:
        """Return a request of ``source`` in its download slot."""
        return scrapy.Request(
            url,
            callback,
            errback=self.failed,
            meta={"download_slot": slot_name(source), "news_source": source.name},
            cb_kwargs={"source": source.name, **cb_kwargs},
        )

    def listing(
        self, source: Source, url: str, kind: str, page: int, issue: str | None = None
    ) -> scrapy.Request:
        """Return the request of one listing page (``issue``: the date of a dated start URL)."""
        return self.request(source, url, self.parse_listing, kind=kind, page=page, issue=issue)

    def parse_listing(
        self, response: Response, source: str, kind: str, page: int, issue: str | None
    ) -> Iterator[scrapy.Request]:
        """Request the listing's new articles, its child sitemaps, then its next page.

        Entries of a dated listing (an e-paper issue) take the issue's date as their time.
        """
        config = self.sources[source]
        if kind == "auto":
            kind = detect_kind(response.body)
        text = ""
        if kind == "html":
            text, _ = decode_body(response.body, page_headers(response.headers, config))
        listing = read_listing(kind, response.body, text, response.url, config)
        self.count(config, f"listing/{listing.kind}", response.url)
        for skip, detail in listing.skipped:
            self.count(config, f"skipped/{skip}", response.url, detail)
        for child in listing.sitemaps:
            yield self.listing(config, child, "sitemap", 1, issue)
        new, anything_new = self.triage(config, listing)
        for entry in new:
            if issue and not entry.published_text:
                entry = replace(entry, published_text=issue)
            yield self.request(
                config, entry.url, self.parse_article, entry=entry, feed=listing.kind
            )
        reason = self.stop_reason(config, listing, anything_new, page)
        if reason:
            self.count(config, f"stop/{reason}", response.url, level=logging.INFO)
        elif listing.next_url:
            yield self.listing(config, listing.next_url, kind, page + 1, issue)

    def triage(self, source: Source, listing: Listing) -> tuple[list[ListingEntry], bool]:
        """Return the entries to request and whether storage lacks any (asked once per page).

        An entry this run already requested is not requested again, but still counts as new:
        the walk goes on while storage lacks something.
        """
        ids = [article_id(source.name, None, canonicalize(e.url)) for e in listing.entries]
        unknown = self.known.unknown([i for i in ids if i])
        new: list[ListingEntry] = []
        anything_new = False
        for entry, identity in zip(listing.entries, ids, strict=True):
            if identity not in unknown:
                self.count(source, "skipped/known", entry.url)
                continue
            anything_new = True
            if entry.url in self.requested:
                self.count(source, "skipped/duplicate", entry.url)
                continue
            self.requested.add(entry.url)
            new.append(entry)
        return new, anything_new

    @staticmethod
    def stop_reason(source: Source, listing: Listing, anything_new: bool, page: int) -> str | None:
        """Return why a listing walk ends here, or ``None`` to follow its next page."""
        if not listing.entries and not listing.sitemaps:
            return "empty"
        if listing.entries and not anything_new:
            return "nothing_new"
        if not listing.next_url:
            return "last_page"
        if page >= source.max_pages:
            return "max_pages"
        return None

    def parse_article(
        self, response: Response, source: str, entry: ListingEntry, feed: str
    ) -> Iterator[Article]:
        """Read an article page; the listing's title and time stand in where the page has none.

        The article keeps the listing's URL (not a redirect's) so its id is the one storage
        was asked about.
        """
        config = self.sources[source]
        if not response.body.strip():
            self.count(config, "bad/empty", response.url, level=logging.WARNING)
            return
        article = read_article_page(response.body, response.headers, entry.url, config)
        article.source = config.name
        article.feed = feed
        article.fetched_at = datetime.now(UTC)
        article.title = article.title or entry.title
        article.published_text = article.published_text or entry.published_text
        article.publisher = article.publisher or config.publisher
        article.summary = entry.summary
        self.count(config, f"articles/{feed}", response.url)
        yield article

    def failed(self, failure: Failure) -> None:
        """Count and log a request that got no usable response (HTTP error, network)."""
        request = failure.request  # type: ignore[attr-defined]
        source = self.sources[request.meta["news_source"]]
        if failure.check(HttpError):
            status = failure.value.response.status
            self.count(source, f"bad/http_{status}", request.url, level=logging.WARNING)
        else:
            detail = repr(failure.value)
            self.count(source, "bad/network", request.url, detail, level=logging.WARNING)

    def count(
        self, source: Source, key: str, url: str, detail: str = "", level: int = logging.DEBUG
    ) -> None:
        """Count ``news/site/<source>/<key>`` and log it with the URL concerned."""
        self.crawler.stats.inc_value(f"{STATS_PREFIX}/{source.name}/{key}")
        logger.log(level, "%s %s: %s %s", source.name, key, url, detail)


def choose_sources(crawler: Crawler, names: str | None) -> dict[str, Source]:
    """Return the sources named (comma-separated), else every enabled one; raise ``ValueError``."""
    path = sources_file(crawler.settings)
    try:
        registry = load_sources(path)
    except SourcesError as exc:
        raise ValueError(str(exc)) from exc
    known = ", ".join(sorted(registry)) or "none"
    if not names:
        chosen = {name: s for name, s in registry.items() if s.enabled}
        if not chosen:
            raise ValueError(f"no enabled source in {path}; use -a source=<name>, one of {known}")
        return chosen
    chosen = {}
    for name in (n.strip() for n in names.split(",") if n.strip()):
        if name not in registry:
            raise ValueError(f"unknown source {name!r}: use one of {known} (from {path})")
        if not registry[name].enabled:
            logger.warning("source %s is disabled in %s; crawling it as asked", name, path)
        chosen[name] = registry[name]
    return chosen


def slot_name(source: Source) -> str:
    """Return the download slot shared by a source's requests."""
    return f"site:{source.name}"


def download_slots(
    sources: Iterable[Source], configured: Mapping[str, Any]
) -> dict[str, dict[str, Any]]:
    """Return ``DOWNLOAD_SLOTS`` with a slot per source; a slot configured in settings wins."""
    slots: dict[str, dict[str, Any]] = {
        slot_name(s): {"delay": s.download_delay, "concurrency": s.concurrency} for s in sources
    }
    slots.update(configured)
    return slots


def crawl_day(text: str | None, today: date) -> date:
    """Return the day of the ``date`` argument (``YYYY-MM-DD``), else ``today``."""
    if not text:
        return today
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"date={text!r}: expected YYYY-MM-DD") from None
