"""The one listing walk: the merge of entry and page by declared precedence, and the stop rule,
each on both spider families (East Money's and configured sites')."""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import pytest
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest
from scrapy.http import HtmlResponse, Request, Response
from scrapy.spidermiddlewares.httperror import HttpError
from scrapy.statscollectors import MemoryStatsCollector
from scrapy.utils.project import get_project_settings
from scrapy.utils.test import get_crawler
from twisted.internet.error import ConnectionRefusedError
from twisted.python.failure import Failure

from crawler.items import Article
from crawler.normalize.identity import canonicalize
from crawler.sources import eastmoney, site
from crawler.sources.listing import Listing, ListingEntry, Precedence, Side, merge
from crawler.spiders.eastmoney import EastMoneyColumnSpider
from crawler.spiders.site import SiteSpider
from crawler.spiders.walk import Triage, stop_reason
from crawler.store.walks import WalkStore
from tests.spiders.support import FakeKnown, json_response, run

if TYPE_CHECKING:
    from collections.abc import Iterable

CODE = "202601100000000001"
LISTED_URL = f"http://finance.eastmoney.com/a/{CODE}.html"
SERVED_URL = f"https://finance.eastmoney.com/a/{CODE}.html"
SITE = "http://www.cmrnn.com.cn"


def entry(**fields: Any) -> ListingEntry:
    values = {
        "url": "http://h/listed.html",
        "title": "列表标题",
        "published_text": "2026-01-10 10:00:00",
        "publisher": "列表来源",
        "summary": "列表摘要",
    }
    return ListingEntry(**{**values, **fields})


def page(**fields: Any) -> Article:
    values = {
        "url": "http://h/served.html",
        "title": "页面标题",
        "published_text": "2026年01月10日 10:00",
        "publisher": "页面来源",
        "summary": "页面摘要",
    }
    return Article(**{**values, **fields})


def everything(side: Side) -> Precedence:
    return Precedence(url=side, title=side, published_text=side, publisher=side, summary=side)


MERGED = ("url", "title", "published_text", "publisher", "summary")


# --- the merge ---------------------------------------------------------------------------------


def fields_of(item: ListingEntry | Article) -> dict[str, Any]:
    return {name: getattr(item, name) for name in MERGED}


@pytest.mark.parametrize(
    ("first", "second"), [(Side.LISTING, Side.PAGE), (Side.PAGE, Side.LISTING)]
)
def test_merge_takes_the_declared_side_and_the_other_stands_in(first: Side, second: Side) -> None:
    sides = {Side.LISTING: entry(), Side.PAGE: page()}
    assert fields_of(merge(entry(), page(), everything(first))) == fields_of(sides[first])
    # The winning side has nothing: the other side's values stand in.
    blank = dict.fromkeys(MERGED)
    listed, printed = (
        (entry(**blank), page()) if first is Side.LISTING else (entry(), page(**blank))
    )
    assert fields_of(merge(listed, printed, everything(first))) == fields_of(sides[second])


def test_merge_lets_an_empty_value_give_way() -> None:
    merged = merge(entry(title=""), page(title="页面标题"), everything(Side.LISTING))
    assert merged.title == "页面标题"


def test_east_money_and_sites_declare_opposite_times_and_urls() -> None:
    both = merge(entry(), page(), eastmoney.PRECEDENCE)
    assert (both.published_text, both.title, both.url) == (
        "2026-01-10 10:00:00",  # the feed's time: it has seconds, the page only minutes
        "页面标题",
        "http://h/served.html",
    )
    both = merge(entry(), page(), site.PRECEDENCE)
    assert (both.published_text, both.title, both.url) == (
        "2026年01月10日 10:00",
        "页面标题",
        "http://h/listed.html",  # the URL storage was asked about
    )


# --- the merge in both spider families -----------------------------------------------------------


def east_money_spider(stored: Iterable[str] = (), **kwargs: Any) -> EastMoneyColumnSpider:
    crawler = get_crawler(EastMoneyColumnSpider, {"NEWS_DEFAULT_TIMEZONE": "Asia/Shanghai"})
    crawler.stats.open_spider()
    spider = EastMoneyColumnSpider.from_crawler(crawler, **kwargs)
    crawler.spider = spider
    spider.known = FakeKnown(f"eastmoney:{c}" for c in stored)  # type: ignore[assignment]
    spider.walk_store = WalkStore(None, "walks", spider.name)  # no walk records: storage off
    return spider


def eastmoney_page(shown: str) -> bytes:
    return (
        "<html><body><div class='title'>页面标题</div><div class='infos'>"
        f"<div class='item'>{shown}</div></div>"
        "<div id='ContentBody' class='txtinfos'><p>正文</p></div></body></html>"
    ).encode()


def test_east_money_article_takes_the_feed_s_time_and_the_served_url() -> None:
    spider = east_money_spider()
    listed = entry(url=LISTED_URL, native_id=CODE, publisher="第一财经")
    request = Request(LISTED_URL, meta={"redirect_urls": [LISTED_URL]})
    response = HtmlResponse(
        SERVED_URL, body=eastmoney_page("2026年01月10日 10:00"), request=request
    )
    _, (article,) = run(spider.parse_article, response, entry=listed, feed="column:345")
    assert article.published_text == "2026-01-10 10:00:00"
    assert article.title == "页面标题"
    assert article.publisher == "第一财经"  # the page names none: the listing stands in
    assert article.url == SERVED_URL
    assert (article.source, article.via, article.native_id) == ("eastmoney", "eastmoney", CODE)


def site_spider(stored: Iterable[str] = (), **changes: Any) -> SiteSpider:
    settings = get_project_settings()
    settings.set("NEWS_MONGO_URI", "")
    crawler = Crawler(SiteSpider, settings)  # settings still open: the spider sets its slots
    spider = SiteSpider.from_crawler(crawler, source="cmrnn")
    crawler.spider = spider
    crawler.stats = MemoryStatsCollector(crawler)
    crawler.stats.open_spider()
    spider.sources["cmrnn"] = replace(spider.sources["cmrnn"], **changes)
    spider.known = FakeKnown(stored_id(url) for url in stored)  # type: ignore[assignment]
    return spider


def stored_id(url: str) -> str:
    return "url:" + hashlib.sha1((canonicalize(url) or "").encode()).hexdigest()


def site_page(shown: str | None) -> bytes:
    info = f"<div class='info'>{shown}</div>" if shown else ""
    paragraphs = "".join(
        f"<p>第{n}段正文，内容足够长，足以成为一篇文章的正文。</p>" for n in range(8)
    )
    return (
        "<html><head><meta charset='utf-8'><title>页面标题_网站</title></head><body>"
        f"<h1>页面标题</h1>{info}<div class='content'>{paragraphs}</div></body></html>"
    ).encode()


@pytest.mark.parametrize(
    ("shown", "expected"), [("2022-05-20 10:00", "2022-05-20 10:00"), (None, "2022-05-20T08:00")]
)
def test_site_article_takes_the_page_s_time_and_the_listed_url(
    shown: str | None, expected: str
) -> None:
    spider = site_spider()
    listed = f"{SITE}/content/2022-05/20/content_1.html"
    listed_entry = ListingEntry(listed, title="列表标题", published_text="2022-05-20T08:00")
    request = Request(listed, meta={"redirect_urls": [listed]})
    served = f"{SITE}/content/2022-05/20/content_1.html?moved=1"
    response = HtmlResponse(served, body=site_page(shown), request=request)
    _, (article,) = run(
        spider.parse_article, response, source="cmrnn", entry=listed_entry, feed="rss"
    )
    assert article.published_text == expected
    assert article.title == "页面标题"
    assert article.url == listed


# --- the stop rule --------------------------------------------------------------------------------


def listing(entries: int = 1, sitemaps: int = 0, skipped: int = 0) -> Listing:
    return Listing(
        "html",
        entries=[ListingEntry(f"http://h/{n}.html") for n in range(entries)],
        sitemaps=[f"http://h/s{n}.xml" for n in range(sitemaps)],
        skipped=[("off_pattern", "http://h/x")] * skipped,
    )


@pytest.mark.parametrize(
    ("page", "triage", "end", "number", "reason"),
    [
        (listing(0), Triage(), None, 1, "empty"),
        (listing(0, skipped=2), Triage(), None, 1, "empty"),
        (listing(0, sitemaps=1), Triage(), "last_page", 1, "last_page"),
        (listing(2), Triage(), None, 1, "nothing_new"),
        (listing(2), Triage(unknown=1, reached_since=True), None, 1, "since"),
        (listing(2), Triage(unknown=1), "cursor", 3, "cursor"),
        (listing(2), Triage(unknown=1), None, 3, "max_pages"),
        (listing(2), Triage(unknown=1), None, 2, None),
    ],
)
def test_stop_reason(
    page: Listing, triage: Triage, end: str | None, number: int, reason: str | None
) -> None:
    assert stop_reason(page, triage, end, number, max_pages=3) == reason


@pytest.mark.parametrize(
    ("triage", "holding", "reason"),
    [
        (Triage(unknown=2), False, None),  # every entry new: a burst, walk on
        (Triage(unknown=1, known=1), False, "reached_known"),
        (Triage(unknown=1, known=1), True, None),  # resuming: hold until the frontier
        (Triage(known=2), False, "nothing_new"),
    ],
)
def test_a_follower_walks_on_only_past_pages_entirely_new(
    triage: Triage, holding: bool, reason: str | None
) -> None:
    page = listing(2)
    assert stop_reason(page, triage, None, 1, 3, holding=holding, following=True) == reason
    assert stop_reason(page, triage, None, 1, 3, holding=holding) != "reached_known"


def column_case(rule: str) -> tuple[EastMoneyColumnSpider, Any, dict[str, Any]]:
    codes = [f"20260110{n:010d}" for n in range(1, 4)]
    records = [
        {"code": c, "showTime": "2026-01-10 10:00:00", "title": f"标题{c}", "url": ""}
        for c in codes
    ]
    spider = east_money_spider(stored=codes if rule == "nothing_new" else (), page_size=3, pages=2)
    listed = [] if rule == "empty" else records
    body = json.dumps({"code": 1, "data": {"totle_hits": 100, "list": listed}})
    page_index = 2 if rule == "max_pages" else 1
    return spider, json_response(body), {"column": 345, "page_index": page_index}


def site_case(rule: str) -> tuple[SiteSpider, Any, dict[str, Any]]:
    urls = [f"{SITE}/content/2022-05/20/content_{n}.html" for n in range(1, 4)]
    spider = site_spider(
        stored=urls if rule == "nothing_new" else (), next_page="a.next", max_pages=2
    )
    links = "" if rule == "empty" else "".join(f"<a href='{u}'>标题</a>" for u in urls)
    html = f"<html><body>{links}<a class='next' href='/list/2.html'>下一页</a></body></html>"
    response = HtmlResponse(f"{SITE}/list/1.html", body=html.encode(), encoding="utf-8")
    page = 2 if rule == "max_pages" else 1
    return spider, response, {"source": "cmrnn", "kind": "html", "page": page, "issue": None}


FAMILIES = {"eastmoney": (column_case, "news/eastmoney"), "site": (site_case, "news/site/cmrnn")}


@pytest.mark.parametrize("rule", ["empty", "nothing_new", "max_pages", None])
@pytest.mark.parametrize("family", list(FAMILIES))
def test_both_families_stop_by_the_shared_rule(family: str, rule: str | None) -> None:
    case, prefix = FAMILIES[family]
    spider, response, kwargs = case(rule or "goes_on")
    requests, _ = run(spider.parse_listing, response, **kwargs)
    stops = {
        k.removeprefix(f"{prefix}/stop/"): v
        for k, v in spider.crawler.stats.get_stats().items()
        if k.startswith(f"{prefix}/stop/")
    }
    assert stops == ({rule: 1} if rule else {})
    listings = [r for r in requests if r.callback == spider.parse_listing]
    assert len(listings) == (0 if rule else 1)


# --- the errback ---------------------------------------------------------------------------------


@pytest.mark.parametrize("family", list(FAMILIES))
def test_both_families_count_failed_requests_alike(family: str) -> None:
    """A robots.txt refusal is ``skipped/ignored`` for configured sites too (it was
    ``bad/network`` there before the walk was shared)."""
    case, prefix = FAMILIES[family]
    spider, _, _ = case("goes_on")
    request = Request("http://h/x", meta={"news_source": "cmrnn"})
    failures = [
        HttpError(Response("http://h/x", status=503, request=request)),
        ConnectionRefusedError(),
        IgnoreRequest("Forbidden by robots.txt"),
    ]
    for error in failures:
        failure = Failure(error)
        failure.request = request  # type: ignore[attr-defined]
        spider.failed(failure)
    counted = {
        k.removeprefix(f"{prefix}/"): v
        for k, v in spider.crawler.stats.get_stats().items()
        if k.startswith(f"{prefix}/")
    }
    assert counted == {"bad/http_503": 1, "bad/network": 1, "skipped/ignored": 1}
