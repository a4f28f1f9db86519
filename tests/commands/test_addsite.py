"""``scrapy addsite``: discovery on four local sites of different shapes, the entry it writes, and
a crawl of each site with that entry.

The sites are reconstructed Chinese news sites, not recordings: their layouts follow what
Chinese news sites commonly print (a column bar, a 来源/时间 line, ``t20261202_1001.html`` and
``content_N.html`` article names, ``index_1.html`` paging, 专题 and tag links in the header), the
bodies are random text of common Hanzi (``tests.spiders.test_site.paragraphs``, distinct per
story so that no story is taken for a copy of another). Each is served by
:class:`tests.mockserver.MockServer` on 127.0.0.1:

- ``rss``: a home page declaring an RSS feed (``<link rel="alternate">``);
- ``robots``: no feed, a home page with no article links (its lists are drawn by script), and a
  sitemap index named only in robots.txt, whose news sitemap lists the articles and whose other
  sitemap lists sections and 关于我们;
- ``paged``: HTML only: a home page, two columns, one of them paged (``index_1.html``);
- ``lookalike``: navigation that looks almost like articles: a 专题 link with a dated, numbered URL
  and a headline-long text on every page, tag pages with numbered URLs, a day's index page.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tomllib
from typing import TYPE_CHECKING, Any

import pytest
from scrapy.utils.project import get_project_settings

from crawler.commands.addsite import append_entry, sample_table
from crawler.sources import discovery
from crawler.sources.config import SourcesError, load_sources, parse_sources
from crawler.sources.discovery import Findings, Link, Page
from tests.conftest import ROOT
from tests.localsite import HTML, XML, paragraphs
from tests.mockserver import MockServer

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

HOST = "127.0.0.1:8000"


# --- the sites ----------------------------------------------------------------------------------


def page(site: str, nav: list[tuple[str, str]], main: str, title: str | None = None) -> bytes:
    """A page of ``site``: its column bar (``nav``: href, text), then ``main``."""
    bar = "".join(f"<li><a href='{href}'>{text}</a></li>" for href, text in nav)
    return (
        "<!DOCTYPE html><html><head><meta charset='utf-8'>"
        f"<title>{title + '_' if title else ''}{site}</title></head><body>"
        f"<div class='header'><ul class='nav'>{bar}</ul></div>{main}"
        "<div class='footer'><a href='/about.html'>关于我们</a> 版权所有</div></body></html>"
    ).encode()


def listing(links: list[tuple[str, str]], next_href: str | None = None) -> str:
    """A list of headlines, with a 下一页 link when paged."""
    items = "".join(f"<li><a href='{h}' target='_blank'>{t}</a><span>12-02</span></li>"
                    for h, t in links)  # fmt: skip
    more = (
        f"<div class='page'><a class='next' href='{next_href}'>下一页</a></div>"
        if next_href
        else ""
    )
    return f"<div class='list'><ul>{items}</ul>{more}</div>"


def article(site: str, nav: list[tuple[str, str]], title: str, seed: str) -> bytes:
    """An article page: headline, 来源/时间 line, body."""
    main = (
        f"<div class='article'><h1>{title}</h1>"
        f"<div class='info'>来源：{site}　时间：2026-12-02 09:{len(seed):02d}</div>"
        f"<div class='content'>{paragraphs(seed)}</div></div>"
    )
    return page(site, nav, main, title)


HEADLINES = [
    "央行开展逆回购操作维护流动性合理充裕",
    "沪深两市成交额连续三日突破万亿元",
    "多部门联合部署开展食品安全专项整治",
    "上市公司三季报披露收官业绩稳中有升",
    "市场监管总局发布新版计量器具目录",
    "多地出台措施支持民营经济高质量发展",
    "北向资金本周净买入超过一百亿元人民币",
    "国家统计局公布十一月份居民消费价格",
]


def serve_articles(
    server: MockServer, site: str, nav: list[tuple[str, str]], paths: list[str]
) -> list[tuple[str, str]]:
    """Serve an article at each path; return (path, headline) pairs."""
    pairs = []
    for index, path in enumerate(paths):
        title = HEADLINES[index % len(HEADLINES)] + (
            "" if index < len(HEADLINES) else f"（{index}）"
        )
        server.routes[path] = (200, HTML, article(site, nav, title, f"{site}{path}"))
        pairs.append((path, title))
    return pairs


def rss_site(server: MockServer) -> tuple[set[str], set[str]]:
    """The ``rss`` site; return the article paths and the other pages served."""
    site = "财经日报网"
    nav = [("/", "首页"), ("/finance/", "财经"), ("/about.html", "关于我们")]
    paths = [f"/finance/2026/1202/{n}.shtml" for n in (10001, 10002, 10003, 10004)]
    pairs = serve_articles(server, site, nav, paths)
    head = "<link rel='alternate' type='application/rss+xml' title='滚动新闻' href='/rss/roll.xml'>"
    home = page(site, nav, listing(pairs[:2])).replace(b"</head>", head.encode() + b"</head>")
    items = "".join(
        f"<item><title>{t}</title><link>{server.url(p)}</link>"
        f"<pubDate>Wed, 02 Dec 2026 0{i}:00:00 +0800</pubDate></item>"
        for i, (p, t) in enumerate(pairs)
    )
    feed = f"<?xml version='1.0' encoding='utf-8'?><rss version='2.0'><channel><title>{site}</title>{items}</channel></rss>"
    server.routes.update(
        {
            "/": (200, HTML, home),
            "/rss/roll.xml": (200, XML, feed.encode()),
            "/finance/": (200, HTML, page(site, nav, listing(pairs[1:3]))),
            "/about.html": (200, HTML, page(site, nav, "<p>联系我们</p>")),
        }
    )
    return set(paths), {"/", "/finance/", "/about.html"}


def robots_site(server: MockServer) -> tuple[set[str], set[str]]:
    """The ``robots`` site: articles known only from the sitemap robots.txt names."""
    site = "市场导报网"
    nav = [("/", "首页"), ("/channel/finance/", "财经"), ("/admin/login", "登录")]
    paths = [
        f"/content/2026-12/0{d}/content_{n}.html" for d, n in ((1, 50121), (2, 50122), (2, 50123))
    ]
    serve_articles(server, site, nav, paths)
    script = "<div id='list'></div><script src='/js/list.js'></script>"
    urls = "".join(
        f"<url><loc>{server.url(p)}</loc><news:news><news:publication><news:name>{site}"
        "</news:name><news:language>zh</news:language></news:publication>"
        f"<news:publication_date>2026-12-02T08:00:00+08:00</news:publication_date>"
        f"<news:title>标题</news:title></news:news></url>"
        for p in paths
    )
    news = (
        "<?xml version='1.0' encoding='UTF-8'?><urlset xmlns='http://www.sitemaps.org/schemas/sitemap/0.9' "
        "xmlns:news='http://www.google.com/schemas/sitemap-news/0.9'>" + urls + "</urlset>"
    )
    pages = (
        "<?xml version='1.0' encoding='UTF-8'?><urlset xmlns='http://www.sitemaps.org/schemas/sitemap/0.9'>"
        f"<url><loc>{server.url('/channel/finance/')}</loc></url>"
        f"<url><loc>{server.url('/about.html')}</loc></url></urlset>"
    )
    index = (
        "<?xml version='1.0' encoding='UTF-8'?><sitemapindex xmlns='http://www.sitemaps.org/schemas/sitemap/0.9'>"
        f"<sitemap><loc>{server.url('/sitemaps/pages.xml')}</loc></sitemap>"
        f"<sitemap><loc>{server.url('/sitemaps/news.xml')}</loc></sitemap></sitemapindex>"
    )
    robots = f"User-agent: *\nDisallow: /admin/\n\nSitemap: {server.url('/sitemaps/index.xml')}\n"
    server.routes.update(
        {
            "/": (200, HTML, page(site, nav, script)),
            "/channel/finance/": (200, HTML, page(site, nav, script)),
            "/about.html": (200, HTML, page(site, nav, "<p>联系我们</p>")),
            "/robots.txt": (200, {"Content-Type": "text/plain"}, robots.encode()),
            "/sitemaps/index.xml": (200, XML, index.encode()),
            "/sitemaps/news.xml": (200, XML, news.encode()),
            "/sitemaps/pages.xml": (200, XML, pages.encode()),
        }
    )
    return set(paths), {"/", "/channel/finance/", "/about.html"}


def paged_site(server: MockServer) -> tuple[set[str], set[str]]:
    """The ``paged`` site: HTML listings only, 要闻 paged over two pages."""
    site = "市场监管快讯"
    nav = [("/", "首页"), ("/yw/", "要闻"), ("/df/", "地方")]
    yw = [
        f"/yw/202612/t2026120{d}_{n}.html"
        for d, n in ((2, 1005), (2, 1004), (2, 1003), (1, 1002), (1, 1001))
    ]
    df = [f"/df/202612/t20261201_{n}.html" for n in (2001, 2002)]
    pairs = serve_articles(server, site, nav, [*yw, *df])
    server.routes.update(
        {
            "/": (200, HTML, page(site, nav, listing([pairs[0], pairs[5]]))),
            "/yw/": (200, HTML, page(site, nav, listing(pairs[:3], "/yw/index_1.html"))),
            "/yw/index_1.html": (200, HTML, page(site, nav, listing(pairs[3:5]))),
            "/df/": (200, HTML, page(site, nav, listing(pairs[5:]))),
            "/robots.txt": (200, {"Content-Type": "text/plain"}, b"User-agent: *\nDisallow:\n"),
            "/about.html": (200, HTML, page(site, nav, "<p>联系我们</p>")),
        }
    )
    return {*yw, *df}, {"/", "/yw/", "/yw/index_1.html", "/df/", "/about.html"}


def lookalike_site(server: MockServer) -> tuple[set[str], set[str]]:
    """The ``lookalike`` site: navigation whose URLs carry dates and numbers like articles."""
    site = "证券导报"
    nav = [
        ("/", "首页"),
        ("/yaowen/", "要闻"),
        ("/gongsi/", "公司"),
        ("/yaowen/20261202/index.html", "今日要闻"),
        ("/tag/10086.html", "股市"),
        ("/tag/10087.html", "基金"),
        ("/zhuanti/2026/1128.html", "学习贯彻中央经济工作会议精神专题报道"),
    ]
    yaowen = [f"/yaowen/2026120{d}/{n}.html" for d, n in ((2, 138003), (2, 138002), (1, 138001))]
    gongsi = [f"/gongsi/20261202/{n}.html" for n in (238001, 238002)]
    pairs = serve_articles(server, site, nav, [*yaowen, *gongsi])
    others = {
        "/": page(site, nav, listing([pairs[0], pairs[3]])),
        "/yaowen/": page(site, nav, listing(pairs[:3])),
        "/gongsi/": page(site, nav, listing(pairs[3:])),
        "/yaowen/20261202/index.html": page(site, nav, listing(pairs[:2])),
        "/tag/10086.html": page(site, nav, listing([pairs[0], pairs[4]])),
        "/tag/10087.html": page(site, nav, listing([pairs[1]])),
        "/zhuanti/2026/1128.html": page(site, nav, listing([pairs[2]]), "专题报道"),
        "/about.html": page(site, nav, "<p>联系我们</p>"),
    }
    server.routes.update({path: (200, HTML, body) for path, body in others.items()})
    return {*yaowen, *gongsi}, set(others)


SITES = {
    "rss": rss_site,
    "robots": robots_site,
    "paged": paged_site,
    "lookalike": lookalike_site,
}


# --- discovery, pure ----------------------------------------------------------------------------


def served(server: MockServer, path: str) -> Page:
    """The page the server serves at ``path``, as the command would hold it."""
    _, _, body = server.routes[path]  # type: ignore[misc]
    return Page(server.url(path), 200, body, body.decode("utf-8"))


def test_feed_declared_by_a_link_is_found() -> None:
    with MockServer() as server:
        rss_site(server)
        home = served(server, "/")
    assert discovery.feed_links(home) == {server.url("/rss/roll.xml"): "rss"}


def test_robots_sitemaps_are_read_with_scrapys_helper() -> None:
    text = b"User-agent: *\nDisallow: /admin/\nSitemap: /sitemaps/index.xml\nsitemap: http://a.cn/s.xml\n"
    assert discovery.robots_sitemaps(text, "http://a.cn/robots.txt") == [
        "http://a.cn/sitemaps/index.xml",
        "http://a.cn/s.xml",
    ]


def test_lookalike_navigation_is_not_taken_for_articles() -> None:
    with MockServer() as server:
        articles, others = lookalike_site(server)
        listings = {
            server.url(p): discovery.page_links(served(server, p))
            for p in ("/", "/yaowen/", "/gongsi/", "/tag/10086.html", "/yaowen/20261202/index.html")
        }
    found, rest = discovery.classify_links(listings, [], len(listings))
    assert {re.sub(r"^http://[^/]+", "", u) for u in found} == articles
    assert server.url("/zhuanti/2026/1128.html") in rest
    pattern, conflicts = discovery.propose_pattern(found, rest, server.url("")[7:])
    assert conflicts == []
    assert pattern.endswith(r"/(?:gongsi|yaowen)/\d{8}/\d{6,}\.html$")


def test_without_repetition_a_headline_long_nav_link_would_pass() -> None:
    # The 专题 link is dated, numbered and headline-long: only standing on every page betrays it.
    with MockServer() as server:
        lookalike_site(server)
        links = discovery.page_links(served(server, "/"))
    found, _ = discovery.classify_links({"home": links}, [], 1)
    assert server.url("/zhuanti/2026/1128.html") in found


@pytest.mark.parametrize(
    ("articles", "others", "expected"),
    [
        (
            ["/content/2026-12/01/content_50121.html", "/content/2026-12/02/content_50122.html"],
            ["/channel/finance/", "/about.html"],
            r"/content/\d{4}\-\d{2}/\d{2}/content_\d{5,}\.html$",
        ),
        (
            [
                "/yw/202612/t20261202_1005.html",
                "/df/202612/t20261201_2001.html",
                "/gs/202612/t20261202_1004.html",
            ],
            ["/yw/index_1.html"],
            r"/[a-z]+/\d{6}/t\d{8}_\d{4,}\.html$",
        ),
        (
            ["/finance/2026/1202/10001.shtml", "/finance/2026/1201/9998.shtml"],
            ["/finance/"],
            r"/finance/\d{4}/\d{4}/\d{4,}\.shtml$",
        ),
        (
            [
                "/yw/202612/t20261202_1005.html",
                "/df/202612/t20261201_2001.html",
                "/yw/202612/t20261202_1004.html",
                "/df/202612/t20261201_2002.html",
            ],
            [],
            r"/(?:df|yw)/\d{6}/t\d{8}_\d{4,}\.html$",
        ),
        (
            ["/news.php?id=88123", "/news.php?id=88124"],
            ["/news.php?cat=3"],
            r"/news\.php\?id=\d{5,}$",
        ),
    ],
)
def test_pattern_is_the_tightest_the_articles_allow(
    articles: list[str], others: list[str], expected: str
) -> None:
    pattern, conflicts = discovery.propose_pattern(
        [f"http://{HOST}{a}" for a in articles], [f"http://{HOST}{o}" for o in others], HOST
    )
    assert pattern == rf"^https?://127\.0\.0\.1:8000{expected}"
    assert conflicts == []
    # Tomorrow's articles, with longer ids, still match.
    tomorrow = re.sub(
        r"(\d+)(\D*)$", lambda m: "9" * (len(m.group(1)) + 1) + m.group(2), articles[0]
    )
    assert re.search(pattern, f"http://{HOST}{tomorrow}")


def test_a_pattern_that_cannot_tell_says_which_page_it_matches() -> None:
    articles = [f"http://{HOST}/a/{n}.html" for n in (10001, 10002)]
    _, conflicts = discovery.propose_pattern(articles, [f"http://{HOST}/a/10000.html"], HOST)
    assert conflicts == [f"http://{HOST}/a/10000.html"]


def test_next_page_selector_picks_the_one_link() -> None:
    with MockServer() as server:
        paged_site(server)
        pages = [served(server, "/"), served(server, "/yw/")]
    assert discovery.next_page_selector(pages) == "a.next"
    bare = Page("http://a.cn/", 200, b"", "<a href='/2'>2</a><a href='/p/2'>下一页</a>")
    assert discovery.next_page_selector([bare]) == 'xpath://a[normalize-space(.)="下一页"]'


@pytest.mark.parametrize(
    ("host", "name"),
    [
        ("www.cs.com.cn", "cs"),
        ("news.cnstock.com", "cnstock"),
        ("finance.sina.com.cn", "finance_sina"),
        ("127.0.0.1:8000", "s127_0_0_1"),
        ("www.stcn.com", "stcn"),
    ],
)
def test_source_name_from_host(host: str, name: str) -> None:
    assert discovery.source_name(host) == name


def test_rendered_entry_reads_back_and_passes_the_load_checks() -> None:
    findings = Findings(HOST, feeds={f"http://{HOST}/rss.xml": "rss"},
                        sitemaps={f"http://{HOST}/s.xml": "robots.txt"},
                        pattern=r"^https?://127\.0\.0\.1:8000/a/\d{5,}\.html$")  # fmt: skip
    entry = discovery.build_entry("demo", '示例"网', findings)
    text = discovery.render_entry(entry)
    source = parse_sources(tomllib.loads(text), "t")["demo"]
    assert source.publisher == '示例"网'
    assert [(s.url, s.kind) for s in source.start_urls] == [
        (f"http://{HOST}/rss.xml", "rss"),
        (f"http://{HOST}/s.xml", "sitemap"),
    ]
    assert source.sitemaps_from_robots
    assert source.is_article_url(f"http://{HOST}/a/123456.html")
    assert source.next_page is None  # feeds and sitemaps need no paging


def test_links_keep_their_longest_text_and_drop_scripts() -> None:
    text = ("<a href='/a/1.html'><img src='x.png'></a><a href='/a/1.html'>央行 开展\n逆回购</a>"
            "<a href='javascript:void(0)'>x</a><a href='mailto:a@b.cn'>y</a>")  # fmt: skip
    assert discovery.page_links(Page("http://a.cn/", 200, b"", text)) == [
        Link("http://a.cn/a/1.html", "央行 开展 逆回购")
    ]


# --- the command and a crawl with what it wrote -------------------------------------------------


def addsite(url: str, sources: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    """Run ``scrapy addsite`` as an operator would, without delays."""
    return subprocess.run(
        [sys.executable, "-m", "scrapy", "addsite", url, "--write", "--nolog",
         "-s", f"NEWS_SOURCES_FILE={sources}", "-s", "DOWNLOAD_DELAY=0",
         "-s", "AUTOTHROTTLE_ENABLED=0", "-s", "RETRY_ENABLED=0", *extra],
        cwd=ROOT, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


def crawl(name: str, sources: Path, tmp: Path) -> dict[str, Any]:
    """Crawl source ``name`` with the ``site`` spider into mongomock (``tests/crawlrun.py``)."""
    project = get_project_settings()
    job = {
        "spider": "site",
        "args": {"source": name},
        "settings": {
            "NEWS_SOURCES_FILE": str(sources),
            "ITEM_PIPELINES": {
                "pipelines.storage.StoragePipeline": 900,
                **project.getdict("ITEM_PIPELINES"),
            },
            "NEWS_MONGO_URI": "mongodb://localhost:27017",
            "NEWS_MONGO_VALIDATOR": False,  # mongomock has no collMod
            "NEWS_SPOOL_DIR": str(tmp / "spool"),
            "DOWNLOAD_SLOTS": {f"site:{name}": {"delay": 0, "concurrency": 4}},
            "AUTOTHROTTLE_ENABLED": False,
            "RETRY_ENABLED": False,
            "LOG_LEVEL": "INFO",
        },
        "out": str(tmp / "out.json"),
    }
    (tmp / "job.json").write_text(json.dumps(job), "utf-8")
    process = subprocess.run(
        [sys.executable, "-m", "tests.crawlrun", str(tmp / "job.json")],
        cwd=ROOT, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert process.returncode == 0, process.stderr[-3000:]
    return json.loads((tmp / "out.json").read_text("utf-8"))


@pytest.fixture(scope="module", params=sorted(SITES))
def site_run(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Any]]:
    """Serve one site; run addsite on its home page, then crawl it with the written entry."""
    name = str(request.param)
    tmp = tmp_path_factory.mktemp(name)
    sources = tmp / "sources.toml"
    with MockServer() as server:
        articles, others = SITES[name](server)
        result = addsite(server.url("/"), sources, "--name", name, "--publisher", "测试站")
        asked = list(server.requested)
        outcome = crawl(name, sources, tmp) if result.returncode == 0 else {}
        yield {"name": name, "server": server, "result": result, "asked": asked,
               "articles": {server.url(p) for p in articles},
               "others": {server.url(p) for p in others}, "sources": sources, **outcome}  # fmt: skip


@pytest.mark.e2e
def test_written_entry_crawls_every_article_and_no_other_page(site_run: dict[str, Any]) -> None:
    result = site_run["result"]
    assert result.returncode == 0, result.stdout + result.stderr
    stored = {d["url"] for d in site_run["documents"]}
    assert stored == site_run["articles"]
    assert not stored & site_run["others"]
    assert {d["lang"] for d in site_run["documents"]} == {"zh"}


@pytest.mark.e2e
def test_entry_prefers_feeds_and_sitemaps(site_run: dict[str, Any]) -> None:
    entry = tomllib.loads(site_run["sources"].read_text("utf-8"))["source"][0]
    server = site_run["server"]
    kinds = {
        "rss": [{"url": server.url("/rss/roll.xml"), "kind": "rss"}],
        "robots": [{"url": server.url("/sitemaps/index.xml"), "kind": "sitemap"}],
        "paged": [server.url(p) for p in ("/", "/yw/", "/df/")],
        "lookalike": [
            server.url(p)
            for p in ("/", "/yaowen/", "/gongsi/", "/yaowen/20261202/index.html", "/tag/10086.html")
        ],
    }
    assert entry["start_urls"] == kinds[site_run["name"]]
    assert entry.get("sitemaps_from_robots", False) is (site_run["name"] == "robots")
    assert ("next_page" in entry) is (site_run["name"] == "paged")


@pytest.mark.e2e
def test_addsite_says_what_it_tried_and_stays_polite(site_run: dict[str, Any]) -> None:
    out = site_run["result"].stdout
    asked = site_run["asked"]
    assert len(asked) <= 30
    assert not any(p.startswith("/admin/") for p in asked)  # robots.txt disallows it
    for said in ("tried:", "/robots.txt", "sample (", "missing", "[[source]]", "appended to"):
        assert said in out


def test_write_appends_only_what_passes_the_load_checks(tmp_path: Path) -> None:
    path = tmp_path / "sources.toml"
    path.write_text(
        '[[source]]\nname = "cmrnn"\npublisher = "中国市场监管新闻网"\nstart_urls = ["http://www.cmrnn.com.cn/"]\narticle_pattern = "/content/"\n',
        "utf-8",
    )
    findings = Findings(
        HOST, listings=[f"http://{HOST}/"], pattern=r"^https?://127\.0\.0\.1:8000/a/\d{5,}\.html$"
    )
    append_entry(path, discovery.render_entry(discovery.build_entry("demo", "示例网", findings)))
    assert sorted(load_sources(path)) == ["cmrnn", "demo"]
    before = path.read_text("utf-8")
    with pytest.raises(SourcesError, match='source "demo": duplicate name'):
        append_entry(
            path, discovery.render_entry(discovery.build_entry("demo", "示例网", findings))
        )
    unpatterned = Findings(HOST, listings=[f"http://{HOST}/"])  # an HTML listing needs a pattern
    with pytest.raises(SourcesError, match='field "article_pattern": missing'):
        append_entry(
            path, discovery.render_entry(discovery.build_entry("other", "示例网", unpatterned))
        )
    assert path.read_text("utf-8") == before


def test_sample_table_names_what_is_missing() -> None:
    record = {
        "url": "http://a.cn/a/1.html",
        "title": "央行开展逆回购操作",
        "publish_time": None,
        "source": "新华社",
        "authors": [],
        "body_text": "正文" * 50,
        "lang": "zh",
    }
    lines = sample_table(record)
    assert "    body         100 characters" in lines
    assert lines[-1] == "    missing      publish_time, authors"
