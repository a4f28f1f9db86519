"""Crawl workers of a batch: N processes (on one host or many) sharing one Redis frontier.

``NEWS_REDIS_URL`` (a setting or the environment) turns a crawl into a *worker* of a batch named
by ``NEWS_BATCH_ID``; without it nothing here runs and a crawl works exactly as on one host.
:class:`BatchAddon`, a Scrapy add-on listed in the project's settings, then sets a worker up
before its settings freeze:

- the scheduler is :class:`crawler.distributed.frontier.BatchScheduler`, scrapy-redis's with the
  claims, leases and batch scope finews needs (that module says what scrapy-redis guarantees and
  what is added);
- :class:`crawler.distributed.limiter.SharedLimiter` holds every download slot's delay and
  concurrency for the batch as a whole;
- :class:`crawler.distributed.batch.BatchRecorder` writes one ``crawl_runs`` summary per batch and
  spider once its last worker is done, and cleans the batch's keys;
- the run's ``NEWS_RUN_BATCH`` is the batch id, and ``JOBDIR`` is off (the queue is in Redis).

Every Redis key is ``<project>:<batch>:…`` (:class:`BatchKeys`) and expires ``NEWS_BATCH_TTL``
seconds after its last write, so a batch that nobody finished still goes away, and a later batch,
another id, never sees an earlier one's claims.
"""

from __future__ import annotations

import logging
import os
import socket
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from crawler.options import option

if TYPE_CHECKING:
    import redis
    from scrapy.settings import BaseSettings

logger = logging.getLogger(__name__)

#: The components a worker adds to a crawl (the scheduler replaces Scrapy's).
SCHEDULER = "crawler.distributed.frontier.BatchScheduler"
LIMITER = "crawler.distributed.limiter.SharedLimiter"
RECORDER = "crawler.distributed.batch.BatchRecorder"
#: Before Scrapy's own download-delay bookkeeping, after the retry and redirect middlewares
#: (which build new requests rather than sending them).
LIMITER_ORDER = 950
#: Sent when a worker is about to release finished requests: components that buffer what a
#: response yielded (the storage stage) write it now, so that releasing the request loses nothing.
checkpoint = object()
#: Sent (``worker=``, its name; ``detected_at=``, an aware datetime) when a worker finds another
#: worker of its batch dead (its lease lapsed): the run recorder marks that worker's run record.
worker_lost = object()
RECORDER_ORDER = 105  # after the run recorder, whose final record it sums


def is_worker(settings: BaseSettings) -> bool:
    """Tell whether the crawl is a worker of a batch (``NEWS_REDIS_URL`` is set)."""
    return bool(option(settings, "NEWS_REDIS_URL"))


def batch_id(now: datetime, window_minutes: int) -> str:
    """Return the batch id of a crawl started at ``now``: the nearest multiple of the window, in
    UTC (``20261203T0520Z``). Workers that a timer starts within half a window of the same
    boundary agree on it without talking to each other."""
    step = max(1, window_minutes) * 60
    seconds = round(now.timestamp() / step) * step
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y%m%dT%H%MZ")


def resolve_batch(settings: BaseSettings, now: datetime | None = None) -> str:
    """Return ``NEWS_BATCH_ID``, else the id derived from the clock (:func:`batch_id`)."""
    given = option(settings, "NEWS_BATCH_ID").strip()
    if given:
        return str(given)
    return batch_id(now or datetime.now(UTC), option(settings, "NEWS_BATCH_WINDOW"))


def text(value: bytes | str) -> str:
    """Return a Redis answer as text."""
    return value.decode() if isinstance(value, bytes) else value


def worker_name() -> str:
    """Return a name for this worker process, unique across hosts: ``host:pid:random``."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


@dataclass(frozen=True)
class BatchKeys:
    """The Redis keys of one batch: ``<project>:<batch>:<spider>:…`` for a spider's frontier,
    ``<project>:<batch>:limit:…`` for the limiter (shared by every spider of the batch)."""

    project: str
    batch: str
    spider: str

    @property
    def prefix(self) -> str:
        """The prefix of every key of this batch and spider."""
        return f"{self.project}:{self.batch}:{self.spider}"

    @property
    def queue(self) -> str:
        """Sorted set: requests waiting, scored by priority (scrapy-redis's queue)."""
        return f"{self.prefix}:requests"

    @property
    def claimed(self) -> str:
        """Set: the claim key of every request enqueued in the batch (scrapy-redis's filter)."""
        return f"{self.prefix}:claimed"

    @property
    def workers(self) -> str:
        """Set: the workers that joined and have not left."""
        return f"{self.prefix}:workers"

    def alive(self, worker: str) -> str:
        """String with a TTL: a worker's lease, renewed while it lives."""
        return f"{self.prefix}:alive:{worker}"

    def held(self, worker: str) -> str:
        """Hash: the requests a worker took from the queue and has not finished."""
        return f"{self.prefix}:held:{worker}"

    @property
    def runs(self) -> str:
        """List: each departed worker's run record and stats (JSON)."""
        return f"{self.prefix}:runs"

    @property
    def lost(self) -> str:
        """Set: workers found dead, their requests put back."""
        return f"{self.prefix}:lost"

    @property
    def ended(self) -> str:
        """Hash: each worker found dead (requests held or not), and when (ISO 8601)."""
        return f"{self.prefix}:ended"

    @property
    def done(self) -> str:
        """String: set once the batch is complete; a worker joining later crawls nothing."""
        return f"{self.prefix}:done"

    def limit(self, slot: str) -> str:
        """Prefix of a download slot's limiter keys, shared by the batch's spiders."""
        return f"{self.project}:{self.batch}:limit:{slot}"


def batch_keys(settings: BaseSettings, spider: str) -> BatchKeys:
    """Return the keys of the crawl's batch for ``spider``."""
    return BatchKeys(settings.get("BOT_NAME") or "scrapy", resolve_batch(settings), spider)


def connect(settings: BaseSettings) -> redis.Redis:
    """Return a client of ``NEWS_REDIS_URL`` (bytes in and out, as scrapy-redis's queues use).

    Timeouts are short: a Redis that does not answer fails the worker instead of hanging it.
    """
    import redis  # only workers need it (the `distributed` extra)

    client: redis.Redis = redis.Redis.from_url(
        option(settings, "NEWS_REDIS_URL"),
        socket_timeout=10,
        socket_connect_timeout=10,
        retry_on_timeout=True,
        health_check_interval=30,
    )
    return client


class BatchAddon:
    """Make a crawl a worker of its batch when ``NEWS_REDIS_URL`` is set; else change nothing."""

    def update_settings(self, settings: BaseSettings) -> None:
        """Install the worker's scheduler, limiter and batch recorder; fix the batch id."""
        if not is_worker(settings):
            return
        batch = resolve_batch(settings)
        cmdline = settings.getpriority("NEWS_RUN_BATCH") or 0
        settings.set("NEWS_BATCH_ID", batch, priority=max(cmdline, 40))
        settings.set("NEWS_RUN_BATCH", batch, priority=max(cmdline, 40))
        # The frontier is in Redis: a JOBDIR's disk queue would hold requests no one else sees.
        settings.set("JOBDIR", None, priority=max(settings.getpriority("JOBDIR") or 0, 40))
        settings.set("SCHEDULER", SCHEDULER, priority="addon")
        settings["DOWNLOADER_MIDDLEWARES"][LIMITER] = LIMITER_ORDER
        settings["EXTENSIONS"][RECORDER] = RECORDER_ORDER
        logger.info(
            "Worker of batch %s (Redis %s)", batch, redact(option(settings, "NEWS_REDIS_URL"))
        )


def redact(url: str) -> str:
    """Return a Redis URL without its password."""
    scheme, sep, rest = url.partition("://")
    if "@" not in rest:
        return url
    return f"{scheme}{sep}***@{rest.rsplit('@', 1)[1]}"
