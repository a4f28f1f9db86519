"""The batch's record: one ``crawl_runs`` summary per batch and spider, from all its workers.

Each worker records its own run as any crawl does (:mod:`crawler.extensions.runs`, with the
batch id in ``batch``; a worker that found no work is not failed for it). When a worker leaves,
:class:`BatchRecorder` adds its stats to the batch in Redis, in one script (:data:`LEAVE`) that
also tells whether it was the last: no other worker alive or holding requests, nothing waiting
(while other live workers hold nothing it looks again, until they have left or their leases
lapsed: one that died idle would otherwise leave the batch unrecorded).
The last one sums every worker's stats (:func:`merge_stats`), judges the batch's health on the
sums (:func:`crawler.extensions.health.check_health`, so the coverage and "no items" checks see
the whole batch), writes the summary (``_id`` ``batch <id> <spider>``, ``kind: "batch"``, the
workers and the workers lost) to the run sinks, marks the batch done and deletes its keys.

A worker that died (SIGKILL, OOM, its host lost) never ends its own run record. The worker that
finds it dead marks it (:data:`crawler.distributed.worker_lost`); the last worker, once no other
is alive, ends every record of the batch still ``running`` (:func:`end_lost_runs`: MongoDB;
a file holds no running record) and lists the dead in the summary's ``workers``, status
``failed``, finish reason ``lost``, ended when found dead. Marking only ever ends a ``running``
record, so doing it twice, or after the worker's own close, changes nothing.
"""

from __future__ import annotations

import json
import logging
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Self

import redis
from scrapy import signals
from scrapy.exceptions import NotConfigured

from crawler.distributed import batch_keys, connect, is_worker, text
from crawler.extensions.health import Thresholds, check_health
from crawler.extensions.runs import (
    LOST,
    STATUS_FAILED,
    STATUS_OK,
    RunRecorder,
    RunSink,
    build_record,
    open_sinks,
    summary_line,
)
from crawler.options import option

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    from scrapy.crawler import Crawler

    from crawler.distributed import BatchKeys

logger = logging.getLogger(__name__)

KIND = "batch"
#: Stats that are times: the batch's is the earliest start and the latest finish.
EARLIEST, LATEST = "start_time", "finish_time"

# KEYS: workers, alive (this worker's), runs, queue, done, ended. ARGV: worker, run (JSON), ttl,
# the key prefix, 1 to leave (0: only look again), now (ISO 8601: noted in ``ended`` for a
# worker this finds dead idle). Returns FINISH when the batch is now complete and this worker
# is to record it, IDLE_PEERS when other live workers hold nothing (they are leaving,
# or died idle: look again), else WAIT_NONE (another worker holds work, or the batch is done).
LEAVE = """
if ARGV[5] == '1' then
  redis.call('SREM', KEYS[1], ARGV[1])
  redis.call('DEL', KEYS[2])
  redis.call('RPUSH', KEYS[3], ARGV[2])
  redis.call('EXPIRE', KEYS[3], ARGV[3])
end
if redis.call('EXISTS', KEYS[5]) == 1 then return 0 end
local idle = 0
for _, worker in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  if redis.call('HLEN', ARGV[4] .. 'held:' .. worker) > 0 then return 0 end
  if redis.call('EXISTS', ARGV[4] .. 'alive:' .. worker) == 1 then
    idle = 1
  else
    redis.call('SREM', KEYS[1], worker)
    redis.call('HSETNX', KEYS[6], worker, ARGV[6])
    redis.call('EXPIRE', KEYS[6], ARGV[3])
  end
end
if redis.call('ZCARD', KEYS[4]) > 0 then return 0 end
if idle == 1 then return 2 end
redis.call('SET', KEYS[5], 1, 'EX', ARGV[3])
return 1
"""
WAIT_NONE, FINISH, IDLE_PEERS = 0, 1, 2
#: Seconds between two looks while idle peers may have died (their leases then lapse).
LOOK_SECONDS = 0.25


def _time(value: Any) -> datetime | None:
    """Read a stats time (a datetime, or ISO text from JSON)."""
    if isinstance(value, datetime):
        return value
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            return None
    return None


def merge_stats(runs: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """Return the stats of a batch from its workers' stats: numbers summed, the earliest start,
    the latest finish, the elapsed time between them; ``finish_reason`` ``finished`` when every
    worker finished, else the first other reason."""
    merged: dict[str, Any] = {}
    starts: list[datetime] = []
    finishes: list[datetime] = []
    reasons: list[str] = []
    for stats in runs:
        for key, value in stats.items():
            if key == EARLIEST and (moment := _time(value)):
                starts.append(moment)
            elif key == LATEST and (moment := _time(value)):
                finishes.append(moment)
            elif key == "finish_reason":
                reasons.append(str(value))
            elif isinstance(value, int | float) and not isinstance(value, bool):
                if key != "elapsed_time_seconds" and not key.startswith("news/run/"):
                    merged[key] = merged.get(key, 0) + value
    if starts:
        merged[EARLIEST] = min(starts)
    if finishes:
        merged[LATEST] = max(finishes)
    if starts and finishes:
        merged["elapsed_time_seconds"] = (max(finishes) - min(starts)).total_seconds()
    unclean = [reason for reason in reasons if reason != "finished"]
    merged["finish_reason"] = unclean[0] if unclean else "finished"
    return merged


def worker_entry(record: Mapping[str, Any]) -> dict[str, Any]:
    """Return what a batch summary lists of one worker's run."""
    items = record.get("items", {})
    return {
        "run": record.get("_id"),
        "worker": record.get("worker"),
        "host": record.get("host"),
        "pid": record.get("pid"),
        "status": record.get("status"),
        "finish_reason": record.get("finish_reason"),
        "requests": record.get("requests", 0),
        "stored": items.get("stored", 0),
    }


def dead_entry(worker: str, found_at: Any, run: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Return what a batch summary lists of a worker found dead at ``found_at``: its name is
    ``host:pid:…``; ``run``, its run record where one was ended (its id, its figures as they
    were last written; unknown, ``None``, without it)."""
    host, _, rest = worker.partition(":")
    pid = rest.partition(":")[0]
    entry = worker_entry(run) if run else dict.fromkeys(worker_entry({}))
    entry.update(
        worker=worker,
        host=entry["host"] or host,
        pid=entry["pid"] or (int(pid) if pid.isdigit() else None),
        status=STATUS_FAILED,
        finish_reason=LOST,
        finished_at=found_at,
    )
    return entry


def batch_record(
    keys: BatchKeys,
    runs: list[dict[str, Any]],
    lost: list[str],
    thresholds: Thresholds,
    ok_reasons: list[str],
    dead: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """Return the summary of a batch from its workers' ``{"record", "stats"}``; ``dead``: the
    entries (:func:`dead_entry`) of workers found dead, which left no stats."""
    stats = merge_stats(run["stats"] for run in runs)
    record = build_record(
        stats,
        run_id=f"{KIND} {keys.batch} {keys.spider}",
        spider=keys.spider,
        coverage_fields=list(thresholds.min_coverage),
        batch=keys.batch,
    )
    problems = [] if stats["finish_reason"] in ok_reasons else [
        f"finish reason {stats['finish_reason']!r} is not clean"
    ]  # fmt: skip
    problems += check_health(stats, thresholds)
    record.update(
        kind=KIND,
        host=None,
        pid=None,
        workers=[worker_entry(run["record"]) for run in runs] + (dead or []),
        lost_workers=sorted(lost),
        recovered=stats.get("news/batch/recovered", 0),
        problems=problems,
        status=STATUS_FAILED if problems else STATUS_OK,
    )
    return record


def _json_default(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else str(value)


def end_lost_runs(
    sink: RunSink,
    keys: BatchKeys,
    departed: list[Mapping[str, Any]],
    found_dead: Mapping[str, datetime],
    now: datetime,
) -> list[dict[str, Any]]:
    """End, in ``sink``, the runs of the batch's spider still ``running`` once every worker has
    left or died: those of ``found_dead`` (worker name: when found) as of then, any other (a
    worker that died unseen) as of ``now``. The ``departed`` workers' runs are left alone.
    Return the records of dead workers ended as lost, by this call or before."""
    ended = []
    for worker, found_at in found_dead.items():
        selector = {"batch": keys.batch, "spider": keys.spider, "worker": worker}
        ended += sink.mark_lost(selector, found_at)
    rest = {
        "batch": keys.batch,
        "spider": keys.spider,
        "kind": {"$exists": False},
        "_id": {"$nin": [record.get("_id") for record in departed]},
        # Only workers' records (one that found the batch done never joined it, has no name).
        "worker": {
            "$exists": True,
            "$nin": [record["worker"] for record in departed if record.get("worker")],
        },
    }
    return ended + sink.mark_lost(rest, now)


class BatchRecorder:
    """Extension of workers: leave the batch when the spider closes; the last one records it."""

    def __init__(self, crawler: Crawler, server: redis.Redis, keys: BatchKeys) -> None:
        self.crawler = crawler
        self.server = server
        self.keys = keys
        self.ttl = option(crawler.settings, "NEWS_BATCH_TTL")
        self.leave = server.register_script(LEAVE)
        #: The batch summary, when this worker wrote it.
        self.record: dict[str, Any] | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        if not is_worker(crawler.settings):
            raise NotConfigured
        recorder = cls(
            crawler,
            connect(crawler.settings),
            batch_keys(crawler.settings, crawler.spidercls.name),
        )
        crawler.signals.connect(recorder.spider_closed, signal=signals.spider_closed)
        return recorder

    def spider_closed(self, reason: str) -> None:
        """Leave the batch with this run; record and clean the batch when it is complete."""
        frontier = getattr(self.crawler.spider, "frontier", None)
        if frontier is None or frontier.redis_error is not None:
            return  # joined a batch complete already, or lost Redis: nothing to add
        try:
            self.leave_batch(frontier, reason)
        except redis.RedisError as error:
            logger.warning(
                "Could not leave batch %s (%s): it is not recorded", self.keys.batch, error
            )

    def leave_batch(self, frontier: Any, reason: str) -> None:
        """Add this run to the batch; record the batch when this worker is its last."""
        stats = self.crawler.stats.get_stats()
        stats.setdefault("finish_reason", reason)
        stats.setdefault("finish_time", datetime.now(UTC))
        runs = self.crawler.get_extension(RunRecorder) if self.crawler.extensions else None
        own = runs.record if runs is not None and runs.record else {"_id": frontier.worker}
        own.setdefault("worker", frontier.worker)
        run = json.dumps({"record": own, "stats": stats}, default=_json_default)
        keys = self.keys
        script_keys = [keys.workers, keys.alive(frontier.worker), keys.runs, keys.queue,
                       keys.done, keys.ended]  # fmt: skip
        args = [frontier.worker, run, self.ttl, f"{keys.prefix}:"]
        outcome = self.leave(keys=script_keys, args=[*args, 1, datetime.now(UTC).isoformat()])
        # Other live workers that hold nothing are leaving, and the last of them records the
        # batch; one that died idle never will, so look again until its lease has lapsed.
        deadline = time.monotonic() + frontier.lease_ms / 1000 + 1
        while outcome == IDLE_PEERS and time.monotonic() < deadline:
            time.sleep(LOOK_SECONDS)
            outcome = self.leave(keys=script_keys, args=[*args, 0, datetime.now(UTC).isoformat()])
        if outcome == FINISH:
            self.finish()

    def finish(self) -> None:
        """End the runs of dead workers, write the batch's summary to the run sinks, log it,
        delete the batch's keys."""
        keys = self.keys
        runs = [json.loads(raw) for raw in self.server.lrange(keys.runs, 0, -1)]
        lost = [text(member) for member in self.server.smembers(keys.lost)]
        departed = [run["record"] for run in runs]
        gone = {record.get("worker") for record in departed}
        found_dead = {
            name: _time(text(when)) or datetime.now(UTC)
            for worker, when in self.server.hgetall(keys.ended).items()
            if (name := text(worker)) not in gone
        }
        settings = self.crawler.settings
        expects = getattr(self.crawler.spider, "expects_items", None)
        sinks = open_sinks(self.crawler)
        ended: dict[str, dict[str, Any]] = {}
        for sink in list(sinks):
            try:
                for run in end_lost_runs(sink, keys, departed, found_dead, datetime.now(UTC)):
                    ended[run.get("worker") or run["_id"]] = run
            except Exception:  # the summary still lists the dead found in Redis
                logger.warning("Could not end the runs of lost workers", exc_info=True)
        for name, run in ended.items():
            logger.warning("Run %s of worker %s of batch %s is ended as %r: the worker died",
                           run["_id"], name, keys.batch, LOST)  # fmt: skip
        dead = [dead_entry(name, when, ended.pop(name, None)) for name, when in found_dead.items()]
        dead += [dead_entry(name, run["finished_at"], run) for name, run in ended.items()]
        record = batch_record(
            keys,
            runs,
            lost,
            Thresholds.from_settings(settings, expects),
            option(settings, "NEWS_RUN_OK_REASONS"),
            dead,
        )
        for sink in sinks:
            try:
                sink.closed(record)
            except Exception:  # a lost summary must not fail the worker; it is in the log
                logger.warning("Could not write the batch record", exc_info=True)
                sink.close()
        self.record = record
        log = logger.error if record["problems"] else logger.info
        log(
            "Batch %s complete (%d workers, %d lost): %s",
            keys.batch,
            len(runs),
            len(set(lost) | {entry["worker"] for entry in dead}),
            summary_line(record),
        )
        self.server.delete(keys.queue, keys.claimed, keys.workers, keys.runs, keys.lost, keys.ended)
