"""Politeness across workers: each download slot's delay and concurrency held for the batch.

Scrapy keeps a site's delay (``DOWNLOAD_DELAY``, a source's ``download_delay``, AutoThrottle's)
and its concurrency (``CONCURRENT_REQUESTS_PER_DOMAIN``, a source's ``concurrency``) per process:
N workers would hit a site N times as hard. :class:`SharedLimiter`, a downloader middleware of
workers only, makes every request first take a turn from Redis, by its download slot (a source's
slot, else the host), with one script (:data:`TAKE_TURN`):

- **delay**: a request may start once the slot's previous start, by any worker, is ``delay``
  seconds old (the slot's delay in this worker: AutoThrottle's when it raised it);
- **concurrency**: at most ``concurrency`` requests of the slot in flight in the whole batch,
  each holding a place until its response or error (or for ``NEWS_REDIS_LEASE_SECONDS``, when
  its worker died with it).

A worker's requests of one slot take their turns in order, one asking Redis at a time; one
that must wait sleeps (without blocking the worker) for as long as Redis says, or while the
slot is full until this worker gives back a place (at most ``FULL_WAIT``), and asks again.
Redis's clock decides, so hosts need not agree on the time. Counted under
``news/batch/limiter/waits`` and ``news/batch/limiter/waited_ms`` (requests that waited for their
turn, in this worker's queue or for Redis, and how long in all).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from typing import TYPE_CHECKING, Any, Self

from scrapy.exceptions import NotConfigured

from crawler.distributed import batch_keys, connect, is_worker
from crawler.options import option

if TYPE_CHECKING:
    import redis
    from scrapy import Request
    from scrapy.crawler import Crawler
    from scrapy.http import Response

    from crawler.distributed import BatchKeys

logger = logging.getLogger(__name__)

#: Meta key of the place a request holds in its slot.
PLACE = "news_limiter_place"
#: What :meth:`SlotTurns.take` answers while the slot has no free place.
SLOT_FULL = -1.0
#: Longest wait (s) before asking again while the slot is full: a place this worker gives back
#: wakes its next request at once, one another worker gives back is seen at the next ask.
FULL_WAIT = 0.02

# KEYS: the slot's next start (ms, Redis time), its places (sorted set: place -> expiry).
# ARGV: delay (ms), concurrency, place, lease (ms). Returns 0 (go) or the wait in ms.
TAKE_TURN = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
local concurrency = tonumber(ARGV[2])
if concurrency > 0 and redis.call('ZCARD', KEYS[2]) >= concurrency then return -1 end
local next_start = tonumber(redis.call('GET', KEYS[1]) or '0')
if next_start > now then return next_start - now end
local delay = tonumber(ARGV[1])
if delay > 0 then redis.call('SET', KEYS[1], now + delay, 'PX', delay + 1000) end
redis.call('ZADD', KEYS[2], now + tonumber(ARGV[4]), ARGV[3])
redis.call('PEXPIRE', KEYS[2], tonumber(ARGV[4]))
return 0
"""


class SlotTurns:
    """Turns of one batch's download slots, taken from Redis (see the module's docstring)."""

    def __init__(self, server: redis.Redis, keys: BatchKeys, lease_seconds: float) -> None:
        self.server = server
        self.keys = keys
        self.lease_ms = int(lease_seconds * 1000)
        self.script = server.register_script(TAKE_TURN)

    def take(self, slot: str, delay: float, concurrency: int, place: str) -> float:
        """Take a turn in ``slot`` for ``place``: 0 when it may start now, :data:`SLOT_FULL`
        when the slot has no free place, else the seconds to wait for its delay."""
        prefix = self.keys.limit(slot)
        answer = int(
            self.script(
                keys=[f"{prefix}:next", f"{prefix}:places"],
                args=[int(delay * 1000), concurrency, place, self.lease_ms],
            )
        )
        if answer < 0:
            return SLOT_FULL
        return answer / 1000

    def leave(self, slot: str, place: str) -> None:
        """Give back ``place`` in ``slot``."""
        self.server.zrem(f"{self.keys.limit(slot)}:places", place)


class SharedLimiter:
    """Downloader middleware of workers: a request starts only when the batch gives it a turn."""

    def __init__(self, crawler: Crawler, turns: SlotTurns) -> None:
        self.crawler = crawler
        self.turns = turns
        settings = crawler.settings
        self.slots: dict[str, dict[str, Any]] = settings.getdict("DOWNLOAD_SLOTS")
        self.delay = settings.getfloat("DOWNLOAD_DELAY")
        self.concurrency = settings.getint("CONCURRENT_REQUESTS_PER_DOMAIN")
        self.queues: dict[str, asyncio.Lock] = {}
        self.freed: dict[str, asyncio.Event] = {}

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        if not is_worker(crawler.settings):
            raise NotConfigured("NEWS_REDIS_URL is unset: politeness is this process's own")
        turns = SlotTurns(
            connect(crawler.settings),
            batch_keys(crawler.settings, crawler.spidercls.name),
            option(crawler.settings, "NEWS_REDIS_LEASE_SECONDS"),
        )
        return cls(crawler, turns)

    def limits(self, slot: str) -> tuple[float, int]:
        """Return a slot's delay and concurrency as this worker would apply them alone."""
        configured = self.slots.get(slot, {})
        delay = float(configured.get("delay", self.delay))
        assert self.crawler.engine is not None
        local = self.crawler.engine.downloader.slots.get(slot)
        if local is not None:
            delay = max(delay, local.delay)  # AutoThrottle's, when it slowed the slot down
        return delay, int(configured.get("concurrency", self.concurrency))

    async def process_request(self, request: Request) -> None:
        """Wait for the request's turn in its slot."""
        assert self.crawler.engine is not None
        slot = self.crawler.engine.downloader.get_slot_key(request)
        delay, concurrency = self.limits(slot)
        place = uuid.uuid4().hex
        started = time.monotonic()
        # The worker's requests of a slot queue here, in order, and the first asks Redis.
        async with self.queues.setdefault(slot, asyncio.Lock()):
            while (wait := self.turns.take(slot, delay, concurrency, place)) != 0:
                if wait != SLOT_FULL:
                    await asyncio.sleep(wait)
                    continue
                freed = self.freed.setdefault(slot, asyncio.Event())
                freed.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(freed.wait(), FULL_WAIT)
        request.meta[PLACE] = (slot, place)
        if waited := round((time.monotonic() - started) * 1000):
            stats = self.crawler.stats
            stats.inc_value("news/batch/limiter/waits")
            stats.inc_value("news/batch/limiter/waited_ms", waited)

    def process_response(self, request: Request, response: Response) -> Response:
        """Give back the request's place."""
        self._leave(request)
        return response

    def process_exception(self, request: Request, exception: Exception) -> None:
        """Give back the place of a request that failed."""
        self._leave(request)

    def _leave(self, request: Request) -> None:
        held = request.meta.pop(PLACE, None)
        if held is not None:
            self.turns.leave(*held)
            if freed := self.freed.get(held[0]):
                freed.set()
