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

import pytest
from scrapy.utils.project import get_project_settings

from crawler.sources.eastmoney import column_api_url, fast_news_url
from tests.conftest import FIXTURES, ROOT
from tests.mockserver import MockServer, Response, Route

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


def current_page(title: str, shown: str, source: str, paragraphs: list[str]) -> bytes:
    """A page in the current layout (as sources.md §3 describes it), UTF-8."""
    body = "".join(f"<p>\u3000\u3000{html.escape(p)}</p>" for p in paragraphs)
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
    return s


#: The flash that credits an outlet at its end, as East Money prints another outlet's flash.
CREDITED_FLASH = 7


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
                    "stockList": [],
                    "image": [],
                }
            )
            if n in stored:
                s.stored.add(c)
            elif page < 5:
                s.expected.add(c)
            url = server.url(f"/a/{c}.html")
            if n in needs_page:
                s.fetched_once[url] = c
                answer = needs_page[n]
                if answer == "ok":
                    s.routes[url] = (
                        200,
                        HTML,
                        current_page(
                            f"快讯{n}", "2026年01月10日 00:02", "财联社", body_paragraphs(c)
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


#: The crawls, by job name; the first three are the spiders' full walks.
SCENARIOS = {
    "eastmoney": column_scenario,
    "eastmoney_724": flash_scenario,
    "finews": finews_scenario,
    "eastmoney_724_bad_listings": flash_bad_listing_scenario,
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
                "stored": stored_items(s.stored, server),
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
