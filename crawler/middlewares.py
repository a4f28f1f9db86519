"""Downloader middlewares of the project.

:class:`RetryBackoffMiddleware` gives Scrapy's retries (``RETRY_*``, which resend at once) an
exponential pause: a 429 or 5xx means "not now", and asking again immediately only makes it worse.
The pause belongs to the failing host's download slot alone; see the class for how it waits
without holding a place among ``CONCURRENT_REQUESTS``.

:class:`PageSizeLimitMiddleware` refuses a response larger than its download cap
(``DOWNLOAD_MAXSIZE``, or the request's ``download_maxsize``) before any parser or the extractor
reads it, and counts the downloads Scrapy cancelled for their size.

:class:`RedirectMiddleware` and :class:`MetaRefreshMiddleware` replace Scrapy's: a ``Location`` or
``<meta http-equiv=refresh>`` target that is not http(s) (``javascript:``, ``mailto:``,
``data:``…) is not followed and the page is read as it is, where Scrapy's raise ``ValueError:
Missing scheme`` and lose the page.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from time import monotonic
from typing import TYPE_CHECKING, Any, Self
from urllib.parse import urlsplit

from scrapy import signals
from scrapy.downloadermiddlewares import redirect
from scrapy.exceptions import DontCloseSpider, DownloadCancelledError, IgnoreRequest, NotConfigured
from scrapy.utils.asyncio import call_later

from crawler.options import option

if TYPE_CHECKING:
    from scrapy import Request, Spider
    from scrapy.crawler import Crawler
    from scrapy.http import Response
    from scrapy.statscollectors import StatsCollector
    from scrapy.utils.asyncio import CallLaterResult

logger = logging.getLogger(__name__)

RETRY_AFTER_META = "news_retry_after"
#: Set on a held request when its wait is over, so that scheduling it again lets it through.
RELEASED_META = "news_backoff_released"
#: Redirect targets a crawl follows; any other scheme is a page's script or mail link.
FOLLOWED_SCHEMES: frozenset[str] = frozenset({"http", "https"})


def retry_after_seconds(value: bytes | str | None, now: datetime | None = None) -> float | None:
    """Read a ``Retry-After`` header: seconds, or an HTTP date; ``None`` when unreadable."""
    if not value:
        return None
    text = value.decode("latin-1") if isinstance(value, bytes) else value
    text = text.strip()
    if text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


class RetryBackoffMiddleware:
    """Pause a download slot before each retry: ``NEWS_RETRY_BACKOFF_BASE * 2**(n-1)`` seconds, at
    most ``NEWS_RETRY_BACKOFF_MAX``, or the server's ``Retry-After`` when it says more (same cap).

    Scrapy counts a request against ``CONCURRENT_REQUESTS`` from the moment the engine hands it to
    the downloader until its response has passed every downloader middleware; a request waiting
    in a slot's queue (a slot ``delay``) counts too. A wait inside the downloader, however done,
    therefore takes a place from every host. So the wait happens before the downloader: when a
    request reaches the scheduler (``request_scheduled``) while its slot is backing off, it is
    dropped from scheduling (``IgnoreRequest``, which the engine takes silently there) and given
    back to the engine (``engine.crawl``) when the slot's pause ends. Every request of that slot
    waits, first attempts included (a host that answered 503 is not asked again before its time);
    other hosts never wait. While requests are held the spider is kept open (``DontCloseSpider``).

    Counted under ``news/retry/backoff/``: ``held`` (requests held back), ``abandoned`` (still
    held when the crawl closed: they are not in a JOBDIR queue). Place it after Scrapy's
    RetryMiddleware (priority above 550) so it sees a failed response first.
    """

    def __init__(self, crawler: Crawler, base: float, cap: float) -> None:
        self.crawler = crawler
        self.base = base
        self.cap = cap
        #: Per download slot: when (``time.monotonic``) its pause ends.
        self.until: dict[str, float] = {}
        self.held: dict[Request, CallLaterResult] = {}

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        settings = crawler.settings
        base = option(settings, "NEWS_RETRY_BACKOFF_BASE")
        if base <= 0 or not settings.getbool("RETRY_ENABLED"):
            raise NotConfigured
        middleware = cls(crawler, base, option(settings, "NEWS_RETRY_BACKOFF_MAX"))
        crawler.signals.connect(middleware.request_scheduled, signal=signals.request_scheduled)
        crawler.signals.connect(middleware.spider_idle, signal=signals.spider_idle)
        crawler.signals.connect(middleware.spider_closed, signal=signals.spider_closed)
        return middleware

    def delay(self, request: Request) -> float:
        """Return the pause a request's attempt asks of its slot (0 for a first attempt)."""
        attempt = int(request.meta.get("retry_times", 0))
        if attempt < 1:
            return 0.0
        wait = self.base * 2 ** (attempt - 1)
        wait = max(wait, float(request.meta.get(RETRY_AFTER_META) or 0.0))
        return min(wait, self.cap)

    def request_scheduled(self, request: Request, spider: Spider) -> None:
        """Hold ``request`` back while its slot pauses; a retry starts or extends the pause."""
        if request.meta.pop(RELEASED_META, False):
            return
        assert self.crawler.engine is not None
        slot = self.crawler.engine.downloader.get_slot_key(request)
        now = monotonic()
        if wait := self.delay(request):
            if now + wait > self.until.get(slot, 0.0):
                self.until[slot] = now + wait
                logger.info(
                    "Backing off %s for %.1f s before retry %d of %s",
                    slot or "(no host)",
                    wait,
                    request.meta["retry_times"],
                    request.url,
                )
        remaining = self.until.get(slot, 0.0) - now
        if remaining <= 0:
            return
        self.held[request] = call_later(remaining, self._release, request)
        self._inc("held")
        logger.debug("Holding %s for %.1f s while %s backs off", request, remaining, slot)
        raise IgnoreRequest(f"held for {remaining:.1f} s while {slot} backs off")

    def _release(self, request: Request) -> None:
        """Give a held request back to the engine, marked so it is not held again."""
        del self.held[request]
        assert self.crawler.engine is not None
        if self.crawler.engine.spider is None:
            return
        request.meta[RELEASED_META] = True
        self.crawler.engine.crawl(request)

    def spider_idle(self, spider: Spider) -> None:
        """Keep the spider open while requests are held."""
        if self.held:
            raise DontCloseSpider

    def spider_closed(self, spider: Spider, reason: str) -> None:
        """Drop the requests still held, counted and logged."""
        for handle in self.held.values():
            handle.cancel()
        if self.held:
            self._inc("abandoned", len(self.held))
            logger.warning(
                "%d requests waiting for a retry were not sent: the crawl closed (%s)",
                len(self.held),
                reason,
            )
        self.held.clear()

    def process_response(self, request: Request, response: Response) -> Response:
        seconds = retry_after_seconds(response.headers.get("Retry-After"))
        if seconds is not None:
            request.meta[RETRY_AFTER_META] = seconds
        return response

    def _inc(self, key: str, count: int = 1) -> None:
        """Add ``count`` to the stat ``news/retry/backoff/<key>``."""
        if self.crawler.stats is not None:
            self.crawler.stats.inc_value(f"news/retry/backoff/{key}", count)


class PageSizeLimitMiddleware:
    """Refuse responses larger than their download cap before anything reads them.

    Scrapy's HTTP handlers cancel a download past ``DOWNLOAD_MAXSIZE`` (or the request's
    ``download_maxsize``, as configured sources set it); other handlers (``file://``, the HTTP
    cache) do not, so a response over the cap is refused here (``IgnoreRequest``). Both are
    counted as ``news/download/too_large`` and logged with the URL. Place it after
    HttpCompressionMiddleware (below 590) so it measures decompressed bodies.
    """

    def __init__(self, stats: StatsCollector | None, maxsize: int) -> None:
        self.stats = stats
        self.maxsize = maxsize

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler.stats, crawler.settings.getint("DOWNLOAD_MAXSIZE"))

    def cap(self, request: Request) -> int:
        """Return the request's download cap in bytes (0: none)."""
        return int(request.meta.get("download_maxsize", self.maxsize))

    def process_response(self, request: Request, response: Response) -> Response:
        cap = self.cap(request)
        if cap and len(response.body) > cap:
            detail = f"{len(response.body)} bytes, more than the {cap} allowed"
            self._too_large(request, detail)
            raise IgnoreRequest(f"too_large: {detail}")
        return response

    def process_exception(self, request: Request, exception: Exception) -> None:
        # Scrapy cancels a download in flight only when it grows past its cap.
        if isinstance(exception, DownloadCancelledError):
            self._too_large(request, f"more than the {self.cap(request)} bytes allowed")

    def _too_large(self, request: Request, detail: str) -> None:
        """Count and log a page refused for its size."""
        if self.stats is not None:
            self.stats.inc_value("news/download/too_large")
        logger.warning("Page too large, not read: %s (%s)", request.url, detail)


class _HttpRedirectsOnly(redirect.BaseRedirectMiddleware):
    """Follow redirects to http(s) only; any other target leaves the page as it is.

    Every redirect Scrapy's middlewares follow is built by ``_build_redirect_request``, and a
    ``Request`` for a ``javascript:`` URL raises ``ValueError`` there: the check sits in front.
    """

    def _build_redirect_request(
        self, source_request: Request, response: Response, *, url: str, **kwargs: Any
    ) -> Request:
        scheme = urlsplit(url).scheme.lower()
        if scheme not in FOLLOWED_SCHEMES:
            raise _NotFollowed(scheme or "(none)")
        return super()._build_redirect_request(source_request, response, url=url, **kwargs)

    def process_response(self, request: Request, response: Response) -> Request | Response:
        try:
            return super().process_response(request, response)  # type: ignore[misc]
        except _NotFollowed as target:
            if self.crawler.stats is not None:
                self.crawler.stats.inc_value("news/redirect/not_followed")
            logger.info(
                "Not following a redirect to a %s: URL from %s; the page is read as it is",
                target,
                response.url,
            )
            return response


class _NotFollowed(Exception):
    """A redirect target with a scheme a crawl does not follow (the scheme is the message)."""


# Scrapy's process_response still takes a deprecated spider argument; these do not.
class RedirectMiddleware(_HttpRedirectsOnly, redirect.RedirectMiddleware):  # type: ignore[misc]
    """Scrapy's ``Location`` redirects, http(s) targets only."""


class MetaRefreshMiddleware(_HttpRedirectsOnly, redirect.MetaRefreshMiddleware):  # type: ignore[misc]
    """Scrapy's ``<meta http-equiv=refresh>`` redirects, http(s) targets only."""
