"""Health checks run after each spider: the signs of a broken source or a site redesign.

Every check is a pure function over Scrapy's stats; :func:`check_health` returns the problems
found, each a short sentence. The run recorder (:mod:`crawler.extensions.runs`) logs them at
ERROR and marks the run failed, which makes ``scrapy crawlall`` exit non-zero.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from crawler.options import option

if TYPE_CHECKING:
    from collections.abc import Iterable

    from scrapy.settings import BaseSettings

COVERAGE_SEEN = "news/coverage/items"
# Articles of the run still in the spool when it closed, and articles MongoDB refused: a run that
# could not store what it found did not succeed, even if nothing is lost.
WAITING = "news/store/waiting"
REJECTED = "news/store/rejected"

# Stats that count an article the spider found: scraped, dropped, or (``news/<spider>/…/skipped/
# known``) left out because storage already has it, which is what a quiet incremental run finds.
ITEMS_SEEN_STATS = ("item_scraped_count", "item_dropped_count")
KNOWN_SUFFIX = "/skipped/known"


@dataclass(frozen=True)
class Thresholds:
    """What a healthy run looks like (``NEWS_HEALTH_*`` settings)."""

    expect_items: bool
    max_error_ratio: float
    # A falling share of articles having a field is the sign of a redesign.
    min_coverage: Mapping[str, float]
    coverage_min_items: int

    @classmethod
    def from_settings(cls, settings: BaseSettings, expect_items: bool | None = None) -> Thresholds:
        """Read the thresholds; a spider's ``expects_items`` attribute overrides the setting."""
        configured = option(settings, "NEWS_HEALTH_MIN_COVERAGE")
        return cls(
            expect_items=(
                option(settings, "NEWS_HEALTH_EXPECT_ITEMS")
                if expect_items is None
                else expect_items
            ),
            max_error_ratio=option(settings, "NEWS_HEALTH_MAX_ERROR_RATIO"),
            min_coverage={name: float(share) for name, share in configured.items()},
            coverage_min_items=option(settings, "NEWS_HEALTH_COVERAGE_MIN_ITEMS"),
        )


def is_present(value: Any) -> bool:
    """Tell whether a field value counts as present: not None, not blank, not empty."""
    if value is None:
        return False
    if isinstance(value, str):
        return bool(value.strip())
    if isinstance(value, (list, tuple, dict, set)):
        return bool(value)
    return True


def present_fields(item: Mapping[str, Any], names: Iterable[str]) -> list[str]:
    """Return those of the field ``names`` that ``item`` has."""
    return [name for name in names if is_present(item.get(name))]


def items_seen(stats: Mapping[str, Any]) -> int:
    """Return how many articles the spider found (scraped, dropped or skipped as known)."""
    known = sum(
        int(value)
        for key, value in stats.items()
        if key.startswith("news/") and key.endswith(KNOWN_SUFFIX)
    )
    return known + sum(int(stats.get(key, 0)) for key in ITEMS_SEEN_STATS)


def error_count(stats: Mapping[str, Any]) -> int:
    """Return the errors of a run: every ERROR log line (failed downloads, spider exceptions…)."""
    return int(stats.get("log_count/ERROR", 0))


def error_ratio(stats: Mapping[str, Any]) -> float:
    """Return errors per request; infinite when there were errors but no request."""
    errors = error_count(stats)
    requests = int(stats.get("downloader/request_count", 0))
    if requests:
        return errors / requests
    return float("inf") if errors else 0.0


def coverage(stats: Mapping[str, Any], names: Iterable[str]) -> dict[str, float]:
    """Return the share of articles that had each of the field ``names`` (empty when none seen)."""
    seen = int(stats.get(COVERAGE_SEEN, 0))
    if not seen:
        return {}
    return {name: int(stats.get(f"news/coverage/{name}", 0)) / seen for name in names}


def check_health(stats: Mapping[str, Any], thresholds: Thresholds) -> list[str]:
    """Return the health problems of a finished run, an empty list when it is healthy."""
    problems: list[str] = []
    if thresholds.expect_items and items_seen(stats) == 0:
        problems.append("no items: the spider found no article")
    ratio = error_ratio(stats)
    if ratio > thresholds.max_error_ratio:
        problems.append(
            f"error ratio {ratio:.2f} over {thresholds.max_error_ratio:.2f} "
            f"({error_count(stats)} errors, {stats.get('downloader/request_count', 0)} requests)"
        )
    if waiting := int(stats.get(WAITING, 0)):
        problems.append(
            f"{waiting} articles wait in the spool: MongoDB failed during the run "
            "(the next crawl or `scrapy spool-replay` stores them)"
        )
    if rejected := int(stats.get(REJECTED, 0)):
        problems.append(f"{rejected} articles refused by MongoDB, kept in rejected-*.jsonl")
    if int(stats.get(COVERAGE_SEEN, 0)) >= thresholds.coverage_min_items:
        shares = coverage(stats, thresholds.min_coverage)
        for name, minimum in thresholds.min_coverage.items():
            share = shares[name]
            if share < minimum:
                problems.append(f"coverage of {name} {share:.0%} under {minimum:.0%}")
    return problems
