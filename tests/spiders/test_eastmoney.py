"""East Money spiders in-process: callbacks on canned responses (no network, no reactor run).

Stop rules, every kind of bad response on every listing, the 7×24 page rule, headers, ``since``.
The crawl over HTTP with storage is ``test_eastmoney_crawl.py``.
"""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import pytest
from scrapy import signals
from scrapy.exceptions import IgnoreRequest, NotConfigured
from scrapy.http import HtmlResponse, Request, Response, TextResponse
from scrapy.spidermiddlewares.httperror import HttpError
from scrapy.utils.test import get_crawler
from twisted.internet.error import ConnectionRefusedError
from twisted.python.failure import Failure

from crawler.middlewares import RETRY_AFTER_META, RetryBackoffMiddleware, retry_after_seconds
from crawler.spiders.eastmoney import EastMoneyColumnSpider
from crawler.spiders.eastmoney_724 import EastMoneyFlashSpider, cursor_moves_back
from crawler.spiders.eastmoney_common import parse_since
from crawler.spiders.finews import FinewsSpider
from tests.conftest import FIXTURES, ROOT
from tests.spiders.support import FakeKnown, json_response, run

if TYPE_CHECKING:
    from collections.abc import Iterable

    import scrapy

CHINA = ZoneInfo("Asia/Shanghai")
EASTMONEY = FIXTURES / "eastmoney"


def make_spider(cls: type[scrapy.Spider], stored: Iterable[str] = (), **kwargs: Any) -> Any:
    crawler = get_crawler(cls, {"NEWS_DEFAULT_TIMEZONE": "Asia/Shanghai", "NEWS_MONGO_URI": ""})
    crawler.stats.open_spider()
    spider = cls.from_crawler(crawler, **kwargs)
    crawler.spider = spider
    spider.known = FakeKnown(f"eastmoney:{c}" for c in stored)
    return spider


def stats(spider: scrapy.Spider) -> dict[str, Any]:
    return {
        k.removeprefix("news/eastmoney/"): v
        for k, v in spider.crawler.stats.get_stats().items()
        if k.startswith("news/eastmoney/")
    }


def code(n: int) -> str:
    return f"20260110{n:010d}"


def column_item(n: int, shown: str = "2026-01-10 10:00:00") -> dict[str, Any]:
    return {
        "code": code(n),
        "showTime": shown,
        "title": f"标题{n}",
        "mediaName": "第一财经",
        "summary": f"摘要{n}",
        "url": f"https://finance.eastmoney.com/a/{code(n)}.html",
        "Np_dst": "",
    }


def column_page(items: list[dict[str, Any]], total: int) -> str:
    return json.dumps({"code": "1", "data": {"totle_hits": total, "list": items}})


# --- column spider: stop rules --------------------------------------------------------------


def test_column_page_with_new_entries_requests_them_and_the_next_page() -> None:
    spider = make_spider(EastMoneyColumnSpider, stored=[code(2)], page_size=3, pages=5)
    items = [column_item(1), column_item(2), column_item(3)]
    requests, _ = run(
        spider.parse_listing, json_response(column_page(items, 10)), column=345, page_index=1
    )
    article_urls = [r.url for r in requests if r.callback == spider.parse_article]
    assert article_urls == [items[0]["url"], items[2]["url"]]
    (listing,) = [r for r in requests if r.callback == spider.parse_listing]
    assert "page_index=2" in listing.url
    assert "column=345" in listing.url
    assert listing.cb_kwargs == {"column": 345, "page_index": 2}
    assert stats(spider) == {"listing/pages": 1, "skipped/known": 1}
    assert spider.known.asked == [[f"eastmoney:{code(n)}" for n in (1, 2, 3)]]


@pytest.mark.parametrize(
    ("stored", "page_index", "total", "kwargs", "stop"),
    [
        ([1, 2, 3], 1, 10, {}, "nothing_new"),
        ([], 1, 3, {}, "last_page"),
        ([], 2, 6, {}, "last_page"),
        ([], 2, 100, {"pages": 2}, "max_pages"),
    ],
)
def test_column_walk_stops(
    stored: list[int], page_index: int, total: int, kwargs: dict[str, Any], stop: str
) -> None:
    spider = make_spider(
        EastMoneyColumnSpider, stored=[code(n) for n in stored], page_size=3, **kwargs
    )
    items = [column_item(n) for n in (1, 2, 3)]
    requests, _ = run(
        spider.parse_listing,
        json_response(column_page(items, total)),
        column=345,
        page_index=page_index,
    )
    assert not [r for r in requests if r.callback == spider.parse_listing]
    assert stats(spider)[f"stop/{stop}"] == 1


def test_column_walk_stops_at_since_and_skips_older_entries() -> None:
    spider = make_spider(EastMoneyColumnSpider, since="2026-01-10 09:00", page_size=3)
    items = [
        column_item(1, "2026-01-10 10:00:00"),
        column_item(2, "2026-01-10 09:00:00"),
        column_item(3, "2026-01-10 08:59:59"),
    ]
    requests, _ = run(
        spider.parse_listing, json_response(column_page(items, 100)), column=345, page_index=1
    )
    assert [r.cb_kwargs["entry"].native_id for r in requests] == [code(1), code(2)]
    assert stats(spider)["stop/since"] == 1
    assert stats(spider)["skipped/old"] == 1


def test_empty_column_list_stops() -> None:
    spider = make_spider(EastMoneyColumnSpider)
    requests, _ = run(
        spider.parse_listing, json_response(column_page([], 0)), column=1, page_index=1
    )
    assert requests == []
    assert stats(spider)["stop/empty"] == 1


def test_repeated_entry_across_columns_is_requested_once_but_keeps_the_walk_going() -> None:
    spider = make_spider(EastMoneyColumnSpider, page_size=1, pages=5)
    page = json_response(column_page([column_item(1)], 10))
    first, _ = run(spider.parse_listing, page, column=344, page_index=1)
    second, _ = run(spider.parse_listing, page, column=345, page_index=1)
    assert [r.callback for r in first] == [spider.parse_article, spider.parse_listing]
    assert [r.callback for r in second] == [spider.parse_listing]
    assert stats(spider)["skipped/duplicate"] == 1


def test_cfh_and_incomplete_records_are_counted_not_requested() -> None:
    spider = make_spider(EastMoneyColumnSpider, page_size=3)
    items = [column_item(1), dict(column_item(2), Np_dst="CFH"), dict(column_item(3), title="")]
    requests, _ = run(
        spider.parse_listing, json_response(column_page(items, 3)), column=345, page_index=1
    )
    assert [r.cb_kwargs["entry"].native_id for r in requests] == [code(1)]
    assert stats(spider)["skipped/cfh"] == 1
    assert stats(spider)["skipped/incomplete"] == 1


def test_article_request_headers_and_item_fields() -> None:
    spider = make_spider(EastMoneyColumnSpider, page_size=3)
    requests, _ = run(
        spider.parse_listing,
        json_response(column_page([column_item(1)], 1)),
        column=345,
        page_index=1,
    )
    (request,) = requests
    assert b"Mozilla/5.0" in request.headers[b"User-Agent"]
    assert request.headers[b"Referer"].endswith(b".eastmoney.com/")
    html = (
        "<html><body><div class='title'>页面标题</div><div class='infos'>"
        "<div class='item'>2026年01月10日 10:00</div></div>"
        "<div id='ContentBody' class='txtinfos'><p>正文</p></div></body></html>"
    )
    response = HtmlResponse(
        request.url, body=html.encode(), headers={"Content-Type": "text/html"}, request=request
    )
    _, (article,) = run(spider.parse_article, response, **request.cb_kwargs)
    assert article.source == "eastmoney"
    assert article.via == "eastmoney"
    assert article.native_id == code(1)
    assert article.feed == "column:345"
    assert article.url == request.url
    assert article.title == "页面标题"
    assert article.published_text == "2026-01-10 10:00:00"
    assert article.publisher == "第一财经"
    assert article.summary == "摘要1"
    assert article.fetched_at is not None
    assert article.fetched_at.tzinfo is not None
    assert abs(article.fetched_at - datetime.now(UTC)) < timedelta(minutes=1)


def test_list_api_url_carries_req_trace_and_fields() -> None:
    spider = make_spider(EastMoneyColumnSpider, columns="345,350", page_size=7)
    request = spider.listing(345, 3)
    for part in ("column=345", "page_index=3", "page_size=7", "req_trace=", "biz=web_news_col"):
        assert part in request.url
    trace = int(request.url.partition("req_trace=")[2].partition("&")[0])
    assert abs(trace / 1000 - datetime.now(UTC).timestamp()) < 60
    assert spider.columns == [345, 350]


@pytest.mark.parametrize(
    "kwargs", [{"columns": "abc"}, {"pages": "0"}, {"page_size": "-1"}, {"since": "明天见"}]
)
def test_bad_spider_arguments_fail_at_start(kwargs: dict[str, str]) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 (message varies by argument)
        make_spider(EastMoneyColumnSpider, **kwargs)


# --- bad responses on every listing and page callback ----------------------------------------


BAD_BODIES: dict[str, tuple[str, bytes]] = {
    "not_json": ("application/json", b'{"code":"1","data":{"list":['),
    "api_error": ("application/json", b'{"code":"-1","message":"system busy"}'),
    "html": ("text/html", b"<html><body><h1>502 Bad Gateway</h1></body></html>"),
    "empty": ("application/json", b""),
}


def bad_response(kind: str, url: str) -> Response:
    if kind == "login":
        request = Request(url, meta={"redirect_urls": [url]})
        login = "https://passport2.eastmoney.com/pub/login?backurl=x"
        return HtmlResponse(login, body=b"<html>login</html>", request=request)
    content_type, body = BAD_BODIES[kind]
    return TextResponse(
        url, body=body, headers={"Content-Type": content_type}, request=Request(url)
    )


LISTINGS = [
    (EastMoneyColumnSpider, "parse_listing", {"column": 345, "page_index": 1}),
    (EastMoneyFlashSpider, "parse_listing", {"sort_end": "", "page_number": 1}),
    (FinewsSpider, "parse_listing", {"feed": "rolling"}),
]


@pytest.mark.parametrize("kind", [*BAD_BODIES, "login"])
@pytest.mark.parametrize(
    ("cls", "callback", "kwargs"), LISTINGS, ids=lambda v: getattr(v, "name", "")
)
def test_bad_listing_is_counted_and_yields_nothing(
    cls: type[scrapy.Spider],
    callback: str,
    kwargs: dict[str, Any],
    kind: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    spider = make_spider(cls)
    url = "https://np-listapi.eastmoney.com/comm/web/list?x=1"
    if cls is FinewsSpider and kind == "api_error":
        expected = "api_error"  # the original feeds have no code: a missing list is the error
        response = json_response('{"error":"busy"}', url)
    else:
        expected = kind
        response = bad_response(kind, url)
    assert list(getattr(spider, callback)(response, **kwargs)) == []
    assert stats(spider) == {f"bad/{expected}": 1}
    assert url in caplog.text


PAGE_BAD = {
    "empty": (b"", "empty"),
    "html": (
        b"<html><body>\xe7\xb3\xbb\xe7\xbb\x9f\xe7\xb9\x81\xe5\xbf\x99</body></html>",
        "not_article",
    ),
}


@pytest.mark.parametrize("kind", [*PAGE_BAD, "login"])
def test_bad_article_page_is_counted_and_yields_nothing(kind: str) -> None:
    spider = make_spider(EastMoneyColumnSpider)
    entry = spider.parser.parse(column_page([column_item(1)], 1)).entries[0]
    url = entry.url
    if kind == "login":
        response, expected = bad_response("login", url), "login"
    else:
        body, expected = PAGE_BAD[kind]
        response = HtmlResponse(
            url, body=body, headers={"Content-Type": "text/html"}, request=Request(url)
        )
    assert list(spider.parse_article(response, entry=entry, feed="column:345")) == []
    assert stats(spider) == {f"bad/{expected}": 1}


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b"", "empty"),
        (b"<html>busy</html>", "html"),
        (b'{"content":""}', "no_body"),
        (b"{", "not_json"),
    ],
)
def test_bad_news_text_is_counted_and_yields_nothing(body: bytes, expected: str) -> None:
    spider = make_spider(FinewsSpider)
    page = spider.parsers["media"].parse(
        json.dumps(
            {
                "nodeList": [
                    {"infocode": f"NW{code(1)}", "title": "t", "showtime": "2026-01-10 10:00:00"}
                ]
            }
        )
    )
    url = "http://h/GetNewsText.do?id=x"
    response = TextResponse(url, body=body, request=Request(url))
    assert list(spider.parse_body(response, entry=page.entries[0], feed="media")) == []
    assert stats(spider) == {f"bad/{expected}": 1}


def test_errback_counts_http_errors_and_network_failures() -> None:
    spider = make_spider(FinewsSpider)
    request = Request("http://h/x")
    http = Failure(HttpError(Response("http://h/x", status=503, request=request)))
    http.request = request  # type: ignore[attr-defined]
    network = Failure(ConnectionRefusedError())
    network.request = request  # type: ignore[attr-defined]
    robots = Failure(IgnoreRequest("Forbidden by robots.txt"))
    robots.request = request  # type: ignore[attr-defined]
    spider.failed(http)
    spider.failed(network)
    spider.failed(robots)
    assert stats(spider) == {"bad/http_503": 1, "bad/network": 1, "skipped/ignored": 1}


# --- 7×24 flashes ------------------------------------------------------------------------------


def flash_item(n: int, summary: str | None = None, sort: int | None = None) -> dict[str, Any]:
    return {
        "code": code(n),
        "title": f"快讯{n}",
        "summary": summary if summary is not None else f"【快讯{n}】正文{n}。",
        "showTime": "2026-01-10 10:00:00",
        "realSort": str(sort if sort is not None else 1_000_000 - n),
    }


def flash_page(items: list[dict[str, Any]]) -> TextResponse:
    return json_response(json.dumps({"code": 1, "data": {"fastNewsList": items}}))


def test_flashes_become_articles_and_the_cursor_is_followed() -> None:
    spider = make_spider(EastMoneyFlashSpider, page_size=3)
    items = [
        flash_item(1),
        flash_item(2, summary="【只有标题】"),
        flash_item(3, summary="【快讯3】截断…"),
    ]
    requests, articles = run(spider.parse_listing, flash_page(items), sort_end="", page_number=1)
    assert [a.native_id for a in articles] == [code(1)]
    assert articles[0].body_html == "<p>正文1。</p>"
    assert articles[0].feed == "724"
    assert articles[0].url == f"https://finance.eastmoney.com/a/{code(1)}.html"
    pages = [r for r in requests if r.callback == spider.parse_flash_page]
    assert [r.cb_kwargs["entry"].native_id for r in pages] == [code(2), code(3)]
    (listing,) = [r for r in requests if r.callback == spider.parse_listing]
    assert f"sortEnd={1_000_000 - 3}" in listing.url
    assert listing.cb_kwargs == {"sort_end": str(1_000_000 - 3), "page_number": 2, "column": 102}


@pytest.mark.parametrize(("mode", "pages"), [("never", 0), ("always", 3)])
def test_flash_page_fetch_modes(mode: str, pages: int) -> None:
    crawler = get_crawler(
        EastMoneyFlashSpider, {"NEWS_EASTMONEY_724_FETCH_PAGES": mode, "NEWS_MONGO_URI": ""}
    )
    crawler.stats.open_spider()
    spider = EastMoneyFlashSpider.from_crawler(crawler)
    spider.known = FakeKnown()
    items = [flash_item(1), flash_item(2, summary="【只有标题】"), flash_item(3)]
    requests, articles = run(spider.parse_listing, flash_page(items), sort_end="", page_number=1)
    assert len([r for r in requests if r.callback == spider.parse_flash_page]) == pages
    assert len(articles) == 3 - pages


def test_bad_flash_page_falls_back_to_the_list_item() -> None:
    spider = make_spider(EastMoneyFlashSpider)
    entry = spider.parser.parse(
        json.dumps({"code": 1, "data": {"fastNewsList": [flash_item(1, "【快讯1】截断…")]}})
    ).entries[0]
    response = HtmlResponse(
        entry.url, body=b"", headers={"Content-Type": "text/html"}, request=Request(entry.url)
    )
    (article,) = spider.parse_flash_page(response, entry=entry)
    assert article.body_html == "<p>截断…</p>"
    assert stats(spider) == {"bad/empty": 1, "flash/page_fallback": 1, "articles/724": 1}


@pytest.mark.parametrize(
    ("sort_end", "items", "stored", "stop"),
    [
        ("", [], [], "empty"),
        ("", [1, 2], [1, 2], "nothing_new"),
        ("999990", [1, 2], [], "cursor"),
        (
            "",
            [{"code": code(1), "title": "t", "summary": "s", "showTime": "2026-01-10 10:00:00"}],
            [],
            "cursor",
        ),
    ],
)
def test_flash_walk_stops(sort_end: str, items: list[Any], stored: list[int], stop: str) -> None:
    spider = make_spider(EastMoneyFlashSpider, stored=[code(n) for n in stored])
    records = [flash_item(i) if isinstance(i, int) else i for i in items]
    requests, _ = run(spider.parse_listing, flash_page(records), sort_end=sort_end, page_number=1)
    assert not [r for r in requests if r.callback == spider.parse_listing]
    assert stats(spider)[f"stop/{stop}"] == 1


def test_duplicate_flash_in_one_page_is_one_article() -> None:
    spider = make_spider(EastMoneyFlashSpider)
    text = (EASTMONEY / "FIXTURE_em_getFastNewsList_response.json").read_text("utf-8")
    _, articles = run(spider.parse_listing, json_response(text), sort_end="", page_number=1)
    assert [a.native_id for a in articles] == ["202606163772915624"]
    assert stats(spider)["skipped/duplicate"] == 1


# --- finews: the original feeds ----------------------------------------------------------------


def test_finews_requests_bodies_by_infocode_and_skips_the_empty_record() -> None:
    spider = make_spider(FinewsSpider)
    text = (EASTMONEY / "finews_rolling.json").read_text("utf-8")
    requests, _ = run(
        spider.parse_listing,
        json_response(text, "http://183.136.162.242/web/webapi?type=102"),
        feed="rolling",
    )
    (request,) = requests
    assert (
        request.url
        == "http://choicewzp1.eastmoney.com/NewsData/GetNewsText.do?id=NW202204212352230938"
    )
    assert stats(spider)["skipped/incomplete"] == 1
    body = (EASTMONEY / "getnewstext_NW202204212352230938.json").read_bytes()
    (article,) = spider.parse_body(
        TextResponse(request.url, body=body, request=request), **request.cb_kwargs
    )
    assert article.url == "http://finance.eastmoney.com/news/1350,202204212352230938.html"
    assert article.native_id == "202204212352230938"
    assert article.feed == "rolling"
    assert article.published_text == "2022-04-21 18:36:14"
    assert article.body_html.endswith('<p class="em_media">（文章来源：财联社）</p>')


def start_requests(spider: scrapy.Spider) -> list[Request]:
    """Drain ``spider.start()`` without an event loop (it awaits nothing)."""
    start, requests = spider.start(), []
    while True:
        try:
            start.__anext__().send(None)
        except StopIteration as step:
            requests.append(step.value)
        except StopAsyncIteration:
            return requests


def test_finews_start_requests_every_feed_from_settings() -> None:
    crawler = get_crawler(
        FinewsSpider,
        {
            "NEWS_FINEWS_ROLLING_URL": "http://h/r",
            "NEWS_FINEWS_MEDIA_URL": "http://h/m",
            "NEWS_FINEWS_MARKET_URL": "http://h/k?marketType={market_type}",
            "NEWS_FINEWS_MARKET_TYPES": "37, 39",
        },
    )
    spider = FinewsSpider.from_crawler(crawler)

    requests = start_requests(spider)
    assert [(r.url, r.cb_kwargs["feed"]) for r in requests] == [
        ("http://h/r", "rolling"),
        ("http://h/m", "media"),
        ("http://h/k?marketType=37", "market"),
        ("http://h/k?marketType=39", "market"),
    ]


# --- since ----------------------------------------------------------------------------------------


NOW = datetime(2026, 1, 10, 2, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("6h", NOW - timedelta(hours=6)),
        ("30m", NOW - timedelta(minutes=30)),
        ("2d", NOW - timedelta(days=2)),
        ("1W", NOW - timedelta(weeks=1)),
        ("2026-01-09", datetime(2026, 1, 9, tzinfo=CHINA)),
        ("2026-01-09 08:30", datetime(2026, 1, 9, 8, 30, tzinfo=CHINA)),
    ],
)
def test_parse_since(text: str, expected: datetime) -> None:
    assert parse_since(text, NOW, CHINA) == expected


@pytest.mark.parametrize("text", ["", "6x", "明天见", "h6"])
def test_parse_since_refuses_garbage(text: str) -> None:
    with pytest.raises(ValueError, match="since"):
        parse_since(text, NOW, CHINA)


# --- retry backoff ----------------------------------------------------------------------------


def backoff(**settings: Any) -> RetryBackoffMiddleware:
    return RetryBackoffMiddleware.from_crawler(get_crawler(settings_dict=settings))


@pytest.mark.parametrize(
    ("meta", "expected"),
    [
        ({}, 0.0),
        ({"retry_times": 1}, 2.0),
        ({"retry_times": 2}, 4.0),
        ({"retry_times": 5}, 10.0),
        ({"retry_times": 1, RETRY_AFTER_META: 7.0}, 7.0),
        ({"retry_times": 1, RETRY_AFTER_META: 600.0}, 10.0),
    ],
)
def test_retry_backoff_delay(meta: dict[str, Any], expected: float) -> None:
    middleware = backoff(NEWS_RETRY_BACKOFF_BASE=2, NEWS_RETRY_BACKOFF_MAX=10)
    assert middleware.delay(Request("http://h/", meta=meta)) == expected


def test_retry_backoff_remembers_retry_after() -> None:
    # The wait itself is tested per host in tests/test_middlewares.py.
    middleware = backoff(NEWS_RETRY_BACKOFF_BASE=0.05)
    request = Request("http://h/")
    response = Response("http://h/", status=429, headers={"Retry-After": "0"}, request=request)
    assert middleware.process_response(request, response) is response
    assert request.meta[RETRY_AFTER_META] == 0.0


@pytest.mark.parametrize("settings", [{"NEWS_RETRY_BACKOFF_BASE": 0}, {"RETRY_ENABLED": False}])
def test_retry_backoff_can_be_turned_off(settings: dict[str, Any]) -> None:
    with pytest.raises(NotConfigured):
        backoff(**settings)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (b"120", 120.0),
        ("Wed, 21 Oct 2026 07:28:10 GMT", 10.0),
        ("Wed, 21 Oct 2026 07:27:00 GMT", 0.0),
        (b"soon", None),
        (None, None),
    ],
)
def test_retry_after_seconds(value: bytes | str | None, expected: float | None) -> None:
    now = datetime(2026, 10, 21, 7, 28, tzinfo=UTC)
    assert retry_after_seconds(value, now) == expected


# --- scrapy list / scrapy check ------------------------------------------------------------------

CONTRACTS = '{"crawler.contracts.FixtureContract": 10}'


def scrapy(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "scrapy", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.e2e
def test_scrapy_list_and_check() -> None:
    listed = scrapy("list")
    assert {"eastmoney", "eastmoney_724", "finews"} <= set(listed.stdout.split()), listed.stderr
    # Storage off: the contracts read recorded fixtures and need no MongoDB.
    checked = scrapy(
        "check", "eastmoney", "eastmoney_724", "finews",
        "-s", f"SPIDER_CONTRACTS={CONTRACTS}", "-s", "NEWS_CONTRACT_FIXTURES=tests/fixtures",
        "-s", "NEWS_MONGO_URI=", "-s", "LOG_LEVEL=WARNING",
    )  # fmt: skip
    assert checked.returncode == 0, checked.stderr[-3000:]
    assert "Ran 5 contracts" in checked.stderr
    assert "OK" in checked.stderr


def test_column_and_flash_spiders_start_with_their_first_listing_pages() -> None:
    columns = start_requests(make_spider(EastMoneyColumnSpider, columns="345,350"))
    assert [r.cb_kwargs for r in columns] == [
        {"column": 345, "page_index": 1},
        {"column": 350, "page_index": 1},
    ]
    assert all(r.url.startswith("https://np-listapi.eastmoney.com/") for r in columns)
    (flashes,) = start_requests(make_spider(EastMoneyFlashSpider))
    assert flashes.url.startswith("https://np-weblist.eastmoney.com/comm/web/getFastNewsList?")
    assert "sortEnd=&" in flashes.url
    assert flashes.headers[b"Referer"] == b"https://kuaixun.eastmoney.com/"


@pytest.mark.parametrize(
    ("cursor", "sort_end", "moves"),
    [("90", "", True), ("90", "100", True), ("100", "100", False), ("110", "100", False),
     (None, "", False), ("abc", "", False)],
)  # fmt: skip
def test_cursor_moves_back(cursor: str | None, sort_end: str, moves: bool) -> None:
    assert cursor_moves_back(cursor, sort_end) is moves


def test_flash_spider_walks_each_topic_column() -> None:
    spider = make_spider(EastMoneyFlashSpider, columns="102,103,102")
    requests = start_requests(spider)
    assert [r.cb_kwargs["column"] for r in requests] == [102, 103]
    assert "fastColumn=103&" in requests[1].url
    with pytest.raises(ValueError, match="invalid literal"):
        make_spider(EastMoneyFlashSpider, columns="102,x")


def test_a_flash_through_the_pipelines_is_not_tagged_again_at_the_next_poll() -> None:
    """A follower's next poll lists the flashes the last one stored: they carry their column."""
    spider = make_spider(EastMoneyFlashSpider, columns="103")
    records = [flash_item(1), flash_item(2)]
    _, flashes = run(
        spider.parse_listing, flash_page(records), sort_end="", page_number=1, column=103
    )
    passed, dropped = flashes
    assert [f.topics for f in flashes] == [[103], [103]]
    ids = [f"eastmoney:{code(1)}", f"eastmoney:{code(2)}"]
    passed.id = ids[0]  # as the identity stage sets it
    signal = {"response": None, "spider": spider}
    spider.crawler.signals.send_catch_log(signals.item_scraped, item=passed, **signal)
    spider.end_walks()
    spider.known = FakeKnown(ids)  # the next poll: both stored meanwhile
    run(spider.parse_listing, flash_page(records), sort_end="", page_number=1, column=103)
    assert spider.unfetched == {103: {ids[1]}}  # only the one that did not pass is tagged


def test_a_flash_stores_its_topic_column_and_unfetched_ones_are_noted() -> None:
    text = (EASTMONEY / "FIXTURE_em_getFastNewsList_response.json").read_text("utf-8")
    spider = make_spider(EastMoneyFlashSpider, columns="103")
    _, (flash,) = run(
        spider.parse_listing, json_response(text), sort_end="", page_number=1, column=103
    )
    assert flash.topics == [103]
    assert flash.securities == [
        {"secid": "1.601068", "code": "601068", "market": "SH", "name": None, "via": ["feed"]}
    ]
    assert spider.walks.keys() == {"724:103"}
    # the fixture's second item repeats the first: requested already, noted for the column
    assert spider.unfetched == {103: set()}
