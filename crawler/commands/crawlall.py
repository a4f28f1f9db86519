"""``scrapy crawlall [SPIDER …]``: every enabled spider, or those named, in one process, locked.

Made for cron and systemd timers. The spiders run one after another in one ``CrawlerProcess``:
Scrapy counts log lines (``log_count/ERROR``, the health checks' error figure) process-wide, so
concurrent spiders would share each other's errors, and one at a time keeps each spider's log in
one piece. A shutdown signal stops the running spider and starts no other. A second ``crawlall``
started while one holds the lock (``NEWS_LOCK_FILE``, ``fcntl.flock``: released by the kernel
when the holder dies, so never stale) exits at once with :data:`EXIT_LOCKED` and crawls nothing.

Each spider gets its own ``JOBDIR`` when ``NEWS_JOBDIR`` is set (``jobs/{spider}``): a run cut
short (any finish reason but ``finished``) keeps it and the next run resumes there; a run that
finished removes it, healthy or not, so the next one starts fresh (a kept ``requests.seen`` would
filter its start requests as duplicates). A ``JOBDIR`` kept by a run that was killed (``kill -9``,
OOM) is discarded when the next run starts, as for a plain ``scrapy crawl -s JOBDIR=…``: see
:mod:`crawler.extensions.jobdir`. At the end one summary line per spider is logged.

A spider that never starts because its crawler cannot be made or opened (an exception in its
``from_crawler``, a component's, a setting's) has no recorder to write its run: crawlall writes a
failed record for it (:func:`~crawler.extensions.runs.unstarted_record`, finish reason
``not_started``, the error in ``error``) to the run sinks and sends it to whatever hangs from
:data:`~crawler.extensions.runs.run_closed` (notifications, metrics), as for any failed run. A
spider not started because of a shutdown gets no record: nothing failed.

Exit codes: 0 every spider finished cleanly and healthy; 1 some spider failed (health check,
unclean finish reason, or it never started); 2 usage error; 75 (``EX_TEMPFAIL``) another run
holds the lock.
"""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import sys
import tempfile
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from scrapy import Spider
from scrapy.commands import ScrapyCommand
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured, UsageError
from scrapy.spiderloader import get_spider_loader
from scrapy.utils.conf import build_component_list
from scrapy.utils.misc import build_from_crawler, load_object
from twisted.internet.defer import Deferred
from twisted.python.failure import Failure

from crawler.distributed import is_worker, resolve_batch
from crawler.extensions.runs import (
    STATUS_OK,
    RunRecorder,
    open_sinks,
    run_closed,
    summary_line,
    unstarted_record,
)
from crawler.extensions.shared_file import try_hold
from crawler.options import option

if TYPE_CHECKING:
    import argparse
    from collections.abc import Iterable

logger = logging.getLogger(__name__)

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_LOCKED = os.EX_TEMPFAIL  # 75, "try again later", as sendmail and cron wrappers expect
# Where the lock goes when NEWS_LOCK_FILE is empty.
DEFAULT_LOCK_FILE = str(Path(tempfile.gettempdir()) / "finews-crawlall.lock")


class LockHeld(Exception):
    """Another process holds the crawl lock."""


def acquire_lock(path: str | Path) -> TextIO:
    """Take an exclusive, non-blocking ``flock`` on ``path``; return the open file that holds it.

    Raises :class:`LockHeld` (its message names the holder's pid) when another process has it.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, holder = try_hold(path, "ascii")
    if handle is None:
        raise LockHeld(f"another crawlall (pid {holder}) holds {path}")
    handle.truncate()
    handle.write(f"{os.getpid()}\n")
    handle.flush()
    return handle


def select_spiders(available: Iterable[str], requested: list[str], enabled: list[str]) -> list[str]:
    """Return the spiders to run: those ``requested``, else the ``enabled`` ones, else all.

    Raises :class:`UsageError` for a name the project does not have.
    """
    known = sorted(available)
    chosen = requested or enabled or known
    unknown = [name for name in chosen if name not in known]
    if unknown:
        raise UsageError(f"unknown spider(s): {', '.join(unknown)}; known: {', '.join(known)}")
    return list(dict.fromkeys(chosen))


def jobdir_for(template: str | None, spider: str) -> str | None:
    """Return the spider's ``JOBDIR`` from the ``NEWS_JOBDIR`` template, ``None`` when unset."""
    return template.format(spider=spider) if template else None


def finish_reason(crawler: Crawler) -> str | None:
    """Return the crawler's finish reason, ``None`` if it never started."""
    if crawler._stats is None:
        return None
    reason = crawler._stats.get_value("finish_reason")
    return str(reason) if reason is not None else None


def crawler_status(crawler: Crawler) -> str:
    """Return the run status the recorder left in the crawler's stats; failed if it never ran."""
    # The underscored attributes are None, not an error, for a crawler that never started.
    stats = crawler._stats.get_stats() if crawler._stats is not None else {}
    if crawler.spider is None or "finish_reason" not in stats:
        return "failed"
    return str(stats.get("news/run/status", "failed"))


def record_unstarted(crawler: Crawler, record: dict[str, Any]) -> None:
    """Write the record of a spider that never started to the run sinks and send it, as
    :class:`~crawler.extensions.runs.RunRecorder` sends a run's, to what hangs from
    :data:`~crawler.extensions.runs.run_closed`: the crawler's extensions, or, when they were
    never built, those of ``EXTENSIONS`` that listen for it (built here, on this crawler)."""
    for sink in open_sinks(crawler):
        try:
            sink.closed(record)
        except Exception:  # a lost record must not hide the others; it is in the log
            logger.warning("Could not write the run record of %s", record["spider"],
                           exc_info=True)  # fmt: skip
        finally:
            sink.close()
    # Held here while the record is sent: signals keep only weak references to their receivers.
    listeners = []
    if crawler._extensions is None:
        for path in build_component_list(crawler.settings.getwithbase("EXTENSIONS")):
            component = load_object(path)
            if callable(getattr(component, "run_closed", None)):
                try:
                    listeners.append(build_from_crawler(component, crawler))
                except NotConfigured:
                    continue
    crawler.signals.send_catch_log(run_closed, record=record)
    del listeners


class Command(ScrapyCommand):
    requires_project = True
    #: Why a spider could not start, by its crawler.
    start_errors: dict[Crawler, BaseException]
    #: When the spiders were set to run: the start of a record of one that could not.
    attempted_at: datetime

    def syntax(self) -> str:
        return "[options] [spider …]"

    def short_desc(self) -> str:
        return "Run every enabled spider (or those named) under a lock; exit 0 only if all are ok"

    def add_options(self, parser: argparse.ArgumentParser) -> None:
        super().add_options(parser)
        parser.add_argument(
            "--list", action="store_true", help="print the spiders that would run and exit"
        )

    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        assert self.settings is not None
        names = select_spiders(
            get_spider_loader(self.settings).list(),
            args,
            option(self.settings, "NEWS_CRAWLALL_SPIDERS"),
        )
        if opts.list:
            print("\n".join(names))
            return
        lock_path = option(self.settings, "NEWS_LOCK_FILE") or DEFAULT_LOCK_FILE
        try:
            lock = acquire_lock(lock_path)
        except LockHeld as held:
            message = f"crawlall: not crawling, {held}; exit {EXIT_LOCKED}"
            logger.warning("%s", message)
            print(message, file=sys.stderr)
            self.exitcode = EXIT_LOCKED
            return
        with lock:
            self.exitcode = self.crawl(names)

    def crawl(self, names: list[str]) -> int:
        """Run the spiders ``names`` in turn; log one summary line each; return the exit code."""
        assert self.crawler_process is not None
        assert self.settings is not None
        # A worker of a batch (NEWS_REDIS_URL) runs each spider in the batch every worker agrees
        # on, with its queue in Redis rather than a JOBDIR.
        worker = is_worker(self.settings)
        batch = resolve_batch(self.settings) if worker else uuid.uuid4().hex
        template = None if worker else option(self.settings, "NEWS_JOBDIR")
        crawlers: list[tuple[str, Crawler]] = []
        self.start_errors = {}
        self.attempted_at = datetime.now(UTC)
        for name in names:
            try:
                crawler = self.crawler_process.create_crawler(name)
            except Exception as error:
                logger.exception("crawlall: the crawler of %s cannot be made", name)
                # A crawler of no spider of its own carries the settings and signals its
                # record needs; it is never crawled.
                crawler = Crawler(Spider, self.settings)
                crawler.settings.set("NEWS_RUN_BATCH", batch, priority="cmdline")
                self.start_errors[crawler] = error
                crawlers.append((name, crawler))
                continue
            crawler.settings.set("NEWS_RUN_BATCH", batch, priority="cmdline")
            if worker:
                crawler.settings.set("NEWS_BATCH_ID", batch, priority="cmdline")
            if jobdir := jobdir_for(template, name):
                crawler.settings.set("JOBDIR", jobdir, priority="cmdline")
            crawlers.append((name, crawler))
        logger.info("crawlall %s: running %s", batch, ", ".join(names))
        self.crawl_in_turn([c for c in dict(crawlers).values() if c not in self.start_errors])
        self.crawler_process.start()
        return self.report(crawlers, template)

    def crawl_in_turn(self, crawlers: list[Crawler]) -> None:
        """Start the first crawler; each one that ends starts the next, unless it was shut down."""
        assert self.crawler_process is not None
        if not crawlers:
            return
        first, rest = crawlers[0], crawlers[1:]
        running = self.crawler_process.crawl(first)

        def next_one(outcome: Any = None) -> None:
            if isinstance(outcome, asyncio.Future) and not outcome.cancelled():
                outcome = outcome.exception()
            error = outcome.value if isinstance(outcome, Failure) else outcome
            if isinstance(error, Exception):
                logger.error("crawlall: %s could not start: %s: %s", first.spidercls.name,
                             type(error).__name__, error)  # fmt: skip
                self.start_errors[first] = error
            if first._stats is None or first._stats.get_value("finish_reason") != "shutdown":
                self.crawl_in_turn(rest)

        if isinstance(running, Deferred):
            running.addBoth(next_one)
        elif isinstance(running, asyncio.Future):
            running.add_done_callback(next_one)

    def report(self, crawlers: list[tuple[str, Crawler]], template: str | None) -> int:
        """Log each spider's summary, clear the job dirs of finished runs, return the exit code."""
        failed: list[str] = []
        for name, crawler in crawlers:
            status = crawler_status(crawler)
            recorder = _recorder(crawler)
            record = recorder.record if recorder else None
            if record is None and (error := self.start_errors.get(crawler)):
                record = unstarted_record(name, error, attempted_at=self.attempted_at,
                                          batch=crawler.settings.get("NEWS_RUN_BATCH"),
                                          jobdir=jobdir_for(template, name))  # fmt: skip
                record_unstarted(crawler, record)
            line = summary_line(record) if record else None
            # Health does not matter here: only an unclean finish has anything left to resume.
            if finish_reason(crawler) == "finished" and (jobdir := jobdir_for(template, name)):
                shutil.rmtree(jobdir, ignore_errors=True)
            if status == STATUS_OK:
                logger.info("crawlall %s", line or f"{name}: ok")
            else:
                failed.append(name)
                logger.error("crawlall %s", line or f"{name}: failed (the spider did not run)")
        if failed:
            logger.error("crawlall: %d of %d spiders failed: %s", len(failed), len(crawlers),
                         ", ".join(failed))  # fmt: skip
            return EXIT_FAILED
        logger.info("crawlall: all %d spiders ok", len(crawlers))
        return EXIT_OK


def _recorder(crawler: Crawler) -> RunRecorder | None:
    """Return the crawler's :class:`~crawler.extensions.runs.RunRecorder`, if it has one."""
    if crawler._extensions is None:
        return None
    return crawler.get_extension(RunRecorder)
