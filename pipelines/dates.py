"""Dates stage: ``published_text`` becomes ``published_at`` (UTC) and ``published_tz``
(:mod:`crawler.normalize.dates`)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from crawler.normalize.dates import (
    PublishTime,
    Refusal,
    format_offset,
    is_plausible,
    read_publish_time,
)
from crawler.options import option
from pipelines.base import NewsPipeline

if TYPE_CHECKING:
    from itemadapter import ItemAdapter
    from scrapy.crawler import Crawler

logger = logging.getLogger(__name__)


class DatesPipeline(NewsPipeline):
    """Set ``published_at`` (UTC) and ``published_tz`` from ``published_text``.

    An unreadable, refused or implausible time leaves ``published_at`` empty, counted as
    ``news/dates/unparsed``, ``news/dates/refused/<reason>`` (:class:`Refusal`) or
    ``news/dates/out_of_range``; validate then drops the item.
    """

    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler)
        self.zone = ZoneInfo(option(self.settings, "NEWS_DEFAULT_TIMEZONE"))
        self.max_future = timedelta(hours=option(self.settings, "NEWS_MAX_FUTURE_HOURS"))
        self.min_year = option(self.settings, "NEWS_MIN_YEAR")

    def process_article(self, adapter: ItemAdapter) -> None:
        fetched = adapter.get("fetched_at")
        now = fetched if isinstance(fetched, datetime) and fetched.tzinfo else datetime.now(UTC)
        known = adapter.get("published_at")
        if isinstance(known, datetime) and known.tzinfo is not None:
            parsed: PublishTime | Refusal = PublishTime(
                known.astimezone(UTC), adapter.get("published_tz") or format_offset(known)
            )
        else:
            parsed = read_publish_time(
                adapter.get("published_text"), now=now, zone=self.zone, max_future=self.max_future
            )
        adapter["published_at"] = None
        adapter["published_tz"] = None
        if parsed is Refusal.UNREADABLE:
            self.inc("dates/unparsed")
            return
        if isinstance(parsed, Refusal):
            self.inc(f"dates/refused/{parsed}")
            logger.debug("Publish time refused (%s) for %s", parsed, adapter.get("url"))
            return
        if not is_plausible(parsed.at, now, max_future=self.max_future, min_year=self.min_year):
            self.inc("dates/out_of_range")
            logger.debug("Publish time %s out of range for %s", parsed.at, adapter.get("url"))
            return
        adapter["published_at"] = parsed.at
        adapter["published_tz"] = parsed.offset
