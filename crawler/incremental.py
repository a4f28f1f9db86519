"""Incremental crawling, read side: which article ids storage already has.

Spiders ask once per listing page and request only the unknown articles. An id counts as known
when it is a stored story's ``_id`` or the id of one of its sightings (a copy merged into it).
With storage off (``NEWS_MONGO_URI`` empty) or unreachable every id is unknown, so a crawl without
MongoDB fetches everything.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from pymongo.errors import PyMongoError

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

    def __init__(self, config: StorageConfig | None) -> None:
        self.config = config
        self.client: Any = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> KnownArticles:
        config = StorageConfig.from_settings(crawler.settings)
        return cls(config if config.uri else None)

    def unknown(self, ids: Iterable[str]) -> set[str]:
        """Ids among `ids` not yet stored (one query per call); all when storage is off or down."""
        wanted = {i for i in ids if isinstance(i, str)}
        if not wanted or self.config is None:
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
        return wanted - known

    def close(self) -> None:
        """Give back the client, if one was taken."""
        if self.client is not None and self.config is not None:
            release_client(self.config)
        self.client = None
