from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone, tzinfo

import pytest

from crawler.items import Article
from crawler.normalize.dates import (
    CHINA_TZ,
    MAX_TIME_TEXT_CHARS,
    PublishTime,
    Refusal,
    format_offset,
    is_plausible,
    parse_publish_time,
    read_publish_time,
)

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
        # A day and month with a clock, in Chinese too: the same rule as 05-20 09:51.
        ("5月20日 10:00", utc(2025, 5, 20, 2, 0), "+08:00"),
        ("05/20 09:51", utc(2025, 5, 20, 1, 51), "+08:00"),
        # A page's time node, indented over lines: its whitespace is not its length.
        (
            "\n" + " " * 300 + "2022-05-20\n" + " " * 300 + "09:51" + " " * 300,
            utc(2022, 5, 20, 1, 51),
            "+08:00",
        ),
        # dateparser takes the rest: a day, month and year printed, or a phrase relative to now.
        ("May 20, 2022 9:51 AM", utc(2022, 5, 20, 1, 51), "+08:00"),
        ("20 May 2022", utc(2022, 5, 19, 16, 0), "+08:00"),
        ("2 hours ago", utc(2025, 12, 31, 23, 0), "+08:00"),
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


# The crawl clock of the hostile test: 3 December, so what dateparser took from it shows.
DAY_3 = datetime(2026, 12, 3, 4, 0, tzinfo=UTC)


def refuse_to_guess(text: str, now: datetime, zone: tzinfo) -> datetime | None:
    raise AssertionError(f"{text[:20]!r} reached dateparser")


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        # Each was completed from the crawl's clock (issue 15): 2012-11-03, 2011-12-03,
        # 2022-12-03, 2026-05-03, 2026-01-03, today 00:00, today 05:06, 2001-02-03.
        ("12-11", Refusal.AMBIGUOUS),
        ("11/12", Refusal.AMBIGUOUS),
        ("2022", Refusal.AMBIGUOUS),
        ("5月", Refusal.UNREADABLE),
        ("-1", Refusal.AMBIGUOUS),
        ("今天 25:99", Refusal.IMPOSSIBLE),
        ("05.06", Refusal.AMBIGUOUS),
        ("01/02/03", Refusal.AMBIGUOUS),
        # A clock without a day, 24-hour, 12-hour or in Chinese.
        ("10:00", Refusal.NO_DAY),
        ("下午3:05", Refusal.NO_DAY),
        ("9:51 PM", Refusal.NO_DAY),
        ("10时30分", Refusal.NO_DAY),
        # Printed days and clocks that do not exist are not read as something else.
        ("2022-02-30 10:00", Refusal.IMPOSSIBLE),
        ("13-45 10:00", Refusal.IMPOSSIBLE),
        ("昨天 10:75", Refusal.IMPOSSIBLE),
        # Digits in an order nobody states: day first, a two-digit year, a bare count.
        ("20/05/2022", Refusal.AMBIGUOUS),
        ("22-05-20 10:00", Refusal.AMBIGUOUS),
        ("20 May 22 09:51 +0800", Refusal.AMBIGUOUS),
        # A date missing its day or year, in words.
        ("May 2022", Refusal.UNREADABLE),
        ("2022年5月", Refusal.UNREADABLE),
        ("5月20日", Refusal.UNREADABLE),
        ("20 May", Refusal.UNREADABLE),
    ],
)
def test_nothing_is_taken_from_the_clock(raw: str, reason: Refusal) -> None:
    assert read_publish_time(raw, now=DAY_3) == reason
    assert parse_publish_time(raw, now=DAY_3) is None
    if reason is not Refusal.UNREADABLE:  # refused by its layout, before any guessing
        assert read_publish_time(raw, now=DAY_3, fallback=refuse_to_guess) == reason


@pytest.mark.parametrize(
    "raw",
    [
        # A 300 KB RSS <pubDate> took 15 s in dateparser (issue 15).
        "Fri, 20 May 2022 09:51:48 +0800 " + "1" * 300_000,
        "1" * 300_000,
        "发布时间" * 100_000,
        "2022-05-20 09:51 " * 20_000,
        "-/.:" * 100_000,
        "May 20, 2022 " * 10,
    ],
    ids=["pubdate", "digits", "cjk", "repeated", "separators", "just-too-long"],
)
def test_absurdly_long_text_is_refused_unread(raw: str) -> None:
    assert len(raw) > MAX_TIME_TEXT_CHARS
    assert read_publish_time(raw, now=NOW, fallback=refuse_to_guess) == Refusal.TOO_LONG


def test_the_longest_time_text_is_read() -> None:
    line = "发布时间：2019-09-07 13:43:45 来源："
    text = line + "证" * (MAX_TIME_TEXT_CHARS - len(line))
    parsed = read_publish_time(text, now=NOW)
    assert isinstance(parsed, PublishTime)
    assert parsed.at == utc(2019, 9, 7, 5, 43, 45)
    assert read_publish_time(text + "券", now=NOW) == Refusal.TOO_LONG


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
     ("明天见", "news/dates/unparsed"), (None, "news/dates/unparsed"),
     ("12-11", "news/dates/refused/ambiguous"), ("今天 25:99", "news/dates/refused/impossible"),
     ("10:00", "news/dates/refused/no_day"), ("1" * 300_000, "news/dates/refused/too_long")],
)  # fmt: skip
def test_pipeline_refuses_and_counts(crawler, raw: str | None, stat: str) -> None:  # type: ignore[no-untyped-def]
    item = run_dates(Article(url="https://x.cn/a", published_text=raw, fetched_at=NOW), crawler)
    assert item.published_at is None
    assert item.published_tz is None
    assert crawler.stats.get_value(stat) == 1
    assert sum(v for k, v in crawler.stats.get_stats().items() if k.startswith("news/dates/")) == 1


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
