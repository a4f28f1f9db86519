"""End to end: the three East Money spiders crawl a local server into mongomock.

Each spider gets at least three good listing pages and 50+ articles, some already stored, and
one bad response of every kind (not JSON, API error, HTML error page, 200 with an empty body,
redirect to a login page, HTTP 500). Items go through the project's real ``ITEM_PIPELINES``
(normalisation, validation, storage). Crawls run in subprocesses (``tests/crawlrun.py``): a
Twisted reactor cannot restart. The three run in parallel against one server.
"""

from __future__ import annotations

import html
import json
import random
import subprocess
import sys
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pymongo
import pytest
from scrapy.utils.project import get_project_settings

from crawler.sources.eastmoney import column_api_url, fast_news_url, stock_news_url
from tests.conftest import FIXTURES, ROOT
from tests.mockserver import MockServer, Response, Route
from tests.storage_support import mongo_client

if TYPE_CHECKING:
    from collections.abc import Iterator

# Whole crawls or commands in subprocesses: `-m 'not e2e'` leaves them out of a quick run.
pytestmark = pytest.mark.e2e

EASTMONEY = FIXTURES / "eastmoney"
JSON = {"Content-Type": "application/json; charset=utf-8"}
HTML = {"Content-Type": "text/html; charset=utf-8"}
# Common characters to write distinct bodies from (each body must not look like another).
HANZI = (
    "的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可主发年动同工也能下过"
    "子说产种面而方后多定行学法所民得经十三之进着等部度家电力里如水化高自二理起小物现实加量都两体"
    "制机当使点从业本去把性好应开它合还因由其些然前外天政四日那社义事平形相全表间样与关各重新线内"
    "数正心反你明看原又么利比或但质气第向道命此变条只没结解问意建月公无系军很情者最立代想已通并提"
)
RETRIES = 1
STORAGE = "pipelines.storage.StoragePipeline"
BACKOFF = "crawler.middlewares.RetryBackoffMiddleware"


def code(spider: int, n: int) -> str:
    """An 18-digit article code: the date, then the spider and the number."""
    return f"20260110{spider:02d}{n:08d}"


def body_paragraphs(seed: str, count: int = 3) -> list[str]:
    """Distinct Chinese paragraphs (random from a seed, so SimHashes lie far apart)."""
    rng = random.Random(seed)
    return ["".join(rng.choice(HANZI) for _ in range(120)) + "。" for _ in range(count)]


def current_page(
    title: str, shown: str, source: str, paragraphs: list[str], extra: str = ""
) -> bytes:
    """A page in the current layout (as sources.md §3 describes it), UTF-8; ``extra`` is raw
    HTML after the paragraphs."""
    body = "".join(f"<p>\u3000\u3000{html.escape(p)}</p>" for p in paragraphs) + extra
    return (
        f"<html><head><meta charset='utf-8'><title>{title}_东方财富网</title></head><body>"
        f"<div class='title'>{title}</div><div class='infos'><div class='item'>{shown}</div>"
        f"<div class='item'>来源：<a href='#'>{source}</a></div></div>"
        f"<div class='txtinfos' id='ContentBody'>{body}"
        f"<p class='em_media'>（文章来源：{source}）</p></div>"
        "<p class='res-edit'>（责任编辑：DF001）</p></body></html>"
    ).encode()


def old_page_gbk(title: str, shown: str, source: str, paragraphs: list[str]) -> bytes:
    """A page in the old layout, GBK, its charset only in <meta> (gb2312, as old pages said)."""
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    return (
        "<html><head><meta http-equiv='Content-Type' content='text/html; charset=gb2312'>"
        f"<title>{title}_东方财富网</title></head><body><div class='newsContent'><h1>{title}</h1>"
        f"<div class='time'>{shown}</div><div class='source data-source' data-source='{source}'>"
        f"来源：{source}</div><div id='ContentBody' class='Body'>{body}"
        "<div id='comBodyEnd'></div><div>评论区</div></div></div></body></html>"
    ).encode("gbk")


ERROR_PAGE = (200, HTML, "<html><body><h1>系统繁忙，请稍后再试</h1></body></html>".encode())
EMPTY = (200, JSON, b"")
NOT_JSON = (200, JSON, b'{"code":"1","data":{"list":[{"code":')
API_ERROR = (200, JSON, json.dumps({"code": "-1", "message": "参数错误"}).encode())
SERVER_ERROR = (500, {"Content-Type": "text/plain"}, b"internal error")
LOGIN_PAGE = (200, HTML, "<html><body><form>请登录东方财富通行证</form></body></html>".encode())
TO_LOGIN = (302, {"Location": "/login", "Content-Type": "text/html"}, b"")


@dataclass
class Scenario:
    """One spider's crawl: what the server serves, what storage holds, what must happen."""

    spider: str
    args: dict[str, Any] = field(default_factory=dict)
    copies: int = 1
    settings: dict[str, Any] = field(default_factory=dict)
    routes: dict[str, Route] = field(default_factory=dict)
    stored: set[str] = field(default_factory=set)
    expected: set[str] = field(default_factory=set)
    fetched_once: dict[str, str] = field(default_factory=dict)
    never: list[str] = field(default_factory=list)
    bad: dict[str, int] = field(default_factory=dict)
    #: The securities each new story must carry: ``(secid, via…)`` in order; none when absent.
    securities: dict[str, list[tuple[str, ...]]] = field(default_factory=dict)
    #: Stories an earlier run stored beyond the generic ones (:func:`stored_items`).
    extra_stored: list[dict[str, Any]] = field(default_factory=list)

    def plan(self, code: str, url: str, *, stored: bool, bad: Response | None = None) -> bool:
        """Note what must become of article ``code`` at ``url``: never requested when stored,
        else requested once and, unless ``bad`` answers, stored. Tell whether to serve it."""
        if stored:
            self.stored.add(code)
            self.never.append(url)
            return False
        self.fetched_once[url] = code
        if bad is not None:
            self.routes[url] = bad
            return False
        self.expected.add(code)
        return True


def stored_items(codes: set[str], server: MockServer) -> list[dict[str, Any]]:
    """Normalised articles as an earlier run stored them."""
    return [
        {
            "id": f"eastmoney:{c}",
            "url": server.url(f"/a/{c}.html"),
            "canonical_url": server.url(f"/a/{c}.html"),
            "source": "eastmoney",
            "native_id": c,
            "title": f"已存文章{c}",
            "published_at": "2026-01-09T16:00:00+00:00",
            "published_tz": "+08:00",
            "body_text": "\n".join(body_paragraphs(c)),
        }
        for c in sorted(codes)
    ]


def column_scenario(server: MockServer) -> Scenario:
    """Column 345 walks 4 of its 5 pages; the other columns each answer one kind of bad."""
    size = 25
    api = server.url("/comm/web/getNewsByColumns")
    s = Scenario(
        "eastmoney",
        args={"columns": "345,350,351,353,355,1207", "page_size": size, "pages": 10},
        settings={"NEWS_EASTMONEY_COLUMN_API": api},
    )
    real = {  # the reconstructed pages around real bodies
        code(1, 1): ("page_current_202601103600000001.html", "202601103600000001"),
        code(1, 2): ("page_current_202205202386046762.html", "202205202386046762"),
    }
    stored = {*range(30, 35), *range(61, 71), *range(76, 101)}
    bad_pages = {7: ERROR_PAGE, 8: EMPTY, 9: TO_LOGIN, 10: SERVER_ERROR}
    for page in range(1, 6):
        items = []
        for n in range((page - 1) * size + 1, page * size + 1):
            c = code(1, n)
            if c in real:
                c = real[c][1]
            url = server.url(f"/a/{c}.html")
            title = f"栏目文章{n}"
            items.append(
                {
                    "code": c,
                    "showTime": f"2026-01-10 {n // 60:02d}:{n % 60:02d}:00",
                    "title": title,
                    "mediaName": "证券时报网",
                    "summary": f"摘要{n}",
                    "url": url,
                    "Np_dst": "",
                }
            )
            if page == 5:
                s.never.append(url)
                continue
            if not s.plan(c, url, stored=n in stored, bad=bad_pages.get(n)):
                continue
            if c in {v[1] for v in real.values()}:
                fixture = next(f for f, rc in real.values() if rc == c)
                s.routes[url] = (200, HTML, (EASTMONEY / fixture).read_bytes())
            elif n == 3:
                shown = "2026年01月10日 00:03"
                s.routes[url] = (
                    200,
                    {"Content-Type": "text/html"},
                    old_page_gbk(title, shown, "证券时报网", body_paragraphs(c)),
                )
            else:
                shown = f"2026年01月10日 {n // 60:02d}:{n % 60:02d}"
                s.routes[url] = (
                    200,
                    HTML,
                    current_page(title, shown, "证券时报网", body_paragraphs(c)),
                )
        if page == 1:
            items.append(
                {
                    "code": "20260110CFH0000001",
                    "showTime": "2026-01-10 00:00:00",
                    "title": "财富号",
                    "url": "",
                    "Np_dst": "CFH",
                }
            )
            items.append({"code": code(1, 999), "showTime": "", "title": "", "url": ""})
        listing = column_api_url(api, 345, page, size)
        payload = {
            "code": "1",
            "data": {"page_index": page, "page_size": size, "totle_hits": 5 * size, "list": items},
        }
        s.routes[listing] = (200, JSON, json.dumps(payload, ensure_ascii=False).encode())
        if page == 5:
            s.never.append(listing)
    s.routes["/login"] = LOGIN_PAGE
    for column, response in {
        350: NOT_JSON,
        351: API_ERROR,
        353: ERROR_PAGE,
        355: EMPTY,
        1207: TO_LOGIN,
    }.items():
        s.routes[column_api_url(api, column, 1, size)] = response
    s.bad = {
        "bad/not_json": 1,
        "bad/api_error": 1,
        "bad/html": 1,
        "bad/empty": 2,
        "bad/login": 2,
        "bad/not_article": 1,
        "bad/http_500": 1,
    }
    s.securities["202601103600000001"] = [(secid, "body") for secid in FRAGMENT_SECIDS]
    return s


#: The flash that credits an outlet at its end, as East Money prints another outlet's flash.
CREDITED_FLASH = 7
#: The stock and board links of the real ContentBody block, in order (both page layouts read
#: them; tests/sources/eastmoney/test_securities.py names them).
FRAGMENT_SECIDS = [
    "1.600030", "90.BK1036", "90.BK0963", "0.300024", "90.BK0739", "90.BK0493", "1.601059",
    "90.BK0474", "1.601788", "90.BK0478", "90.BK0490", "0.002670", "90.BK0989", "90.BK1137",
    "90.BK1104", "90.BK1037", "1.601881", "90.BK0473",
]  # fmt: skip
#: A stock link as East Money's current pages print one (the real fragment's markup).
STOCK_LINK = (
    '<p>\u3000\u3000<span id="stock_1.600519"><a target="_blank" '
    'href="http://quote.eastmoney.com/unify/r/1.600519" class="keytip" data-code="1,600519">'
    '贵州茅台</a></span><span id="quote_1.600519"></span>公告称，一季度营业收入增长。</p>'
)
#: 7×24 ``stockList`` values by flash number (the others list none), and what the story stores.
FLASH_STOCKS: dict[int, tuple[list[Any], list[tuple[str, ...]]]] = {
    1: (["1.600519", "0.002594"], [("1.600519", "feed"), ("0.002594", "feed")]),
    # its page is fetched: the page's stock link adds 1.600519
    2: (["116.01211"], [("116.01211", "feed"), ("1.600519", "body")]),
    # its page fails: the list item still tags it
    3: (["0.300750"], [("0.300750", "feed")]),
    11: (["0.002594", "1.600519"], [("0.002594", "feed"), ("1.600519", "feed")]),
    # three malformed values, counted and left out
    12: (["1.600519", "bad", 5, "1.60051"], [("1.600519", "feed")]),
    41: (["90.BK1036", "1.600519", "90.BK1036"], [("90.BK1036", "feed"), ("1.600519", "feed")]),
}


def flash_scenario(server: MockServer) -> Scenario:
    """Four cursor pages of 25 flashes; the fourth holds nothing new; some pages are fetched."""
    size = 25
    api = server.url("/comm/web/getFastNewsList")
    s = Scenario(
        "eastmoney_724",
        args={"page_size": size, "pages": 10},
        settings={"NEWS_EASTMONEY_FAST_API": api},
    )
    stored = {*range(30, 35), *range(61, 71), *range(76, 101)}
    # Flashes whose list item cannot stand alone, and what their page answers.
    needs_page = {2: "ok", 3: ERROR_PAGE, 4: EMPTY, 5: TO_LOGIN, 6: SERVER_ERROR}
    sort_end = ""
    for page in range(1, 6):
        items = []
        for n in range((page - 1) * size + 1, page * size + 1):
            c = code(2, n)
            summary = f"【快讯{n}】" + body_paragraphs(c, 1)[0]
            if n == CREDITED_FLASH:
                summary += "（央视新闻客户端）"
            if n in needs_page:
                summary = f"【快讯{n}】" if n == 2 else summary[:60] + "…"
            items.append(
                {
                    "code": c,
                    "title": f"快讯{n}",
                    "summary": summary,
                    "showTime": f"2026-01-10 {n // 60:02d}:{n % 60:02d}:30",
                    "realSort": str(10**15 - n),
                    "stockList": FLASH_STOCKS.get(n, ([], []))[0],
                    "image": [],
                }
            )
            if n in stored:
                s.stored.add(c)
            elif page < 5:
                s.expected.add(c)
                s.securities[c] = FLASH_STOCKS.get(n, ([], []))[1]
            url = server.url(f"/a/{c}.html")
            if n in needs_page:
                s.fetched_once[url] = c
                answer = needs_page[n]
                if answer == "ok":
                    s.routes[url] = (
                        200,
                        HTML,
                        current_page(
                            f"快讯{n}",
                            "2026年01月10日 00:02",
                            "财联社",
                            body_paragraphs(c),
                            STOCK_LINK,
                        ),
                    )
                else:
                    s.routes[url] = answer
            else:
                s.never.append(url)
        if page == 1:
            repeat = {k: v for k, v in items[0].items() if k != "realSort"}
            items.append(dict(repeat, summary="重复"))
        listing = fast_news_url(api, sort_end, size)
        s.routes[listing] = (
            200,
            JSON,
            json.dumps(
                {"code": 1, "message": "success", "data": {"fastNewsList": items}},
                ensure_ascii=False,
            ).encode(),
        )
        if page == 5:
            s.never.append(listing)
        sort_end = next(i["realSort"] for i in reversed(items) if "realSort" in i)
    s.routes["/login"] = LOGIN_PAGE
    s.bad = {"bad/not_article": 1, "bad/empty": 1, "bad/login": 1, "bad/http_500": 1}
    return s


def updating_client(uri: str, **options: Any) -> Any:
    """The crawl's MongoDB client (mongomock's, in ``tests.crawlrun``), able to update a stored
    story: :func:`mongo_client` patches mongomock's bulk builder for pymongo ≥ 4.11's ``sort=``
    (the client it returns is not used)."""
    mongo_client(pytest.MonkeyPatch())
    return pymongo.MongoClient(uri, **options)


def flash_merge_scenario(server: MockServer) -> Scenario:
    """A flash that repeats a story an earlier column crawl stored: one story, both tags."""
    api = server.url("/merge/getFastNewsList")
    s = Scenario(
        "eastmoney_724",
        args={"page_size": 2, "pages": 1},
        settings={
            "NEWS_EASTMONEY_FAST_API": api,
            "NEWS_MONGO_CLIENT_FACTORY": f"{__name__}.updating_client",
        },
    )
    column_code, flash_code, other = code(4, 1), code(4, 2), code(4, 3)
    text = body_paragraphs(column_code, 1)[0]
    s.extra_stored.append(
        {
            **stored_items({column_code}, server)[0],
            "feed": "column:345",
            "body_text": text,
            "securities": [
                {
                    "secid": "1.600519",
                    "code": "600519",
                    "market": "SH",
                    "name": "贵州茅台",
                    "via": ["body"],
                }
            ],
        }
    )
    items = [
        {
            "code": flash_code,
            "title": "快讯",
            "summary": f"【快讯】{text}",
            "showTime": "2026-01-10 00:10:00",
            "realSort": "900",
            "stockList": ["1.600519", "0.002594"],
        },
        {
            "code": other,
            "title": "另一条快讯",
            "summary": "【另一条快讯】" + body_paragraphs(other, 1)[0],
            "showTime": "2026-01-10 00:09:00",
            "realSort": "800",
            "stockList": [],
        },
    ]
    payload = {"code": 1, "data": {"fastNewsList": items}}
    s.routes[fast_news_url(api, "", 2)] = (200, JSON, json.dumps(payload).encode())
    return s


#: The media record served the real GetNewsText body of 2022-05-26, and the securities its stock
#: links name (a K-line image link first; not the board its credit line links).
REAL_LINKED_BODY = 31
LINKED_BODY = "getnewstext_NW202205262391921712.json"
LINKED_BODY_SECIDS = [
    "106.NIO", "90.BK0493", "1.600160", "0.300343", "1.600636", "90.BK0839",
]  # fmt: skip


def finews_scenario(server: MockServer) -> Scenario:
    """Rolling, media and market feeds; two market types answer bad; bodies by infoCode."""
    body_url = server.url("/NewsData/GetNewsText.do?id={info_code}")
    s = Scenario(
        "finews",
        settings={
            "NEWS_FINEWS_ROLLING_URL": server.url("/web/webapi?type=102&count=100&newsid=1"),
            "NEWS_FINEWS_MEDIA_URL": server.url("/web/webapi?type=45&count=100&newsid=1"),
            "NEWS_FINEWS_MARKET_URL": server.url(
                "/information/newmarket/web/webapi?marketType={market_type}&count=100"
            ),
            "NEWS_FINEWS_MARKET_TYPES": "37,38,39,40,41",
            "NEWS_FINEWS_BODY_URL": body_url,
        },
    )
    stored = {*range(5, 10), *range(35, 40), *range(60, 65)}
    bad_bodies = {
        11: ERROR_PAGE,
        12: EMPTY,
        13: (200, JSON, b'{"content":""}'),
        14: SERVER_ERROR,
        15: NOT_JSON,
    }
    feeds: dict[str, list[dict[str, Any]]] = {"rolling": [], "media": [], "market": []}
    for n in range(1, 76):
        c = code(3, n)
        feed = "rolling" if n <= 30 else "media" if n <= 55 else "market"
        shown = f"2026-01-10 {n // 60:02d}:{n % 60:02d}:15"
        title = f"{feed}新闻{n}"
        if feed == "rolling":
            record = {
                "infoCode": f"NW{c}",
                "id": c,
                "title": title,
                "digest": f"【{title}】摘要",
                "url_w": "",
                "showtime": shown,
            }
        elif feed == "media":
            record = {
                "infocode": f"NW{c}",
                "title": title,
                "showtime": shown,
                "from": "中国证券报",
                "simtitle": "",
                "simdigest": "摘要",
            }
        else:
            record = {
                "infoCode": f"NW{c}",
                "title": title,
                "datetime": shown,
                "medianame": "上海证券报",
            }
        feeds[feed].append(record)
        url = server.url(f"/NewsData/GetNewsText.do?id=NW{c}")
        if not s.plan(c, url, stored=n in stored, bad=bad_bodies.get(n)):
            continue
        key = "content" if feed == "rolling" else "text"
        paragraphs = "".join(f"<p>\u3000\u3000{p}</p>" for p in body_paragraphs(c))
        s.routes[url] = (200, JSON, json.dumps({key: paragraphs}, ensure_ascii=False).encode())
        if n == REAL_LINKED_BODY:
            s.routes[url] = (200, JSON, (EASTMONEY / LINKED_BODY).read_bytes())
            s.securities[c] = [(secid, "body") for secid in LINKED_BODY_SECIDS]
    # The real records: one rolling item, the empty one, the seed's media item; one repeat.
    rolling = json.loads((EASTMONEY / "finews_rolling.json").read_text("utf-8"))["records"]
    media = json.loads((EASTMONEY / "finews_media.json").read_text("utf-8"))["nodeList"]
    feeds["rolling"] += rolling
    feeds["media"] += media
    feeds["media"].append(dict(feeds["media"][0], infocode=feeds["rolling"][0]["infoCode"]))
    for info, fixture in [
        ("NW202204212352230938", "getnewstext_NW202204212352230938.json"),
        ("NW202205202386046762", "getnewstext_NW202205202386046762.json"),
    ]:
        url = server.url(f"/NewsData/GetNewsText.do?id={info}")
        s.routes[url] = (200, JSON, (EASTMONEY / fixture).read_bytes())
        s.fetched_once[url] = info[2:]
        s.expected.add(info[2:])
    s.never.append(server.url("/NewsData/GetNewsText.do?id=NW202205262391921712"))
    settings = s.settings
    s.routes[settings["NEWS_FINEWS_ROLLING_URL"]] = (
        200,
        JSON,
        json.dumps({"records": feeds["rolling"]}, ensure_ascii=False).encode(),
    )
    s.routes[settings["NEWS_FINEWS_MEDIA_URL"]] = (
        200,
        JSON,
        json.dumps({"nodeList": feeds["media"]}, ensure_ascii=False).encode(),
    )
    market = settings["NEWS_FINEWS_MARKET_URL"]
    answers = {
        "37": (200, JSON, json.dumps({"record": feeds["market"]}, ensure_ascii=False).encode()),
        "38": NOT_JSON,
        "39": TO_LOGIN,
        "40": (200, JSON, b'{"error":"busy"}'),
        "41": ERROR_PAGE,
    }
    for market_type, answer in answers.items():
        s.routes[market.format(market_type=market_type)] = answer
    s.routes["/login"] = LOGIN_PAGE
    s.bad = {
        "bad/not_json": 2,
        "bad/login": 1,
        "bad/api_error": 1,
        "bad/html": 2,
        "bad/empty": 1,
        "bad/no_body": 1,
        "bad/http_500": 1,
    }
    return s


def flash_bad_listing_scenario(server: MockServer) -> Scenario:
    """Five 7×24 crawls whose first listing answers, in turn, each kind of bad response."""
    api = server.url("/bad/getFastNewsList")
    s = Scenario("eastmoney_724", copies=5, settings={"NEWS_EASTMONEY_FAST_API": api})
    answers = [NOT_JSON, API_ERROR, ERROR_PAGE, EMPTY, TO_LOGIN]
    s.routes[fast_news_url(api, "", 100)] = answers
    s.routes["/login"] = LOGIN_PAGE
    s.bad = {"bad/not_json": 1, "bad/api_error": 1, "bad/html": 1, "bad/empty": 1, "bad/login": 1}
    return s


def flash_topics_scenario(server: MockServer) -> Scenario:
    """Two topic columns: 102 (every flash) and 103 (listed companies, assumed); 103 lists a
    flash 102 lists too, a stored flash and one of its own."""
    api = server.url("/topics/getFastNewsList")
    s = Scenario(
        "eastmoney_724",
        args={"columns": "102,103", "page_size": 3, "pages": 1},
        settings={
            "NEWS_EASTMONEY_FAST_API": api,
            "NEWS_MONGO_CLIENT_FACTORY": f"{__name__}.updating_client",
        },
    )

    def flash(n: int) -> dict[str, Any]:
        c = code(6, n)
        return {
            "code": c,
            "title": f"快讯{n}",
            "summary": f"【快讯{n}】" + body_paragraphs(c, 1)[0],
            "showTime": f"2026-01-10 00:{n:02d}:00",
            "realSort": str(1000 - n),
            "stockList": [],
        }

    columns = {102: [flash(1), flash(2)], 103: [flash(2), flash(3), flash(4)]}
    for column, items in columns.items():
        payload = {"code": 1, "data": {"fastNewsList": items}}
        s.routes[fast_news_url(api, "", 3, column)] = (200, JSON, json.dumps(payload).encode())
    s.stored.add(code(6, 3))
    s.expected |= {code(6, 1), code(6, 2), code(6, 4)}
    return s


#: The per-security listing's real-valued items (tests/fixtures/eastmoney/PROVENANCE.md).
STOCK_LISTING = "stock_1.600519_page1.jsonp"
STOCK_CODES = ["202205302396671645", "202205302396671291"]


def stock_scenario(server: MockServer) -> Scenario:
    """Two securities' listings: 1.600519 walks the reconstructed fixture, then a short last
    page; 0.002594 lists a story 1.600519 listed too, a stored story and a new one whose page
    links 贵州茅台."""
    api = server.url("/comm/wap/getListInfo")
    s = Scenario(
        "eastmoney_stock",
        args={"securities": "1.600519,0.002594", "page_size": 3, "pages": 5},
        settings={
            "NEWS_EASTMONEY_STOCK_API": api,
            "NEWS_MONGO_CLIENT_FACTORY": f"{__name__}.updating_client",
        },
    )

    def serve(code_: str, links: str = "") -> None:
        url = server.url(f"/a/{code_}.html")
        s.fetched_once[url] = code_
        s.expected.add(code_)
        title = f"个股新闻{code_[-4:]}"
        page = current_page(
            title, "2022年05月30日 21:00", "证券时报网", body_paragraphs(code_), links
        )
        s.routes[url] = (200, HTML, page)

    def record(code_: str, shown: str) -> dict[str, str]:
        return {
            "Art_Code": code_,
            "Art_ShowTime": shown,
            "Art_Title": f"个股新闻{code_[-4:]}",
            "Art_Url": server.url(f"/a/{code_}.html"),
            "Art_MediaName": "证券时报网",
            "Np_dst": "",
        }

    # 1.600519, page 1: the fixture, its article URLs on the local server (CFH item kept).
    text = (EASTMONEY / STOCK_LISTING).read_text("utf-8")
    text = text.replace("http://finance.eastmoney.com/a/", server.url("/a/"))
    s.routes[stock_news_url(api, "1.600519", 1, 3)] = (200, JSON, text.encode())
    for c in STOCK_CODES:
        serve(c)
    # 1.600519, page 2: one more story, fewer than a page: the walk's last page.
    s.routes[stock_news_url(api, "1.600519", 2, 3)] = (
        200,
        JSON,
        json.dumps({"data": {"list": [record(code(5, 1), "2022-05-30 20:00:00")]}}).encode(),
    )
    serve(code(5, 1))
    # 0.002594: a story 1.600519 listed, a stored one (never fetched), a new one.
    s.stored.add(code(5, 2))
    s.never.append(server.url(f"/a/{code(5, 2)}.html"))
    listed = [
        record(STOCK_CODES[1], "2022-05-30 21:59:45"),
        record(code(5, 2), "2022-05-30 21:30:00"),
        record(code(5, 3), "2022-05-30 21:00:00"),
    ]
    s.routes[stock_news_url(api, "0.002594", 1, 3)] = (
        200,
        JSON,
        json.dumps({"data": {"list": listed}}, ensure_ascii=False).encode(),
    )
    s.routes[stock_news_url(api, "0.002594", 2, 3)] = (200, JSON, b'{"data":{"list":[]}}')
    serve(code(5, 3), STOCK_LINK)
    s.securities = {
        STOCK_CODES[0]: [("1.600519", "listing")],
        STOCK_CODES[1]: [("0.002594", "listing"), ("1.600519", "listing")],
        code(5, 1): [("1.600519", "listing")],
        code(5, 2): [("0.002594", "listing")],
        code(5, 3): [("0.002594", "listing"), ("1.600519", "body")],
    }
    return s


#: The crawls, by job name; the first three are the spiders' full walks.
SCENARIOS = {
    "eastmoney": column_scenario,
    "eastmoney_724": flash_scenario,
    "finews": finews_scenario,
    "eastmoney_724_bad_listings": flash_bad_listing_scenario,
    "eastmoney_724_merge": flash_merge_scenario,
    "eastmoney_stock": stock_scenario,
    "eastmoney_724_topics": flash_topics_scenario,
}
WALKS = ["eastmoney", "eastmoney_724", "finews"]


def merge_stats(per_crawl: list[dict[str, Any]]) -> dict[str, Any]:
    """Add up the numeric stats of several crawls (the first crawl's value for the rest)."""
    merged: dict[str, Any] = {}
    for stats in per_crawl:
        for key, value in stats.items():
            if isinstance(value, int) and isinstance(merged.get(key, 0), int):
                merged[key] = merged.get(key, 0) + value
            else:
                merged.setdefault(key, value)
    return merged


@dataclass
class Outcome:
    """What a crawl left: stats, stored documents, the log, and the server's request record."""

    scenario: Scenario
    stats: dict[str, Any]
    items: list[dict[str, Any]]
    documents: list[dict[str, Any]]
    log: str
    server: MockServer

    def stat(self, key: str) -> int:
        return int(self.stats.get(f"news/eastmoney/{key}", 0))


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Outcome]]:
    """Run the three crawls in parallel subprocesses against one local server."""
    tmp = tmp_path_factory.mktemp("crawl")
    with MockServer(ignore_params={"req_trace"}) as server:
        scenarios = {name: build(server) for name, build in SCENARIOS.items()}
        project = get_project_settings()
        base_settings = {
            "NEWS_EASTMONEY_ARTICLE_URL": server.url("/a/{code}.html"),
            "ITEM_PIPELINES": {STORAGE: 900, **project.getdict("ITEM_PIPELINES")},
            "DOWNLOADER_MIDDLEWARES": {BACKOFF: 560, **project.getdict("DOWNLOADER_MIDDLEWARES")},
            "NEWS_RETRY_BACKOFF_BASE": 0.1,
            "AUTOTHROTTLE_ENABLED": False,
            "DOWNLOAD_DELAY": 0,
            "RETRY_TIMES": RETRIES,
            "LOG_LEVEL": "INFO",
            "NEWS_MONGO_URI": "mongodb://localhost:27017",
            "NEWS_SPOOL_DIR": str(tmp / "spool"),
            "NEWS_MONGO_VALIDATOR": False,  # mongomock has no collMod
        }
        processes = {}
        for name, s in scenarios.items():
            server.routes.update(s.routes)
            job = {
                "spider": s.spider,
                "copies": s.copies,
                "args": s.args,
                "settings": {**base_settings, **s.settings},
                "stored": stored_items(s.stored, server) + s.extra_stored,
                "out": str(tmp / f"{name}.json"),
            }
            (tmp / f"{name}.job.json").write_text(json.dumps(job, ensure_ascii=False), "utf-8")
            processes[name] = subprocess.Popen(
                [sys.executable, "-m", "tests.crawlrun", str(tmp / f"{name}.job.json")],
                cwd=ROOT,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            )
        results = {}
        for name, process in processes.items():
            log, _ = process.communicate(timeout=120)
            assert process.returncode == 0, log[-3000:]
            data = json.loads((tmp / f"{name}.json").read_text("utf-8"))
            stats = merge_stats(data["crawl_stats"])
            results[name] = Outcome(
                scenarios[name], stats, data["items"], data["documents"], log, server
            )
        yield results


@pytest.fixture(params=WALKS)
def outcome(request: pytest.FixtureRequest, outcomes: dict[str, Outcome]) -> Outcome:
    return outcomes[request.param]


def test_every_new_article_is_stored_once_and_nothing_else(outcome: Outcome) -> None:
    s = outcome.scenario
    assert len(s.expected) >= 50
    new_ids = {f"eastmoney:{c}" for c in s.expected}
    stored_before = {f"eastmoney:{c}" for c in s.stored}
    ids = [d["_id"] for d in outcome.documents]
    assert len(ids) == len(set(ids))
    assert set(ids) == new_ids | stored_before
    assert {i["id"] for i in outcome.items} == new_ids
    assert outcome.stats["item_scraped_count"] == len(new_ids)


def test_stored_documents_have_the_schema_fields(outcome: Outcome) -> None:
    new = {f"eastmoney:{c}" for c in outcome.scenario.expected}
    feeds = set()
    for doc in outcome.documents:
        if doc["_id"] not in new:
            continue
        assert doc["source"] == "eastmoney"
        # Every story has a publisher: the one it credits, else East Money's own desk.
        assert doc["publisher"]
        assert doc["publisher_group"]
        assert doc["publisher_slug"]
        # It came through East Money unless East Money published it.
        assert doc["via"] == (None if doc["publisher_group"] == "东方财富网" else "eastmoney")
        assert doc["_id"] == f"eastmoney:{doc['native_id']}"
        assert len(doc["native_id"]) == 18
        assert doc["url"].startswith(("http://127.0.0.1:", "http://finance.eastmoney.com/"))
        assert doc["title"]
        assert "<" not in doc["title"]
        assert doc["published_at"]
        assert doc["published_tz"] == "+08:00"
        assert doc["body_text"]
        assert doc["fetched_at"]
        feeds.add(doc["feed"])
    expected_feeds = {
        "eastmoney": {"column:345"},
        "eastmoney_724": {"724"},
        "finews": {"rolling", "media", "market"},
    }[outcome.scenario.spider]
    assert feeds == expected_feeds


def test_stored_articles_are_not_requested_again(outcome: Outcome) -> None:
    server = outcome.server
    for url in outcome.scenario.never:
        assert server.count(url) == 0, url
    for url in outcome.scenario.fetched_once:
        expected = 1 + RETRIES if outcome.scenario.routes.get(url) == SERVER_ERROR else 1
        assert server.count(url) == expected, url


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_every_bad_response_is_counted_and_logged(name: str, outcomes: dict[str, Outcome]) -> None:
    outcome = outcomes[name]
    bad = {k.removeprefix("news/eastmoney/"): v for k, v in outcome.stats.items() if "/bad/" in k}
    assert bad == outcome.scenario.bad
    assert outcome.stats.get("log_count/ERROR", 0) == 0 or "Gave up retrying" in outcome.log
    assert "Traceback" not in outcome.log
    for line in outcome.log.splitlines():
        if "East Money bad/" in line:
            assert "http://127.0.0.1:" in line


def test_column_walk(outcomes: dict[str, Outcome]) -> None:
    o = outcomes["eastmoney"]
    assert o.stat("listing/pages") == 4
    assert o.stat("stop/nothing_new") == 1
    assert o.stat("skipped/known") == 5 + 10 + 25
    assert o.stat("skipped/cfh") == 1
    assert o.stat("skipped/incomplete") == 1
    docs = {d["native_id"]: d for d in o.documents}
    old = docs[code(1, 3)]
    assert old["title"] == "栏目文章3"
    # The name the page states stays; the group is a field of its own.
    assert (old["publisher"], old["publisher_group"]) == ("证券时报网", "证券时报")
    real = docs["202601103600000001"]
    assert real["publisher"] == "第一财经"
    assert real["original_title"]
    assert "中信证券" in real["body_text"]
    seed = docs["202205202386046762"]
    assert seed["publisher"] == "中国市场监管新闻网"
    assert seed["body_text"].startswith("量以载道，行稳致远。")


def test_flash_bad_listings_end_each_walk_without_items(outcomes: dict[str, Outcome]) -> None:
    o = outcomes["eastmoney_724_bad_listings"]
    assert o.stats["finish_reason"] == "finished"
    assert o.items == []
    assert o.documents == []
    assert o.stat("listing/pages") == 0
    # One listing request per crawl: a bad page ends the walk (no retry, no next page).
    assert sum(1 for path in o.server.requested if path.startswith("/bad/")) == 5


def test_flash_walk(outcomes: dict[str, Outcome]) -> None:
    o = outcomes["eastmoney_724"]
    assert o.stat("listing/pages") == 4
    assert o.stat("stop/nothing_new") == 1
    assert o.stat("skipped/duplicate") == 1
    assert o.stat("flash/page_fallback") == 4
    docs = {d["native_id"]: d for d in o.documents}
    first = docs[code(2, 1)]
    assert first["title"] == "快讯1"
    assert not first["body_text"].startswith("【")
    assert first["body_text"] == body_paragraphs(code(2, 1), 1)[0]
    assert docs[code(2, 2)]["body_text"].startswith(body_paragraphs(code(2, 2))[0][:20])
    assert docs[code(2, 3)]["body_text"].endswith("…")
    publishers = {c: (d["publisher"], d["publisher_group"]) for c, d in docs.items()}
    credited = docs[code(2, CREDITED_FLASH)]
    assert credited["publisher"] == "央视新闻客户端"
    assert credited["body_text"] == body_paragraphs(code(2, CREDITED_FLASH), 1)[0]
    assert publishers[code(2, 2)] == ("财联社", "财联社")  # its page's 来源
    own = {c for c in o.scenario.expected if c not in {code(2, 2), code(2, CREDITED_FLASH)}}
    assert {publishers[c] for c in own} == {("东方财富网", "东方财富网")}


def test_finews_feeds(outcomes: dict[str, Outcome]) -> None:
    o = outcomes["finews"]
    assert o.stat("listing/pages") == 3
    assert o.stat("skipped/incomplete") == 1
    assert o.stat("skipped/duplicate") == 1
    assert "NW202205262391921712" in o.log
    docs = {d["native_id"]: d for d in o.documents}
    seed = docs["202205202386046762"]
    assert seed["title"] == "深入贯彻实施规划构建“大计量”工作格局加快推动经济社会高质量发展"
    assert seed["publisher"] == "中国市场监管新闻网"
    assert seed["feed"] == "media"
    rolling = docs["202204212352230938"]
    assert rolling["url"] == "http://finance.eastmoney.com/news/1350,202204212352230938.html"
    assert rolling["publisher"] == "财联社"
    by_feed: dict[str, set[str]] = {}
    for doc in docs.values():
        if doc["native_id"] in o.scenario.expected:
            by_feed.setdefault(doc["feed"], set()).add(doc["publisher"])
    # Rolling news credits no one but the real record's 财联社: East Money's own desk.
    assert by_feed == {
        "rolling": {"东方财富网", "财联社"},
        "media": {"中国证券报", "中国市场监管新闻网"},
        "market": {"上海证券报"},
    }


def test_every_story_carries_the_securities_east_money_names_and_no_other(
    outcome: Outcome,
) -> None:
    for doc in outcome.documents:
        if doc["native_id"] not in outcome.scenario.expected:
            continue
        found = [(sec["secid"], *sec["via"]) for sec in doc["securities"]]
        assert found == outcome.scenario.securities.get(doc["native_id"], []), doc["_id"]
        for sec in doc["securities"]:
            assert sec["code"] == sec["secid"].partition(".")[2]
            assert sec["market"]


def test_securities_are_named_by_their_links_and_the_text_keeps_them(
    outcomes: dict[str, Outcome],
) -> None:
    docs = {d["native_id"]: d for d in outcomes["eastmoney"].documents}
    real = docs["202601103600000001"]
    names = {sec["secid"]: sec["name"] for sec in real["securities"]}
    assert names["1.600030"] == "中信证券"
    assert names["90.BK1036"] == "半导体"
    # the link text stays in the text, where it stood
    assert "①中信证券：开年后市场震荡向上的概率更高" in real["body_text"]
    flash = {d["native_id"]: d for d in outcomes["eastmoney_724"].documents}[code(2, 2)]
    assert flash["securities"][1] == {
        "secid": "1.600519",
        "code": "600519",
        "market": "SH",
        "name": "贵州茅台",
        "via": ["body"],
    }
    assert "贵州茅台公告称，一季度营业收入增长。" in flash["body_text"]
    linked = {d["native_id"]: d for d in outcomes["finews"].documents}[code(3, REAL_LINKED_BODY)]
    assert linked["securities"][0]["name"] == "蔚来"
    assert linked["securities"][0]["market"] == "NYSE"


def test_malformed_stock_list_values_are_counted(outcomes: dict[str, Outcome]) -> None:
    assert outcomes["eastmoney_724"].stat("skipped/malformed_secid") == 3


def test_a_story_seen_on_two_feeds_is_one_story_with_both_tags(
    outcomes: dict[str, Outcome],
) -> None:
    o = outcomes["eastmoney_724_merge"]
    docs = {d["_id"]: d for d in o.documents}
    assert set(docs) == {f"eastmoney:{code(4, 1)}", f"eastmoney:{code(4, 3)}"}
    story = docs[f"eastmoney:{code(4, 1)}"]
    assert story["securities"] == [
        {"secid": "1.600519", "code": "600519", "market": "SH", "name": "贵州茅台",
         "via": ["body", "feed"]},
        {"secid": "0.002594", "code": "002594", "market": "SZ", "name": None, "via": ["feed"]},
    ]  # fmt: skip
    assert f"eastmoney:{code(4, 2)}" in {sighting["id"] for sighting in story["sightings"]}
    assert docs[f"eastmoney:{code(4, 3)}"]["securities"] == []
    assert o.stats["news/store/duplicate_exact"] == 1


def test_stock_walk_tags_every_listed_story(outcomes: dict[str, Outcome]) -> None:
    o = outcomes["eastmoney_stock"]
    s = o.scenario
    docs = {d["native_id"]: d for d in o.documents}
    assert set(docs) == s.expected | s.stored
    assert {i["native_id"] for i in o.items} == s.expected
    for native_id, expected in s.securities.items():
        found = {(sec["secid"], *sec["via"]) for sec in docs[native_id]["securities"]}
        assert found == set(expected), native_id
    assert {docs[c]["feed"] for c in s.expected} == {"stock:1.600519", "stock:0.002594"}
    for url in s.never:
        assert o.server.count(url) == 0, url
    for url in s.fetched_once:
        assert o.server.count(url) == 1, url
    assert o.stat("listing/pages") == 4
    assert o.stat("stop/last_page") == 1  # 1.600519's second page
    assert o.stat("stop/empty") == 1  # 0.002594's second page
    assert o.stat("skipped/cfh") == 1
    assert o.stat("skipped/duplicate") == 1
    assert o.stat("skipped/known") == 1
    # the stored story and the story fetched for the other security took the tag at close
    assert o.stat("securities/tagged") == 2
    assert o.stat("securities/untagged") == 0
    assert docs[code(5, 3)]["securities"][1]["name"] == "贵州茅台"


def test_flashes_store_the_topic_columns_they_were_listed_in(
    outcomes: dict[str, Outcome],
) -> None:
    o = outcomes["eastmoney_724_topics"]
    topics = {d["native_id"]: set(d["topics"]) for d in o.documents}
    assert topics == {
        code(6, 1): {102},
        code(6, 2): {102, 103},  # fetched for one column, tagged at close for the other
        code(6, 3): {103},  # stored before: tagged at close
        code(6, 4): {103},
    }
    assert {i["native_id"] for i in o.items} == o.scenario.expected
    assert o.stat("topics/tagged") == 2
    assert o.stats["news/walk/started"] == 2  # one walk per column: 724, 724:103
