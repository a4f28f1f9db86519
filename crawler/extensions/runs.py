"""Run records: one ``crawl_runs`` document per crawl, the same summary in the log.

The :class:`RunRecorder` extension (enabled in settings, so plain ``scrapy crawl`` records too)
writes a ``running`` record when the spider opens and the final record when it closes: figures
straight from Scrapy's stats, the health problems (:mod:`crawler.extensions.health`) and a
status, ``ok`` or ``failed``. The status is also left in the stats (``news/run/status``) for
``scrapy crawlall``. Records go to MongoDB (``NEWS_RUNS_MONGO``) and, when ``NEWS_RUNS_FILE`` is
set, to a JSON-lines file; a sink that fails is logged and skipped, never failing the crawl.

A following crawl (:mod:`crawler.follow`) runs for days: every period it asks for
(:data:`~crawler.follow.period_ended`) adds a *period record* (``_id`` ``<run id>.<n>``, ``run``,
``period``) whose figures and health are those of the period alone (:func:`period_stats`).
"""

from __future__ import annotations

import json
import logging
import os
import socket
import uuid
from collections import Counter
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, Self

from pymongo.errors import PyMongoError
from scrapy import signals
from scrapy.exceptions import NotConfigured

from crawler.distributed import is_worker, worker_lost
from crawler.extensions.health import (
    COVERAGE_SEEN,
    Thresholds,
    check_health,
    coverage,
    error_count,
    error_ratio,
    present_fields,
)
from crawler.follow import period_ended
from crawler.items import ArticleAdapter
from crawler.options import option
from crawler.store.mongo import StorageConfig, acquire_client, redact_uri, release_client

if TYPE_CHECKING:
    from collections.abc import Mapping

    from scrapy.crawler import Crawler
    from scrapy.settings import BaseSettings

logger = logging.getLogger(__name__)

STATUS_OK = "ok"
STATUS_FAILED = "failed"
STATUS_RUNNING = "running"
#: Sent (``record=``, the final run record) once a run is recorded: notifications and metrics
#: (:mod:`crawler.extensions.notify`, :mod:`crawler.extensions.metrics`) hang from it.
run_closed = object()


def _prefixed(stats: Mapping[str, Any], prefix: str) -> dict[str, int]:
    """Return the stats under ``prefix`` keyed by the rest of their name."""
    return {
        key[len(prefix) :]: value for key, value in sorted(stats.items()) if key.startswith(prefix)
    }


def build_record(
    stats: Mapping[str, Any],
    *,
    run_id: str,
    spider: str,
    coverage_fields: Mapping[str, float] | list[str],
    batch: str | None = None,
    jobdir: str | None = None,
) -> dict[str, Any]:
    """Return the run record of a crawl from its stats (status and problems added by the caller)."""
    return {
        "_id": run_id,
        "batch": batch,
        "spider": spider,
        "status": STATUS_RUNNING,
        "problems": [],
        "host": socket.gethostname(),
        "pid": os.getpid(),
        "jobdir": jobdir,
        "started_at": stats.get("start_time"),
        "finished_at": stats.get("finish_time"),
        "elapsed_s": stats.get("elapsed_time_seconds"),
        "finish_reason": stats.get("finish_reason"),
        "requests": stats.get("downloader/request_count", 0),
        "responses": {
            "received": stats.get("response_received_count", 0),
            "by_status": _prefixed(stats, "downloader/response_status_count/"),
        },
        "items": {
            "scraped": stats.get("item_scraped_count", 0),
            "stored": stats.get("news/store/inserted", 0),
            "updated": stats.get("news/store/updated", 0),
            "unchanged": stats.get("news/store/unchanged", 0),
            "duplicate": {
                "exact": stats.get("news/store/duplicate_exact", 0),
                "near": stats.get("news/store/duplicate_near", 0),
            },
            "dropped": stats.get("item_dropped_count", 0),
            "dropped_by_reason": _prefixed(stats, "news/dropped/"),
            "spooled": stats.get("news/store/spooled", 0),
        },
        "errors": {
            "count": error_count(stats),
            "ratio": error_ratio(stats),
            "download_exceptions": stats.get("downloader/exception_count", 0),
            "spider_exceptions": _prefixed(stats, "spider_exceptions/"),
            "retries_given_up": stats.get("retry/max_reached", 0),
        },
        "coverage": coverage(stats, coverage_fields),
        # Listing walks: started, resumed (their previous walk was cut short), complete, …
        "walks": _prefixed(stats, "news/walk/"),
    }


#: The finish reason given to the run of a worker of a batch found dead by another.
LOST = "lost"
LOST_PROBLEM = "worker lost: it stopped renewing its lease, the batch's other workers took its work"


def lost_fields(detected_at: datetime, started_at: Any) -> dict[str, Any]:
    """Return what ends the ``running`` record of a worker found dead at ``detected_at``."""
    fields: dict[str, Any] = {
        "status": STATUS_FAILED,
        "finish_reason": LOST,
        "finished_at": detected_at,
        "problems": [LOST_PROBLEM],
    }
    if isinstance(started_at, datetime):  # from MongoDB: naive, in UTC
        start = started_at if started_at.tzinfo else started_at.replace(tzinfo=UTC)
        fields["elapsed_s"] = (detected_at - start).total_seconds()
    return fields


#: The finish reason of a spider that never started (its crawler could not be made or opened).
NOT_STARTED = "not_started"


def describe_error(error: BaseException) -> str:
    """Return ``Type: message`` of ``error``; when it was raised while handling another (Scrapy
    closing an engine that failed to open), that one leads: it is why."""

    def text(error: BaseException) -> str:
        return f"{type(error).__name__}: {error}".rstrip(": ")

    cause = error.__cause__ or (None if error.__suppress_context__ else error.__context__)
    return f"{text(cause)} (then {text(error)})" if cause is not None else text(error)


def unstarted_record(
    spider: str,
    error: BaseException,
    *,
    attempted_at: datetime,
    batch: str | None = None,
    jobdir: str | None = None,
) -> dict[str, Any]:
    """Return the failed run record of a spider that never started, ``error`` saying why."""
    now = datetime.now(UTC)
    stats = {
        "start_time": attempted_at,
        "finish_time": now,
        "elapsed_time_seconds": (now - attempted_at).total_seconds(),
        "finish_reason": NOT_STARTED,
    }
    record = build_record(
        stats, run_id=uuid.uuid4().hex, spider=spider, coverage_fields=[], batch=batch,
        jobdir=jobdir,
    )  # fmt: skip
    why = describe_error(error)[:500]
    record.update(status=STATUS_FAILED, problems=[f"the spider did not start: {why}"], error=why)
    return record


def period_stats(
    stats: Mapping[str, Any], base: Mapping[str, Any], now: datetime
) -> dict[str, Any]:
    """Return the stats of the period since ``base`` (the stats when it began): numbers are the
    differences (left out when nothing changed), the period starts at ``base``'s
    ``period_start`` (else the run's start)."""
    window: dict[str, Any] = {}
    for key, value in stats.items():
        if isinstance(value, int | float) and not isinstance(value, bool):
            if difference := value - base.get(key, 0):
                window[key] = difference
        else:
            window[key] = value
    start = base.get("period_start") or stats.get("start_time")
    window["start_time"] = start
    window["finish_time"] = now
    window["finish_reason"] = "period"
    if isinstance(start, datetime):
        window["elapsed_time_seconds"] = (now - start).total_seconds()
    return window


def _counts(values: Mapping[str, int]) -> str:
    """Format ``{"200": 3, "404": 1}`` as ``200: 3, 404: 1``."""
    return ", ".join(f"{key}: {value}" for key, value in values.items())


def summary_line(record: Mapping[str, Any]) -> str:
    """Return the one-line summary of a run record, as logged and printed by ``crawlall``."""
    items = record["items"]
    statuses = _counts(record["responses"]["by_status"])
    dropped = _counts(items["dropped_by_reason"])
    duplicate = items["duplicate"]["exact"] + items["duplicate"]["near"]
    elapsed = record.get("elapsed_s")
    line = (
        f"{record['spider']}: {record['status']} ({record['finish_reason']}"
        f"{f', {elapsed:.1f} s' if isinstance(elapsed, int | float) else ''}): "
        f"{record['requests']} requests"
        f"{f' ({statuses})' if statuses else ''}, "
        f"{items['scraped']} items scraped, {items['stored']} stored, {items['updated']} updated, "
        f"{duplicate} duplicate, {items['dropped']} dropped{f' ({dropped})' if dropped else ''}, "
        f"{items['spooled']} spooled, {record['errors']['count']} errors"
    )
    if resumed := record.get("walks", {}).get("resumed"):
        line += f", {resumed} interrupted walks resumed"
    if record["problems"]:
        line += " | " + "; ".join(record["problems"])
    return line


def finish_problems(reason: str | None, ok_reasons: list[str]) -> list[str]:
    """Return the problem of a run that stopped for a reason other than the clean ones."""
    return [] if reason in ok_reasons else [f"finish reason {reason!r} is not clean"]


class RunSink(Protocol):
    """Where run records go: a record is written when the spider opens and replaced at close."""

    def opened(self, record: dict[str, Any]) -> None: ...

    def period(self, record: dict[str, Any]) -> None: ...

    def closed(self, record: dict[str, Any]) -> None: ...

    def mark_lost(self, selector: dict[str, Any], detected_at: datetime) -> list[dict[str, Any]]:
        """End the ``running`` records ``selector`` finds as lost; return its records ended as
        lost, now or before."""
        ...

    def close(self) -> None: ...


class MongoRunSink:
    """Run records in a MongoDB collection (``crawl_runs``), one document per run.

    ``config``: the storage's, whose shared client the sink holds until :meth:`close`.
    """

    def __init__(self, collection: Any, config: StorageConfig | None = None) -> None:
        self.collection = collection
        self.config = config

    def opened(self, record: dict[str, Any]) -> None:
        self.collection.insert_one(dict(record))

    def period(self, record: dict[str, Any]) -> None:
        """Add a period record of a following crawl."""
        self.collection.insert_one(dict(record))

    def closed(self, record: dict[str, Any]) -> None:
        try:
            self.collection.replace_one({"_id": record["_id"]}, dict(record), upsert=True)
        finally:
            self.close()

    def mark_lost(self, selector: dict[str, Any], detected_at: datetime) -> list[dict[str, Any]]:
        """End the ``running`` records ``selector`` finds as lost (:func:`lost_fields`); each
        update asks again that the record be ``running``, so a record its worker finished is
        never overwritten, and marking twice changes nothing. Return the records of ``selector``
        ended as lost, now or before (by another worker)."""
        for found in list(self.collection.find({**selector, "status": STATUS_RUNNING})):
            fields = lost_fields(detected_at, found.get("started_at"))
            still_running = {"_id": found["_id"], "status": STATUS_RUNNING}
            self.collection.update_one(still_running, {"$set": fields})
        return list(self.collection.find({**selector, "finish_reason": LOST}))

    def close(self) -> None:
        """Give back the client (also when a failed write took this sink out of the run)."""
        if self.config is not None:
            release_client(self.config)
            self.config = None


class FileRunSink:
    """Final run records appended to a JSON-lines file, one line per run."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    def opened(self, record: dict[str, Any]) -> None:
        """Write nothing: the file holds finished runs only."""

    def close(self) -> None:
        """Hold nothing open."""

    def period(self, record: dict[str, Any]) -> None:
        """Append a period record of a following crawl."""
        self.closed(record)

    def mark_lost(self, selector: dict[str, Any], detected_at: datetime) -> list[dict[str, Any]]:
        """End nothing: the file holds finished runs only, and a dead worker's ``running`` run
        was never written to one (its end is in the batch summary)."""
        return []

    def closed(self, record: dict[str, Any]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as f:
            f.write(json.dumps(record, default=_json_default, ensure_ascii=False) + "\n")


def _json_default(value: Any) -> Any:
    """Serialise datetimes as ISO 8601 and anything else as its string."""
    return value.isoformat() if isinstance(value, datetime) else str(value)


def mongo_sink(settings: BaseSettings) -> MongoRunSink | None:
    """Return the ``crawl_runs`` sink on the storage's MongoDB; ``None`` when storage is off.

    Shares the storage's client (:mod:`crawler.store.mongo`: ``NEWS_MONGO_URI``, the client
    factory seam, the short server-selection timeout); nothing is contacted until the first write.
    A client that cannot even be built (an ``mongodb+srv://`` host DNS does not know) is warned
    about and gives ``None``: the run is then recorded only in the log.
    """
    config = StorageConfig.from_settings(settings)
    if not config.uri:
        return None
    try:
        client = acquire_client(config)
    except PyMongoError as error:
        logger.warning(
            "Cannot connect to MongoDB at %s (%s): this run is recorded only in the log",
            config.where,
            redact_uri(str(error)),
        )
        return None
    collection = client[config.database][option(settings, "NEWS_RUNS_COLLECTION")]
    return MongoRunSink(collection, config)


def open_sinks(crawler: Crawler) -> list[RunSink]:
    """Return the run-record sinks the settings ask for."""
    sinks: list[RunSink] = []
    if option(crawler.settings, "NEWS_RUNS_MONGO") and (sink := mongo_sink(crawler.settings)):
        sinks.append(sink)
    if path := option(crawler.settings, "NEWS_RUNS_FILE"):
        sinks.append(FileRunSink(path))
    return sinks


class RunRecorder:
    """Record every crawl in ``crawl_runs``, check its health, log its summary."""

    def __init__(self, crawler: Crawler, sinks: list[RunSink] | None = None) -> None:
        self.crawler = crawler
        # Opened with the spider: a crawler built but never crawled holds no MongoDB client.
        self.sinks = sinks
        self.run_id = uuid.uuid4().hex
        self.record: dict[str, Any] | None = None
        self.thresholds = Thresholds.from_settings(crawler.settings)
        # Counted here and added to the stats at close: a stats call per field per article
        # costs more than the count.
        self.seen = 0
        self.present: Counter[str] = Counter()
        # A following crawl's periods: how many were recorded, the stats when this one began.
        self.periods = 0
        self.period_base: dict[str, Any] = {}

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        if not option(crawler.settings, "NEWS_RUNS_ENABLED"):
            raise NotConfigured
        recorder = cls(crawler)
        crawler.signals.connect(recorder.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(recorder.spider_closed, signal=signals.spider_closed)
        crawler.signals.connect(recorder.item_seen, signal=signals.item_scraped)
        crawler.signals.connect(recorder.item_seen, signal=signals.item_dropped)
        crawler.signals.connect(recorder.period_ended, signal=period_ended)
        crawler.signals.connect(recorder.worker_lost, signal=worker_lost)
        return recorder

    def _stats(self) -> dict[str, Any]:
        assert self.crawler.stats is not None
        return self.crawler.stats.get_stats()

    def _build(self) -> dict[str, Any]:
        record = build_record(
            self._stats(),
            run_id=self.run_id,
            spider=self.crawler.spidercls.name,
            coverage_fields=list(self.thresholds.min_coverage),
            batch=option(self.crawler.settings, "NEWS_RUN_BATCH"),
            jobdir=self.crawler.settings.get("JOBDIR"),
        )
        # A worker of a batch: its name in the batch, by which the others mark it if it dies.
        if (frontier := getattr(self.crawler.spider, "frontier", None)) is not None:
            record["worker"] = frontier.worker
        return record

    def spider_opened(self) -> None:
        if self.sinks is None:
            self.sinks = open_sinks(self.crawler)
        expects = getattr(self.crawler.spider, "expects_items", None)
        if is_worker(self.crawler.settings):
            # One worker of a batch may get no work at all: the batch record judges the items.
            expects = False
        self.thresholds = Thresholds.from_settings(self.crawler.settings, expects)
        self.crawler.stats.set_value("news/run/id", self.run_id)
        self.crawler.stats.set_value("news/run/status", STATUS_RUNNING)
        self._write("opened", self._build())

    def item_seen(self, item: Any) -> None:
        """Count the watched fields of every article that left the pipelines (stored or dropped)."""
        self.seen += 1
        self.present.update(present_fields(ArticleAdapter(item), self.thresholds.min_coverage))

    def period_ended(self) -> None:
        """Record the period of a following crawl that just ended; notifications and metrics
        (``run_closed``) take it as they take a run."""
        record = self._period([])
        self.crawler.signals.send_catch_log(run_closed, record=record)

    def _period(self, problems: list[str]) -> dict[str, Any]:
        """Write and return the record of the period now ending, health-checked on its own
        figures (the coverage counts the run has so far included), ``problems`` added."""
        now = datetime.now(UTC)
        stats = self._stats()
        stats[COVERAGE_SEEN] = stats.get(COVERAGE_SEEN, 0) + self.seen
        for name, count in self.present.items():
            key = f"news/coverage/{name}"
            stats[key] = stats.get(key, 0) + count
        window = period_stats(stats, self.period_base, now)
        self.periods += 1
        self.period_base = {**stats, "period_start": now}
        record = build_record(
            window,
            run_id=f"{self.run_id}.{self.periods}",
            spider=self.crawler.spidercls.name,
            coverage_fields=list(self.thresholds.min_coverage),
            batch=option(self.crawler.settings, "NEWS_RUN_BATCH"),
            jobdir=self.crawler.settings.get("JOBDIR"),
        )
        record.update(run=self.run_id, period=self.periods)
        # A period with no request (the stop right after a period was recorded) found nothing
        # because it did not look: not a health problem.
        asked = bool(window.get("downloader/request_count"))
        thresholds = replace(self.thresholds, expect_items=self.thresholds.expect_items and asked)
        record["problems"] = problems + check_health(window, thresholds)
        record["status"] = STATUS_FAILED if record["problems"] else STATUS_OK
        self._write("period", record)
        log = logger.error if record["problems"] else logger.info
        log("Period %d: %s", self.periods, summary_line(record))
        return record

    def worker_lost(self, worker: str, detected_at: datetime) -> None:
        """Mark the run of ``worker``, found dead by this worker of its batch, as lost."""
        selector = {
            "batch": option(self.crawler.settings, "NEWS_RUN_BATCH"),
            "spider": self.crawler.spidercls.name,
            "worker": worker,
        }
        logger.warning("Worker %s of batch %s found dead: its run, if still running, is marked %r",
                       worker, selector["batch"], LOST)  # fmt: skip
        for sink in self.sinks or []:
            try:
                sink.mark_lost(selector, detected_at)
            except Exception:  # the last worker ends it again; this run's own record goes on
                logger.warning("Could not mark the run of worker %s lost in %s", worker,
                               type(sink).__name__, exc_info=True)  # fmt: skip

    def spider_closed(self, reason: str) -> None:
        ok_reasons = option(self.crawler.settings, "NEWS_RUN_OK_REASONS")
        # A following crawl that recorded periods told notifications and metrics of each: they
        # take its last period now, not the whole run again.
        last = self._period(finish_problems(reason, ok_reasons)) if self.periods else None
        stats = self.crawler.stats
        stats.inc_value(COVERAGE_SEEN, self.seen)
        for name, count in self.present.items():
            stats.inc_value(f"news/coverage/{name}", count)
        stats.set_value("finish_reason", reason)
        if stats.get_value("finish_time") is None:
            stats.set_value("finish_time", datetime.now(UTC))
        record = self._build()
        problems = finish_problems(reason, ok_reasons) + check_health(
            self._stats(), self.thresholds
        )
        record["problems"] = problems
        record["status"] = STATUS_FAILED if problems else STATUS_OK
        stats.set_value("news/run/status", record["status"])
        stats.set_value("news/run/problems", len(problems))
        for problem in problems:
            logger.error("Run of %s failed a check: %s", record["spider"], problem)
        self.record = record
        self._write("closed", record)
        self.crawler.signals.send_catch_log(run_closed, record=last or record)
        log = logger.error if problems else logger.info
        log("Run summary: %s", summary_line(record))

    def _write(self, event: str, record: dict[str, Any]) -> None:
        sinks = self.sinks or []
        for sink in list(sinks):
            try:
                getattr(sink, event)(record)
            except PyMongoError as exc:
                # A warning, not an error: a lost record must not fail the crawl's health.
                logger.warning(
                    "Could not write the run record to %s (%s: %s); it is only in the log",
                    type(sink).__name__,
                    type(exc).__name__,
                    redact_uri(str(exc))[:200],
                )
                self._drop(sink)
            except Exception:
                logger.warning(
                    "Could not write the run record to %s; it is only in the log",
                    type(sink).__name__,
                    exc_info=True,
                )
                self._drop(sink)

    def _drop(self, sink: RunSink) -> None:
        """Take a sink that failed out of this run, releasing what it holds."""
        if self.sinks is not None:
            self.sinks.remove(sink)
        try:
            sink.close()
        except Exception:  # closing a broken client must not fail the crawl either
            logger.debug("Closing %s failed", type(sink).__name__, exc_info=True)
