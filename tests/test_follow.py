"""Follow mode's policy: the interval argument, the pause between polls, conditional headers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.exceptions import DontCloseSpider
from scrapy.utils.project import get_project_settings

from crawler.extensions.runs import period_stats
from crawler.follow import (
    MAX_RETRY_AFTER,
    Follower,
    Policy,
    Poll,
    jittered,
    next_delay,
    parse_interval,
    validators,
)
from crawler.middlewares import RetryBackoffMiddleware
from crawler.spiders.eastmoney import EastMoneyColumnSpider
from crawler.spiders.eastmoney_724 import EastMoneyFlashSpider
from tests.conftest import make_crawler


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("10s", 10.0), ("0.2s", 0.2), ("500ms", 0.5), ("2m", 120.0), ("1h", 3600.0), ("15", 15.0)],
)
def test_parse_interval(text: str, seconds: float) -> None:
    assert parse_interval(text) == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["", "0s", "-1s", "10 days", "s", "1.2.3s"])
def test_parse_interval_refuses_what_is_no_positive_duration(text: str) -> None:
    with pytest.raises(ValueError, match="follow="):
        parse_interval(text)


POLICY = Policy(interval=10.0, backoff=1.5, max_delay=60.0)


@pytest.mark.parametrize(
    ("unchanged", "failed", "retry_after", "delay"),
    [
        (0, 0, None, 10.0),  # something new: the interval
        (1, 0, None, 15.0),
        (2, 0, None, 22.5),
        (10, 0, None, 60.0),  # capped
        (0, 1, None, 20.0),  # a failure doubles
        (0, 3, None, 60.0),
        (0, 1, 45.0, 45.0),  # Retry-After says more
        (0, 1, 5.0, 20.0),  # … or less: back-off wins
        (0, 1, 600.0, 600.0),  # honoured beyond the cap
        (0, 1, 10**9, MAX_RETRY_AFTER),
    ],
)
def test_next_delay(unchanged: int, failed: int, retry_after: float | None, delay: float) -> None:
    assert next_delay(POLICY, unchanged, failed, retry_after) == pytest.approx(delay)


def test_jitter_spreads_within_its_share() -> None:
    assert jittered(10.0, 0.1, lambda: 0.0) == pytest.approx(9.0)
    assert jittered(10.0, 0.1, lambda: 0.5) == pytest.approx(10.0)
    assert jittered(10.0, 0.1, lambda: 0.999999) == pytest.approx(11.0, abs=1e-4)
    assert jittered(10.0, 0.0) == 10.0


def test_policy_reads_settings_and_refuses_nonsense() -> None:
    crawler = make_crawler(NEWS_FOLLOW_MAX_DELAY=1, NEWS_FOLLOW_RECORD_POLLS=5)
    policy = Policy.from_settings(crawler.settings, 10.0)
    assert (policy.max_delay, policy.record_polls) == (10.0, 5)  # never below the interval
    with pytest.raises(ValueError, match="NEWS_FOLLOW_BACKOFF"):
        Policy.from_settings(make_crawler(NEWS_FOLLOW_BACKOFF=0.5).settings, 10.0)


def test_validators_answer_etag_and_last_modified() -> None:
    headers = {"ETag": b'"v1"', "Last-Modified": "Thu, 03 Dec 2026 05:00:00 GMT"}
    assert validators(headers) == {
        "If-None-Match": '"v1"',
        "If-Modified-Since": "Thu, 03 Dec 2026 05:00:00 GMT",
    }
    assert validators({}) == {}


@pytest.mark.parametrize(
    ("poll", "outcome"),
    [
        (Poll(read=2, new=5), "new"),
        (Poll(read=1), "unchanged"),
        (Poll(not_modified=1), "unchanged"),
        (Poll(read=1, new=3, failed=1), "failed"),
        (Poll(), "failed"),  # answered, but no listing could be read
    ],
)
def test_poll_outcome(poll: Poll, outcome: str) -> None:
    assert poll.outcome() == outcome


def test_period_stats_are_the_differences_since_the_period_began() -> None:
    start = datetime(2026, 12, 3, 5, 0, tzinfo=UTC)
    now = start + timedelta(hours=2)
    base = {
        "downloader/request_count": 100,
        "news/store/inserted": 7,
        "period_start": now - timedelta(hours=1),
    }
    stats = {
        "start_time": start,
        "downloader/request_count": 460,
        "news/store/inserted": 7,
        "news/store/spooled": 2,
    }
    window = period_stats(stats, base, now)
    assert window["downloader/request_count"] == 360
    assert "news/store/inserted" not in window  # nothing new stored in this period
    assert window["news/store/spooled"] == 2
    assert window["start_time"] == now - timedelta(hours=1)
    assert window["elapsed_time_seconds"] == 3600.0
    assert period_stats(stats, {}, now)["start_time"] == start


def test_the_column_and_flash_spiders_poll_their_first_pages() -> None:
    columns = EastMoneyColumnSpider.from_crawler(
        Crawler(EastMoneyColumnSpider, get_project_settings()), columns="345,350", follow="1m"
    )
    assert list(columns.poll_requests()) == ["column:345", "column:350"]
    flashes = EastMoneyFlashSpider.from_crawler(
        Crawler(EastMoneyFlashSpider, get_project_settings()), columns="102,103", follow="10s"
    )
    polls = flashes.poll_requests()
    assert list(polls) == ["724", "724:103"]
    assert all("sortEnd=&" in request.url for request in polls.values())


def test_a_worker_of_a_batch_refuses_to_follow() -> None:
    """Its batch would claim the first listing page once: every later poll would be dropped."""
    settings = get_project_settings()
    settings.set("NEWS_REDIS_URL", "redis://127.0.0.1:1/0")
    with pytest.raises(ValueError, match="follow mode runs on one host"):
        EastMoneyFlashSpider.from_crawler(Crawler(EastMoneyFlashSpider, settings), follow="10s")


def test_a_walk_is_not_ended_while_a_retry_of_it_is_held_back() -> None:
    """The retry back-off holds a request outside the engine, so the spider goes idle: the walk
    must not be marked complete (and its article forgotten) before that request is answered."""
    crawler = make_crawler()
    backoff = RetryBackoffMiddleware(crawler, base=1.0, cap=10.0)
    downloader = SimpleNamespace(middleware=SimpleNamespace(middlewares=[backoff]))
    crawler.engine = SimpleNamespace(downloader=downloader, spider=None)  # type: ignore[assignment]
    ended: list[bool] = []
    follower = Follower(
        crawler,
        Policy(interval=10.0),
        polls=dict,
        ended=lambda: ended.append(True),
        callback=lambda response: None,
        errback=lambda failure: None,
    )
    follower.poll = Poll(read=1, new=1)
    backoff.held[Request("https://example.com/a/1.html")] = SimpleNamespace()  # type: ignore[assignment]
    with pytest.raises(DontCloseSpider):
        follower.idle()
    assert ended == []
    backoff.held.clear()  # released and answered
    with pytest.raises(DontCloseSpider):
        follower.idle()
    assert ended == [True]
    follower.closed()
