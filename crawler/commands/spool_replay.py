"""``scrapy spool-replay``: write the spooled articles to MongoDB now (safe to run any time).

The spool holds what a crawl could not store (MongoDB down at start or failing mid-run); every
crawl replays it when it opens, and this command does the same on demand. Replay deduplicates
like a crawl, so running it twice, or alongside a crawl, stores nothing twice; files a running
crawl is still writing are left alone.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

from pymongo.errors import PyMongoError
from scrapy.commands import ScrapyCommand
from scrapy.exceptions import UsageError

from crawler.store import spool
from crawler.store.mongo import StorageConfig, redact_uri, release_client
from crawler.store.writer import open_store

if TYPE_CHECKING:
    from argparse import Namespace

logger = logging.getLogger(__name__)


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
        try:
            counts = spool.replay(directory, store, config.batch_size)
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
