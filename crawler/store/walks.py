"""Walk records: how far each listing's last walk reached, and whether it completed.

One document per listing walk in ``NEWS_WALKS_COLLECTION`` (database ``NEWS_MONGO_DATABASE``),
``_id`` ``"<spider> <listing>"``::

    {"_id": "site paged http://…/list/1.html", "spider": "site", "listing": "paged http://…",
     "complete": false, "started_at": …, "updated_at": …, "stop": "nothing_new" | null,
     "reached": {"page": 7, "ids": [...]},      # the deepest page this walk read, its entry ids
     "target": {"page": 9, "ids": [...]} | null} # an unfinished walk's frontier not yet passed

A record is written when a walk reads a page, so it survives a ``kill -9``; it is marked complete
only once the spider closed cleanly, after storage flushed. :mod:`crawler.spiders.walk` decides
from it where the next walk may stop. The store is thin: it reads and writes these documents
with the process's one client (:mod:`crawler.store.mongo`), and while MongoDB is unreachable it
warns once and answers :data:`UNREACHABLE`, a previous walk of unknown extent.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from pymongo.errors import PyMongoError

from crawler.options import option
from crawler.store.mongo import StorageConfig, acquire_client, redact_uri, release_client

if TYPE_CHECKING:
    from collections.abc import Mapping

    from scrapy.settings import BaseSettings

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Frontier:
    """A point of a listing: a page number and the ids of its entries, newest first."""

    page: int
    ids: tuple[str, ...]

    def as_document(self) -> dict[str, Any]:
        """Return the frontier as stored."""
        return {"page": self.page, "ids": list(self.ids)}


@dataclass(frozen=True, slots=True)
class WalkRecord:
    """What storage knows of a listing's previous walk.

    ``reached`` is the deepest page it read; ``target`` the frontier of an earlier unfinished
    walk it had not yet passed (``None`` once passed, or when there was none).
    """

    complete: bool
    reached: Frontier | None = None
    target: Frontier | None = None


#: A previous walk storage cannot tell about (MongoDB unreachable): unfinished, extent unknown.
UNREACHABLE = WalkRecord(complete=False)


def frontier_from(document: Any) -> Frontier | None:
    """Read a stored frontier; anything malformed reads as none."""
    if not isinstance(document, dict):
        return None
    page, ids = document.get("page"), document.get("ids")
    if not isinstance(page, int) or not isinstance(ids, list):
        return None
    return Frontier(page, tuple(i for i in ids if isinstance(i, str)))


def record_from(document: Mapping[str, Any]) -> WalkRecord:
    """Read a stored walk record (only ``complete: true`` reads as complete)."""
    return WalkRecord(
        complete=document.get("complete") is True,
        reached=frontier_from(document.get("reached")),
        target=frontier_from(document.get("target")),
    )


def walk_id(spider: str, listing: str) -> str:
    """Return the ``_id`` of a listing's walk record."""
    return f"{spider} {listing}"


class WalkStore:
    """Read and write the walk records of one spider (takes the process's client on first use,
    gives it back on :meth:`close`)."""

    def __init__(self, config: StorageConfig | None, collection: str, spider: str) -> None:
        self.config = config
        self.collection_name = collection
        self.spider = spider
        self.client: Any = None
        # Set once MongoDB failed: the rest of the run neither reads nor writes records.
        self.down = False

    @classmethod
    def from_settings(cls, settings: BaseSettings, spider: str) -> WalkStore:
        """Return the store of ``spider``'s walks; with storage off it records nothing."""
        config = StorageConfig.from_settings(settings)
        collection = option(settings, "NEWS_WALKS_COLLECTION")
        return cls(config if config.uri else None, collection, spider)

    def load(self, listing: str) -> WalkRecord | None:
        """Return the record of ``listing``'s previous walk, ``None`` when it has none (or
        storage is off), :data:`UNREACHABLE` when MongoDB cannot say."""
        if self.config is None:
            return None
        if self.down:
            return UNREACHABLE
        try:
            document = self._collection().find_one({"_id": walk_id(self.spider, listing)})
        except PyMongoError as error:
            self._down(error)
            return UNREACHABLE
        return None if document is None else record_from(document)

    def save(
        self,
        listing: str,
        record: WalkRecord,
        started_at: datetime,
        stop: str | None,
    ) -> bool:
        """Write ``listing``'s walk record whole; tell whether it was written."""
        if self.config is None or self.down:
            return False
        document = {
            "spider": self.spider,
            "listing": listing,
            "complete": record.complete,
            "started_at": started_at,
            "updated_at": datetime.now(UTC),
            "stop": stop,
            "reached": record.reached.as_document() if record.reached else None,
            "target": record.target.as_document() if record.target else None,
        }
        try:
            self._collection().replace_one(
                {"_id": walk_id(self.spider, listing)}, document, upsert=True
            )
        except PyMongoError as error:
            self._down(error)
            return False
        return True

    def _collection(self) -> Any:
        """Return the walk collection, taking the client on first use (inside the callers'
        ``try``: building it resolves a ``mongodb+srv://`` host, which can fail)."""
        assert self.config is not None
        if self.client is None:
            self.client = acquire_client(self.config)
        return self.client[self.config.database][self.collection_name]

    def _down(self, error: PyMongoError) -> None:
        """Warn once, give the client back and record nothing more this run."""
        assert self.config is not None
        self.down = True
        logger.warning(
            "MongoDB at %s cannot keep walk records (%s): every listing is walked as if its "
            "previous walk had not finished, and this run's walks are not recorded",
            self.config.where,
            redact_uri(str(error)),
        )
        self.close()

    def close(self) -> None:
        """Give back the client, if one was taken."""
        if self.client is not None:
            assert self.config is not None
            release_client(self.config)
        self.client = None
