"""A ``JOBDIR`` left by a crawl that died is discarded before Scrapy opens it.

Scrapy persists its queue and seen requests properly only when the spider closes (a graceful stop,
SIGTERM or Ctrl-C, included). A process killed while it held the ``JOBDIR`` (``kill -9``, OOM,
power loss) can leave the disk queue unreadable: the next run fails to push requests
(``struct.error``), crawls one request and is marked failed, until someone deletes the folder.

So :class:`JobdirGuard` keeps a marker, :data:`MARKER`, in the ``JOBDIR``: it writes the crawl's
pid and start time there before the scheduler opens the folder, holds an ``flock`` on it for the
length of the crawl, and empties it when the spider has closed (after the scheduler persisted its
queue), whatever the finish reason. A marker that still says who held the folder, with no live
process holding its lock, means that process died: Scrapy's files (:data:`JOB_STATE`) are then
deleted, with one WARNING and ``news/jobdir/discarded``, and the run starts afresh. The walk
records (:mod:`crawler.store.walks`) recover what the dead crawl missed, so nothing in that folder
is worth keeping. A marker whose lock is held belongs to a crawl running now: the crawl refuses to
start (:class:`JobdirInUse`) rather than share or discard its folder.

Extensions are built before the engine, whose scheduler opens the ``JOBDIR``: ``from_crawler``
runs first. A ``JOBDIR`` without a marker (new, or left by a release before this one) is resumed.
"""

from __future__ import annotations

import logging
import os
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Self, TextIO

from scrapy import signals
from scrapy.exceptions import NotConfigured

from crawler.extensions.shared_file import try_hold

if TYPE_CHECKING:
    from scrapy.crawler import Crawler

logger = logging.getLogger(__name__)

#: The marker's name in the ``JOBDIR``: empty when no crawl holds the folder.
MARKER = "finews.running"
#: What Scrapy keeps in a ``JOBDIR``: the scheduler's disk queue, the duplicate filter's seen
#: fingerprints, ``SpiderState``'s spider state. Scrapy calls the names an implementation detail:
#: the kill test (tests/extensions/test_jobdir.py) checks a real crawl leaves no other file.
JOB_STATE = ("requests.queue", "requests.seen", "spider.state")


class JobdirInUse(RuntimeError):
    """A running crawl holds the ``JOBDIR``."""


def discard_job_state(jobdir: Path) -> list[str]:
    """Delete Scrapy's files (:data:`JOB_STATE`) from ``jobdir``; return the names deleted.

    Only those names: a ``JOBDIR`` set to a folder that holds anything else keeps it.
    """
    deleted = []
    for name in JOB_STATE:
        path = jobdir / name
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        elif path.exists() or path.is_symlink():
            path.unlink()
        else:
            continue
        deleted.append(name)
    return deleted


def claim(jobdir: Path) -> tuple[TextIO, str | None]:
    """Take ``jobdir``'s marker for this process: lock it, write who holds it, make that durable.

    Return the open marker (its lock lasts as long as the file stays open) and what it said
    before: who held the folder when it died, ``None`` when the last holder closed it cleanly or
    the folder is new. Raise :class:`JobdirInUse` when a live process holds it.
    """
    jobdir.mkdir(parents=True, exist_ok=True)
    marker, holder = try_hold(jobdir / MARKER, "utf-8")
    if marker is None:
        raise JobdirInUse(f"JOBDIR {jobdir} is held by a running crawl ({holder})")
    previous = marker.read().strip() or None
    marker.seek(0)
    marker.truncate()
    started = datetime.now(UTC).isoformat(timespec="seconds")
    marker.write(f"pid {os.getpid()}, started {started}\n")
    marker.flush()
    # A power cut must not lose the marker while the queue it guards is being written.
    os.fsync(marker.fileno())
    directory = os.open(jobdir, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)
    return marker, previous


def release(marker: TextIO) -> None:
    """Empty the marker (the folder was closed cleanly) and give up its lock."""
    marker.seek(0)
    marker.truncate()
    marker.close()


class JobdirGuard:
    """Discard a ``JOBDIR`` whose last crawl died; mark this crawl's until its spider closes."""

    def __init__(self, marker: TextIO) -> None:
        self.marker = marker

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        setting = crawler.settings.get("JOBDIR")
        if not setting:
            raise NotConfigured
        jobdir = Path(setting)
        marker, died = claim(jobdir)
        if died is not None:
            deleted = discard_job_state(jobdir)
            logger.warning(
                "JOBDIR %s was left by a crawl that did not stop cleanly (%s): deleted %s; this "
                "run starts afresh, and the walk records recover what that crawl missed",
                jobdir, died, ", ".join(deleted) or "nothing (no Scrapy state in it)",
            )  # fmt: skip
            crawler.stats.inc_value("news/jobdir/discarded")
        guard = cls(marker)
        crawler.signals.connect(guard.spider_closed, signal=signals.spider_closed)
        return guard

    def spider_closed(self) -> None:
        """The scheduler has closed and persisted its queue: the folder can be resumed."""
        release(self.marker)
