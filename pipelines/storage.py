"""Storage stage: write each story once to MongoDB, in batches; spool to disk when it is down.

A batch is written when full, after ``NEWS_MONGO_FLUSH_SECONDS``, when a following crawl's walk
ends (:data:`crawler.follow.walk_ended`) and at close.

Outcomes are counted as ``news/store/<outcome>`` (``inserted``, ``updated``, ``unchanged``,
``duplicate_exact``, ``duplicate_near``, ``merged``, ``spooled``, ``rejected``); a spool replayed
when the spider opens is counted under ``news/store/replay/``, and this run's articles still
spooled when it closes under ``news/store/waiting``.
"""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Self

from pymongo.errors import PyMongoError
from scrapy.exceptions import DropItem, NotConfigured
from scrapy.utils.asyncio import create_looping_call

from crawler.distributed import checkpoint
from crawler.follow import walk_ended
from crawler.items import ArticleAdapter
from crawler.store import spool
from crawler.store.mongo import StorageConfig, redact_uri, release_client
from crawler.store.writer import Record, open_store

if TYPE_CHECKING:
    from collections import Counter

    from itemadapter import ItemAdapter
    from scrapy.crawler import Crawler

    from crawler.store.writer import ArticleStore

logger = logging.getLogger(__name__)


def seen_time(item: ItemAdapter) -> datetime:
    """Return when the item was seen: its fetch time, else now (to MongoDB's milliseconds)."""
    fetched = item.get("fetched_at")
    moment = fetched if isinstance(fetched, datetime) and fetched.tzinfo else datetime.now(UTC)
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


class StoragePipeline:
    """Batch items into deduplicating bulk writes; spool them when MongoDB cannot take them.

    Not a :class:`~pipelines.base.NewsPipeline`: it is no normalisation stage, and in-process
    chains (``PipelineChain``) stop before it.
    """

    def __init__(self, crawler: Crawler, config: StorageConfig) -> None:
        self.stats = crawler.stats
        self.config = config
        self.spool_dir = Path(config.spool_dir)
        self.spool = spool.SpoolFile(self.spool_dir)
        self.rejected = spool.SpoolFile(self.spool_dir, spool.REJECTED)
        self.buffer: list[Record] = []
        # Set while this stage holds the process's MongoDB client (crawler.store.mongo).
        self.store: ArticleStore | None = None
        self.last_flush = time.monotonic()
        self.timer: Any = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        config = StorageConfig.from_settings(crawler.settings)
        if not config.uri:
            raise NotConfigured("NEWS_MONGO_URI is empty: articles are not stored")
        pipeline = cls(crawler, config)
        # A worker of a batch releases a request only once what it yielded is stored.
        crawler.signals.connect(pipeline.flush, signal=checkpoint)
        # A following crawl's walk has ended: its articles are stored now, not after N more.
        crawler.signals.connect(pipeline.flush, signal=walk_ended)
        return pipeline

    def open_spider(self) -> None:
        if self._connect():
            self._replay("replay/")
        if self.config.flush_seconds > 0:
            self.timer = create_looping_call(self._flush_on_timer)
            self.timer.start(self.config.flush_seconds, now=False)

    def process_item(self, item: Any) -> Any:
        adapter = ArticleAdapter(item)
        if not isinstance(adapter.get("id"), str) or not adapter["id"]:
            self.inc("dropped/store_no_id")
            raise DropItem(f"store_no_id: {adapter.get('url')}")
        self.buffer.append(Record(item=adapter.asdict(), seen_at=seen_time(adapter)))
        if len(self.buffer) >= self.config.batch_size:
            self.flush()
        else:
            self._flush_if_due()
        return item

    def close_spider(self) -> None:
        if self.timer is not None and self.timer.running:
            self.timer.stop()
        self.flush()
        self.spool.close()
        self.rejected.close()
        if self.spool.count:
            # MongoDB may be back (a blip mid-run): try once more to store this run's spool.
            if self._connect():
                self._replay("replay/")
            if self.spool.path is not None and self.spool.path.exists():
                if self.stats is not None:
                    self.stats.set_value("news/store/waiting", self.spool.count)
                logger.warning(
                    "%d articles of this run wait in %s: they are written to MongoDB by the "
                    "next crawl or by `scrapy spool-replay`",
                    self.spool.count,
                    self.spool.path,
                )
        self._disconnect()

    def flush(self) -> None:
        """Write the buffered records; spool them when MongoDB is down or the write fails.

        Records that cannot be stored (MongoDB refuses them, or they cannot be encoded) go to the
        rejected spool; the others of their batch are stored.
        """
        records, self.buffer = self.buffer, []
        self.last_flush = time.monotonic()
        if not records:
            return
        if self.store is not None:
            try:
                result = self.store.write(records)
            except PyMongoError as error:
                self._went_down(error)
            else:
                self._count(result.counts)
                if result.rejected:
                    self.rejected.append(result.rejected)
                    self.inc("store/rejected", len(result.rejected))
                return
        self.spool.append(records)
        self.inc("store/spooled", len(records))

    def _flush_on_timer(self) -> None:
        """Flush when due, for the timer: an error is logged and never stops the timer."""
        try:
            self._flush_if_due()
        except Exception:
            logger.exception("Storing a batch of articles failed; the timer keeps flushing")

    def _flush_if_due(self) -> None:
        """Flush when the flush interval (0: none) has passed since the last flush."""
        interval = self.config.flush_seconds
        if self.buffer and interval > 0 and time.monotonic() - self.last_flush >= interval:
            self.flush()

    def _connect(self) -> bool:
        """Connect and prepare the collection; on failure warn and leave the store off."""
        self._disconnect()
        try:
            self.store = open_store(self.config)
        except PyMongoError as error:
            logger.warning(
                "MongoDB is unreachable at %s (%s): articles go to the spool in %s and are "
                "stored by the next crawl or `scrapy spool-replay`",
                self.config.where,
                redact_uri(str(error)),
                self.spool_dir.resolve(),
            )
            return False
        logger.info("Storing articles in %s", self.config.where)
        return True

    def _went_down(self, error: Exception) -> None:
        """Stop writing to MongoDB for the rest of the run after a failed write."""
        logger.warning(
            "Writing to MongoDB at %s failed (%s): this batch and the rest of the run go to the "
            "spool in %s",
            self.config.where,
            redact_uri(str(error)),
            self.spool_dir.resolve(),
        )
        self._disconnect()

    def _disconnect(self) -> None:
        """Give back the client; until a reconnect, batches go to the spool."""
        if self.store is not None:
            release_client(self.config)
        self.store = None

    def _replay(self, prefix: str) -> None:
        """Replay pending spool files into MongoDB, counting under ``news/store/<prefix>``."""
        assert self.store is not None
        try:
            counts = spool.replay(self.spool_dir, self.store, self.config.batch_size)
        except PyMongoError as error:
            self._went_down(error)
            return
        self._count(counts, prefix)

    def inc(self, key: str, count: int = 1) -> None:
        """Add ``count`` to the stat ``news/<key>``."""
        if self.stats is not None:
            self.stats.inc_value(f"news/{key}", count)

    def _count(self, counts: Counter[str], prefix: str = "") -> None:
        """Add outcome counts to the ``news/store/…`` stats."""
        for outcome, count in counts.items():
            self.inc(f"store/{prefix}{outcome}", count)
