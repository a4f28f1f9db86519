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
COMMANDS_MODULE = "crawler.commands"


def _env(name: str, default: str) -> str:
    """Return the environment's value for ``name``, else ``default``."""
    return os.environ.get(name, default)


def _env_int(name: str, default: int) -> int:
    """Return the environment's integer value for ``name``, else ``default``."""
    value = os.environ.get(name)
    return int(value) if value not in (None, "") else default


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

ITEM_PIPELINES = {
    "pipelines.identity.IdentityPipeline": 100,
    "pipelines.title.TitlePipeline": 200,
    "pipelines.dates.DatesPipeline": 300,
    "pipelines.body.BodyPipeline": 400,
    "pipelines.attribution.AttributionPipeline": 500,
    "pipelines.validate.ValidatePipeline": 600,
}

# --- Scrapy defaults we rely on ----------------------------------------------------------------
ROBOTSTXT_OBEY = True
TWISTED_REACTOR = "twisted.internet.asyncioreactor.AsyncioSelectorReactor"
# Unattended runs open no control ports.
TELNETCONSOLE_ENABLED = False
REMOTE_CONTROL_ENABLED = False
FEED_EXPORT_ENCODING = "utf-8"
LOG_LEVEL = "INFO"
