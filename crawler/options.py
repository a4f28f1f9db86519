"""The project's settings as data: one table of every setting finews defines or sets from the
environment, and the ordered list of its item pipeline stages.

Each :class:`Option` row holds a setting's name, the environment variable(s) that override it, its
type, default, one line of doc and its section. ``crawler/settings.py`` builds its module-level
settings from the table (:func:`environment_values`), every reader gets its typed value through
:func:`option` (so no reader repeats a default) and ``docs/settings.md`` is generated from it
(:mod:`crawler.docs`).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from crawler.vocabulary import CHINA_ZONE_NAME, MAX_FUTURE_HOURS, MIN_YEAR

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    from scrapy.settings import BaseSettings


class SettingError(ValueError):
    """A setting or environment variable holds a value its type cannot take."""


@dataclass(frozen=True)
class Option:
    """One setting: where it is read from, what it holds, what it means."""

    name: str
    kind: type
    default: Any
    doc: str
    #: Environment variables that set it, the first one present winning; empty: none.
    env: tuple[str, ...] = ()
    #: The default as the docs show it, when the bare value says too little (an empty string).
    shown: str = ""
    section: str = ""


def _news(name: str, kind: type, default: Any, doc: str, shown: str = "") -> Option:
    """Return a ``NEWS_*`` option that the environment variable of the same name overrides."""
    return Option(name, kind, default, doc, env=(name,), shown=shown)


def _section(title: str, *rows: Option) -> tuple[Option, ...]:
    """Return ``rows`` filed under the section ``title``."""
    return tuple(replace(row, section=title) for row in rows)


# One row per setting, in the order of docs/settings.md: name, type, default, then its doc.
# Defaults that are conventions of Chinese news (zone, plausible times) are crawler.vocabulary's.
# fmt: off
TABLE: tuple[Option, ...] = (
    *_section(
        "Normalisation",
        _news("NEWS_DEFAULT_TIMEZONE", str, CHINA_ZONE_NAME,
              "zone of printed times that carry none"),
        _news("NEWS_TITLE_MAX_LENGTH", int, 200,
              "longer titles (characters) are cut and end with `…`"),
        _news("NEWS_MAX_FUTURE_HOURS", int, MAX_FUTURE_HOURS,
              "a publish time further ahead of the crawl clock (hours) is refused"),
        _news("NEWS_MIN_YEAR", int, MIN_YEAR,
              "a publish time before 1 January of this year is refused"),
        _news("NEWS_BODY_MAX_BYTES", int, 10_000_000,
              "raw bodies larger than this (UTF-8 bytes) are dropped as garbage"),
    ),
    *_section(
        "Sources",
        _news("NEWS_SOURCES_FILE", str, "",
              "the `site` spider's sources file", shown="`sources.toml` beside `scrapy.cfg`"),
    ),
    *_section(
        "Storage (MongoDB)",
        Option("NEWS_MONGO_URI", str, "mongodb://localhost:27017",
               "where articles are stored; empty turns storage off",
               env=("NEWS_MONGO_URI", "MONGO_URI")),
        _news("NEWS_MONGO_DATABASE", str, "finews",
              "database"),
        _news("NEWS_MONGO_COLLECTION", str, "articles",
              "article collection"),
        _news("NEWS_WALKS_COLLECTION", str, "walks",
              "how far each listing's last walk reached, so a killed crawl resumes it"),
        _news("NEWS_MONGO_BATCH_SIZE", int, 100,
              "articles per unordered bulk write"),
        _news("NEWS_MONGO_FLUSH_SECONDS", float, 5.0,
              "a partial batch is written after this long (0: only when full and at close)"),
        _news("NEWS_MONGO_WRITE_CONCERN", str, "majority",
              "write concern `w`: `majority` or a number of nodes"),
        _news("NEWS_MONGO_TIMEOUT_MS", int, 3000,
              "how long (ms) to wait for the server before spooling instead"),
        _news("NEWS_MONGO_SOCKET_TIMEOUT_MS", int, 30000,
              "how long (ms) one operation waits for the server's answer (a frozen server) "
              "before its batch is spooled"),
        _news("NEWS_MONGO_VALIDATOR", bool, True,
              "install the collection's `$jsonSchema` validator (see docs/schema.md)"),
        Option("NEWS_MONGO_CLIENT_FACTORY", str, "pymongo.MongoClient",
               "what builds the MongoDB client: an import path or a callable (tests: mongomock)"),
        _news("NEWS_SPOOL_DIR", str, "spool",
              "where articles wait (JSON lines) while MongoDB is unreachable"),
        _news("NEWS_DEDUPE_NEAR_DISTANCE", int, 8,
              "SimHash distance (bits, 0-31) for near duplicates"),
        _news("NEWS_DEDUPE_WINDOW_HOURS", float, 12.0,
              "content matches only between stories this close in publish time (hours)"),
    ),
    *_section(
        "East Money",
        _news("NEWS_EASTMONEY_COLUMNS", str, "",
              "column ids the `eastmoney` spider walks (comma-separated)",
              shown="every news column: 344,345,350,351,353,355,1207,408"),
        _news("NEWS_EASTMONEY_PAGES", int, 5,
              "listing pages per column at most"),
        _news("NEWS_EASTMONEY_PAGE_SIZE", int, 50,
              "items per listing page (at most 100)"),
        _news("NEWS_EASTMONEY_724_PAGES", int, 10,
              "7×24 cursor pages at most"),
        _news("NEWS_EASTMONEY_724_PAGE_SIZE", int, 100,
              "flashes per page (at most 200)"),
        _news("NEWS_EASTMONEY_724_COLUMNS", str, "102",
              "7×24 topic columns `eastmoney_724` walks (`fastColumn`, comma-separated; 102: "
              "every flash; the others' topics are assumed, docs/eastmoney.md)"),
        _news("NEWS_EASTMONEY_724_FETCH_PAGES", str, "auto",
              "when a flash's own article page is fetched: `auto` (only when the list item "
              "cannot stand alone), `always`, `never`"),
        _news("NEWS_EASTMONEY_USER_AGENT", str, "",
              "User-Agent sent to East Money (its APIs expect a browser)",
              shown="a current desktop Chrome"),
        _news("NEWS_EASTMONEY_COLUMN_API", str, "",
              "column API endpoint", shown="East Money's"),
        _news("NEWS_EASTMONEY_FAST_API", str, "",
              "7×24 API endpoint", shown="East Money's"),
        _news("NEWS_EASTMONEY_ARTICLE_URL", str, "",
              "article page URL (`{code}`: the 18-digit code)", shown="East Money's"),
        _news("NEWS_EASTMONEY_SECURITIES", str, "",
              "secids whose news listings `eastmoney_stock` walks (comma-separated, "
              "`1.600519,0.000001`)", shown="none"),
        _news("NEWS_EASTMONEY_WATCHLIST", str, "",
              "a file of secids for `eastmoney_stock`, one a line (`#` starts a comment)",
              shown="none"),
        _news("NEWS_EASTMONEY_STOCK_PAGES", int, 3,
              "listing pages per security at most"),
        _news("NEWS_EASTMONEY_STOCK_PAGE_SIZE", int, 50,
              "items per security listing page (at most 200)"),
        _news("NEWS_EASTMONEY_STOCK_API", str, "",
              "per-security news listing endpoint (`getListInfo`)", shown="East Money's"),
        _news("NEWS_FINEWS_ROLLING_URL", str, "",
              "the original system's rolling news feed (type=102)", shown="the original's"),
        _news("NEWS_FINEWS_MEDIA_URL", str, "",
              "the original system's media news feed (type=45)", shown="the original's"),
        _news("NEWS_FINEWS_MARKET_URL", str, "",
              "the original system's market news feed (`{market_type}`)",
              shown="the original's"),
        _news("NEWS_FINEWS_MARKET_TYPES", str, "37,38,39",
              "market types of the market feed (comma-separated)"),
        _news("NEWS_FINEWS_BODY_URL", str, "",
              "`GetNewsText.do` body URL (`{info_code}`: NW<code>)", shown="the original's"),
    ),
    *_section(
        "Politeness and resilience",
        _news("NEWS_CONTACT_URL", str, "https://github.com/finews/finews",
              "sent in the User-Agent so that a site's operators can reach us"),
        Option("USER_AGENT", str, "",
               "the whole User-Agent",
               env=("NEWS_USER_AGENT",), shown="`finews/0.1 (+NEWS_CONTACT_URL)`"),
        Option("ROBOTSTXT_OBEY", bool, True,
               "follow robots.txt",
               env=("NEWS_ROBOTSTXT_OBEY",)),
        _news("NEWS_RETRY_BACKOFF_BASE", float, 1.0,
              "retry n pauses base × 2^(n−1) s (or the server's `Retry-After`); 0: no pause"),
        _news("NEWS_RETRY_BACKOFF_MAX", float, 60.0,
              "longest retry pause (s)"),
        Option("HTTPCACHE_ENABLED", bool, False,
               "development: replay responses from `httpcache/` instead of asking the sites",
               env=("NEWS_HTTPCACHE",)),
        Option("HTTPCACHE_EXPIRATION_SECS", int, 0,
               "cache lifetime (s; 0: never expires)",
               env=("NEWS_HTTPCACHE_EXPIRATION_SECS",)),
    ),
    *_section(
        "Operations",
        Option("LOG_FILE", str, "",
               "log file, appended to; rotate it with logrotate (see deploy/)",
               env=("NEWS_LOG_FILE",), shown="stderr"),
        Option("LOGSTATS_INTERVAL", float, 60.0,
               "seconds between progress lines",
               env=("NEWS_PROGRESS_INTERVAL",)),
        _news("NEWS_GC_FREEZE", bool, True,
              "keep the garbage collector off the objects a crawl starts with"),
        _news("NEWS_RUNS_ENABLED", bool, True,
              "record every crawl: run record, health checks, summary line"),
        _news("NEWS_RUNS_MONGO", bool, True,
              "write run records to MongoDB"),
        _news("NEWS_RUNS_COLLECTION", str, "crawl_runs",
              "run record collection"),
        _news("NEWS_RUNS_FILE", str, "",
              "also append final run records to this JSON-lines file"),
        Option("NEWS_RUN_BATCH", str, None,
               "batch id recorded with a run; `crawlall` sets one for all its spiders",
               shown="none"),
        Option("NEWS_RUN_OK_REASONS", list, ["finished"],
               "finish reasons that count as a clean run"),
        _news("NEWS_HEALTH_EXPECT_ITEMS", bool, True,
              "a run that finds no article fails (a spider may set `expects_items = False`)"),
        _news("NEWS_HEALTH_MAX_ERROR_RATIO", float, 0.05,
              "a run with more ERROR lines per request fails"),
        Option("NEWS_HEALTH_MIN_COVERAGE", dict,
               {"title": 1.0, "published_at": 1.0, "body_text": 1.0, "publisher": 0.95},
               "minimum share of articles having each field"),
        _news("NEWS_HEALTH_COVERAGE_MIN_ITEMS", int, 10,
              "coverage is judged only from this many articles up"),
        _news("NEWS_CRAWLALL_SPIDERS", list, [],
              "spiders `crawlall` runs (comma-separated)", shown="empty: all"),
        _news("NEWS_LOCK_FILE", str, "/tmp/finews-crawlall.lock",
              "`crawlall`'s lock file (empty: one in the temp directory)"),
        _news("NEWS_JOBDIR", str, "jobs/{spider}",
              "each spider's resumable JOBDIR under `crawlall` (empty: none)"),
        _news("NEWS_NOTIFY_URLS", list, [],
              "apprise URLs told when a run fails its health checks and when its spider "
              "recovers (comma-separated)", shown="empty: none"),
        _news("NEWS_NOTIFY_REPEAT_MINUTES", float, 60.0,
              "while a spider stays unhealthy, at most one message per this many minutes"),
        _news("NEWS_NOTIFY_STATE_FILE", str, "notify-state.json",
              "what each unhealthy spider was last told about (JSON, shared by every run)"),
        _news("NEWS_METRICS_FILE", str, "",
              "Prometheus text file (node exporter's textfile collector) rewritten after each "
              "run", shown="empty: none"),
    ),
    *_section(
        "Distributed (workers of a batch)",
        _news("NEWS_REDIS_URL", str, "",
              "a Redis URL makes the crawl a worker of a batch sharing its frontier, claims, "
              "politeness and run record (docs/distributed.md)", shown="empty: one host"),
        _news("NEWS_BATCH_ID", str, "",
              "the batch a worker belongs to", shown="from the clock: the nearest multiple of "
              "`NEWS_BATCH_WINDOW` (`20261203T0520Z`)"),
        _news("NEWS_BATCH_WINDOW", int, 10,
              "minutes; workers started within half of it of the same boundary share a batch"),
        _news("NEWS_BATCH_TTL", int, 21600,
              "every Redis key of a batch expires this many seconds after its last write"),
        _news("NEWS_REDIS_LEASE_SECONDS", float, 30.0,
              "a worker silent this long is dead: the others take back its requests"),
    ),
    *_section(
        "Follow mode",
        _news("NEWS_FOLLOW_BACKOFF", float, 1.5,
              "`-a follow=…`: the poll interval grows by this factor after each poll that finds "
              "nothing new (a 304 included), and doubles after each failed poll"),
        _news("NEWS_FOLLOW_MAX_DELAY", float, 300.0,
              "the longest pause between two polls (s) that back-off reaches; a server's "
              "`Retry-After` may ask more (up to a day)"),
        _news("NEWS_FOLLOW_JITTER", float, 0.1,
              "each pause is stretched or shrunk at random by up to this share, so that many "
              "followers do not poll in step"),
        _news("NEWS_FOLLOW_RECORD_SECONDS", float, 3600.0,
              "a following crawl writes a run record of the period every this many seconds"),
        _news("NEWS_FOLLOW_RECORD_POLLS", int, 0,
              "… or every this many polls, whichever comes first (0: by time only)"),
        _news("NEWS_KNOWN_CACHE_SIZE", int, 20000,
              "article ids remembered as stored, so a poll need not ask MongoDB again, and "
              "East Money stories remembered as tagged with a listing's column or security, so "
              "a poll need not tag them again (each bounded: the least recent forgotten first)"),
    ),
    *_section(
        "Contracts",
        _news("NEWS_CONTRACT_FIXTURES", str, "",
              "directory of the recorded responses `@fixture` reads in `scrapy check`",
              shown="none: `@fixture` fails until it is set"),
    ),
)
# fmt: on

#: The table by setting name.
OPTIONS: dict[str, Option] = {row.name: row for row in TABLE}

# --- item pipeline stages ----------------------------------------------------------------------
#: The stages that normalise an article, in order: a crawl, ``scrapy extract`` and
#: :class:`pipelines.chain.PipelineChain` all run these.
NORMALIZE_STAGES: tuple[str, ...] = (
    "pipelines.text.TextPipeline",
    "pipelines.identity.IdentityPipeline",
    "pipelines.title.TitlePipeline",
    "pipelines.dates.DatesPipeline",
    "pipelines.body.BodyPipeline",
    "pipelines.language.LanguagePipeline",
    "pipelines.attribution.AttributionPipeline",
)
#: The stages an article passes before storage: normalisation, then validation.
CHECKED_STAGES: tuple[str, ...] = (*NORMALIZE_STAGES, "pipelines.validate.ValidatePipeline")
#: A crawl's stages: the checked ones, then storage.
CRAWL_STAGES: tuple[str, ...] = (*CHECKED_STAGES, "pipelines.storage.StoragePipeline")


def item_pipelines(stages: Iterable[str]) -> dict[str, int]:
    """Return an ``ITEM_PIPELINES`` value running ``stages`` in the order given (100, 200, …)."""
    return {stage: 100 * position for position, stage in enumerate(stages, start=1)}


# --- values -------------------------------------------------------------------------------------
_TRUE = frozenset({"1", "true"})
_FALSE = frozenset({"0", "false"})


def parse(row: Option, text: str, origin: str) -> Any:
    """Return ``text`` read as ``row``'s type; ``origin`` names its source in the error.

    Text is taken as it is; a number, a true/false, a list or a mapping (JSON) given as empty
    text is the default.
    """
    if row.kind is str:
        return text
    stripped = text.strip()
    if not stripped:
        return row.default
    if row.kind is bool:
        if stripped.lower() in _TRUE | _FALSE:
            return stripped.lower() in _TRUE
        raise SettingError(f"{origin}={text!r} is not a valid true/false (true, false, 1 or 0)")
    if row.kind is list:
        return [part.strip() for part in stripped.split(",") if part.strip()]
    try:
        return dict(json.loads(stripped)) if row.kind is dict else row.kind(stripped)
    except (TypeError, ValueError):
        raise SettingError(f"{origin}={text!r} is not a valid {describe(row.kind)}") from None


def from_environment(row: Option, environ: Mapping[str, str]) -> Any:
    """Return ``row``'s value from the first of its variables in ``environ``, else its default."""
    for variable in row.env:
        if variable in environ:
            return parse(row, environ[variable], variable)
    return row.default


def environment_values(environ: Mapping[str, str]) -> dict[str, Any]:
    """Return every setting of the table, typed, as ``environ`` overrides it."""
    return {row.name: from_environment(row, environ) for row in TABLE}


def _coerce(row: Option, value: Any) -> Any:
    """Return a setting's value as ``row``'s type (text is parsed, values of other types cast)."""
    if isinstance(value, str):
        return parse(row, value, row.name)
    if row.kind is str:
        return value  # a callable client factory is given as it is
    try:
        return row.kind(value)
    except (TypeError, ValueError):
        raise SettingError(f"{row.name}={value!r} is not a valid {describe(row.kind)}") from None


def option(settings: BaseSettings, name: str) -> Any:
    """Return setting ``name`` typed: from ``settings``, else the environment, else the default."""
    row = OPTIONS[name]
    value = settings.get(name)
    if value is None:
        # Settings not built from crawler/settings.py (a test's, a script's) still honour the
        # environment, as the project's would.
        return from_environment(row, os.environ)
    return _coerce(row, value)


_KIND_NAMES = {
    str: "text",
    int: "integer",
    float: "number",
    bool: "true/false",
    list: "list",
    dict: "mapping (JSON)",
}


def describe(kind: type) -> str:
    """Return the name the docs and error messages give a type."""
    return _KIND_NAMES[kind]
