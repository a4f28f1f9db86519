"""A batch's shared frontier: scrapy-redis's scheduler and filter, with claims and leases.

What scrapy-redis guarantees: requests wait in one Redis sorted set per spider that every worker
pops from, each popped once (:class:`scrapy_redis.queue.PriorityQueue`), and a request whose
fingerprint is already in the Redis set of its filter is not enqueued again
(:class:`scrapy_redis.dupefilter.RFPDupeFilter`). What it does not: a popped request lives only in
its worker's memory, so a worker that dies loses it (and the filter keeps it marked seen, so no
one else crawls it); ``dont_filter`` requests, finews's everywhere, pass the filter; its keys
outlive the run (``SCHEDULER_PERSIST``) or are wiped by whichever worker ends first; and it uses
APIs Scrapy 2.19 deprecates. What :class:`BatchScheduler` adds:

- **Claims.** A request is claimed when first enqueued, whatever its ``dont_filter``: its claim
  key (the spider's :meth:`~crawler.spiders.walk.ListingSpider.claim_key`: an article's id, a
  listing's URL without volatile parameters) is added to the batch's set, and a request whose key
  is there already is dropped (``news/batch/claimed_elsewhere``). Retries and redirects of a
  claimed request pass: they carry on its claim. So each listing page and each article is
  requested once per batch, and the walk's incremental lookups see what other workers claimed
  (:meth:`BatchScheduler.claimed`).
- **Leases.** Popping moves the request, in one Redis script, into the worker's *held* hash; a
  thread of the worker renews its lease key (a thread, so that a reactor busy for seconds with
  a storage write does not pass for a dead worker). A held request is released once it is done (its
  response scraped, the storage buffer flushed by :data:`checkpoint`). A worker whose lease
  expired (``NEWS_REDIS_LEASE_SECONDS``: killed, frozen, its host gone) is found by the others,
  which put its held requests back in the queue (``news/batch/recovered``): at least once, so a
  request the dead worker had finished but not yet released is fetched again, and storage, which
  deduplicates, keeps one document. The one that finds it notes when (``ended``) and tells the
  run recorder (:data:`~crawler.distributed.worker_lost`), which marks its run record lost.
- **Batch scope.** Keys are namespaced by project, batch and spider (:class:`~crawler.
  distributed.BatchKeys`) and expire ``NEWS_BATCH_TTL`` seconds after their last write. A worker
  whose queue is empty stays while another live worker holds requests (they may yield more), so
  the first to finish no longer wipes the others' work; the last worker cleans the batch's keys
  (:mod:`crawler.distributed.batch`).
"""

from __future__ import annotations

import functools
import logging
import threading
import time
import uuid
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Self, TypeVar, cast

import redis
from scrapy import signals
from scrapy.exceptions import DontCloseSpider
from scrapy.utils.asyncio import create_looping_call
from scrapy.utils.defer import deferred_from_coro
from scrapy_redis.dupefilter import RFPDupeFilter
from scrapy_redis.queue import PriorityQueue
from scrapy_redis.scheduler import Scheduler

from crawler.distributed import batch_keys, checkpoint, connect, text, worker_lost, worker_name
from crawler.options import option

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from scrapy import Request, Spider
    from scrapy.crawler import Crawler

    from crawler.distributed import BatchKeys

logger = logging.getLogger(__name__)
T = TypeVar("T")

#: Seconds between two ticks: waking an idle worker, releasing finished requests.
TICK_SECONDS = 0.5
#: Finished requests are released at most this often (each release flushes storage, a bulk
#: write) while the worker is busy, and at once when it is idle.
RELEASE_SECONDS = 2.0
#: The finish reason of a worker that lost its Redis.
REDIS_LOST = "redis_lost"
#: Meta keys of a request that carries on a claimed one.
CONTINUATIONS = ("retry_times", "redirect_times")

# Pop the first request into the worker's held hash (``score|request``), atomically.
POP_AND_HOLD = """
local popped = redis.call('ZPOPMIN', KEYS[1])
if #popped == 0 then return false end
redis.call('HSET', KEYS[2], ARGV[1], popped[2] .. '|' .. popped[1])
redis.call('EXPIRE', KEYS[2], ARGV[2])
return popped[1]
"""
# Claim a request (unless ARGV[1] is empty: a retry or redirect carries on its claim) and queue
# it, atomically: a worker killed in between cannot leave a claim without its request.
CLAIM_AND_PUSH = """
if ARGV[1] ~= '' then
  if redis.call('SADD', KEYS[1], ARGV[1]) == 0 then return 0 end
  redis.call('EXPIRE', KEYS[1], ARGV[4])
end
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[3])
redis.call('EXPIRE', KEYS[2], ARGV[4])
return 1
"""
# Put every request a dead worker held back into the queue; forget the worker, noting when it
# was found dead (ARGV[3]). Only when its lease has expired and it is still a worker of the
# batch, so two workers recovering it at once do it once.
RECOVER = """
if redis.call('EXISTS', KEYS[3]) == 1 then return -1 end
if redis.call('SISMEMBER', KEYS[4], ARGV[1]) == 0 then return -1 end
local held = redis.call('HVALS', KEYS[2])
for _, value in ipairs(held) do
  local bar = string.find(value, '|', 1, true)
  redis.call('ZADD', KEYS[1], tonumber(string.sub(value, 1, bar - 1)), string.sub(value, bar + 1))
end
redis.call('DEL', KEYS[2])
redis.call('SREM', KEYS[4], ARGV[1])
redis.call('HSETNX', KEYS[6], ARGV[1], ARGV[3])
redis.call('EXPIRE', KEYS[6], ARGV[2])
if #held > 0 then
  redis.call('SADD', KEYS[5], ARGV[1])
  redis.call('EXPIRE', KEYS[5], ARGV[2])
  redis.call('EXPIRE', KEYS[1], ARGV[2])
end
return #held
"""


def redis_guarded(default: Any) -> Callable[[Callable[..., T]], Callable[..., T]]:
    """Make a scheduler method answer ``default`` once Redis failed, and fail the worker (the
    first time) when Redis fails under it: a worker without its batch's Redis stops."""

    def decorate(method: Callable[..., T]) -> Callable[..., T]:
        @functools.wraps(method)
        def guarded(self: BatchScheduler, *args: Any, **kwargs: Any) -> T:
            if self.redis_error is not None:
                return cast("T", default)
            try:
                return method(self, *args, **kwargs)
            except redis.RedisError as error:
                self.lose_redis(error)
                return cast("T", default)

        return guarded

    return decorate


class ClaimFilter(RFPDupeFilter):
    """scrapy-redis's Redis-set filter over claim keys instead of URL fingerprints (the claim
    itself is made with the push, :data:`CLAIM_AND_PUSH`).

    Its ``log`` is replaced: scrapy-redis's passes ``spider=`` to the stats, which Scrapy 2.19
    deprecates, and finews counts what it drops under ``news/…``.
    """

    def __init__(
        self, server: redis.Redis, key: str, claim_key: Callable[[Request], str], crawler: Crawler
    ) -> None:
        super().__init__(server, key)
        self.claim_key = claim_key
        self.crawler = crawler

    def request_fingerprint(self, request: Request) -> str:
        """Return the request's claim key."""
        return self.claim_key(request)

    def claimed(self, keys: Iterable[str]) -> set[str]:
        """Return those of ``keys`` that some worker of the batch has claimed."""
        wanted = list(dict.fromkeys(keys))
        if not wanted:
            return set()
        flags = self.server.smismember(self.key, wanted)
        return {key for key, flag in zip(wanted, flags, strict=True) if flag}

    def log(self, request: Request, spider: Spider) -> None:
        """Count a request dropped because the batch has it already."""
        self.crawler.stats.inc_value("news/batch/claimed_elsewhere")
        logger.debug("Claimed already in this batch: %s", request)

    def close(self, reason: str = "") -> None:
        """Keep the claims: they belong to the batch, not to this worker."""


class BatchScheduler(Scheduler):
    """scrapy-redis's scheduler for one worker of a batch (see the module's docstring)."""

    def __init__(self, server: redis.Redis, crawler: Crawler, keys: BatchKeys) -> None:
        super().__init__(server, persist=True, queue_key=keys.queue)
        self.crawler = crawler
        self.stats = crawler.stats
        self.keys = keys
        self.worker = worker_name()
        self.lease_ms = int(option(crawler.settings, "NEWS_REDIS_LEASE_SECONDS") * 1000)
        self.ttl = option(crawler.settings, "NEWS_BATCH_TTL")
        self.held: dict[str, Request] = {}
        self.leaving = threading.Event()
        self.lease: threading.Thread | None = None
        self.released_at = time.monotonic()
        self.batch_done = False
        #: Set when Redis failed: the worker stops and touches Redis no more.
        self.redis_error: redis.RedisError | None = None
        self.timer: Any = None
        self.pop_and_hold = server.register_script(POP_AND_HOLD)
        self.claim_and_push = server.register_script(CLAIM_AND_PUSH)
        self.recover_script = server.register_script(RECOVER)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        server = connect(crawler.settings)
        server.ping()  # a Redis that cannot be reached stops the worker at once
        return cls(server, crawler, batch_keys(crawler.settings, crawler.spidercls.name))

    # --- Scrapy's scheduler interface ----------------------------------------------------------

    def open(self, spider: Spider) -> None:
        """Join the batch: the queue, the claims, this worker's lease and its tick."""
        self.spider = spider
        self.queue = PriorityQueue(self.server, spider, self.keys.queue)
        claim_key = getattr(spider, "claim_key", None) or self._fingerprint
        self.df = ClaimFilter(self.server, self.keys.claimed, claim_key, self.crawler)
        if self.server.exists(self.keys.done):
            self.batch_done = True
            logger.warning(
                "Batch %s of %s is complete already: this worker crawls nothing",
                self.keys.batch,
                spider.name,
            )
            return
        pipe = self.server.pipeline()
        pipe.sadd(self.keys.workers, self.worker)
        pipe.expire(self.keys.workers, self.ttl)
        pipe.set(self.keys.alive(self.worker), 1, px=self.lease_ms)
        pipe.execute()
        setattr(spider, "frontier", self)  # noqa: B010 (the walk's triage asks it what the batch claimed)
        self.crawler.signals.connect(self.spider_idle, signal=signals.spider_idle)
        self.timer = create_looping_call(self.tick)
        self.timer.start(TICK_SECONDS, now=False)
        self.lease = threading.Thread(target=self.renew_lease, name="finews-lease", daemon=True)
        self.lease.start()
        logger.info(
            "Worker %s joined batch %s of %s (%d requests waiting)",
            self.worker,
            self.keys.batch,
            spider.name,
            len(self.queue),
        )

    def close(self, reason: str) -> None:
        """Release what this worker held (every response is scraped and stored by now).

        The worker leaves the batch when the run is recorded (:mod:`crawler.distributed.batch`).
        """
        if self.timer is not None and self.timer.running:
            self.timer.stop()
        self.release(list(self.held))
        self.leaving.set()
        if self.lease is not None:
            self.lease.join(timeout=10)  # no renewal may follow the worker's leaving

    @redis_guarded(False)
    def enqueue_request(self, request: Request) -> bool:
        if self.batch_done:
            self.stats.inc_value("news/batch/after_done")
            return False
        continuing = any(key in request.meta for key in CONTINUATIONS)
        claim = "" if continuing else self.df.request_fingerprint(request)
        pushed = self.claim_and_push(
            keys=[self.keys.claimed, self.keys.queue],
            # scrapy-redis's queue: requests scored by their negated priority.
            args=[claim, -request.priority, self.queue._encode_request(request), self.ttl],
        )
        if not pushed:
            self.df.log(request, self.spider)
            return False
        self.stats.inc_value("scheduler/enqueued/redis")
        return True

    @redis_guarded(None)
    def next_request(self) -> Request | None:
        if self.batch_done:
            return None
        token = uuid.uuid4().hex
        data = self.pop_and_hold(
            keys=[self.keys.queue, self.keys.held(self.worker)], args=[token, self.ttl]
        )
        if data is None:
            return None
        request: Request = self.queue._decode_request(data)
        self.held[token] = request
        self.stats.inc_value("scheduler/dequeued/redis")
        return request

    @redis_guarded(False)
    def has_pending_requests(self) -> bool:
        return not self.batch_done and len(self.queue) > 0

    # --- the batch -----------------------------------------------------------------------------

    @redis_guarded(frozenset())
    def claimed(self, keys: Iterable[str]) -> set[str]:
        """Return those of the claim ``keys`` some worker of the batch has claimed."""
        claims: set[str] = self.df.claimed(keys)
        return claims

    def renew_lease(self) -> None:
        """Renew this worker's lease, from its own thread, until the worker leaves."""
        interval = self.lease_ms / 4000
        while not self.leaving.wait(interval):
            try:
                self.server.set(self.keys.alive(self.worker), 1, px=self.lease_ms)
            except redis.RedisError as error:  # the next renewal may get through
                logger.warning("Could not renew the lease of worker %s: %s", self.worker, error)

    @redis_guarded(None)
    def tick(self, idle: bool = False) -> None:
        """Release finished requests (every ``RELEASE_SECONDS``, or now when ``idle``); wake
        the engine when work is waiting."""
        engine = self.crawler.engine
        slot = getattr(engine, "_slot", None)
        if slot is None:
            return
        if idle or time.monotonic() - self.released_at >= RELEASE_SECONDS:
            # A request leaves the engine's in-progress set once its response is scraped, items
            # included: the private set is the only place Scrapy tells that.
            self.release([token for token, r in self.held.items() if r not in slot.inprogress])
        if not engine.needs_backout() and len(self.queue):
            slot.nextcall.schedule()  # an idle engine otherwise looks again only every 5 s

    @redis_guarded(None)
    def release(self, tokens: list[str]) -> None:
        """Release finished requests, once what they yielded is stored."""
        self.released_at = time.monotonic()
        if not tokens:
            return
        self.crawler.signals.send_catch_log(checkpoint)
        self.server.hdel(self.keys.held(self.worker), *tokens)
        for token in tokens:
            del self.held[token]

    @redis_guarded(0)
    def recover(self) -> int:
        """Put back the requests of every worker whose lease expired; return how many. Each
        worker found dead is told of (:data:`~crawler.distributed.worker_lost`), once."""
        recovered = 0
        for member in self.server.smembers(self.keys.workers):
            worker = text(member)
            if worker == self.worker:
                continue
            keys = self.keys
            now = datetime.now(UTC)
            count = self.recover_script(
                keys=[keys.queue, keys.held(worker), keys.alive(worker), keys.workers, keys.lost,
                      keys.ended],
                args=[worker, self.ttl, now.isoformat()],
            )  # fmt: skip
            if count >= 0:
                self.crawler.signals.send_catch_log(worker_lost, worker=worker, detected_at=now)
            if count > 0:
                recovered += count
                logger.warning(
                    "Worker %s of batch %s stopped renewing its lease: its %d requests are "
                    "back in the queue",
                    worker,
                    keys.batch,
                    count,
                )
        if recovered:
            self.stats.inc_value("news/batch/recovered", recovered)
        return recovered

    @redis_guarded(False)
    def others_hold(self) -> bool:
        """Tell whether another worker holds requests (which may yield more)."""
        for member in self.server.smembers(self.keys.workers):
            worker = text(member)
            if worker != self.worker and self.server.hlen(self.keys.held(worker)):
                return True
        return False

    def lose_redis(self, error: redis.RedisError) -> None:
        """Stop the worker: without Redis it can neither take nor claim work."""
        self.redis_error = error
        self.stats.inc_value("news/batch/redis_lost")
        logger.error(
            "Worker %s lost Redis (%s: %s): it stops, as the batch cannot go on without its "
            "frontier; the next batch crawls what this one left",
            self.worker,
            type(error).__name__,
            error,
        )
        self.leaving.set()
        assert self.crawler.engine is not None
        deferred_from_coro(self.crawler.engine.close_spider_async(reason=REDIS_LOST))

    def spider_idle(self) -> None:
        """Keep the worker while the batch has work: waiting, or held by a live worker."""
        if self.redis_error is not None:
            raise DontCloseSpider  # its close, as redis_lost, is on its way
        if self.batch_done:
            return
        self.tick(idle=True)
        if self.recover() or len(self.queue) or self.others_hold():
            raise DontCloseSpider

    def _fingerprint(self, request: Request) -> str:
        """Return Scrapy's fingerprint of a request (for spiders without claim keys)."""
        fingerprinter = self.crawler.request_fingerprinter
        assert fingerprinter is not None
        return fingerprinter.fingerprint(request).hex()
