from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from crawler.items import Article
from crawler.normalize.dates import CHINA_TZ, format_offset, is_plausible, parse_publish_time

# The crawl clock, frozen: 2026-01-01 09:00 in China.
NOW = datetime(2026, 1, 1, 1, 0, tzinfo=UTC)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.mark.parametrize(
    ("raw", "expected", "offset"),
    [
        ("2022-05-20 09:51:48", utc(2022, 5, 20, 1, 51, 48), "+08:00"),
        ("2022-05-20 09:51:48 +0800", utc(2022, 5, 20, 1, 51, 48), "+08:00"),
        ("2022-05-20T09:51:48+08:00", utc(2022, 5, 20, 1, 51, 48), "+08:00"),
        ("2022-05-20T01:51:48Z", utc(2022, 5, 20, 1, 51, 48), "+00:00"),
        ("2022-05-20 09:51:48 -0500", utc(2022, 5, 20, 14, 51, 48), "-05:00"),
        ("2022年05月20日 09:51", utc(2022, 5, 20, 1, 51), "+08:00"),
        ("2022年5月20日", utc(2022, 5, 19, 16, 0), "+08:00"),
        ("2022/5/20", utc(2022, 5, 19, 16, 0), "+08:00"),
        ("2022.05.20 09:51", utc(2022, 5, 20, 1, 51), "+08:00"),
        ("２０２２年０５月２０日 ０９：５１", utc(2022, 5, 20, 1, 51), "+08:00"),
        ("2022年5月20日 星期五 下午3:05", utc(2022, 5, 20, 7, 5), "+08:00"),
        (
            "发布时间：2019-09-07 13:43:45 来源：证券市场红周刊",
            utc(2019, 9, 7, 5, 43, 45),
            "+08:00",
        ),
        # Month and day only: this year, unless that lies in the future.
        ("05-20 09:51", utc(2025, 5, 20, 1, 51), "+08:00"),
        ("12-31 23:50", utc(2025, 12, 31, 15, 50), "+08:00"),
        ("01-01 08:30", utc(2026, 1, 1, 0, 30), "+08:00"),
        # Epoch seconds and milliseconds (East Money's updateTime, showDateTime).
        ("1653919229000", utc(2022, 5, 30, 14, 0, 29), "+08:00"),
        (1653919229000, utc(2022, 5, 30, 14, 0, 29), "+08:00"),
        ("1653919229", utc(2022, 5, 30, 14, 0, 29), "+08:00"),
        # Relative to the crawl clock.
        ("今天 16:25", utc(2026, 1, 1, 8, 25), "+08:00"),
        ("昨天 10:00", utc(2025, 12, 31, 2, 0), "+08:00"),
        ("前天 23:59", utc(2025, 12, 30, 15, 59), "+08:00"),
        ("3小时前", utc(2025, 12, 31, 22, 0), "+08:00"),
        ("15分钟前", utc(2026, 1, 1, 0, 45), "+08:00"),
        ("2天前", utc(2025, 12, 30, 1, 0), "+08:00"),
        ("刚刚", NOW, "+08:00"),
        # RSS (RFC 2822); with "-0000" (zone unknown), the source's.
        ("Fri, 20 May 2022 09:51:48 +0800", utc(2022, 5, 20, 1, 51, 48), "+08:00"),
        ("Fri, 20 May 2022 01:51:48 GMT", utc(2022, 5, 20, 1, 51, 48), "+00:00"),
        ("20 May 2022 09:51 -0000", utc(2022, 5, 20, 1, 51), "+08:00"),
        # English clock times.
        ("2022-05-20 09:51 PM", utc(2022, 5, 20, 13, 51), "+08:00"),
        ("2022-05-20 12:05 am", utc(2022, 5, 19, 16, 5), "+08:00"),
        # dateparser takes the rest.
        ("May 20, 2022 9:51 AM", utc(2022, 5, 20, 1, 51), "+08:00"),
    ],
)
def test_parse_publish_time(raw: str | int, expected: datetime, offset: str) -> None:
    parsed = parse_publish_time(raw, now=NOW)
    assert parsed is not None
    assert parsed.at == expected
    assert parsed.at.tzinfo is UTC
    assert parsed.offset == offset


@pytest.mark.parametrize(
    "raw",
    [
        "明天见",
        "2022-13-45",
        "2022-02-30 10:00",
        "",
        "   ",
        None,
        "garbage",
        "星期五",
        True,
        # Impossible offsets, times before the calendar, counts beyond any clock.
        "2022-05-20 09:51 +9999",
        "2022-05-20 09:51 GMT+99",
        "2022-05-20 09:51 +0875",
        "0001-01-01 00:00",
        "Sat, 01 Jan 0001 00:00:00 +0800",
        "99999999999999天前",
    ],
)
def test_garbage_is_refused(raw: object) -> None:
    assert parse_publish_time(raw, now=NOW) is None  # type: ignore[arg-type]


def test_other_default_zone() -> None:
    parsed = parse_publish_time("2022-05-20 09:51:48", now=NOW, zone=timezone(timedelta(hours=-3)))
    assert parsed is not None
    assert parsed.at == utc(2022, 5, 20, 12, 51, 48)
    assert parsed.offset == "-03:00"


@pytest.mark.parametrize(
    ("now", "raw", "expected"),
    [
        # 23:59 on 31 December in China; the source's clock is a few minutes ahead: next year.
        (utc(2025, 12, 31, 15, 59), "01-01 00:05", utc(2025, 12, 31, 16, 5)),
        # 00:10 on 1 January: a story from 31 December is last year's.
        (utc(2025, 12, 31, 16, 10), "12-31 23:50", utc(2025, 12, 31, 15, 50)),
        # 29 February only exists in leap years: the latest one not in the future.
        (utc(2026, 3, 1, 0, 0), "02-29 10:00", utc(2024, 2, 29, 2, 0)),
    ],
)
def test_year_inference_near_the_turn(now: datetime, raw: str, expected: datetime) -> None:
    parsed = parse_publish_time(raw, now=now)
    assert parsed is not None
    assert parsed.at == expected


def test_plausibility_window() -> None:
    window = {"max_future": timedelta(hours=24), "min_year": 1990}
    assert is_plausible(NOW + timedelta(hours=23), NOW, **window)
    assert not is_plausible(NOW + timedelta(hours=25), NOW, **window)
    assert not is_plausible(utc(1989, 12, 31, 23, 59), NOW, **window)
    assert is_plausible(utc(1990, 1, 1), NOW, **window)


def test_format_offset() -> None:
    assert format_offset(datetime(2022, 5, 20, tzinfo=CHINA_TZ)) == "+08:00"
    assert (
        format_offset(datetime(2022, 5, 20, tzinfo=timezone(timedelta(hours=-9, minutes=-30))))
        == "-09:30"
    )


def run_dates(chain_item: Article, crawler) -> Article:  # type: ignore[no-untyped-def]
    from pipelines.dates import DatesPipeline

    return DatesPipeline(crawler).process_item(chain_item)


@pytest.mark.parametrize(
    ("raw", "stat"),
    [("2027-01-03 10:00", "news/dates/out_of_range"), ("1989-06-01", "news/dates/out_of_range"),
     ("明天见", "news/dates/unparsed"), (None, "news/dates/unparsed")],
)  # fmt: skip
def test_pipeline_refuses_and_counts(crawler, raw: str | None, stat: str) -> None:  # type: ignore[no-untyped-def]
    item = run_dates(Article(url="https://x.cn/a", published_text=raw, fetched_at=NOW), crawler)
    assert item.published_at is None
    assert item.published_tz is None
    assert crawler.stats.get_value(stat) == 1


def test_pipeline_sets_utc_and_offset(crawler) -> None:  # type: ignore[no-untyped-def]
    item = run_dates(Article(published_text="今天 16:25", fetched_at=NOW), crawler)
    assert item.published_at == utc(2026, 1, 1, 8, 25)
    assert item.published_tz == "+08:00"


def test_pipeline_uses_configured_zone() -> None:
    from tests.conftest import make_crawler

    crawler = make_crawler(NEWS_DEFAULT_TIMEZONE="Europe/London")
    item = run_dates(Article(published_text="2022-07-01 12:00", fetched_at=NOW), crawler)
    assert item.published_at == utc(2022, 7, 1, 11, 0)
    assert item.published_tz == "+01:00"
