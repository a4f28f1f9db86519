"""One listing walk for every spider: triage, stop rules, errors, counts, and the article merge.

A spider reads a listing page into a :class:`~crawler.sources.listing.Listing`; then

- :meth:`ListingSpider.triage` counts the records the listing skipped, skips the entries published
  before the ``since`` cutoff, asks storage once which of the rest it lacks, and skips those this
  run already requested;
- :meth:`ListingSpider.step` records how far the walk reached (:mod:`crawler.store.walks`) and
  tells, by :func:`stop_reason`, whether it ends at this page;
- :meth:`ListingSpider.article` makes the article of an entry and its page, each field taken from
  the side its source's :class:`~crawler.sources.listing.Precedence` declares;
- :meth:`ListingSpider.failed` is every request's errback;
- :meth:`ListingSpider.claim_key` names what a request fetches, once per batch for workers of a
  batch (:mod:`crawler.distributed.frontier`): an article by its id, anything else by its URL
  without the spider's ``volatile_parameters``.

Stats live under the scope's prefix (``news/eastmoney``, ``news/site/<source>``):
``skipped/<reason>`` (``old``, ``known``, ``duplicate``, ``claimed`` by another worker of the
batch, ``ignored`` and the listing's own),
``bad/<reason>``, ``stop/<reason>`` and ``articles/<feed kind>``.

Follow mode (:mod:`crawler.follow`, ``-a follow=10s``): a spider that can follow builds its polls'
first pages (:meth:`ListingSpider.poll_requests`); a poll's walk also stops at a page holding any
stored entry (``reached_known``), and ends (:meth:`ListingSpider.end_walks`: complete, what it
requested forgotten) once its articles are stored.

Interrupted walks. "Stop at the first page with nothing new" is sound only when the listing's
previous walk completed: a walk cut short (``kill -9``, OOM, a listing page that failed) leaves
stored pages above articles it never requested or never stored. So every walk keeps a record
(:mod:`crawler.store.walks`) of the deepest page it read, written as it goes, and marked complete
only when the spider closes cleanly (``finished``: every request answered, storage flushed) after
the walk ended by a stop rule. A walk whose previous one did not complete *resumes*: a page with
nothing new does not end it until it has passed that walk's frontier (:func:`start_walk`,
:func:`passes`); its other stop rules hold. With MongoDB unreachable the frontier is unknown, so
no page with nothing new ends the walk. Counted under ``news/walk/``: ``started``, ``resumed``,
``walked_past_known`` (pages with nothing new walked past), ``passed`` (frontiers passed),
``complete`` and ``unfinished`` (at close).
"""

from __future__ import annotations

import logging
import sys
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Self
from zoneinfo import ZoneInfo

import scrapy
from scrapy.exceptions import IgnoreRequest
from scrapy.spidermiddlewares.httperror import HttpError
from w3lib.url import canonicalize_url, url_query_cleaner

from crawler.distributed import is_worker
from crawler.follow import FOLLOW_META, Follower, Policy, parse_interval
from crawler.incremental import KnownArticles
from crawler.normalize.dates import parse_publish_time
from crawler.normalize.identity import article_id, canonicalize
from crawler.options import option
from crawler.sources.listing import ListingEntry, Precedence, merge
from crawler.store.walks import Frontier, WalkRecord, WalkStore

if TYPE_CHECKING:
    from collections.abc import Sequence

    from scrapy.crawler import Crawler
    from scrapy.http import Response
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

    ``unknown`` counts the entries storage lacks, those this run already requested included;
    ``known`` those storage holds.
    """

    new: list[ListingEntry] = field(default_factory=list)
    unknown: int = 0
    known: int = 0
    reached_since: bool = False


def stop_reason(
    listing: Listing,
    triage: Triage,
    end: str | None,
    page: int,
    max_pages: int,
    *,
    holding: bool = False,
    following: bool = False,
) -> str | None:
    """Return why a listing walk ends at this page, or ``None`` to follow the next one.

    The rules every walk shares come first: a page listing no entry and no child sitemap
    (``empty``), a page whose entries storage all holds (``nothing_new``; not while ``holding``,
    a resumed walk short of its previous walk's frontier), in follow mode a page of which
    storage holds some entries (``reached_known``: the walk goes on only past pages entirely
    new), a page reaching ``since`` (``since``). Then ``end``, the listing's own end as its
    spider sees it (``last_page``, ``cursor``; ``None`` while there is more), then the page limit
    (``max_pages``).
    """
    if not listing.entries and not listing.sitemaps:
        return "empty"
    if listing.entries and not triage.unknown and not holding:
        return "nothing_new"
    if following and triage.known and not holding:
        return "reached_known"
    if triage.reached_since:
        return "since"
    if end is not None:
        return end
    if page >= max_pages:
        return "max_pages"
    return None


@dataclass(slots=True)
class Walk:
    """One listing's walk in this run.

    ``holding``: the walk resumes an unfinished one and has not yet passed its frontier
    ``target`` (``None`` with ``holding``: the frontier is unknown), so a page with nothing new
    does not end it; ``seen_target`` whether a page of it showed any of the target's ids;
    ``reached`` the deepest page it read; ``stop`` why it ended (``None``: it has not, or a
    listing page failed).
    """

    listing: str
    started_at: datetime
    resumed: bool = False
    holding: bool = False
    target: Frontier | None = None
    seen_target: bool = False
    reached: Frontier | None = None
    stop: str | None = None
    #: The page at which it passed its frontier (0: it did not, or never held).
    passed_at: int = 0

    def record(self, *, complete: bool = False) -> WalkRecord:
        """Return the walk's record: how far it reached, the frontier it still has to pass."""
        return WalkRecord(
            complete=complete, reached=self.reached, target=self.target if self.holding else None
        )


def start_walk(listing: str, previous: WalkRecord | None, page: int, now: datetime) -> Walk:
    """Return the walk of ``listing`` that begins at ``page``, given its previous walk's record.

    No record, or a complete one: the usual stop rules. An unfinished one: the walk resumes and
    holds until it passes the frontier the unfinished walk had still to pass, else the one it
    reached (unknown when MongoDB could not say). A walk taken up past its first page (a queue
    kept in ``JOBDIR``) is that unfinished walk going on: it keeps its frontier and its reach.
    """
    if previous is None or previous.complete:
        return Walk(listing, now)
    if page > 1:
        return Walk(
            listing,
            now,
            resumed=True,
            holding=previous.target is not None,
            target=previous.target,
            reached=previous.reached,
        )
    target = previous.target or previous.reached
    return Walk(listing, now, resumed=True, holding=True, target=target)


def passes(target: Frontier | None, ids: Sequence[str], seen_before: bool) -> tuple[bool, bool]:
    """Tell whether a walk holding for ``target`` passes it at a page listing ``ids``, and
    whether it has now seen any of the target's ids.

    The pages down to the target hold articles the unfinished walk may have stored (so a page
    with nothing new says nothing of what lies below it): the walk passes the target only at a
    page that lists an entry beyond it, that is a page with no target id after a page with some,
    or a page listing an entry after the target's last (oldest) id. Newer entries push the
    target's entries down, so they may fall on two pages; one may have left the listing. An
    unknown target is never passed.
    """
    if target is None or not target.ids:
        return False, seen_before
    wanted = set(target.ids)
    hits = [index for index, identity in enumerate(ids) if identity in wanted]
    if not hits:
        return seen_before, seen_before
    last = hits[-1]
    return ids[last] == target.ids[-1] and last < len(ids) - 1, True


def follow_page_limit(walk: Walk, max_pages: int) -> int:
    """Return the page a following walk may not go past: none while it holds for a known
    frontier (a backlog deeper than ``max_pages`` is walked through, over as many polls as it
    takes), ``max_pages`` past the page where it passed it, else ``max_pages``."""
    if walk.holding and walk.target is not None:
        return sys.maxsize
    return walk.passed_at + max_pages


def deepest(reached: Frontier | None, page: int, ids: Sequence[str]) -> Frontier:
    """Return the deeper of ``reached`` and this page; a page without ids keeps the ids before."""
    if reached is not None and reached.page > page:
        return reached
    kept = reached.ids if reached is not None else ()
    return Frontier(page, tuple(ids) or kept)


def entry_id(source: str, entry: ListingEntry) -> str | None:
    """Return the id storage knows an entry's article by: by its native id, else by its URL."""
    if entry.native_id:
        return article_id(source, entry.native_id, None)
    return article_id(source, None, canonicalize(entry.url))


class ListingSpider(scrapy.Spider):
    """Base of every spider: walk listings, request what storage lacks, make articles, count."""

    known: KnownArticles
    walk_store: WalkStore
    zone: ZoneInfo
    #: Entries published before it are old; set by the spiders that take a ``since`` argument.
    cutoff: datetime | None = None
    #: Query parameters of its URLs that change with every request (a timestamp): not part of
    #: what a request fetches (:meth:`claim_key`).
    volatile_parameters: tuple[str, ...] = ()
    #: A worker of a batch's frontier (:mod:`crawler.distributed.frontier`), set when it opens:
    #: :meth:`triage` asks it which articles other workers have claimed. ``None`` on one host.
    frontier: Any = None

    def __init__(self, *args: Any, follow: str | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.follow_arg = follow
        self.follower: Follower | None = None
        # What this run requested, by native id or URL: an entry in two listings is fetched once.
        self.requested: set[str] = set()
        # This run's listing walks, by listing key.
        self.walks: dict[str, Walk] = {}

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> Self:
        spider = super().from_crawler(crawler, *args, **kwargs)
        spider.zone = ZoneInfo(option(crawler.settings, "NEWS_DEFAULT_TIMEZONE"))
        spider.known = KnownArticles.from_crawler(crawler)
        spider.walk_store = WalkStore.from_settings(crawler.settings, spider.name)
        if spider.follow_arg:
            spider.start_following(crawler, parse_interval(spider.follow_arg))
        return spider

    # --- follow mode (crawler.follow) ---------------------------------------------------------

    def start_following(self, crawler: Crawler, interval: float) -> None:
        """Keep this crawl polling every ``interval`` seconds; SIGTERM (``shutdown``) becomes a
        clean end of the run. A worker of a batch cannot follow: its batch claims each listing
        page once, so every poll after the first would be dropped as claimed."""
        if is_worker(crawler.settings):
            raise ValueError(
                "follow mode runs on one host: it cannot be a worker of a batch "
                "(unset NEWS_REDIS_URL, or crawl from a timer instead of following)"
            )
        policy = Policy.from_settings(crawler.settings, interval)
        self.follower = Follower(
            crawler, policy, self.poll_requests, self.end_walks, self.followed, self.follow_failed
        )
        self.follower.connect()
        ok_reasons = option(crawler.settings, "NEWS_RUN_OK_REASONS")
        # Settings are still open while the spider is built (Scrapy applies them after).
        crawler.settings.set("NEWS_RUN_OK_REASONS", [*ok_reasons, "shutdown"], priority="spider")
        logger.info("Following: a poll every %.1f s (%s)", interval, policy)

    def poll_requests(self) -> dict[str, scrapy.Request]:
        """Return the first-page requests of a poll, by listing key (spiders that can follow)."""
        raise NotImplementedError(f"{self.name} has no follow mode")

    def followed(self, response: Response, **kwargs: Any) -> Any:
        """Read a poll's response with the callback it was built with; a 304 is not read."""
        assert self.follower is not None
        if not self.follower.answered(response):
            return []
        return getattr(self, response.meta[FOLLOW_META]["callback"])(response, **kwargs)

    def follow_failed(self, failure: Failure) -> Any:
        """Count a failed poll (``Retry-After`` noted), then as every failed request."""
        assert self.follower is not None
        self.follower.failed(failure)
        return self.failed(failure)

    def end_walks(self) -> None:
        """End this poll's walks once their articles are stored: mark them complete, forget
        what they requested (the next poll asks storage). A walk cut at its page limit stays
        unfinished: the next poll walks on past it, so a backlog is never skipped."""
        self.finish_walks(clean=True, unfinished=("max_pages",))
        self.walks.clear()
        self.requested.clear()

    def finish_walks(self, *, clean: bool, unfinished: tuple[str, ...] = ()) -> None:
        """Mark the walks complete when ``clean`` (every article they requested is stored) and
        they reached a stop rule (other than those ``unfinished``); count and log the others as
        unfinished."""
        for walk in self.walks.values():
            complete = clean and walk.stop is not None and walk.stop not in unfinished
            if complete:
                self.walk_store.save(
                    walk.listing, walk.record(complete=True), walk.started_at, walk.stop
                )
            self.crawler.stats.inc_value(f"news/walk/{'complete' if complete else 'unfinished'}")
            if not complete:
                logger.info(
                    "The walk of %s is unfinished (reached page %s, %s): the next run resumes it",
                    walk.listing,
                    walk.reached.page if walk.reached else "-",
                    walk.stop or "no stop rule reached",
                )

    def closed(self, reason: str) -> None:
        """Mark the walks complete when the crawl finished cleanly; release storage.

        Called after the item pipelines closed: every article the walks requested is stored
        (or spooled) by now. A walk with no stop reason (a listing page failed) stays unfinished.
        """
        self.finish_walks(clean=reason == "finished")
        self.known.close()
        self.walk_store.close()

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
        claimed = self.frontier.claimed(unknown) if self.frontier is not None else set()
        for entry, identity in zip(fresh, ids, strict=True):
            if identity not in unknown:
                result.known += 1
                self.count(scope, "skipped/known", entry.url)
                continue
            result.unknown += 1
            key = entry.native_id or entry.url
            if key in self.requested:
                self.count(scope, "skipped/duplicate", entry.url)
                continue
            if identity in claimed:
                self.count(scope, "skipped/claimed", entry.url)
                continue
            self.requested.add(key)
            result.new.append(entry)
        if self.follower is not None:
            self.follower.read(len(result.new))
        return result

    def claim_key(self, request: scrapy.Request) -> str:
        """Return what a request fetches, as a worker of a batch claims it: the id of the
        article of its ``entry``, else its method and canonical URL without the volatile
        parameters."""
        entry = request.cb_kwargs.get("entry")
        if isinstance(entry, ListingEntry):
            identity = entry_id(self.scope_of(request).source, entry)
            if identity:
                return identity
        url = request.url
        if self.volatile_parameters:
            url = url_query_cleaner(url, self.volatile_parameters, remove=True)
        return f"{request.method} {canonicalize_url(url)}"

    def is_old(self, entry: ListingEntry) -> bool:
        """Tell whether an entry was published before the cutoff (unreadable times are kept)."""
        if self.cutoff is None or not entry.published_text:
            return False
        parsed = parse_publish_time(
            entry.published_text, now=datetime.now(UTC), zone=self.zone, fallback=None
        )
        return parsed is not None and parsed.at < self.cutoff

    def begin(self, scope: Scope, listing: str, page: int) -> Walk:
        """Start (or take up) the walk of ``listing``, from its previous walk's record."""
        walk = start_walk(listing, self.walk_store.load(listing), page, datetime.now(UTC))
        self.crawler.stats.inc_value("news/walk/started")
        if walk.resumed and page > 1 and self.frontier is not None:
            # A worker of a batch takes up a walk another worker began: nothing was cut short.
            self.crawler.stats.inc_value("news/walk/continued")
        elif walk.resumed:
            self.crawler.stats.inc_value("news/walk/resumed")
            logger.warning(
                "%s: the previous walk of %s did not finish (%s): this walk resumes it, walking "
                "on past known pages until it passes that walk's frontier",
                scope.label,
                listing,
                f"its frontier was page {walk.target.page}" if walk.target else "frontier unknown",
            )
        self.walks[listing] = walk
        return walk

    def step(
        self,
        scope: Scope,
        listing_key: str,
        listing: Listing,
        triage: Triage,
        end: str | None,
        page: int,
        max_pages: int,
        url: str,
    ) -> str | None:
        """Walk one listing page: record how far the walk reached, and return why it ends here
        (counted and logged), or ``None`` to follow the next page.

        Call it before yielding the page's requests: the record is then never behind them.
        """
        walk = self.walks.get(listing_key) or self.begin(scope, listing_key, page)
        ids = [i for i in (entry_id(scope.source, e) for e in listing.entries) if i]
        if walk.holding:
            passed, walk.seen_target = passes(walk.target, ids, walk.seen_target)
            if passed:
                walk.holding = False
                walk.passed_at = page
                self.crawler.stats.inc_value("news/walk/passed")
                logger.info(
                    "%s: %s passed its previous frontier at page %d", scope.label, listing_key, page
                )
        following = self.follower is not None
        if following:
            max_pages = follow_page_limit(walk, max_pages)
        # The page where a walk passes its frontier lists the frontier's stored stories, then
        # the ones it never reached: not a page to stop at for holding stored stories.
        partial_stops = following and walk.passed_at != page
        reason = stop_reason(
            listing, triage, end, page, max_pages, holding=walk.holding, following=partial_stops
        )
        if walk.holding and listing.entries and not triage.unknown:
            self.crawler.stats.inc_value("news/walk/walked_past_known")
            logger.debug("%s: nothing new at %s, walked past (resuming)", scope.label, url)
        walk.reached = deepest(walk.reached, page, ids)
        walk.stop = reason
        self.walk_store.save(listing_key, walk.record(), walk.started_at, reason)
        if reason is not None:
            self.stop(scope, reason, url)
        return reason

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
