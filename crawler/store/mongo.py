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

import logging
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote_plus

from pymongo import ASCENDING, DESCENDING, IndexModel
from pymongo.errors import ConfigurationError, InvalidURI, OperationFailure
from pymongo.uri_parser import parse_userinfo, split_hosts, split_options
from scrapy.utils.misc import load_object

from crawler.items import mongo_json_schema
from crawler.options import option

if TYPE_CHECKING:
    from pymongo.collection import Collection
    from pymongo.database import Database
    from scrapy.settings import BaseSettings

logger = logging.getLogger(__name__)

#: Server error codes for a command or option the server does not implement (NotImplemented,
#: CommandNotSupported): FerretDB answers so for ``$jsonSchema`` validators.
UNSUPPORTED_CODES = frozenset({238, 115})
#: NamespaceExists: another process created the collection first.
NAMESPACE_EXISTS = 48

#: The article collection's indexes (``_id`` is unique by itself).
ARTICLE_INDEXES: tuple[IndexModel, ...] = (
    # Sparse: an article without a canonical URL (none could be made) does not collide.
    IndexModel([("canonical_url", ASCENDING)], name="canonical_url", unique=True, sparse=True),
    IndexModel([("published_at", DESCENDING)], name="published_at"),
    IndexModel([("publisher", ASCENDING), ("published_at", DESCENDING)], name="publisher"),
    IndexModel(
        [("publisher_group", ASCENDING), ("published_at", DESCENDING)], name="publisher_group"
    ),
    IndexModel([("content_hash", ASCENDING), ("published_at", DESCENDING)], name="content_hash"),
    IndexModel([("simhash_bands", ASCENDING), ("published_at", DESCENDING)], name="simhash_bands"),
    IndexModel([("sightings.id", ASCENDING)], name="sightings_id"),
    # "What is there about 1.600519 since yesterday": one security's stories, newest first.
    IndexModel([("securities.secid", ASCENDING), ("published_at", DESCENDING)], name="securities"),
)

#: URI options whose values are secrets, in lower case: pymongo's sensitive options (and their
#: old aliases), the password, and ``authMechanismProperties`` (it carries AWS session tokens).
_SECRET_OPTIONS: frozenset[str] = frozenset(
    {
        "password",
        "proxypassword",
        "proxyusername",
        "tlscertificatekeyfilepassword",
        "sslpemkeypassword",
        "ssl_pem_passphrase",
        "authmechanismproperties",
    }
)
_REDACTED = "***"
_SCHEME = re.compile(r"[a-z][a-z0-9+.-]*://", re.I)
#: A secret option outside a URI (an error message quoting it): its value runs to ``&``, ``;``
#: or the end of the line, since a value may hold spaces.
_SECRET_PARAM = re.compile(
    r"(?P<key>\b(?:" + "|".join(sorted(_SECRET_OPTIONS)) + r")\s*=)[^&;\n]*", re.I
)
#: After a URI cut short at a space, any of these may belong to it (a password, an option).
_CONTINUED = re.compile(r"[@=&;]")
_BAD_DATABASE = re.compile(r'[/\s"$]')


def redact_uri(text: str) -> str:
    """Return ``text`` with every secret of every URI in it as ``***``.

    A URI is split as pymongo splits it (options, hosts, database; the userinfo ends at the last
    ``@``), its parts checked with pymongo's parsers; the password and every secret option
    (:data:`_SECRET_OPTIONS`) become ``***``. A URI that cannot be parsed so keeps only its
    scheme. A URI inside a message may be followed by other words: it is taken as the longest
    piece of its line that parses and leaves nothing that could still be part of a secret.
    """
    return "\n".join(_redact_line(line) for line in text.split("\n"))


def _redact_line(line: str) -> str:
    """Redact the URIs of one line (see :func:`redact_uri`)."""
    match = _SCHEME.search(line)
    if match is None:
        return _SECRET_PARAM.sub(rf"\g<key>{_REDACTED}", line)
    head = _SECRET_PARAM.sub(rf"\g<key>{_REDACTED}", line[: match.start()])
    rest = line[match.end() :]
    ends = [len(rest), *(m.start() for m in reversed(list(re.finditer(r"\s+", rest))))]
    following = _SCHEME.search(rest)
    words_end = following.start() if following else len(rest)  # up to the next URI
    for end in ends:
        if end < len(rest) and _CONTINUED.search(rest, end, max(end, words_end)):
            continue
        redacted = _redact_uri_body(rest[:end], whole=end == len(rest))
        if redacted is not None:
            return head + match.group() + redacted + _redact_line(rest[end:])
    return head + match.group() + _REDACTED


def _redact_uri_body(body: str, *, whole: bool) -> str | None:
    """Return a URI's part after the scheme with its secrets redacted; None when it does not
    parse (or, cut from a longer line, when it ends in a secret that may go on)."""
    hosts_db, mark, options = body.partition("?")
    host_part, slash, database = hosts_db.partition("/")
    userinfo, at, hosts = host_part.rpartition("@")
    try:
        if at:
            parse_userinfo(userinfo)
        split_hosts(hosts, default_port=None)
        if mark:
            split_options(options, validate=False, warn=False, normalize=False)
    except (InvalidURI, ConfigurationError, ValueError):
        return None
    if _BAD_DATABASE.search(unquote_plus(database)):
        return None
    last_key = re.split("[&;]", options)[-1].partition("=")[0]
    if not whole and last_key.strip().lower() in _SECRET_OPTIONS:
        return None
    user, colon, _ = userinfo.partition(":")
    credentials = f"{user}:{_REDACTED}@" if colon else f"{userinfo}{at}"
    query = _SECRET_PARAM.sub(rf"\g<key>{_REDACTED}", options)
    return f"{credentials}{hosts}{slash}{database}{mark}{query}"


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
    socket_timeout_ms: int
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
            socket_timeout_ms=option(settings, "NEWS_MONGO_SOCKET_TIMEOUT_MS"),
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
        return (
            self.uri,
            self.client_factory,
            self.timeout_ms,
            self.socket_timeout_ms,
            self.write_concern,
        )


def make_client(config: StorageConfig) -> Any:
    """Build (without contacting the server) a client with short timeouts.

    Without a socket timeout an operation on a frozen server (SIGSTOP, a stalled network) waits
    forever; with it the batch fails and is spooled.
    """
    factory = load_object(config.client_factory)
    return factory(
        config.uri,
        serverSelectionTimeoutMS=config.timeout_ms,
        connectTimeoutMS=config.timeout_ms,
        socketTimeoutMS=config.socket_timeout_ms,
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


def prepare_collection(database: Database[dict[str, Any]], name: str, validator: bool) -> bool:
    """Create the collection with its ``$jsonSchema`` validator and indexes (idempotent).

    Return whether the server enforces the validator: a server without validators (FerretDB)
    gets one warning, and the validate stage alone keeps bad documents out.
    """
    enforced = validator and _install_validator(database, name)
    _create_missing_indexes(database[name])
    return enforced


def _install_validator(database: Database[dict[str, Any]], name: str) -> bool:
    """Install the validator; return False (with a warning) where the server has none."""
    schema = {"$jsonSchema": mongo_json_schema()}
    try:
        try:
            if name not in database.list_collection_names():
                database.create_collection(name, validator=schema, check_exists=False)
                return True
        except OperationFailure as error:
            if error.code != NAMESPACE_EXISTS:
                raise  # else another process created it meanwhile: modify it as it is
        database.command("collMod", name, validator=schema)
    except OperationFailure as error:
        if error.code not in UNSUPPORTED_CODES:
            raise
        logger.warning(
            "The server does not support $jsonSchema validators (%s): %s.%s is written without "
            'one; the validate stage still checks every article (docs/storage.md, "Servers")',
            error.details.get("codeName", error.code) if error.details else error.code,
            database.name,
            name,
        )
        return False
    return True


def _create_missing_indexes(collection: Collection[dict[str, Any]]) -> None:
    """Create the article indexes the collection lacks, by name, one at a time.

    Creating only the missing ones keeps a restart cheap. One at a time is what FerretDB 1.24
    needs: a ``createIndexes`` naming two or more indexes that exist (another process created
    them a moment before) makes it drop the connection.
    """
    existing = collection.index_information()
    for model in ARTICLE_INDEXES:
        if model.document["name"] in existing:
            continue
        try:
            collection.create_indexes([model])
        except OperationFailure as error:
            # Another process created the collection at the same moment: once more.
            if error.code != NAMESPACE_EXISTS:
                raise
            collection.create_indexes([model])
