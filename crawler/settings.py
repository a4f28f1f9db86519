"""Scrapy settings for finews.

Every project setting is a row of the table in :mod:`crawler.options` (name, environment
variable, type, default, doc), where ``docs/settings.md`` is generated from: the environment
overrides it (``NEWS_DEFAULT_TIMEZONE=UTC scrapy crawl …``; a value its type cannot take stops with
an error naming the variable), and so does ``-s NAME=value``. Read them with
:func:`crawler.options.option`. Below are the table's values and the plain Scrapy settings.
"""

from __future__ import annotations

import os

from crawler import options

BOT_NAME = "finews"

SPIDER_MODULES = ["crawler.spiders"]
NEWSPIDER_MODULE = "crawler.spiders"
# Commands are registered as entry points (pyproject.toml, "scrapy.commands").

# Every NEWS_* setting, and the Scrapy settings the table sets from NEWS_* variables.
_values = options.environment_values(os.environ)
globals().update(_values)
USER_AGENT = _values["USER_AGENT"] or f"finews/0.1 (+{_values['NEWS_CONTACT_URL']})"
LOG_FILE = _values["LOG_FILE"] or None

# The stages, in order: normalisation, validation, storage (crawler.options names them once).
ITEM_PIPELINES = options.item_pipelines(options.CRAWL_STAGES)

# --- politeness and resilience -------------------------------------------------------------------
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
# 3 retries on timeouts, connection errors and 408/429/5xx, each after a pause
# (NEWS_RETRY_BACKOFF_BASE, NEWS_RETRY_BACKOFF_MAX).
RETRY_TIMES = 3
RETRY_HTTP_CODES = [429, 500, 502, 503, 504, 522, 524, 408]
# Retries pause their host's slot only (crawler.middlewares); redirects and meta refreshes to
# anything but http(s) are not followed (Scrapy's raise and lose the page); a page over its
# download cap is refused before anything parses it.
DOWNLOADER_MIDDLEWARES = {
    "crawler.middlewares.RetryBackoffMiddleware": 560,
    "scrapy.downloadermiddlewares.redirect.MetaRefreshMiddleware": None,
    "crawler.middlewares.MetaRefreshMiddleware": 580,
    "crawler.middlewares.PageSizeLimitMiddleware": 585,
    "scrapy.downloadermiddlewares.redirect.RedirectMiddleware": None,
    "crawler.middlewares.RedirectMiddleware": 600,
}
DOWNLOAD_TIMEOUT = 30
# A news page is well under a megabyte: a larger download is cancelled (Scrapy's default, 1 GiB,
# would let a 20 MB page reach the extractor, seconds of CPU before the body stage dropped it).
# A configured source may set its own cap (sources.toml: download_maxsize).
DOWNLOAD_MAXSIZE = 8 * 1024 * 1024
DOWNLOAD_WARNSIZE = 2 * 1024 * 1024
DNSCACHE_ENABLED = True
DNSCACHE_SIZE = 10_000
DNS_TIMEOUT = 20
# Development only (NEWS_HTTPCACHE): replay responses from httpcache/.
HTTPCACHE_DIR = "httpcache"
HTTPCACHE_IGNORE_HTTP_CODES = [408, 429, 500, 502, 503, 504]

# --- operations: logs, progress, runs, health --------------------------------------------------
# Logs: a file when NEWS_LOG_FILE is set, else stderr; a progress line per spider every
# NEWS_PROGRESS_INTERVAL seconds.
LOG_LEVEL = "INFO"
LOG_FILE_APPEND = True
EXTENSIONS = {
    "scrapy.extensions.logstats.LogStats": None,  # replaced by the progress line
    "crawler.extensions.progress.ProgressLog": 0,
    "crawler.extensions.loglevel.LoggerLevels": 0,  # records below LOG_LEVEL are not built at all
    "crawler.extensions.gcfreeze.FreezeStartupHeap": 0,  # full collections skip the start-up heap
    "crawler.extensions.runs.RunRecorder": 100,  # a crawl_runs record for every crawl
    "crawler.extensions.notify.Notifier": 110,  # NEWS_NOTIFY_URLS told of failures, recoveries
    "crawler.extensions.metrics.MetricsFile": 120,  # NEWS_METRICS_FILE for Prometheus
    # A JOBDIR whose crawl died is discarded. Built last: no other extension can then fail
    # the start after it marked the JOBDIR as held.
    "crawler.extensions.jobdir.JobdirGuard": 1000,
}

# `scrapy check`: @fixture <source>/<file> runs a callback on a recorded response under
# NEWS_CONTRACT_FIXTURES (offline).
SPIDER_CONTRACTS = {"crawler.contracts.FixtureContract": 10}

# --- workers of a batch (NEWS_REDIS_URL) ------------------------------------------------------
# With NEWS_REDIS_URL set, the add-on makes the crawl a worker of a batch: the scrapy-redis
# frontier, the shared politeness limiter, the batch record (docs/distributed.md). Unset, it
# changes nothing.
ADDONS = {"crawler.distributed.BatchAddon": 0}

# --- Scrapy ------------------------------------------------------------------------------------
TWISTED_REACTOR = "twisted.internet.asyncioreactor.AsyncioSelectorReactor"
# Unattended runs open no control ports.
TELNETCONSOLE_ENABLED = False
REMOTE_CONTROL_ENABLED = False
FEED_EXPORT_ENCODING = "utf-8"
