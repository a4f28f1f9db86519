"""What the three East Money spiders share: polite requests, bad responses, incremental walks.

Each spider only crawls; reading is :mod:`crawler.sources.eastmoney`'s job and normalising the
pipelines'. Stats live under ``news/eastmoney/``: ``listing/pages``, ``skipped/<reason>``,
``bad/<reason>``, ``stop/<reason>`` and ``articles/<feed kind>``.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Self, TypeVar
from zoneinfo import ZoneInfo

import scrapy
from scrapy.exceptions import IgnoreRequest
from scrapy.http import TextResponse
from scrapy.spidermiddlewares.httperror import HttpError

from crawler.incremental import KnownArticles
from crawler.items import Article
from crawler.normalize.dates import parse_publish_time
from crawler.normalize.identity import article_id
from crawler.sources.eastmoney import (
    BROWSER_USER_AGENT,
    DEFAULT_URLS,
    LOGIN_URL_RE,
    REFERERS,
    SOURCE,
    FeedEntry,
    FeedError,
    parse_article_page,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from scrapy.crawler import Crawler
    from scrapy.http import Response
    from twisted.python.failure import Failure

    from crawler.sources.eastmoney import ListingPage

logger = logging.getLogger(__name__)

T = TypeVar("T")
STATS_PREFIX = "news/eastmoney"
_DURATION_RE = re.compile(r"^\s*(\d+)\s*([mhdw])\s*$", re.IGNORECASE)
_DURATION_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_since(text: str, now: datetime, zone: ZoneInfo) -> datetime:
    """Read the ``since`` argument: a duration back from ``now`` (``30m``, ``6h``, ``2d``, ``1w``)
    or a date/time (``2022-05-20``, ``2022-05-20 08:00``) in ``zone``; raise ``ValueError``."""
    match = _DURATION_RE.match(text)
    if match:
        unit = _DURATION_UNITS[match.group(2).lower()]
        return now - timedelta(**{unit: int(match.group(1))})
    parsed = parse_publish_time(text, now=now, zone=zone, fallback=None)
    if parsed is None:
        raise ValueError(f"since={text!r}: expected a duration like 6h or a date like 2022-05-20")
    return parsed.at


def positive_int(name: str, value: Any, maximum: int | None = None) -> int:
    """Return a spider argument as a positive integer (capped at ``maximum``); raise
    ``ValueError`` otherwise."""
    number = int(value)
    if number < 1:
        raise ValueError(f"{name} must be at least 1, not {value!r}")
    return number if maximum is None else min(number, maximum)


@dataclass(slots=True)
class Triage:
    """A listing page sorted out: entries to fetch, and whether the walk should go on."""

    new: list[FeedEntry] = field(default_factory=list)
    unknown: int = 0
    reached_since: bool = False


class EastMoneySpider(scrapy.Spider):
    """Base of the East Money spiders: headers, bad-response handling, incremental triage."""

    known: KnownArticles
    zone: ZoneInfo
    since: datetime | None

    def __init__(self, *args: Any, since: str | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.since_arg = since
        self.requested: set[str] = set()

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> Self:
        spider = super().from_crawler(crawler, *args, **kwargs)
        spider.zone = ZoneInfo(crawler.settings.get("NEWS_DEFAULT_TIMEZONE", "Asia/Shanghai"))
        now = datetime.now(UTC)
        spider.since = parse_since(spider.since_arg, now, spider.zone) if spider.since_arg else None
        spider.known = KnownArticles.from_crawler(crawler)
        return spider

    def closed(self, reason: str) -> None:
        """Release the storage lookup."""
        self.known.close()

    # --- settings, stats, requests ------------------------------------------------------------

    def option(self, argument: Any, setting: str, default: int, maximum: int | None = None) -> int:
        """Return a positive integer option: the spider argument, else the setting."""
        value = argument or self.settings.getint(setting, default)
        return positive_int(setting, value, maximum)

    def endpoint(self, name: str) -> str:
        """Return the URL (template) of setting ``name``, else the site's own."""
        return self.settings.get(name) or DEFAULT_URLS[name]

    def count(self, key: str, url: str, detail: str = "", level: int = logging.DEBUG) -> None:
        """Count ``news/eastmoney/<key>`` and log it with the URL concerned."""
        self.crawler.stats.inc_value(f"{STATS_PREFIX}/{key}")
        logger.log(level, "East Money %s: %s %s", key, url, detail)

    def request(
        self, url: str, callback: Callable[..., Any], referer: str, **cb_kwargs: Any
    ) -> scrapy.Request:
        """Return a request with the browser-like headers the site expects.

        Articles are deduplicated by code (:meth:`triage`), so the URL filter is off: with it,
        a second redirect to the same login page would vanish uncounted.
        """
        headers = {
            "User-Agent": self.settings.get("NEWS_EASTMONEY_USER_AGENT") or BROWSER_USER_AGENT,
            "Referer": REFERERS[referer],
        }
        return scrapy.Request(
            url,
            callback=callback,
            errback=self.failed,
            headers=headers,
            cb_kwargs=cb_kwargs,
            dont_filter=True,
        )

    # --- bad responses ------------------------------------------------------------------------

    def read(self, response: Response, reader: Callable[[str], T]) -> T | None:
        """Run ``reader`` on a response's text; count and log a bad response and return ``None``."""
        try:
            self.check_not_login(response)
            text = (
                response.text
                if isinstance(response, TextResponse)
                else response.body.decode("utf-8", "replace")
            )
            return reader(text)
        except FeedError as exc:
            self.bad(response, exc)
            return None

    def read_page(self, response: Response) -> Article | None:
        """Read an article page; count and log a bad one and return ``None``."""
        try:
            self.check_not_login(response)
            return parse_article_page(response)
        except FeedError as exc:
            self.bad(response, exc)
            return None

    def check_not_login(self, response: Response) -> None:
        """Raise ``FeedError("login")`` when the request was redirected to a login page."""
        if response.meta.get("redirect_urls") and LOGIN_URL_RE.search(response.url):
            origin = response.meta["redirect_urls"][0]
            raise FeedError("login", f"redirected from {origin}")

    def bad(self, response: Response, error: FeedError) -> None:
        """Count and log a response that held nothing usable."""
        self.count(f"bad/{error.reason}", response.url, error.detail, level=logging.WARNING)

    def failed(self, failure: Failure) -> None:
        """Count and log a request that got no usable response (HTTP error, network), or that
        a middleware refused to send (robots.txt: ``skipped/ignored``)."""
        request = failure.request  # type: ignore[attr-defined]
        if failure.check(HttpError):
            status = failure.value.response.status
            self.count(f"bad/http_{status}", request.url, level=logging.WARNING)
        elif failure.check(IgnoreRequest):
            self.count("skipped/ignored", request.url, str(failure.value), level=logging.INFO)
        else:
            self.count("bad/network", request.url, repr(failure.value), level=logging.WARNING)

    # --- incremental --------------------------------------------------------------------------

    def triage(self, page: ListingPage, response: Response) -> Triage:
        """Sort a listing page's entries: skip the unusable, the old, the stored, the repeated.

        Storage is asked once for the whole page. ``unknown`` counts entries storage lacks
        (the walk goes on while a page has some), even when this run already requested them.
        """
        self.crawler.stats.inc_value(f"{STATS_PREFIX}/listing/pages")
        for reason, detail in page.skipped:
            level = logging.INFO if reason == "incomplete" else logging.DEBUG
            self.count(f"skipped/{reason}", response.url, detail, level=level)
        result = Triage()
        fresh = []
        for entry in page.entries:
            if self.is_old(entry):
                result.reached_since = True
                self.count("skipped/old", entry.url, entry.published_text)
            else:
                fresh.append(entry)
        unknown = self.known.unknown(self.ids(fresh))
        for entry in fresh:
            if article_id(SOURCE, entry.native_id, None) not in unknown:
                self.count("skipped/known", entry.url)
                continue
            result.unknown += 1
            if entry.native_id in self.requested:
                self.count("skipped/duplicate", entry.url)
                continue
            self.requested.add(entry.native_id)
            result.new.append(entry)
        return result

    @staticmethod
    def ids(entries: Iterable[FeedEntry]) -> list[str]:
        """Return the article ids (``eastmoney:<code>``) of listing entries."""
        return [i for e in entries if (i := article_id(SOURCE, e.native_id, None))]

    def is_old(self, entry: FeedEntry) -> bool:
        """Tell whether an entry was published before ``since`` (unreadable times are kept)."""
        if self.since is None:
            return False
        parsed = parse_publish_time(
            entry.published_text, now=datetime.now(UTC), zone=self.zone, fallback=None
        )
        return parsed is not None and parsed.at < self.since

    @staticmethod
    def walk_ends(page: ListingPage, triage: Triage) -> str | None:
        """Return why a listing walk ends at this page by the rules every walk shares: an empty
        page, a page with nothing new to storage, a page reaching ``since``."""
        if not page.entries and not page.skipped:
            return "empty"
        if not triage.unknown:
            return "nothing_new"
        if triage.reached_since:
            return "since"
        return None

    def stop(self, reason: str, url: str) -> None:
        """Record why a listing walk ends."""
        self.count(f"stop/{reason}", url, level=logging.INFO)

    # --- items --------------------------------------------------------------------------------

    def article(
        self, entry: FeedEntry, feed: str, url: str, page: Article | None = None
    ) -> Article:
        """Return the article of ``entry``: the page's raw fields, the feed's where it has none.

        The feed's time wins: it has seconds, the page only minutes.
        """
        article = page or Article()
        article.url = url
        article.source = SOURCE
        article.native_id = entry.native_id
        article.feed = feed
        article.via = SOURCE
        article.fetched_at = datetime.now(UTC)
        article.title = article.title or entry.title
        article.published_text = entry.published_text or article.published_text
        article.publisher = article.publisher or entry.publisher
        article.summary = entry.summary
        self.crawler.stats.inc_value(f"{STATS_PREFIX}/articles/{feed.partition(':')[0]}")
        return article
