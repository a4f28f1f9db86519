"""MongoDB connection: the storage settings, one client per process, indexes, validator,
URI redaction.

Every component that talks to MongoDB (the storage stage, the spiders' lookups in
:class:`crawler.incremental.KnownArticles`, the run recorder, the commands) takes the process's
one client for its server with :func:`acquire_client` (or :func:`connect`, which also pings) and
gives it back with :func:`release_client`; the last to give it back closes it. The client is
built with ``NEWS_MONGO_CLIENT_FACTORY`` (an import path or a callable, ``pymongo.MongoClient``
by default): the one place tests put a mongomock client.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pymongo import ASCENDING, DESCENDING, IndexModel
from scrapy.utils.misc import load_object

from crawler.items import mongo_json_schema
from crawler.options import option

if TYPE_CHECKING:
    from pymongo.collection import Collection
    from pymongo.database import Database
    from scrapy.settings import BaseSettings

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
    """The storage settings (docs/settings.md, "Storage"); an empty ``uri`` turns storage off."""

    uri: str
    database: str
    collection: str
    batch_size: int
    flush_seconds: float
    write_concern: str | int
    timeout_ms: int
    validator: bool
    spool_dir: str
    near_distance: int
    window_hours: float
    client_factory: Any

    def __post_init__(self) -> None:
        if not 0 <= self.near_distance < 32:
            raise ValueError(f"NEWS_DEDUPE_NEAR_DISTANCE must be 0-31, not {self.near_distance}")
        if self.batch_size < 1:
            raise ValueError(f"NEWS_MONGO_BATCH_SIZE must be positive, not {self.batch_size}")

    @classmethod
    def from_settings(cls, settings: BaseSettings) -> StorageConfig:
        """Read the ``NEWS_MONGO_*``, ``NEWS_SPOOL_DIR`` and ``NEWS_DEDUPE_*`` settings."""
        return cls(
            uri=option(settings, "NEWS_MONGO_URI").strip(),
            database=option(settings, "NEWS_MONGO_DATABASE"),
            collection=option(settings, "NEWS_MONGO_COLLECTION"),
            batch_size=option(settings, "NEWS_MONGO_BATCH_SIZE"),
            flush_seconds=option(settings, "NEWS_MONGO_FLUSH_SECONDS"),
            write_concern=write_concern(option(settings, "NEWS_MONGO_WRITE_CONCERN")),
            timeout_ms=option(settings, "NEWS_MONGO_TIMEOUT_MS"),
            validator=option(settings, "NEWS_MONGO_VALIDATOR"),
            spool_dir=option(settings, "NEWS_SPOOL_DIR"),
            near_distance=option(settings, "NEWS_DEDUPE_NEAR_DISTANCE"),
            window_hours=option(settings, "NEWS_DEDUPE_WINDOW_HOURS"),
            client_factory=option(settings, "NEWS_MONGO_CLIENT_FACTORY"),
        )

    @property
    def where(self) -> str:
        """Return ``<redacted uri>/<database>.<collection>`` for log lines."""
        return f"{redact_uri(self.uri)} {self.database}.{self.collection}"

    @property
    def client_key(self) -> tuple[Any, ...]:
        """Return what tells clients apart: configs with the same key share one client."""
        return (self.uri, self.client_factory, self.timeout_ms, self.write_concern)


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


@dataclass
class _Shared:
    """A client of the process and how many users hold it."""

    client: Any
    users: int = 0


# The process's clients, by StorageConfig.client_key. Scrapy calls every user (the spiders'
# lookups, the storage stage, the run recorder) from its one reactor thread.
_SHARED: dict[tuple[Any, ...], _Shared] = {}


def acquire_client(config: StorageConfig) -> Any:
    """Return the process's client for ``config``, built on first use (without contacting the
    server); every call must be paired with :func:`release_client`."""
    key = config.client_key
    shared = _SHARED.get(key)
    if shared is None:
        shared = _SHARED[key] = _Shared(make_client(config))
    shared.users += 1
    return shared.client


def release_client(config: StorageConfig) -> None:
    """Give back a client of :func:`acquire_client`: the last user's release closes it."""
    key = config.client_key
    shared = _SHARED[key]
    shared.users -= 1
    if shared.users == 0:
        del _SHARED[key]
        shared.client.close()


def connect(config: StorageConfig) -> Any:
    """Return the shared client once its server answered a ping; raise ``PyMongoError`` when
    unreachable. Pair it with :func:`release_client`."""
    client = acquire_client(config)
    try:
        client.admin.command("ping")
    except Exception:
        release_client(config)
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
