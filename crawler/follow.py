"""Follow mode: one long-running crawl that re-reads a listing's first page every interval.

``scrapy crawl eastmoney_724 -a follow=10s`` (also ``eastmoney`` and ``site`` sources declaring
``follow = true``) does not close when its walk ends. The :class:`Follower` waits for the walk to
end (the spider is idle: every request answered, every item through the pipelines), then

1. sends :data:`walk_ended`: the storage stage writes its batch now, not after N items;
2. marks the walk complete (the next poll starts a fresh one) and forgets what it requested;
3. picks the pause before the next poll (:func:`next_delay`): the interval after a poll that found
   something new; longer by ``NEWS_FOLLOW_BACKOFF`` after each poll that found nothing new (a
   ``304 Not Modified`` included); doubled after each failed poll; at least what a ``Retry-After``
   asked; then stretched at random by up to ``NEWS_FOLLOW_JITTER`` (:func:`jittered`);
4. every ``NEWS_FOLLOW_RECORD_SECONDS`` (or ``NEWS_FOLLOW_RECORD_POLLS`` polls) sends
   :data:`period_ended`: the run recorder writes a record of that period, health-checked on it.

A poll walks on past the first page only while every entry of a page is new (the walk's stop rule
``reached_known``), so a burst larger than a page is walked to its end and nothing is skipped.
The first page is asked for conditionally (``If-None-Match``, ``If-Modified-Since``) once the
server gave an ``ETag`` or ``Last-Modified``. Polls are not retried by Scrapy's retry middleware:
a failed poll is the follower's to space out. SIGTERM stops the crawl as usual (finish reason
``shutdown``, a clean end for a follower); an unfinished walk is resumed by the next start.

Counted under ``news/follow/``: ``polls``, ``new`` (polls that found something), ``unchanged``,
``not_modified`` (304 answers), ``failed``, ``retry_after``, ``periods``.
"""

from __future__ import annotations

import logging
import random
import re
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from scrapy import signals
from scrapy.exceptions import DontCloseSpider
from scrapy.spidermiddlewares.httperror import HttpError
from scrapy.utils.asyncio import call_later

from crawler.middlewares import RetryBackoffMiddleware, retry_after_seconds
from crawler.options import option

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from scrapy import Request
    from scrapy.crawler import Crawler
    from scrapy.http import Response
    from scrapy.settings import BaseSettings
    from scrapy.utils.asyncio import CallLaterResult
    from twisted.python.failure import Failure

logger = logging.getLogger(__name__)

#: Sent when a following crawl's walk has ended: buffered articles are to be stored now.
walk_ended = object()
#: Sent every record period of a following crawl: the run recorder writes a period record.
period_ended = object()
#: Request meta of a poll: ``{"key": <listing key>, "callback": <the spider method's name>}``.
FOLLOW_META = "news_follow"
#: The longest ``Retry-After`` honoured (a server asking for more is asked again after a day).
MAX_RETRY_AFTER = 86400.0
_INTERVAL_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$", re.IGNORECASE)
_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}


def parse_interval(text: str) -> float:
    """Read the ``follow`` argument as seconds (``10s``, ``0.2s``, ``500ms``, ``2m``, ``1h``; a
    bare number is seconds); raise ``ValueError`` when it is no positive duration."""
    match = _INTERVAL_RE.match(str(text))
    seconds = float(match.group(1)) * _UNITS[(match.group(2) or "s").lower()] if match else 0.0
    if seconds <= 0:
        raise ValueError(f"follow={text!r}: expected a positive interval like 10s, 0.5s or 2m")
    return seconds


@dataclass(frozen=True, slots=True)
class Policy:
    """How a follower spaces its polls (``NEWS_FOLLOW_*``)."""

    interval: float
    backoff: float = 1.5
    max_delay: float = 300.0
    jitter: float = 0.1
    record_seconds: float = 3600.0
    record_polls: int = 0

    @classmethod
    def from_settings(cls, settings: BaseSettings, interval: float) -> Policy:
        """Read the policy of a follower polling every ``interval`` seconds."""
        backoff = option(settings, "NEWS_FOLLOW_BACKOFF")
        jitter = option(settings, "NEWS_FOLLOW_JITTER")
        if backoff < 1 or not 0 <= jitter < 1:
            raise ValueError("NEWS_FOLLOW_BACKOFF must be ≥ 1 and NEWS_FOLLOW_JITTER in [0, 1)")
        return cls(
            interval=interval,
            backoff=backoff,
            max_delay=max(interval, option(settings, "NEWS_FOLLOW_MAX_DELAY")),
            jitter=jitter,
            record_seconds=option(settings, "NEWS_FOLLOW_RECORD_SECONDS"),
            record_polls=option(settings, "NEWS_FOLLOW_RECORD_POLLS"),
        )


def next_delay(
    policy: Policy, unchanged: int, failed: int, retry_after: float | None = None
) -> float:
    """Return the pause before the next poll, before jitter.

    ``unchanged``: polls in a row that found nothing new; ``failed``: polls in a row that failed
    (a failure counts double: ``2**failed``). The pause never exceeds ``max_delay``, except that a
    ``Retry-After`` is always honoured (up to :data:`MAX_RETRY_AFTER`).
    """
    factor = policy.backoff**unchanged * 2.0**failed
    delay = min(policy.interval * factor, policy.max_delay)
    if retry_after is not None:
        delay = max(delay, min(retry_after, MAX_RETRY_AFTER))
    return delay


def jittered(delay: float, jitter: float, draw: Callable[[], float] = random.random) -> float:
    """Return ``delay`` stretched or shrunk by up to the share ``jitter`` (``draw`` in [0, 1))."""
    return delay * (1.0 + jitter * (2.0 * draw() - 1.0))


def validators(headers: Mapping[str, Any]) -> dict[str, str]:
    """Return the conditional-request headers that answer a response's ``ETag`` and
    ``Last-Modified`` (empty when it gave neither)."""
    wanted = {"ETag": "If-None-Match", "Last-Modified": "If-Modified-Since"}
    found = {}
    for name, condition in wanted.items():
        value = headers.get(name)
        if value:
            found[condition] = value.decode("latin-1") if isinstance(value, bytes) else str(value)
    return found


def retries_held(crawler: Crawler) -> int:
    """Return how many requests the retry back-off holds back (:class:`~crawler.middlewares.
    RetryBackoffMiddleware`): the engine sees none of them, so the spider may be idle."""
    engine = crawler.engine
    if engine is None:
        return 0
    middlewares = engine.downloader.middleware.middlewares
    return sum(len(m.held) for m in middlewares if isinstance(m, RetryBackoffMiddleware))


@dataclass(slots=True)
class Poll:
    """What one poll (its walk) came to."""

    new: int = 0
    read: int = 0
    not_modified: int = 0
    failed: int = 0
    retry_after: float | None = None

    def outcome(self) -> str:
        """Return ``failed`` (a poll request failed, or no listing could be read), ``new`` or
        ``unchanged``."""
        if self.failed or not (self.read or self.not_modified):
            return "failed"
        return "new" if self.new else "unchanged"


class Follower:
    """Keep a listing spider polling; see the module docstring.

    ``polls`` builds a poll's first-page requests by listing key; ``ended`` is the spider's end of
    a walk (mark walks complete, forget this walk's requests); ``callback`` and ``errback`` take
    every poll's answer (the spider's :meth:`~crawler.spiders.walk.ListingSpider.followed`, which
    hands it on to the request's own callback, and ``follow_failed``).
    """

    def __init__(
        self,
        crawler: Crawler,
        policy: Policy,
        polls: Callable[[], dict[str, Request]],
        ended: Callable[[], None],
        callback: Callable[..., Any],
        errback: Callable[[Failure], Any],
    ) -> None:
        self.crawler = crawler
        self.callback = callback
        self.errback = errback
        self.policy = policy
        self.polls = polls
        self.ended = ended
        #: Per listing key: the conditional headers its last answer allows.
        self.conditions: dict[str, dict[str, str]] = {}
        #: The poll under way (``None`` while the next one waits).
        self.poll: Poll | None = None
        self.unchanged = 0
        self.failures = 0
        self.pending: CallLaterResult | None = None
        self.count = 0
        self.period_polls = 0
        self.period_start = time.monotonic()

    def connect(self) -> None:
        """Hook the follower to the crawl's signals."""
        self.crawler.signals.connect(self.idle, signal=signals.spider_idle)
        self.crawler.signals.connect(self.closed, signal=signals.spider_closed)

    def start(self) -> None:
        """Send a poll: the first page of every followed listing."""
        self.pending = None
        self.poll = Poll()
        self.count += 1
        self.period_polls += 1
        self.inc("polls")
        engine = self.crawler.engine
        if engine is None or engine.spider is None:
            return
        for key, request in self.polls().items():
            meta: dict[str, Any] = {
                FOLLOW_META: {"key": key, "callback": request.callback.__name__},  # type: ignore[union-attr]
                "dont_retry": True,
                "handle_httpstatus_list": [304],
            }
            poll = request.replace(
                callback=self.callback, errback=self.errback, meta={**request.meta, **meta}
            )
            for name, value in self.conditions.get(key, {}).items():
                poll.headers[name] = value
            engine.crawl(poll)

    def answered(self, response: Response) -> bool:
        """Take a poll's response: remember its validators; tell whether it is to be read
        (``False`` for a ``304 Not Modified``)."""
        key = response.meta[FOLLOW_META]["key"]
        poll = self.poll or Poll()
        if response.status == 304:
            poll.not_modified += 1
            self.inc("not_modified")
            return False
        if found := validators(response.headers):
            self.conditions[key] = found
        else:
            self.conditions.pop(key, None)
        return True

    def read(self, new: int) -> None:
        """Count a listing page a poll's walk read and the new entries it found."""
        if self.poll is not None:
            self.poll.read += 1
            self.poll.new += new

    def failed(self, failure: Failure) -> None:
        """Take a poll that got no usable answer; note the server's ``Retry-After``."""
        if self.poll is None:
            return
        self.poll.failed += 1
        if failure.check(HttpError):
            response = failure.value.response
            seconds = retry_after_seconds(response.headers.get("Retry-After"))
            if seconds is not None:
                self.inc("retry_after")
                current = self.poll.retry_after or 0.0
                self.poll.retry_after = max(current, seconds)

    def idle(self) -> None:
        """The walk ended (or the pause runs): store, mark, schedule the next poll; stay open."""
        if self.pending is not None:
            raise DontCloseSpider
        if self.poll is not None and retries_held(self.crawler):
            # A request of this walk waits out a retry back-off: the walk is not over yet, and
            # marking it complete now would lose that article if the process died meanwhile.
            raise DontCloseSpider
        if self.poll is not None:
            self.end(self.poll)
        delay = 0.0 if self.poll is None else self.delay()
        self.poll = None
        self.pending = call_later(delay, self.start)
        raise DontCloseSpider

    def end(self, poll: Poll) -> None:
        """Close a poll's walk: storage writes its batch, then the walk is marked complete."""
        self.crawler.signals.send_catch_log(walk_ended)
        self.ended()
        outcome = poll.outcome()
        self.inc(outcome)
        if outcome == "new":
            self.unchanged = self.failures = 0
        elif outcome == "unchanged":
            self.unchanged += 1
            self.failures = 0
        else:
            self.failures += 1
        due = time.monotonic() - self.period_start >= self.policy.record_seconds
        if due or 0 < self.policy.record_polls <= self.period_polls:
            self.inc("periods")
            self.crawler.signals.send_catch_log(period_ended)
            self.period_polls = 0
            self.period_start = time.monotonic()

    def delay(self) -> float:
        """Return the pause before the next poll, jitter included, and log it."""
        assert self.poll is not None
        base = next_delay(self.policy, self.unchanged, self.failures, self.poll.retry_after)
        delay = jittered(base, self.policy.jitter)
        logger.debug("Poll %d: %s; next in %.1f s", self.count, self.poll.outcome(), delay)
        if self.poll.outcome() == "failed":
            logger.warning(
                "Poll %d failed (%d in a row): next poll in %.1f s",
                self.count,
                self.failures,
                delay,
            )
        return delay

    def closed(self) -> None:
        """Cancel the next poll."""
        if self.pending is not None:
            self.pending.cancel()
            self.pending = None

    def inc(self, key: str) -> None:
        """Add one to ``news/follow/<key>``."""
        if self.crawler.stats is not None:
            self.crawler.stats.inc_value(f"news/follow/{key}")
