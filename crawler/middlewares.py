"""Downloader middlewares of the project.

:class:`RetryBackoffMiddleware` gives Scrapy's retries (``RETRY_*``, which resend at once) an
exponential pause: a 429 or 5xx means "not now", and asking again immediately only makes it worse.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Self

from scrapy.exceptions import NotConfigured

from crawler.options import option

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.crawler import Crawler
    from scrapy.http import Response

logger = logging.getLogger(__name__)

RETRY_AFTER_META = "news_retry_after"


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
    """Pause before each retry: ``NEWS_RETRY_BACKOFF_BASE * 2**(n-1)`` seconds, at most
    ``NEWS_RETRY_BACKOFF_MAX``, or the server's ``Retry-After`` when it says more (same cap).

    Place it after Scrapy's RetryMiddleware (priority above 550) so it sees responses first.
    """

    def __init__(self, base: float, cap: float) -> None:
        self.base = base
        self.cap = cap

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        settings = crawler.settings
        base = option(settings, "NEWS_RETRY_BACKOFF_BASE")
        if base <= 0 or not settings.getbool("RETRY_ENABLED"):
            raise NotConfigured
        return cls(base, option(settings, "NEWS_RETRY_BACKOFF_MAX"))

    def delay(self, request: Request) -> float:
        """Return the pause before sending ``request`` (0 for a first attempt)."""
        attempt = int(request.meta.get("retry_times", 0))
        if attempt < 1:
            return 0.0
        wait = self.base * 2 ** (attempt - 1)
        wait = max(wait, float(request.meta.get(RETRY_AFTER_META) or 0.0))
        return min(wait, self.cap)

    async def process_request(self, request: Request) -> None:
        wait = self.delay(request)
        if wait > 0:
            logger.debug("Retry %s of %s in %.1f s", request.meta["retry_times"], request, wait)
            await asyncio.sleep(wait)

    def process_response(self, request: Request, response: Response) -> Response:
        seconds = retry_after_seconds(response.headers.get("Retry-After"))
        if seconds is not None:
            request.meta[RETRY_AFTER_META] = seconds
        return response
