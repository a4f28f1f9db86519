"""``scrapy spool-replay``: write the spooled articles to MongoDB now (safe to run any time).

The spool holds what a crawl could not store (MongoDB down at start or failing mid-run); every
crawl replays it when it opens, and this command does the same on demand. Replay deduplicates
like a crawl, so running it twice, or alongside a crawl, stores nothing twice; files a running
crawl is still writing are left alone.
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from pymongo.errors import PyMongoError
from scrapy.commands import ScrapyCommand
from scrapy.exceptions import UsageError

from crawler.store import spool
from crawler.store.mongo import StorageConfig, redact_uri, release_client
from crawler.store.writer import open_store

if TYPE_CHECKING:
    from argparse import Namespace

    from crawler.store.writer import ArticleStore, WriteResult

logger = logging.getLogger(__name__)

#: Seconds between two progress lines; a replay shorter than this shows none.
PROGRESS_SECONDS = 5.0
_CHUNK = 1 << 20


def count_lines(paths: list[Path]) -> int:
    """Return the lines of the spool files ``paths`` (a last line without its newline counts)."""
    lines = 0
    for path in paths:
        with path.open("rb") as file:
            last = b"\n"
            while chunk := file.read(_CHUNK):
                lines += chunk.count(b"\n")
                last = chunk[-1:]
            lines += last != b"\n"
    return lines


@dataclass
class Progress:
    """Records replayed of ``total``; a line to show at most every ``interval`` seconds."""

    total: int
    clock: Callable[[], float] = time.monotonic
    interval: float = PROGRESS_SECONDS
    done: int = 0
    shown: bool = False
    started: float = field(init=False)
    last: float = field(init=False)

    def __post_init__(self) -> None:
        self.started = self.last = self.clock()

    def advance(self, count: int) -> str | None:
        """Count ``count`` more records; return a progress line when one is due."""
        self.done += count
        now = self.clock()
        if now - self.last < self.interval:
            return None
        self.last = now
        self.shown = True
        return self.line(now)

    def line(self, now: float | None = None) -> str:
        """Return ``Replayed 1,200 of 50,000 records (2%), 240 records/s``."""
        elapsed = (self.clock() if now is None else now) - self.started
        rate = self.done / elapsed if elapsed > 0 else 0.0
        share = f" ({self.done / self.total:.0%})" if self.total else ""
        return f"Replayed {self.done:,} of {self.total:,} records{share}, {rate:,.0f} records/s"


class ProgressStore:
    """An article store that counts the records written through it and prints progress."""

    def __init__(self, store: ArticleStore, progress: Progress) -> None:
        self.store = store
        self.progress = progress

    def write(self, records: list[Any]) -> WriteResult:
        """Write through the store; print a progress line when one is due."""
        result = self.store.write(records)
        if line := self.progress.advance(len(records)):
            print(line, file=sys.stderr, flush=True)
        return result


class Command(ScrapyCommand):
    """Replay the spool directory (``NEWS_SPOOL_DIR``) into the article collection."""

    requires_project = True

    def syntax(self) -> str:
        return "[options]"

    def short_desc(self) -> str:
        return "Write spooled articles to MongoDB (idempotent)"

    def run(self, args: list[str], opts: Namespace) -> None:
        if args:
            raise UsageError("spool-replay takes no arguments")
        assert self.settings is not None
        config = StorageConfig.from_settings(self.settings)
        if not config.uri:
            raise UsageError("NEWS_MONGO_URI is empty: there is no MongoDB to replay into")
        directory = Path(config.spool_dir)
        waiting = spool.pending_files(directory)
        if not waiting:
            print(f"Nothing to replay in {directory.resolve()}")
            return
        try:
            store = open_store(config)
        except PyMongoError as error:
            logger.error("MongoDB is unreachable at %s: %s", config.where, redact_uri(str(error)))
            self.exitcode = 1
            return
        progress = Progress(count_lines(waiting), interval=PROGRESS_SECONDS)
        try:
            # spool.replay only calls write(): the counting store stands in for the real one.
            counted = cast("ArticleStore", ProgressStore(store, progress))
            counts = spool.replay(directory, counted, config.batch_size)
        except PyMongoError as error:
            logger.error(
                "Replay stopped, MongoDB at %s failed: %s (the rest stays in %s)",
                config.where,
                redact_uri(str(error)),
                directory.resolve(),
            )
            self.exitcode = 1
            return
        finally:
            release_client(config)
        if progress.shown:
            print(progress.line(), file=sys.stderr)
        left = spool.pending_files(directory)
        summary = " ".join(f"{k}={v}" for k, v in sorted(counts.items())) or "nothing"
        print(f"Replayed {len(waiting) - len(left)} of {len(waiting)} spool files: {summary}")
        if counts[spool.QUARANTINED]:
            print(
                f"{counts[spool.QUARANTINED]} unreadable lines were set aside in "
                f"{directory.resolve()}/{spool.QUARANTINED}-*.jsonl, each with its file, line "
                "number and reason"
            )
        if counts["file_errors"]:
            print(f"{counts['file_errors']} spool files could not be read and were left in place")
            self.exitcode = 1
        if in_use := len(left) - counts["file_errors"]:
            print(f"{in_use} files are in use by a running crawl and were left for it")
