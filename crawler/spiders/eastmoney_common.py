"""What the three East Money spiders share: polite requests, bad responses, their walk's scope.

Each spider only crawls; reading is :mod:`crawler.sources.eastmoney`'s job, the walk (triage,
stop rules, errback, counts, the listing/page merge) :mod:`crawler.spiders.walk`'s, normalising
the pipelines'. Stats live under ``news/eastmoney/``: ``listing/pages``, ``skipped/<reason>``,
``bad/<reason>``, ``stop/<reason>`` and ``articles/<feed kind>``.
"""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Self, TypeVar

import scrapy
from pymongo.errors import PyMongoError
from scrapy.http import TextResponse

from crawler.incremental import Recent
from crawler.normalize.dates import parse_publish_time
from crawler.options import option
from crawler.sources.eastmoney import (
    BROWSER_USER_AGENT,
    DEFAULT_URLS,
    LOGIN_URL_RE,
    PRECEDENCE,
    REFERERS,
    SOURCE,
    VOLATILE_PARAMETERS,
    FeedError,
    parse_article_page,
)
from crawler.sources.eastmoney.listing import EastMoneyEntry
from crawler.sources.eastmoney.securities import VIA_BODY, body_links, tag
from crawler.spiders.walk import ListingSpider, Scope, entry_id
from crawler.store.documents import merge_securities
from crawler.store.mongo import StorageConfig, acquire_client, articles, release_client

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable
    from zoneinfo import ZoneInfo

    from scrapy.crawler import Crawler
    from scrapy.http import Response

    from crawler.items import Article
    from crawler.sources.eastmoney import ListingParser
    from crawler.sources.listing import Listing, ListingEntry

logger = logging.getLogger(__name__)
T = TypeVar("T")
#: East Money as the walk sees it: one scope for all three spiders, their articles come via it.
SCOPE = Scope(
    source=SOURCE, stats="news/eastmoney", label="East Money", precedence=PRECEDENCE, via=SOURCE
)
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


class EastMoneySpider(ListingSpider):
    """Base of the East Money spiders: headers, bad-response handling, the ``since`` cutoff,
    the tags of stories a listing named but the run did not fetch for it."""

    volatile_parameters = VOLATILE_PARAMETERS

    def __init__(self, *args: Any, since: str | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.since_arg = since
        # By tag (a secid, a 7×24 column): ids of the stories its listing named, not fetched for it.
        self.unfetched: dict[Any, set[str]] = {}
        # (tag, id) pairs this process has written: a follower's next poll lists them again.
        self.tagged = Recent(0)

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> Self:
        spider = super().from_crawler(crawler, *args, **kwargs)
        spider.tagged = Recent(option(crawler.settings, "NEWS_KNOWN_CACHE_SIZE"))
        if spider.since_arg:
            spider.cutoff = parse_since(spider.since_arg, datetime.now(UTC), spider.zone)
        return spider

    def scope_of(self, request: scrapy.Request) -> Scope:
        """Every East Money request is in East Money's scope."""
        return SCOPE

    # --- settings, requests -------------------------------------------------------------------

    def option(self, argument: Any, setting: str, maximum: int | None = None) -> int:
        """Return a positive integer option: the spider argument, else the setting."""
        value = argument or option(self.settings, setting)
        return positive_int(setting, value, maximum)

    def endpoint(self, name: str) -> str:
        """Return the URL (template) of setting ``name``, else the site's own."""
        return option(self.settings, name) or DEFAULT_URLS[name]

    def request(
        self, url: str, callback: Callable[..., Any], referer: str, **cb_kwargs: Any
    ) -> scrapy.Request:
        """Return a request with the browser-like headers the site expects.

        Articles are deduplicated by code (:meth:`triage`), so the URL filter is off: with it,
        a second redirect to the same login page would vanish uncounted.
        """
        headers = {
            "User-Agent": option(self.settings, "NEWS_EASTMONEY_USER_AGENT") or BROWSER_USER_AGENT,
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

    def article(self, scope: Scope, entry: ListingEntry, page: Article, feed: str) -> Article:
        """Return the article of ``entry`` and its page, tagged with the securities the entry
        names (its listing's) and the stock links of the page's raw body, read here because
        the body stage unwraps them; malformed links are counted (``securities/malformed``)."""
        article = super().article(scope, entry, page, feed)
        found, malformed = body_links(article.body_html)
        for value in malformed:
            self.count(scope, "securities/malformed", article.url or entry.url, value)
        listed = entry.securities if isinstance(entry, EastMoneyEntry) else ()
        article.securities = merge_securities(article.securities, listed, tag(found, VIA_BODY))
        return article

    # --- tags of stories not fetched ----------------------------------------------------------

    def note_unfetched(
        self, tag: Any, entries: Iterable[ListingEntry], fetched: Iterable[ListingEntry]
    ) -> None:
        """Remember the stories a listing of ``tag`` named but this run does not fetch for it
        (stored already, requested for another listing, older than ``since``), but for those
        this process has tagged already."""
        fetched_ids = {entry_id(SCOPE.source, entry) for entry in fetched}
        ids = {entry_id(SCOPE.source, entry) for entry in entries} - fetched_ids
        self.unfetched.setdefault(tag, set()).update(
            i for i in ids if i and (tag, i) not in self.tagged
        )

    def tag_unfetched(self, kind: str, add: Callable[[Any, list[str], Any], int]) -> None:
        """Give the stored stories of :meth:`note_unfetched` their tags: ``add(collection, ids,
        tag)`` writes them and says how many stories changed. Call it when the spider closes,
        after the item pipelines (this run's stories are stored then). Counted under
        ``<kind>/tagged`` (stories changed) and ``<kind>/untagged`` (ids left with storage off
        or down; a later run's listing tags them)."""
        pending = {tag: sorted(ids) for tag, ids in self.unfetched.items() if ids}
        if not pending:
            return
        config = StorageConfig.from_settings(self.settings)
        tagged = 0
        if config.uri:
            try:
                client = acquire_client(config)
                try:
                    collection = articles(client, config)
                    for tag in list(pending):
                        ids = pending.pop(tag)
                        tagged += add(collection, ids, tag)
                        self.tagged.add((tag, i) for i in ids)
                finally:
                    release_client(config)
            except PyMongoError as error:
                logger.warning("Stored stories could not take their %s: %s", kind, error)
        self.crawler.stats.inc_value(f"{SCOPE.stats}/{kind}/tagged", tagged)
        if left := sum(map(len, pending.values())):
            self.crawler.stats.inc_value(f"{SCOPE.stats}/{kind}/untagged", left)

    # --- responses ----------------------------------------------------------------------------

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

    def read_listing(self, response: Response, parser: ListingParser) -> Listing | None:
        """Read a listing page and count it (``listing/pages``); ``None`` when it is bad."""
        listing = self.read(response, parser.parse)
        if listing is not None:
            self.count(SCOPE, "listing/pages", response.url)
        return listing

    def read_page(self, response: Response) -> Article | None:
        """Read an article page, its URL where it was served; count and log a bad one and
        return ``None``."""
        try:
            self.check_not_login(response)
            page = parse_article_page(response)
        except FeedError as exc:
            self.bad(response, exc)
            return None
        page.url = response.url
        return page

    def check_not_login(self, response: Response) -> None:
        """Raise ``FeedError("login")`` when the request was redirected to a login page."""
        if response.meta.get("redirect_urls") and LOGIN_URL_RE.search(response.url):
            origin = response.meta["redirect_urls"][0]
            raise FeedError("login", f"redirected from {origin}")

    def bad(self, response: Response, error: FeedError) -> None:
        """Count and log a response that held nothing usable."""
        self.count(SCOPE, f"bad/{error.reason}", response.url, error.detail, level=logging.WARNING)
