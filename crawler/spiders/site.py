"""``scrapy crawl site -a source=<name>``: any news site declared in the sources file.

A source with ``sitemaps_from_robots`` also walks every sitemap named by the robots.txt of its
start URLs' sites (Scrapy's ``sitemap_urls_from_robots``). With ``-a follow=10s`` the crawl keeps
polling the start URLs of the chosen sources that declare ``follow = true`` (:mod:`crawler.follow`).

Arguments: ``source`` (an entry of ``NEWS_SOURCES_FILE``, or several separated by commas; without
it every enabled entry), ``date`` (``2015-03-02``: the day that
fills ``{date:…}`` placeholders in start URLs; default today in ``NEWS_DEFAULT_TIMEZONE``).
Listings (HTML, RSS, Atom, sitemaps) are read by :mod:`crawler.sources.feeds`, article pages by
:mod:`crawler.sources.site`. Storage is asked once per listing page which links it lacks; an HTML
listing's walk stops at a page with nothing new (once past the frontier of an unfinished
previous walk: :mod:`crawler.spiders.walk`), at its last page or at the source's ``max_pages``;
a walk is keyed by its source and start URL. Each source's requests share one download slot
(named after it) with the source's ``download_delay`` and ``concurrency``. Stats live under
``news/site/<source>/``: ``listing/<kind>``, ``skipped/<reason>``, ``bad/<reason>``,
``stop/<reason>``, ``articles/<kind>``, ``robots/sitemaps`` (sitemaps a robots.txt named),
``robots/none`` (a robots.txt that named none).
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, Self

import scrapy

from crawler.extract import decode_body
from crawler.sources.config import SourcesError, load_sources, sources_file
from crawler.sources.discovery import robots_sitemaps
from crawler.sources.feeds import detect_kind, read_listing
from crawler.sources.site import PRECEDENCE, page_headers, read_article_page
from crawler.spiders.walk import ListingSpider, Scope

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Mapping

    from scrapy.crawler import Crawler
    from scrapy.http import Response

    from crawler.items import Article
    from crawler.sources.config import Source
    from crawler.sources.listing import ListingEntry

logger = logging.getLogger(__name__)

STATS_PREFIX = "news/site"


class SiteSpider(ListingSpider):
    """Crawl configured sources: their listings, then each article storage does not have yet."""

    name = "site"
    sources: dict[str, Source]
    scopes: dict[str, Scope]
    day: date

    def __init__(
        self, *args: Any, source: str | None = None, date: str | None = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.source_arg = source
        self.date_arg = date

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> Self:
        spider = super().from_crawler(crawler, *args, **kwargs)
        spider.sources = choose_sources(crawler, spider.source_arg)
        spider.scopes = {name: site_scope(source) for name, source in spider.sources.items()}
        spider.day = crawl_day(spider.date_arg, datetime.now(spider.zone).date())
        if spider.follower is not None and not any(s.follow for s in spider.sources.values()):
            raise ValueError(
                "follow=…: none of the chosen sources declares `follow = true` in sources.toml"
            )
        slots = download_slots(spider.sources.values(), crawler.settings.getdict("DOWNLOAD_SLOTS"))
        crawler.settings.set("DOWNLOAD_SLOTS", slots, priority="spider")
        return spider

    async def start(self) -> AsyncIterator[scrapy.Request]:
        if self.follower is not None:  # a follower sends its polls itself
            return
        for source in self.sources.values():
            for start in source.start_urls:
                issue = self.day.isoformat() if start.dated else None
                yield self.listing(source, start.expand(self.day), start.kind, 1, issue)
            if source.sitemaps_from_robots:
                for url in source.robots_urls(self.day):
                    yield self.request(source, url, self.parse_robots)

    def poll_requests(self) -> dict[str, scrapy.Request]:
        """Return the first page of every start URL of the sources that declare ``follow``
        (dated ones filled with today's date), by walk key."""
        day = datetime.now(self.zone).date()
        polls = {}
        for source in self.sources.values():
            for start in source.start_urls if source.follow else ():
                issue = day.isoformat() if start.dated else None
                request = self.listing(source, start.expand(day), start.kind, 1, issue)
                polls[request.cb_kwargs["walk"]] = request
        return polls

    def scope_of(self, request: scrapy.Request) -> Scope:
        """Return the scope of the source a request was made for."""
        return self.scopes[request.meta["news_source"]]

    def request(
        self, source: Source, url: str, callback: Callable[..., Any], **cb_kwargs: Any
    ) -> scrapy.Request:
        """Return a request of ``source`` in its download slot.

        The URL filter is off: articles are deduplicated by id (:meth:`triage`), a walk is
        bounded by its stop rules, and a ``requests.seen`` left by a killed run (``JOBDIR``) names
        requests that were never answered; with it the next run would drop them.
        """
        meta: dict[str, Any] = {"download_slot": slot_name(source), "news_source": source.name}
        if source.download_maxsize:
            meta["download_maxsize"] = source.download_maxsize
        return scrapy.Request(
            url,
            callback,
            errback=self.failed,
            meta=meta,
            cb_kwargs={"source": source.name, **cb_kwargs},
            dont_filter=True,
        )

    def listing(
        self,
        source: Source,
        url: str,
        kind: str,
        page: int,
        issue: str | None = None,
        walk: str | None = None,
    ) -> scrapy.Request:
        """Return the request of one listing page (``issue``: the date of a dated start URL;
        ``walk``: the key of the walk it belongs to, by default one starting at ``url``)."""
        return self.request(
            source,
            url,
            self.parse_listing,
            kind=kind,
            page=page,
            issue=issue,
            walk=walk or f"{source.name} {url}",
        )

    def parse_listing(
        self,
        response: Response,
        source: str,
        kind: str,
        page: int,
        issue: str | None,
        walk: str | None = None,
    ) -> Iterator[scrapy.Request]:
        """Request the listing's new articles, its child sitemaps, then its next page."""
        config, scope = self.sources[source], self.scopes[source]
        if kind == "auto":
            kind = detect_kind(response.body)
        text = ""
        if kind == "html":
            text, _ = decode_body(response.body, page_headers(response.headers, config))
        listing = read_listing(kind, response.body, text, response.url, config)
        self.count(scope, f"listing/{listing.kind}", response.url)
        triage = self.triage(scope, listing, response.url)
        end = None if listing.next_url else "last_page"
        key = walk or f"{source} {response.url}"
        reason = self.step(scope, key, listing, triage, end, page, config.max_pages, response.url)
        for child in listing.sitemaps:
            yield self.listing(config, child, "sitemap", 1, issue)
        for entry in triage.new:
            entry = implied(entry, config, issue)
            yield self.request(
                config, entry.url, self.parse_article, entry=entry, feed=listing.kind
            )
        if reason is None and listing.next_url:
            yield self.listing(config, listing.next_url, kind, page + 1, issue, key)

    def parse_robots(self, response: Response, source: str) -> Iterator[scrapy.Request]:
        """Walk each sitemap the robots.txt names that is not a start URL already."""
        config, scope = self.sources[source], self.scopes[source]
        starts = {start.expand(self.day) for start in config.start_urls}
        named = robots_sitemaps(response.body, response.url)
        if not named:
            self.count(scope, "robots/none", response.url, level=logging.INFO)
        for url in named:
            if url not in starts:
                self.count(scope, "robots/sitemaps", url)
                yield self.listing(config, url, "sitemap", 1)

    def parse_article(
        self, response: Response, source: str, entry: ListingEntry, feed: str
    ) -> Iterator[Article]:
        """Read an article page and merge it with its entry by the sites' precedence.

        The page is read as if at the listing's URL, which the article keeps: its id is the one
        storage was asked about, whatever a redirect led to.
        """
        config, scope = self.sources[source], self.scopes[source]
        if not response.body.strip():
            self.count(scope, "bad/empty", response.url, level=logging.WARNING)
            return
        page = read_article_page(response.body, response.headers, entry.url, config)
        yield self.article(scope, entry, page, feed)


def site_scope(source: Source) -> Scope:
    """Return a configured source's scope: stats under ``news/site/<name>/``, logged by name."""
    return Scope(
        source=source.name,
        stats=f"{STATS_PREFIX}/{source.name}",
        label=source.name,
        precedence=PRECEDENCE,
    )


def implied(entry: ListingEntry, source: Source, issue: str | None) -> ListingEntry:
    """Return an entry with what its listing implies where the entry says nothing: the source
    publishes what it lists, and the entries of a dated listing (an e-paper issue) take the
    issue's date as their time."""
    return replace(
        entry,
        publisher=entry.publisher or source.publisher,
        published_text=entry.published_text or issue,
    )


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
