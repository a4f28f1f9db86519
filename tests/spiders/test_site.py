"""Configured sources: listings (HTML, RSS, Atom, sitemaps), article pages, and a crawl end to end.

The 中国市场监管新闻网 and 中国工商报 pages are reconstructed, the feeds hand-written (see the
PROVENANCE.md beside each). The end-to-end crawl runs ``scrapy crawl site`` in a subprocess
(``tests/crawlrun.py``) against a local server, through the real pipelines into mongomock.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import re
import subprocess
import sys
from dataclasses import replace
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

import pytest
from scrapy.crawler import Crawler
from scrapy.utils.project import get_project_settings

from crawler.extract import decode_body
from crawler.normalize.identity import canonicalize
from crawler.sources.config import SourcesError, load_sources, parse_source
from crawler.sources.feeds import detect_kind, read_html_listing, read_listing, read_xml_listing
from crawler.sources.listing import ListingEntry
from crawler.sources.site import read_article_page
from crawler.spiders.site import SiteSpider, crawl_day, download_slots
from tests.conftest import FIXTURES, ROOT, make_crawler
from tests.localsite import HTML, XML, article_page, listing_page, paragraphs
from tests.mockserver import MockServer

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from pipelines.chain import PipelineChain

CMRNN = FIXTURES / "cmrnn"
FEEDS = FIXTURES / "feeds"
SEED = FIXTURES / "seed" / "2022-05-20-NW202205202386046762.md"
SOURCES = load_sources(ROOT / "sources.toml")
ARTICLE_URL = "http://www.cmrnn.com.cn/content/2022-05/20/content_212345.html"
FIRST_PARAGRAPH = "量以载道，行稳致远。计量是科技创新、产业发展、国防建设、民生保障的重要基础"
TITLE = "深入贯彻实施规划构建“大计量”工作格局加快推动经济社会高质量发展"


# --- listings ----------------------------------------------------------------------------------


def test_cmrnn_listing_keeps_article_links_only() -> None:
    text = (CMRNN / "index_reconstructed.html").read_text("utf-8")
    listing = read_html_listing(text, "http://www.cmrnn.com.cn/", SOURCES["cmrnn"])
    assert [e.url for e in listing.entries] == [
        ARTICLE_URL,
        "http://www.cmrnn.com.cn/content/2022-05/20/content_212346.html",
        "http://www.cmrnn.com.cn/content/2022-05/19/content_212300.html",
    ]
    assert listing.entries[0].title == TITLE
    assert listing.next_url is None


def test_zggsb_paper_lists_its_articles() -> None:
    text, _ = decode_body((CMRNN / "zggsb_paper_reconstructed.html").read_bytes(), None)
    url = "http://mt.cmrnn.com.cn/zggsb/20150302/paper.html"
    listing = read_html_listing(text, url, SOURCES["zggsb"])
    assert [e.url for e in listing.entries] == [
        "http://mt.cmrnn.com.cn/zggsb/20150302/1.html",
        "http://mt.cmrnn.com.cn/zggsb/20150302/2.html",
    ]


def test_html_listing_with_link_selector_and_next_page() -> None:
    source = replace(
        SOURCES["cmrnn"], article_links="ul.list li", next_page="xpath://a[@rel='next']"
    )
    text = (
        "<ul class='list'><li><a href='/content/2022-05/20/content_1.html'>一</a></li>"
        "<li><span>no link</span></li></ul>"
        "<a href='/content/2022-05/20/content_2.html'>outside the list</a>"
        "<a rel='next' href='?page=2'>下一页</a>"
    )
    listing = read_html_listing(text, "http://www.cmrnn.com.cn/node_1.html", source)
    assert [e.url for e in listing.entries] == [
        "http://www.cmrnn.com.cn/content/2022-05/20/content_1.html"
    ]
    assert listing.next_url == "http://www.cmrnn.com.cn/node_1.html?page=2"


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("rss.xml", "rss"),
        ("atom.xml", "atom"),
        ("sitemap_news.xml", "sitemap"),
        ("sitemap_index.xml", "sitemap"),
        ("../cmrnn/index_reconstructed.html", "html"),
    ],
)
def test_detect_kind(name: str, kind: str) -> None:
    assert detect_kind((FEEDS / name).read_bytes()) == kind


def test_detect_kind_of_gzipped_sitemap_and_empty_body() -> None:
    assert detect_kind(gzip.compress((FEEDS / "sitemap_news.xml").read_bytes())) == "sitemap"
    assert detect_kind(b"") == "html"


def test_rss_items() -> None:
    listing = read_xml_listing((FEEDS / "rss.xml").read_bytes(), "https://news.example.com/rss")
    assert listing.kind == "rss"
    assert listing.entries == [
        ListingEntry(
            "https://news.example.com/2022/05/20/a1.html",
            title="示例新闻一",
            published_text="Fri, 20 May 2022 09:51:48 +0800",
            summary="<p>第一条新闻的摘要。</p>",
        ),
        ListingEntry(
            "https://news.example.com/2022/05/20/a2.html",
            title="示例新闻二（只有 guid）",
            published_text="2022-05-20T08:00:00+08:00",
        ),
        ListingEntry("https://news.example.com/video/v3.html", title="不是文章的条目"),
    ]
    assert listing.skipped == [("no_link", "没有链接的条目")]


def test_atom_entries() -> None:
    listing = read_xml_listing((FEEDS / "atom.xml").read_bytes(), "https://news.example.com/atom")
    assert listing.kind == "atom"
    assert listing.entries == [
        ListingEntry(
            "https://news.example.com/2022/05/20/a1.html",
            title="示例新闻一",
            published_text="2022-05-20T09:51:48+08:00",
            summary="第一条新闻的摘要。",
        ),
        ListingEntry(
            "https://news.example.com/2022/05/20/a2.html",
            title="示例新闻二",
            published_text="2022-05-20T08:00:00+08:00",
        ),
    ]


def test_news_sitemap_and_index() -> None:
    url = "https://news.example.com/sitemap_news.xml"
    listing = read_xml_listing((FEEDS / "sitemap_news.xml").read_bytes(), url)
    assert listing.kind == "sitemap"
    assert listing.entries[0] == ListingEntry(
        "https://news.example.com/2022/05/20/a1.html",
        title="示例新闻一",
        published_text="2022-05-20T09:51:48+08:00",
    )
    assert [e.url for e in listing.entries[1:]] == [
        "https://news.example.com/2022/05/20/a2.html",
        "https://news.example.com/about.html",
    ]
    index = read_xml_listing((FEEDS / "sitemap_index.xml").read_bytes(), url)
    assert (index.entries, index.sitemaps) == ([], [url])


def test_feed_entries_off_the_pattern_are_skipped() -> None:
    source = replace(SOURCES["example_rss"], article_pattern=re.compile(r"/2022/05/20/"))
    body = (FEEDS / "sitemap_news.xml").read_bytes()
    listing = read_listing("sitemap", body, "", "https://news.example.com/s.xml", source)
    assert len(listing.entries) == 2
    assert listing.skipped == [("off_pattern", "https://news.example.com/about.html")]


def test_html_where_a_feed_was_declared_is_skipped() -> None:
    body = (CMRNN / "index_reconstructed.html").read_bytes()
    listing = read_listing("rss", body, "", "https://x.example/rss", SOURCES["example_rss"])
    assert listing.entries == []
    assert listing.skipped == [("not_xml", "https://x.example/rss")]


def test_xml_with_entities_is_not_expanded() -> None:
    body = (
        b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        b"<rss><channel><item><title>&x;</title><link>https://x.example/1</link></item>"
        b"</channel></rss>"
    )
    listing = read_xml_listing(body, "https://x.example/rss")
    assert [e.url for e in listing.entries] == ["https://x.example/1"]
    assert "root:" not in (listing.entries[0].title or "")


# --- article pages -----------------------------------------------------------------------------


def test_cmrnn_article_by_the_generic_extractor(chain: PipelineChain) -> None:
    body = (CMRNN / "content_2022-05-20_reconstructed.html").read_bytes()
    article = read_article_page(body, None, ARTICLE_URL, SOURCES["cmrnn"])
    assert (article.title, article.published_text, article.publisher) == (
        TITLE,
        "2022-05-20 09:51:48",
        "中国市场监管新闻网",
    )
    article.source, article.fetched_at = "cmrnn", None
    done = chain.process(article)
    assert done.published_at.isoformat() == "2022-05-20T01:51:48+00:00"
    assert done.body_text.startswith(FIRST_PARAGRAPH)
    assert any("陈良贤" in a for a in done.authors)  # the □ byline, read by attribution
    assert "版权所有" not in done.body_text
    seed_text = SEED.read_text("utf-8")
    last = "蓝图已绘就，奋进正当时。"
    assert last in seed_text
    assert last in done.body_text


def test_zggsb_selectors_override_the_extractor() -> None:
    body = (CMRNN / "zggsb_1_reconstructed.html").read_bytes()
    url = "http://mt.cmrnn.com.cn/zggsb/20150302/1.html"
    article = read_article_page(body, None, url, SOURCES["zggsb"])
    assert article.title == TITLE
    assert article.body_html is not None
    assert article.body_html.startswith("<div><p>量以载道")
    assert article.body_html.count("<p>") == 3
    assert article.publisher is None


def test_selector_matching_nothing_keeps_the_extractor_value() -> None:
    source = replace(SOURCES["cmrnn"], selectors={"title": "h5.none", "authors": "div.editor"})
    body = (CMRNN / "content_2022-05-20_reconstructed.html").read_bytes()
    article = read_article_page(body, None, ARTICLE_URL, source)
    assert article.title == TITLE
    assert article.authors == ["责任编辑："]


def test_encoding_hint_wins_over_a_wrong_header() -> None:
    source = replace(SOURCES["zggsb"], encoding="gb18030")
    body = (CMRNN / "zggsb_1_reconstructed.html").read_bytes()
    headers = {"Content-Type": "text/html; charset=utf-8"}
    article = read_article_page(body, headers, "http://mt.cmrnn.com.cn/zggsb/1.html", source)
    assert article.title == TITLE


# --- the spider --------------------------------------------------------------------------------


def test_spider_refuses_an_unknown_source() -> None:
    crawler = make_crawler()
    with pytest.raises(ValueError, match="unknown source 'nope': use one of cmrnn, example_rss"):
        SiteSpider.from_crawler(crawler, source="nope")


def test_spider_reports_a_bad_sources_file(tmp_path: Path) -> None:
    path = tmp_path / "s.toml"
    path.write_text(
        '[[source]]\nname = 1\npublisher = "P"\nstart_urls = ["https://x.example/"]\n', "utf-8"
    )
    crawler = make_crawler(NEWS_SOURCES_FILE=str(path))
    with pytest.raises(ValueError, match=r's\.toml: source #1: field "name": expected a string'):
        SiteSpider.from_crawler(crawler)


def test_spider_takes_enabled_sources_and_their_politeness() -> None:
    settings = get_project_settings()
    settings.set("DOWNLOAD_SLOTS", {"site:zggsb": {"delay": 9}})
    crawler = Crawler(SiteSpider, settings)  # settings still open, as in a real crawl
    spider = SiteSpider.from_crawler(crawler, date="2015-03-02")
    assert list(spider.sources) == ["cmrnn"]
    assert spider.day == date(2015, 3, 2)
    assert crawler.settings.getdict("DOWNLOAD_SLOTS") == {
        "site:cmrnn": {"delay": 1.0, "concurrency": 2},
        "site:zggsb": {"delay": 9},
    }


def test_a_following_site_crawl_polls_the_sources_that_declare_follow(tmp_path: Path) -> None:
    path = tmp_path / "s.toml"
    entry = (
        '[[source]]\nname = "{}"\npublisher = "P"\nstart_urls = ["{}"]\narticle_pattern = "/a/"\n'
    )
    path.write_text(
        entry.format("quiet", "https://q.example/list")
        + entry.format("live", "https://l.example/{date:%Y%m%d}/list")
        + "follow = true\n",
        "utf-8",
    )
    settings = get_project_settings()
    settings.set("NEWS_SOURCES_FILE", str(path))
    crawler = Crawler(SiteSpider, settings)  # settings still open, as in a real crawl
    spider = SiteSpider.from_crawler(crawler, follow="30s")
    assert spider.follower is not None
    assert "shutdown" in crawler.settings.getlist("NEWS_RUN_OK_REASONS")  # SIGTERM: a clean end
    assert spider.follower.policy.interval == 30.0
    today = datetime.now(spider.zone).strftime("%Y%m%d")
    ((key, request),) = spider.poll_requests().items()
    assert request.url == f"https://l.example/{today}/list"
    assert key == f"live {request.url}"
    with pytest.raises(ValueError, match="none of the chosen sources declares `follow = true`"):
        SiteSpider.from_crawler(Crawler(SiteSpider, settings), source="quiet", follow="30s")


def test_download_slots_and_crawl_day() -> None:
    assert download_slots([SOURCES["example_rss"]], {}) == {
        "site:example_rss": {"delay": 2.0, "concurrency": 2}
    }
    assert crawl_day(None, date(2026, 1, 1)) == date(2026, 1, 1)
    with pytest.raises(ValueError, match="date='yesterday': expected YYYY-MM-DD"):
        crawl_day("yesterday", date(2026, 1, 1))


# --- end to end --------------------------------------------------------------------------------

MONGO = {"uri": "mongodb://localhost:27017", "database": "finews", "collection": "articles"}


def stored_id(url: str) -> str:
    """The ``_id`` a generic-site article gets."""
    return "url:" + hashlib.sha1((canonicalize(url) or "").encode()).hexdigest()


def build_site(server: MockServer) -> tuple[str, set[str], set[str]]:
    """Serve four sources; return the sources TOML, URLs expected stored, URLs stored before."""
    local = server.url("")
    routes = server.routes
    # cmrnn: the reconstructed home page and article, the host made local.
    index = (CMRNN / "index_reconstructed.html").read_text("utf-8")
    routes["/"] = (200, HTML, index.replace("http://www.cmrnn.com.cn", local).encode())
    routes["/content/2022-05/20/content_212345.html"] = (
        200,
        HTML,
        (CMRNN / "content_2022-05-20_reconstructed.html").read_bytes(),
    )
    routes["/content/2022-05/20/content_212346.html"] = (
        200,
        HTML,
        article_page("市场监管总局部署计量工作", "2022-05-20 10:00", "c2"),
    )
    routes["/content/2022-05/19/content_212300.html"] = (200, HTML, b"  ")  # empty: bad/empty
    # paged: three listing pages; every link of page 2 is stored, so page 3 is never asked.
    page1 = [f"/news/{n}.html" for n in (1, 2, 3)]
    page2 = [f"/news/{n}.html" for n in (4, 5)]
    routes["/list/1.html"] = (200, HTML, listing_page([*page1, "/about.html"], "/list/2.html"))
    routes["/list/2.html"] = (200, HTML, listing_page(page2, "/list/3.html"))
    routes["/list/3.html"] = (200, HTML, listing_page(["/news/6.html"], None))
    for n in (1, 2):
        routes[f"/news/{n}.html"] = (
            200,
            HTML,
            article_page(f"分页新闻{n}", "2022-05-21 08:00", f"n{n}"),
        )
    # /news/3.html is not served: bad/http_404.
    # example: RSS and a sitemap index listing the same articles (a2 has no time on its page).
    for name in ("rss.xml", "sitemap_index.xml", "sitemap_news.xml"):
        text = (FEEDS / name).read_text("utf-8").replace("https://news.example.com", local)
        routes[f"/{name}"] = (200, XML, text.encode())
    routes["/2022/05/20/a1.html"] = (
        200,
        HTML,
        article_page("示例新闻一", "2022年05月20日 09:51", "a1"),
    )
    routes["/2022/05/20/a2.html"] = (200, HTML, article_page("示例新闻二", None, "a2"))
    # zggsb: a dated e-paper issue in GB18030, title and body by selectors.
    routes["/zggsb/20150302/paper.html"] = (
        200,
        {"Content-Type": "text/html"},
        (CMRNN / "zggsb_paper_reconstructed.html").read_bytes(),
    )
    epaper = (
        "<html><head><meta charset='gb2312'><title>中国工商报</title></head><body>"
        f"<h2>电子报新闻</h2><div class='content_p'>{paragraphs('z1')}</div></body></html>"
    )
    routes["/zggsb/20150302/1.html"] = (
        200,
        {"Content-Type": "text/html"},
        epaper.encode("gb18030"),
    )
    sources = f"""
[[source]]
name = "cmrnn"
publisher = "中国市场监管新闻网"
start_urls = ["{local}/"]
article_pattern = '/content/\\d{{4}}-\\d{{2}}/\\d{{2}}/content_\\d+\\.html$'
download_delay = 0

[[source]]
name = "paged"
publisher = "分页新闻网"
start_urls = ["{local}/list/1.html"]
article_links = "ul.list a"
article_pattern = '/news/\\d+\\.html$'
next_page = "a.next"
max_pages = 5
download_delay = 0

[[source]]
name = "example"
publisher = "示例新闻网"
start_urls = ["{local}/rss.xml", {{ url = "{local}/sitemap_index.xml", kind = "sitemap" }}]
article_pattern = '/2022/05/20/'
download_delay = 0
concurrency = 4

[[source]]
name = "zggsb"
publisher = "中国工商报"
start_urls = ["{local}/zggsb/{{date:%Y%m%d}}/paper.html"]
article_pattern = '/zggsb/\\d{{8}}/\\d+\\.html$'
download_delay = 0
enabled = false

[source.selectors]
title = "h2"
body = "div.content_p p"
"""
    expected = {
        server.url(p)
        for p in (
            "/content/2022-05/20/content_212345.html",
            "/content/2022-05/20/content_212346.html",
            "/news/1.html",
            "/news/2.html",
            "/2022/05/20/a1.html",
            "/2022/05/20/a2.html",
            "/zggsb/20150302/1.html",
        )
    }
    stored = {server.url(p) for p in page2}
    return sources, expected, stored


@pytest.fixture(scope="module")
def crawl(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """Crawl the four sources once in a subprocess; yield stats, items, documents, server."""
    tmp = tmp_path_factory.mktemp("site")
    with MockServer() as server:
        sources, expected, stored = build_site(server)
        (tmp / "sources.toml").write_text(sources, "utf-8")
        project = get_project_settings()
        job = {
            "spider": "site",
            "args": {"source": "cmrnn,paged,example,zggsb", "date": "2015-03-02"},
            "settings": {
                "NEWS_SOURCES_FILE": str(tmp / "sources.toml"),
                "ITEM_PIPELINES": {
                    "pipelines.storage.StoragePipeline": 900,
                    **project.getdict("ITEM_PIPELINES"),
                },
                "NEWS_MONGO_URI": MONGO["uri"],
                "NEWS_MONGO_DATABASE": MONGO["database"],
                "NEWS_MONGO_COLLECTION": MONGO["collection"],
                "NEWS_MONGO_VALIDATOR": False,  # mongomock has no collMod
                "NEWS_SPOOL_DIR": str(tmp / "spool"),
                "AUTOTHROTTLE_ENABLED": False,
                "RETRY_ENABLED": False,
                "LOG_LEVEL": "INFO",
            },
            "stored": [
                {
                    "id": stored_id(url),
                    "url": url,
                    "canonical_url": canonicalize(url),
                    "source": "paged",
                    "title": "已存文章",
                    "body_text": paragraphs(url).replace("<p>", "").replace("</p>", "\n"),
                    "published_at": "2022-05-20T00:00:00+00:00",
                    "fetched_at": "2022-05-20T00:00:00+00:00",
                }
                for url in sorted(stored)
            ],
            "out": str(tmp / "out.json"),
        }
        (tmp / "job.json").write_text(json.dumps(job, ensure_ascii=False), "utf-8")
        process = subprocess.run(
            [sys.executable, "-m", "tests.crawlrun", str(tmp / "job.json")],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert process.returncode == 0, process.stderr[-3000:]
        data = json.loads((tmp / "out.json").read_text("utf-8"))
        yield {**data, "server": server, "expected": expected, "stored": stored}


def stat(crawl: dict[str, Any], key: str) -> int:
    return int(crawl["stats"].get(f"news/site/{key}", 0))


@pytest.mark.e2e
def test_crawl_stores_every_new_article_once(crawl: dict[str, Any]) -> None:
    documents = {d["_id"]: d for d in crawl["documents"]}
    expected = {stored_id(u) for u in crawl["expected"]}
    before = {stored_id(u) for u in crawl["stored"]}
    assert set(documents) == expected | before
    assert {i["id"] for i in crawl["items"]} == expected
    assert crawl["stats"]["item_scraped_count"] == len(expected)


@pytest.mark.e2e
def test_crawled_cmrnn_article(crawl: dict[str, Any]) -> None:
    url = crawl["server"].url("/content/2022-05/20/content_212345.html")
    item = next(i for i in crawl["items"] if i["url"] == url)
    assert (item["source"], item["feed"], item["title"]) == ("cmrnn", "html", TITLE)
    assert item["publisher"] == "中国市场监管新闻网"
    assert item["published_at"].startswith("2022-05-20T01:51:48")
    assert item["body_text"].startswith(FIRST_PARAGRAPH)
    assert item["fetched_at"].endswith("+00:00")


@pytest.mark.e2e
def test_feed_time_and_default_publisher_stand_in(crawl: dict[str, Any]) -> None:
    items = {i["url"]: i for i in crawl["items"]}
    a2 = items[crawl["server"].url("/2022/05/20/a2.html")]
    assert a2["feed"] in ("rss", "sitemap")
    assert a2["published_at"].startswith("2022-05-20T00:00:00")
    assert a2["publisher"] == "示例新闻网"
    epaper = items[crawl["server"].url("/zggsb/20150302/1.html")]
    assert (epaper["title"], epaper["publisher"], epaper["feed"]) == (
        "电子报新闻",
        "中国工商报",
        "html",
    )
    assert epaper["published_at"].startswith("2015-03-01T16:00:00")


@pytest.mark.e2e
def test_crawl_counts_every_skip_and_stop(crawl: dict[str, Any]) -> None:
    server = crawl["server"]
    assert stat(crawl, "paged/skipped/known") == 2
    assert stat(crawl, "paged/stop/nothing_new") == 1
    assert server.count("/list/3.html") == 0
    assert stat(crawl, "paged/bad/http_404") == 1
    assert stat(crawl, "cmrnn/bad/empty") == 1
    assert stat(crawl, "cmrnn/stop/last_page") == 1
    assert stat(crawl, "example/listing/rss") == 1
    assert stat(crawl, "example/listing/sitemap") == 2
    assert stat(crawl, "example/skipped/off_pattern") == 2
    assert stat(crawl, "example/skipped/no_link") == 1
    assert stat(crawl, "example/skipped/duplicate") == 2
    assert stat(crawl, "zggsb/bad/http_404") == 1
    assert server.count("/2022/05/20/a1.html") == 1
    assert stat(crawl, "cmrnn/articles/html") == 2


# --- sitemaps named by robots.txt --------------------------------------------------------------


def test_robots_urls_one_per_site_of_the_start_urls() -> None:
    source = parse_source(
        {
            "name": "r",
            "publisher": "测试",
            "start_urls": [
                "http://a.cn/list/",
                "http://a.cn/p/{date:%Y%m%d}.html",
                "https://b.cn:8443/",
            ],
            "article_pattern": "/a/",
            "sitemaps_from_robots": True,
        },
        "t: source #1",
    )
    assert source.sitemaps_from_robots
    assert source.robots_urls(date(2026, 12, 2)) == (
        "http://a.cn/robots.txt",
        "https://b.cn:8443/robots.txt",
    )


def test_sitemaps_from_robots_must_be_true_or_false() -> None:
    entry = {
        "name": "r",
        "publisher": "测",
        "start_urls": ["http://a.cn/"],
        "article_pattern": "/a/",
        "sitemaps_from_robots": "yes",
    }
    with pytest.raises(
        SourcesError,
        match='source "r": field "sitemaps_from_robots": expected true or false, got a string',
    ):
        parse_source(entry, "t: source #1")


def robots_crawl(tmp: Path, from_robots: bool) -> tuple[dict[str, Any], MockServer]:
    """Crawl a site whose home page links one article and whose robots.txt names a sitemap of
    two more (a reconstructed Chinese news site); return the outcome and the stopped server."""
    with MockServer() as server:
        routes = server.routes
        routes["/"] = (200, HTML, listing_page(["/a/1.html"], None))
        routes["/robots.txt"] = (
            200,
            {"Content-Type": "text/plain"},
            f"User-agent: *\nDisallow:\nSitemap: {server.url('/sm.xml')}\n".encode(),
        )
        urls = "".join(
            f"<url><loc>{server.url(p)}</loc></url>"
            for p in ("/a/2.html", "/a/3.html", "/about.html")
        )
        sitemap = f"<?xml version='1.0'?><urlset xmlns='http://www.sitemaps.org/schemas/sitemap/0.9'>{urls}</urlset>"
        routes["/sm.xml"] = (200, XML, sitemap.encode())
        for n in (1, 2, 3):
            routes[f"/a/{n}.html"] = (
                200,
                HTML,
                article_page(f"机器人站点新闻{n}", "2026-12-02 08:00", f"r{n}"),
            )
        (tmp / "sources.toml").write_text(
            f"""
[[source]]
name = "robots"
publisher = "机器人站点"
start_urls = ["{server.url("/")}"]
article_pattern = '/a/\\d+\\.html$'
sitemaps_from_robots = {"true" if from_robots else "false"}
download_delay = 0
""",
            "utf-8",
        )
        job = {
            "spider": "site",
            "args": {"source": "robots"},
            "settings": {
                "NEWS_SOURCES_FILE": str(tmp / "sources.toml"),
                "NEWS_MONGO_URI": MONGO["uri"],  # mongomock, in the crawl's process
                "NEWS_MONGO_VALIDATOR": False,
                "NEWS_SPOOL_DIR": str(tmp / "spool"),
                "AUTOTHROTTLE_ENABLED": False,
                "RETRY_ENABLED": False,
            },
            "out": str(tmp / "out.json"),
        }
        (tmp / "job.json").write_text(json.dumps(job), "utf-8")
        process = subprocess.run(
            [sys.executable, "-m", "tests.crawlrun", str(tmp / "job.json")],
            cwd=ROOT, capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
        assert process.returncode == 0, process.stderr[-3000:]
        return json.loads((tmp / "out.json").read_text("utf-8")), server


@pytest.mark.e2e
@pytest.mark.parametrize("from_robots", [True, False])
def test_site_spider_walks_the_sitemaps_robots_txt_names(tmp_path: Path, from_robots: bool) -> None:
    outcome, server = robots_crawl(tmp_path, from_robots)
    crawled = {i["url"].rsplit("/", 1)[1] for i in outcome["items"]}
    if from_robots:
        assert crawled == {"1.html", "2.html", "3.html"}
        assert outcome["stats"]["news/site/robots/robots/sitemaps"] == 1
        assert outcome["stats"]["news/site/robots/skipped/off_pattern"] == 1  # /about.html
    else:
        assert crawled == {"1.html"}
        assert server.count("/sm.xml") == 0
