"""MongoDB connection: the storage settings, the client seam, indexes, validator, URI redaction.

The pipeline, :class:`crawler.incremental.KnownArticles` and ``scrapy spool-replay`` all connect
through :func:`connect`, which builds the client with ``NEWS_MONGO_CLIENT_FACTORY`` (an import
path or a callable, ``pymongo.MongoClient`` by default): the one place tests put a mongomock
client.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pymongo import ASCENDING, DESCENDING, IndexModel
from scrapy.utils.misc import load_object

from crawler.items import mongo_json_schema

if TYPE_CHECKING:
    from pymongo.collection import Collection
    from pymongo.database import Database
    from scrapy.settings import BaseSettings

DEFAULT_URI = "mongodb://localhost:27017"

#: The article collection's indexes (``_id`` is unique by itself).
ARTICLE_INDEXES: tuple[IndexModel, ...] = (
    # Sparse: an article without a canonical URL (none could be made) does not collide.
    IndexModel([("canonical_url", ASCENDING)], name="canonical_url", unique=True, sparse=True),
    IndexModel([("published_at", DESCENDING)], name="published_at"),
    IndexModel([("publisher", ASCENDING), ("published_at", DESCENDING)], name="publisher"),
    IndexModel([("content_hash", ASCENDING), ("published_at", DESCENDING)], name="content_hash"),
    IndexModel([("simhash_bands", ASCENDING), ("published_at", DESCENDING)], name="simhash_bands"),
    IndexModel([("sightings.id", ASCENDING)], name="sightings_id"),
)

_USERINFO = re.compile(r"(?P<scheme>[a-z][a-z0-9+.-]*://)(?P<user>[^:@/\s]*):[^@/\s]*@", re.I)
_PASSWORD_PARAM = re.compile(r"(?P<key>password=)[^&\s]*", re.I)


def redact_uri(text: str) -> str:
    """Return ``text`` with the password of every URI in it (userinfo or parameter) as ``***``."""
    text = _USERINFO.sub(r"\g<scheme>\g<user>:***@", text)
    return _PASSWORD_PARAM.sub(r"\g<key>***", text)


def write_concern(value: str | int) -> str | int:
    """Return a write concern ``w`` value: a node count when numeric, else a name (``majority``)."""
    text = str(value).strip()
    return int(text) if text.isdigit() else text


@dataclass(frozen=True)
class StorageConfig:
    """The storage settings (README "Settings"); an empty ``uri`` turns storage off."""

    uri: str = DEFAULT_URI
    database: str = "finews"
    collection: str = "articles"
    batch_size: int = 100
    flush_seconds: float = 5.0
    write_concern: str | int = "majority"
    timeout_ms: int = 3000
    validator: bool = True
    spool_dir: str = "spool"
    near_distance: int = 8
    window_hours: float = 12.0
    client_factory: Any = "pymongo.MongoClient"

    def __post_init__(self) -> None:
        if not 0 <= self.near_distance < 32:
            raise ValueError(f"NEWS_DEDUPE_NEAR_DISTANCE must be 0-31, not {self.near_distance}")
        if self.batch_size < 1:
            raise ValueError(f"NEWS_MONGO_BATCH_SIZE must be positive, not {self.batch_size}")

    @classmethod
    def from_settings(cls, settings: BaseSettings) -> StorageConfig:
        """Read the ``NEWS_MONGO_*``, ``NEWS_SPOOL_DIR`` and ``NEWS_DEDUPE_*`` settings."""
        default = cls()
        uri = settings.get("NEWS_MONGO_URI")
        return cls(
            uri=os.environ.get("MONGO_URI", default.uri) if uri is None else uri.strip(),
            database=settings.get("NEWS_MONGO_DATABASE", default.database),
            collection=settings.get("NEWS_MONGO_COLLECTION", default.collection),
            batch_size=settings.getint("NEWS_MONGO_BATCH_SIZE", default.batch_size),
            flush_seconds=settings.getfloat("NEWS_MONGO_FLUSH_SECONDS", default.flush_seconds),
            write_concern=write_concern(
                settings.get("NEWS_MONGO_WRITE_CONCERN", default.write_concern)
            ),
            timeout_ms=settings.getint("NEWS_MONGO_TIMEOUT_MS", default.timeout_ms),
            validator=settings.getbool("NEWS_MONGO_VALIDATOR", default.validator),
            spool_dir=settings.get("NEWS_SPOOL_DIR", default.spool_dir),
            near_distance=settings.getint("NEWS_DEDUPE_NEAR_DISTANCE", default.near_distance),
            window_hours=settings.getfloat("NEWS_DEDUPE_WINDOW_HOURS", default.window_hours),
            client_factory=settings.get("NEWS_MONGO_CLIENT_FACTORY", default.client_factory),
        )

    @property
    def where(self) -> str:
        """Return ``<redacted uri>/<database>.<collection>`` for log lines."""
        return f"{redact_uri(self.uri)} {self.database}.{self.collection}"


def make_client(config: StorageConfig) -> Any:
    """Build (without contacting the server) a client with a short server-selection timeout."""
    factory = load_object(config.client_factory)
    return factory(
        config.uri,
        serverSelectionTimeoutMS=config.timeout_ms,
        w=config.write_concern,
        tz_aware=True,
        appname="finews",
    )


def connect(config: StorageConfig) -> Any:
    """Return a client whose server answered a ping; raise ``PyMongoError`` when unreachable."""
    client = make_client(config)
    try:
        client.admin.command("ping")
    except Exception:
        client.close()
        raise
    return client


def articles(client: Any, config: StorageConfig) -> Collection[dict[str, Any]]:
    """Return the configured article collection of ``client``."""
    return client[config.database][config.collection]


def prepare_collection(database: Database[dict[str, Any]], name: str, validator: bool) -> None:
    """Create the collection with its ``$jsonSchema`` validator and indexes (idempotent)."""
    if validator:
        schema = {"$jsonSchema": mongo_json_schema()}
        if name in database.list_collection_names():
            database.command("collMod", name, validator=schema)
        else:
            database.create_collection(name, validator=schema)
    database[name].create_indexes(list(ARTICLE_INDEXES))
