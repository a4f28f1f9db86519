"""One listing walk for every spider: triage, stop rules, errors, counts, and the article merge.

A spider reads a listing page into a :class:`~crawler.sources.listing.Listing`; then

- :meth:`ListingSpider.triage` counts the records the listing skipped, skips the entries published
  before the ``since`` cutoff, asks storage once which of the rest it lacks, and skips those this
  run already requested;
- :func:`stop_reason` tells whether the walk ends at this page;
- :meth:`ListingSpider.article` makes the article of an entry and its page, each field taken from
  the side its source's :class:`~crawler.sources.listing.Precedence` declares;
- :meth:`ListingSpider.failed` is every request's errback.

Stats live under the scope's prefix (``news/eastmoney``, ``news/site/<source>``):
``skipped/<reason>`` (``old``, ``known``, ``duplicate``, ``ignored`` and the listing's own),
``bad/<reason>``, ``stop/<reason>`` and ``articles/<feed kind>``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Self
from zoneinfo import ZoneInfo

import scrapy
from scrapy.exceptions import IgnoreRequest
from scrapy.spidermiddlewares.httperror import HttpError

from crawler.incremental import KnownArticles
from crawler.normalize.dates import parse_publish_time
from crawler.normalize.identity import article_id, canonicalize
from crawler.options import option
from crawler.sources.listing import ListingEntry, Precedence, merge

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from twisted.python.failure import Failure

    from crawler.items import Article
    from crawler.sources.listing import Listing

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Scope:
    """A source as its walk sees it.

    ``source`` names its articles (``source`` field, id prefix), ``stats`` is the prefix of its
    counts, ``label`` names it in the log, ``precedence`` says how its entries and pages merge,
    ``via`` is the aggregator its articles come through, if any.
    """

    source: str
    stats: str
    label: str
    precedence: Precedence
    via: str | None = None


@dataclass(slots=True)
class Triage:
    """A listing page sorted out: entries to request, and what the stop rules need to know.

    ``unknown`` counts the entries storage lacks, those this run already requested included.
    """

    new: list[ListingEntry] = field(default_factory=list)
    unknown: int = 0
    reached_since: bool = False


def stop_reason(
    listing: Listing, triage: Triage, end: str | None, page: int, max_pages: int
) -> str | None:
    """Return why a listing walk ends at this page, or ``None`` to follow the next one.

    The rules every walk shares come first: a page listing no entry and no child sitemap
    (``empty``), a page whose entries storage all holds (``nothing_new``), a page reaching
    ``since`` (``since``). Then ``end``, the listing's own end as its spider sees it
    (``last_page``, ``cursor``; ``None`` while there is more), then the page limit (``max_pages``).
    """
    if not listing.entries and not listing.sitemaps:
        return "empty"
    if listing.entries and not triage.unknown:
        return "nothing_new"
    if triage.reached_since:
        return "since"
    if end is not None:
        return end
    if page >= max_pages:
        return "max_pages"
    return None


def entry_id(source: str, entry: ListingEntry) -> str | None:
    """Return the id storage knows an entry's article by: by its native id, else by its URL."""
    if entry.native_id:
        return article_id(source, entry.native_id, None)
    return article_id(source, None, canonicalize(entry.url))


class ListingSpider(scrapy.Spider):
    """Base of every spider: walk listings, request what storage lacks, make articles, count."""

    known: KnownArticles
    zone: ZoneInfo
    #: Entries published before it are old; set by the spiders that take a ``since`` argument.
    cutoff: datetime | None = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # What this run requested, by native id or URL: an entry in two listings is fetched once.
        self.requested: set[str] = set()

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> Self:
        spider = super().from_crawler(crawler, *args, **kwargs)
        spider.zone = ZoneInfo(option(crawler.settings, "NEWS_DEFAULT_TIMEZONE"))
        spider.known = KnownArticles.from_crawler(crawler)
        return spider

    def closed(self, reason: str) -> None:
        """Release the storage lookup."""
        self.known.close()

    def scope_of(self, request: scrapy.Request) -> Scope:
        """Return the scope a request of this spider belongs to."""
        raise NotImplementedError

    def count(
        self, scope: Scope, key: str, url: str, detail: str = "", level: int = logging.DEBUG
    ) -> None:
        """Count ``<scope stats>/<key>`` and log it with the URL concerned."""
        self.crawler.stats.inc_value(f"{scope.stats}/{key}")
        logger.log(level, "%s %s: %s %s", scope.label, key, url, detail)

    def failed(self, failure: Failure) -> None:
        """Count and log a request that got no usable response (HTTP error, network), or that
        a middleware refused to send (robots.txt: ``skipped/ignored``)."""
        request = failure.request  # type: ignore[attr-defined]
        scope = self.scope_of(request)
        if failure.check(HttpError):
            status = failure.value.response.status
            self.count(scope, f"bad/http_{status}", request.url, level=logging.WARNING)
        elif failure.check(IgnoreRequest):
            detail = str(failure.value)
            self.count(scope, "skipped/ignored", request.url, detail, level=logging.INFO)
        else:
            detail = repr(failure.value)
            self.count(scope, "bad/network", request.url, detail, level=logging.WARNING)

    def triage(self, scope: Scope, listing: Listing, url: str) -> Triage:
        """Sort a listing page's entries: skip the old, the stored, the repeated.

        Storage is asked once for the whole page. An entry without an id (a URL that cannot be
        canonicalised) counts as known: there is nothing to store it under.
        """
        for reason, detail in listing.skipped:
            level = logging.INFO if reason == "incomplete" else logging.DEBUG
            self.count(scope, f"skipped/{reason}", url, detail, level=level)
        result = Triage()
        fresh = []
        for entry in listing.entries:
            if self.is_old(entry):
                result.reached_since = True
                self.count(scope, "skipped/old", entry.url, entry.published_text or "")
            else:
                fresh.append(entry)
        ids = [entry_id(scope.source, entry) for entry in fresh]
        unknown = self.known.unknown([i for i in ids if i])
        for entry, identity in zip(fresh, ids, strict=True):
            if identity not in unknown:
                self.count(scope, "skipped/known", entry.url)
                continue
            result.unknown += 1
            key = entry.native_id or entry.url
            if key in self.requested:
                self.count(scope, "skipped/duplicate", entry.url)
                continue
            self.requested.add(key)
            result.new.append(entry)
        return result

    def is_old(self, entry: ListingEntry) -> bool:
        """Tell whether an entry was published before the cutoff (unreadable times are kept)."""
        if self.cutoff is None or not entry.published_text:
            return False
        parsed = parse_publish_time(
            entry.published_text, now=datetime.now(UTC), zone=self.zone, fallback=None
        )
        return parsed is not None and parsed.at < self.cutoff

    def stop(self, scope: Scope, reason: str, url: str) -> None:
        """Record why a listing walk ends."""
        self.count(scope, f"stop/{reason}", url, level=logging.INFO)

    def article(self, scope: Scope, entry: ListingEntry, page: Article, feed: str) -> Article:
        """Return the article of ``entry`` and its ``page`` (the page's raw fields), merged by the
        scope's precedence, and count it under ``articles/<feed kind>``."""
        page.source = scope.source
        page.native_id = entry.native_id
        page.feed = feed
        page.via = scope.via
        page.fetched_at = datetime.now(UTC)
        article = merge(entry, page, scope.precedence)
        self.count(scope, f"articles/{feed.partition(':')[0]}", article.url or entry.url)
        return article
