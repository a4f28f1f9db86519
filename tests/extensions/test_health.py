"""Health checks: pure functions over a run's stats, with a table per check."""

from __future__ import annotations

from typing import Any

import pytest
from scrapy.settings import Settings

from crawler.extensions.health import (
    Thresholds,
    check_health,
    coverage,
    error_ratio,
    is_present,
    items_seen,
)

FULL = {"title": 20, "published_at": 20, "body_text": 20, "publisher": 20}


def stats(items: int = 20, requests: int = 21, errors: int = 0, **fields: int) -> dict[str, Any]:
    """Return the stats of a run that scraped ``items`` with the given field counts."""
    counts = {**FULL, **fields} if items else {}
    return {
        "item_scraped_count": items,
        "downloader/request_count": requests,
        "log_count/ERROR": errors,
        "news/coverage/items": items,
        **{f"news/coverage/{name}": count for name, count in counts.items()},
    }


@pytest.mark.parametrize(
    ("run", "expected"),
    [
        (stats(), []),
        (stats(items=0), ["no items: the spider found no article"]),
        # A quiet incremental run: everything listed was already stored.
        ({**stats(items=0), "news/eastmoney/skipped/known": 12}, []),
        (stats(items=0, requests=0), ["no items: the spider found no article"]),
        (stats(errors=1), []),
        (stats(errors=3), ["error ratio 0.14 over 0.05 (3 errors, 21 requests)"]),
        (
            {"log_count/ERROR": 1, "item_dropped_count": 1},
            ["error ratio inf over 0.05 (1 errors, 0 requests)"],
        ),
        (stats(publisher=19), []),
        (stats(publisher=18), ["coverage of publisher 90% under 95%"]),
        (stats(title=19), ["coverage of title 95% under 100%"]),
        (
            stats(body_text=0, published_at=10),
            [
                "coverage of published_at 50% under 100%",
                "coverage of body_text 0% under 100%",
            ],
        ),
        # Too few articles to judge coverage.
        (stats(items=5, publisher=0), []),
    ],
)
def test_check_health(run: dict[str, Any], expected: list[str]) -> None:
    assert check_health(run, Thresholds.from_settings(Settings())) == expected


def test_spider_that_expects_no_items_is_healthy_without_any() -> None:
    thresholds = Thresholds.from_settings(Settings(), expect_items=False)
    assert check_health(stats(items=0), thresholds) == []


def test_thresholds_from_settings() -> None:
    settings = Settings(
        {
            "NEWS_HEALTH_EXPECT_ITEMS": "False",
            "NEWS_HEALTH_MAX_ERROR_RATIO": "0.5",
            "NEWS_HEALTH_MIN_COVERAGE": '{"title": 1, "authors": 0.5}',
            "NEWS_HEALTH_COVERAGE_MIN_ITEMS": "3",
        }
    )
    thresholds = Thresholds.from_settings(settings)
    assert thresholds == Thresholds(False, 0.5, {"title": 1.0, "authors": 0.5}, 3)
    assert Thresholds.from_settings(settings, expect_items=True).expect_items is True


@pytest.mark.parametrize(
    ("value", "expected"),
    [(None, False), ("", False), ("  \u3000", False), ([], False), ("标题", True), (["甲"], True),
     (0, True)],
)  # fmt: skip
def test_is_present(value: Any, expected: bool) -> None:
    assert is_present(value) is expected


def test_figures() -> None:
    run = {**stats(publisher=15), "item_dropped_count": 2, "news/site/cmrnn/skipped/known": 3}
    assert items_seen(run) == 25
    assert error_ratio(stats(errors=7, requests=14)) == 0.5
    assert error_ratio({}) == 0.0
    assert coverage(run, ["title", "publisher"]) == {"title": 1.0, "publisher": 0.75}
    assert coverage({}, ["title"]) == {}
