"""Incremental crawling, read side: which article ids storage already has.

Spiders ask once per listing page and request only the unknown articles. An id counts as known
when it is a stored story's ``_id`` or the id of one of its sightings (a copy merged into it).
With storage off (``NEWS_MONGO_URI`` empty) or unreachable every id is unknown, so a crawl without
MongoDB fetches everything.

Ids found stored are remembered (at most ``NEWS_KNOWN_CACHE_SIZE``, the least recently asked
forgotten first): a following crawl re-reads the same first page every few seconds, and a page
whose ids are all remembered costs no query. The cache is bounded however long the crawl runs.
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
    from collections.abc import Hashable, Iterable, Iterator

    from scrapy.crawler import Crawler

logger = logging.getLogger(__name__)


class Recent:
    """A set of at most ``size`` members (none when ``size`` ≤ 0): the least recently added or
    looked up are forgotten first."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.members: OrderedDict[Hashable, None] = OrderedDict()

    def __contains__(self, member: Hashable) -> bool:
        if member not in self.members:
            return False
        self.members.move_to_end(member)
        return True

    def __len__(self) -> int:
        return len(self.members)

    def __iter__(self) -> Iterator[Hashable]:
        return iter(self.members)

    def add(self, members: Iterable[Hashable]) -> None:
        """Add ``members`` as the most recent, forgetting the oldest beyond the bound."""
        if self.size <= 0:
            return
        for member in members:
            self.members[member] = None
            self.members.move_to_end(member)
        while len(self.members) > self.size:
            self.members.popitem(last=False)


class KnownArticles:
    """Ask the article collection which ids it already holds (takes the process's client on first
    use, gives it back on :meth:`close`)."""

    def __init__(self, config: StorageConfig | None, cache_size: int = 0) -> None:
        self.config = config
        self.client: Any = None
        #: Ids found stored, least recently asked first.
        self.cache = Recent(cache_size)

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
        wanted -= {i for i in wanted if i in self.cache}
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
        self.cache.add(ids)

    def close(self) -> None:
        """Give back the client, if one was taken."""
        if self.client is not None and self.config is not None:
            release_client(self.config)
        self.client = None
