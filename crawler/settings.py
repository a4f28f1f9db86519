"""Scrapy settings for finews.

Every project setting is namespaced ``NEWS_*`` and can be overridden from the environment by a
variable of the same name (``NEWS_DEFAULT_TIMEZONE=UTC scrapy crawl …``) or with ``-s``.
The README's settings table lists them all.
"""

from __future__ import annotations

import os

BOT_NAME = "finews"

SPIDER_MODULES = ["crawler.spiders"]
NEWSPIDER_MODULE = "crawler.spiders"
# Commands are registered as entry points (pyproject.toml, "scrapy.commands").


def _env(name: str, default: str) -> str:
    """Return the environment's value for ``name``, else ``default``."""
    return os.environ.get(name, default)


def _env_int(name: str, default: int) -> int:
    """Return the environment's integer value for ``name``, else ``default``."""
    value = os.environ.get(name)
    return int(value) if value not in (None, "") else default


def _env_float(name: str, default: float) -> float:
    """Return the environment's number for ``name``, else ``default``."""
    value = os.environ.get(name)
    return float(value) if value not in (None, "") else default


# --- normalisation ---------------------------------------------------------------------------
# Zone of sources that print times without one (every Chinese source does).
NEWS_DEFAULT_TIMEZONE = _env("NEWS_DEFAULT_TIMEZONE", "Asia/Shanghai")
# Titles longer than this (characters) are cut and end with "…".
NEWS_TITLE_MAX_LENGTH = _env_int("NEWS_TITLE_MAX_LENGTH", 200)
# A publish time further ahead of the crawl clock than this is refused (hours).
NEWS_MAX_FUTURE_HOURS = _env_int("NEWS_MAX_FUTURE_HOURS", 24)
# A publish time before 1 January of this year is refused.
NEWS_MIN_YEAR = _env_int("NEWS_MIN_YEAR", 1990)
# Raw bodies larger than this many bytes (UTF-8) are dropped as garbage before parsing.
NEWS_BODY_MAX_BYTES = _env_int("NEWS_BODY_MAX_BYTES", 10_000_000)

# Sources file of the `site` spider; empty: sources.toml beside scrapy.cfg.
NEWS_SOURCES_FILE = _env("NEWS_SOURCES_FILE", "")

ITEM_PIPELINES = {
    "pipelines.identity.IdentityPipeline": 100,
    "pipelines.title.TitlePipeline": 200,
    "pipelines.dates.DatesPipeline": 300,
    "pipelines.body.BodyPipeline": 400,
    "pipelines.attribution.AttributionPipeline": 500,
    "pipelines.validate.ValidatePipeline": 600,
    "pipelines.storage.StoragePipeline": 700,
}

# --- storage (MongoDB) -------------------------------------------------------------------------
# Where articles are stored (the environment's MONGO_URI also works). Empty: storage off.
NEWS_MONGO_URI = _env("NEWS_MONGO_URI", _env("MONGO_URI", "mongodb://localhost:27017"))
NEWS_MONGO_DATABASE = _env("NEWS_MONGO_DATABASE", "finews")
NEWS_MONGO_COLLECTION = _env("NEWS_MONGO_COLLECTION", "articles")
# Articles per unordered bulk write; a partial batch is written after this many seconds
# (0: only when full and at close).
NEWS_MONGO_BATCH_SIZE = _env_int("NEWS_MONGO_BATCH_SIZE", 100)
NEWS_MONGO_FLUSH_SECONDS = _env_float("NEWS_MONGO_FLUSH_SECONDS", 5.0)
# Write concern w: "majority" or a number of nodes.
NEWS_MONGO_WRITE_CONCERN = _env("NEWS_MONGO_WRITE_CONCERN", "majority")
# How long (ms) to wait for the server before spooling instead.
NEWS_MONGO_TIMEOUT_MS = _env_int("NEWS_MONGO_TIMEOUT_MS", 3000)
# Install the collection's $jsonSchema validator (crawler.items.mongo_json_schema); "0" skips it.
NEWS_MONGO_VALIDATOR = _env("NEWS_MONGO_VALIDATOR", "1")
# What builds the MongoDB client: an import path or a callable (tests put mongomock here).
NEWS_MONGO_CLIENT_FACTORY = "pymongo.MongoClient"
# Articles MongoDB could not take wait here (JSON lines) until replayed.
NEWS_SPOOL_DIR = _env("NEWS_SPOOL_DIR", "spool")
# Near duplicates: SimHash distance in bits; content matches only within this publish-time window.
NEWS_DEDUPE_NEAR_DISTANCE = _env_int("NEWS_DEDUPE_NEAR_DISTANCE", 8)
NEWS_DEDUPE_WINDOW_HOURS = _env_float("NEWS_DEDUPE_WINDOW_HOURS", 12.0)

# --- East Money (crawler/spiders/eastmoney*.py, finews.py) -------------------------------------
# Column ids the `eastmoney` spider walks (comma-separated); empty: every news column of
# crawler.sources.eastmoney.NEWS_COLUMNS (344,345,350,351,353,355,1207,408).
NEWS_EASTMONEY_COLUMNS = _env("NEWS_EASTMONEY_COLUMNS", "")
# Listing pages per column at most, and items per page (the API serves at most 100).
NEWS_EASTMONEY_PAGES = _env_int("NEWS_EASTMONEY_PAGES", 5)
NEWS_EASTMONEY_PAGE_SIZE = _env_int("NEWS_EASTMONEY_PAGE_SIZE", 50)
# 7x24 flash list: cursor pages at most, flashes per page (at most 200), and when a flash's own
# article page is fetched: auto (only when the list item cannot stand alone), always, never.
NEWS_EASTMONEY_724_PAGES = _env_int("NEWS_EASTMONEY_724_PAGES", 10)
NEWS_EASTMONEY_724_PAGE_SIZE = _env_int("NEWS_EASTMONEY_724_PAGE_SIZE", 100)
NEWS_EASTMONEY_724_FETCH_PAGES = _env("NEWS_EASTMONEY_724_FETCH_PAGES", "auto")
# User-Agent sent to East Money (its APIs expect a browser); empty: a current desktop Chrome.
NEWS_EASTMONEY_USER_AGENT = _env("NEWS_EASTMONEY_USER_AGENT", "")
# Endpoints; empty: East Money's own (crawler.sources.eastmoney.DEFAULT_URLS). Tests and
# mirrors point them elsewhere. {code} is the 18-digit article code.
NEWS_EASTMONEY_COLUMN_API = _env("NEWS_EASTMONEY_COLUMN_API", "")
NEWS_EASTMONEY_FAST_API = _env("NEWS_EASTMONEY_FAST_API", "")
NEWS_EASTMONEY_ARTICLE_URL = _env("NEWS_EASTMONEY_ARTICLE_URL", "")
# The original finews system's feeds (`finews` spider); empty: the original URLs.
# {market_type} is each of NEWS_FINEWS_MARKET_TYPES, {info_code} is NW<code>.
NEWS_FINEWS_ROLLING_URL = _env("NEWS_FINEWS_ROLLING_URL", "")
NEWS_FINEWS_MEDIA_URL = _env("NEWS_FINEWS_MEDIA_URL", "")
NEWS_FINEWS_MARKET_URL = _env("NEWS_FINEWS_MARKET_URL", "")
NEWS_FINEWS_MARKET_TYPES = _env("NEWS_FINEWS_MARKET_TYPES", "37,38,39")
NEWS_FINEWS_BODY_URL = _env("NEWS_FINEWS_BODY_URL", "")

# --- politeness and resilience -------------------------------------------------------------------
# Sent in the User-Agent so that a site's operators can reach us.
NEWS_CONTACT_URL = _env("NEWS_CONTACT_URL", "https://github.com/finews/finews")
USER_AGENT = _env("NEWS_USER_AGENT", f"finews/0.1 (+{NEWS_CONTACT_URL})")
ROBOTSTXT_OBEY = _env("NEWS_ROBOTSTXT_OBEY", "True")
# AutoThrottle adapts each site's delay to its latency (never below DOWNLOAD_DELAY);
# at most 4 parallel requests per site, 16 in all.
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 1.0
AUTOTHROTTLE_MAX_DELAY = 30.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 2.0
DOWNLOAD_DELAY = 0.5
CONCURRENT_REQUESTS = 16
CONCURRENT_REQUESTS_PER_DOMAIN = 4
# Items and requests of one response handled at once. Scrapy starts this many asyncio workers for
# every callback's output, and the pipelines are synchronous, so more only costs time: Scrapy's
# default, 100, took over a third of a crawl's CPU (bench/crawl.py).
CONCURRENT_ITEMS = 4
# 3 retries on timeouts, connection errors and 408/429/5xx; each retry pauses
# NEWS_RETRY_BACKOFF_BASE * 2**(n-1) seconds (or the server's Retry-After), at most
# NEWS_RETRY_BACKOFF_MAX; a base of 0 turns the pause off.
RETRY_TIMES = 3
RETRY_HTTP_CODES = [429, 500, 502, 503, 504, 522, 524, 408]
NEWS_RETRY_BACKOFF_BASE = _env_float("NEWS_RETRY_BACKOFF_BASE", 1.0)
NEWS_RETRY_BACKOFF_MAX = _env_float("NEWS_RETRY_BACKOFF_MAX", 60.0)
DOWNLOADER_MIDDLEWARES = {"crawler.middlewares.RetryBackoffMiddleware": 560}
DOWNLOAD_TIMEOUT = 30
DNSCACHE_ENABLED = True
DNSCACHE_SIZE = 10_000
DNS_TIMEOUT = 20
# Development only: replay responses from httpcache/ instead of asking the sites again.
HTTPCACHE_ENABLED = _env("NEWS_HTTPCACHE", "False")
HTTPCACHE_DIR = "httpcache"
HTTPCACHE_EXPIRATION_SECS = _env_int("NEWS_HTTPCACHE_EXPIRATION_SECS", 0)
HTTPCACHE_IGNORE_HTTP_CODES = [408, 429, 500, 502, 503, 504]

# --- operations: logs, progress, runs, health (README "Operations") ------------------------------
# Logs: a file (rotated by logrotate, see deploy/) when NEWS_LOG_FILE is set, else stderr;
# a progress line per spider every NEWS_PROGRESS_INTERVAL seconds.
LOG_LEVEL = "INFO"
LOG_FILE = _env("NEWS_LOG_FILE", "") or None
LOG_FILE_APPEND = True
LOGSTATS_INTERVAL = _env_float("NEWS_PROGRESS_INTERVAL", 60.0)
EXTENSIONS = {
    "scrapy.extensions.logstats.LogStats": None,  # replaced by the progress line
    "crawler.extensions.progress.ProgressLog": 0,
    "crawler.extensions.loglevel.LoggerLevels": 0,  # records below LOG_LEVEL are not built at all
    "crawler.extensions.gcfreeze.FreezeStartupHeap": 0,  # full collections skip the start-up heap
    "crawler.extensions.runs.RunRecorder": 100,  # a crawl_runs record for every crawl
}
NEWS_GC_FREEZE = _env("NEWS_GC_FREEZE", "True")
# Run records and health checks (crawler/runs.py, crawler/health.py).
NEWS_RUNS_MONGO = _env("NEWS_RUNS_MONGO", "True")
NEWS_RUNS_COLLECTION = _env("NEWS_RUNS_COLLECTION", "crawl_runs")
NEWS_RUNS_FILE = _env("NEWS_RUNS_FILE", "")
NEWS_RUN_OK_REASONS = ["finished"]
NEWS_HEALTH_EXPECT_ITEMS = _env("NEWS_HEALTH_EXPECT_ITEMS", "True")
NEWS_HEALTH_MAX_ERROR_RATIO = _env_float("NEWS_HEALTH_MAX_ERROR_RATIO", 0.05)
NEWS_HEALTH_MIN_COVERAGE = {"title": 1.0, "published_at": 1.0, "body_text": 1.0, "publisher": 0.95}
NEWS_HEALTH_COVERAGE_MIN_ITEMS = _env_int("NEWS_HEALTH_COVERAGE_MIN_ITEMS", 10)
# scrapy crawlall: the spiders it runs (empty: all), its lock, each spider's resumable JOBDIR.
NEWS_CRAWLALL_SPIDERS = _env("NEWS_CRAWLALL_SPIDERS", "")
NEWS_LOCK_FILE = _env("NEWS_LOCK_FILE", "/tmp/finews-crawlall.lock")
NEWS_JOBDIR = _env("NEWS_JOBDIR", "jobs/{spider}")

# `scrapy check`: @fixture <source>/<file> runs a callback on a recorded response (offline).
SPIDER_CONTRACTS = {"crawler.contracts.FixtureContract": 10}

# --- Scrapy ------------------------------------------------------------------------------------
TWISTED_REACTOR = "twisted.internet.asyncioreactor.AsyncioSelectorReactor"
# Unattended runs open no control ports.
TELNETCONSOLE_ENABLED = False
REMOTE_CONTROL_ENABLED = False
FEED_EXPORT_ENCODING = "utf-8"
