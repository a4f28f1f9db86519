"""Do not build log records that ``LOG_LEVEL`` would throw away.

Scrapy sets its ``scrapy`` logger to DEBUG and leaves the filtering to the root handler, so every
response ("Crawled (200) …") and every item ("Scraped from …") builds a record, frame lookup
included, that the handler then drops. For the length of a crawl whose log Scrapy's own root
handler writes, :class:`LoggerLevels` sets the ``scrapy`` logger and the project's loggers to
``LOG_LEVEL`` and then puts their levels back. What reaches the log does not change.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Self

from scrapy import signals
from scrapy.exceptions import NotConfigured

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.settings import BaseSettings

#: The loggers whose records only Scrapy's root handler receives.
LOGGERS = ("scrapy", "crawler", "pipelines")


def handler_level(settings: BaseSettings) -> int | None:
    """Return the level Scrapy's root handler filters at, ``None`` when it filters nothing
    (DEBUG) or Scrapy does not own the root handler."""
    if not settings.getbool("LOG_ENABLED") or not settings.getbool("LOG_INSTALL_ROOT_HANDLER"):
        return None
    level = logging.getLevelName(str(settings.get("LOG_LEVEL", "DEBUG")).upper())
    return level if isinstance(level, int) and level > logging.DEBUG else None


class LoggerLevels:
    """Raise :data:`LOGGERS` to ``LOG_LEVEL`` while the engine runs."""

    def __init__(self, level: int) -> None:
        self.level = level
        self.saved: dict[str, int] = {}

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        level = handler_level(crawler.settings)
        if level is None:
            raise NotConfigured
        extension = cls(level)
        crawler.signals.connect(extension.engine_started, signal=signals.engine_started)
        crawler.signals.connect(extension.engine_stopped, signal=signals.engine_stopped)
        return extension

    def engine_started(self) -> None:
        for name in LOGGERS:
            log = logging.getLogger(name)
            if log.level < self.level:
                self.saved[name] = log.level
                log.setLevel(self.level)

    def engine_stopped(self) -> None:
        for name, level in self.saved.items():
            logging.getLogger(name).setLevel(level)
        self.saved.clear()
