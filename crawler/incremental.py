"""Incremental crawling, read side: which article ids storage already has.

Spiders ask once per listing page and request only the unknown articles. An id counts as known
when it is a stored story's ``_id`` or the id of one of its sightings (a copy merged into it).
With storage off (``NEWS_MONGO_URI`` empty) or unreachable every id is unknown, so a crawl without
MongoDB fetches everything.

Ids found stored are remembered (at most ``NEWS_KNOWN_CACHE_SIZE``, the least recently asked
forgotten first): a following crawl re-reads the same first page every few seconds, and a page
whose ids are all remembered costs no query. Memory stays flat however long the crawl runs.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from typing import TYPE_CHECKING, Any

from pymongo.errors import PyMongoError

from crawler.options import option
from crawler.store.mongo import (
    StorageConfig,
    acquire_client,
    articles,
    redact_uri,
    release_client,
)

if TYPE_CHECKING:
    from collections.abc import Iterable

    from scrapy.crawler import Crawler

logger = logging.getLogger(__name__)


class KnownArticles:
    """Ask the article collection which ids it already holds (takes the process's client on first
    use, gives it back on :meth:`close`)."""

    def __init__(self, config: StorageConfig | None, cache_size: int = 0) -> None:
        self.config = config
        self.client: Any = None
        self.cache_size = cache_size
        #: Ids found stored, least recently asked first.
        self.cache: OrderedDict[str, None] = OrderedDict()

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> KnownArticles:
        config = StorageConfig.from_settings(crawler.settings)
        size = option(crawler.settings, "NEWS_KNOWN_CACHE_SIZE")
        return cls(config if config.uri else None, size)

    def unknown(self, ids: Iterable[str]) -> set[str]:
        """Ids among `ids` not yet stored (at most one query per call: none when every id is
        remembered as stored); all when storage is off or down."""
        wanted = {i for i in ids if isinstance(i, str)}
        if not wanted or self.config is None:
            return wanted
        remembered = {i for i in wanted if i in self.cache}
        for identity in remembered:
            self.cache.move_to_end(identity)
        wanted -= remembered
        if not wanted:
            return wanted
        listed = sorted(wanted)
        query = {"$or": [{"_id": {"$in": listed}}, {"sightings.id": {"$in": listed}}]}
        try:
            # Inside the try: building the client resolves a mongodb+srv:// host, which can fail.
            if self.client is None:
                self.client = acquire_client(self.config)
            found = list(articles(self.client, self.config).find(query, {"sightings.id": 1}))
        except PyMongoError as error:
            logger.warning(
                "MongoDB at %s cannot say which articles are stored (%s): the crawl requests "
                "every article it finds",
                self.config.where,
                redact_uri(str(error)),
            )
            self.close()
            self.config = None
            return wanted
        known = {doc["_id"] for doc in found}
        known.update(s.get("id") for doc in found for s in doc.get("sightings", []))
        self.remember(wanted & known)
        return wanted - known

    def remember(self, ids: Iterable[str]) -> None:
        """Remember ``ids`` as stored, forgetting the least recently asked beyond the bound."""
        if self.cache_size <= 0:
            return
        for identity in ids:
            self.cache[identity] = None
            self.cache.move_to_end(identity)
        while len(self.cache) > self.cache_size:
            self.cache.popitem(last=False)

    def close(self) -> None:
        """Give back the client, if one was taken."""
        if self.client is not None and self.config is not None:
            release_client(self.config)
        self.client = None
