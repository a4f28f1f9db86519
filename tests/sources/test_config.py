"""The sources file: the shipped entries, and every error naming file, entry and field."""

from __future__ import annotations

import json
from datetime import date
from typing import TYPE_CHECKING

import pytest
from scrapy.settings import Settings

from crawler.sources.config import (
    SourcesError,
    StartUrl,
    load_sources,
    parse_sources,
    sources_file,
    url_problem,
)
from crawler.sources.feeds import read_html_listing, read_xml_listing
from tests.conftest import ROOT

if TYPE_CHECKING:
    from pathlib import Path

SHIPPED = ROOT / "sources.toml"

GOOD = """
[[source]]
name = "good"
publisher = "好新闻网"
start_urls = ["https://news.example.com/"]
article_pattern = '/a/\\d+\\.html$'
"""


def test_shipped_sources_load() -> None:
    registry = load_sources(SHIPPED)
    assert list(registry) == ["cmrnn", "zggsb", "example_rss"]
    assert [s.enabled for s in registry.values()] == [True, False, False]
    assert registry["example_rss"].start_urls == (
        StartUrl("https://news.example.com/rss.xml", "rss"),
    )


def test_cmrnn_pattern_takes_the_known_article_url_only() -> None:
    cmrnn = load_sources(SHIPPED)["cmrnn"]
    assert cmrnn.publisher == "中国市场监管新闻网"
    assert not cmrnn.selectors
    assert cmrnn.is_article_url("http://www.cmrnn.com.cn/content/2026-04/20/content_288841.html")
    assert not cmrnn.is_article_url("http://www.cmrnn.com.cn/node_1.html")
    assert not cmrnn.is_article_url(
        "http://evil.example/www.cmrnn.com.cn/content/2026-04/20/content_1.html"
    )


def test_zggsb_start_url_is_dated_and_has_selectors() -> None:
    zggsb = load_sources(SHIPPED)["zggsb"]
    start = zggsb.start_urls[0]
    assert start.dated
    assert start.expand(date(2015, 3, 2)) == "http://mt.cmrnn.com.cn/zggsb/20150302/paper.html"
    assert zggsb.selectors == {"title": "h2", "body": "div.content_p p"}
    assert zggsb.is_article_url("http://mt.cmrnn.com.cn/zggsb/20150302/3.html")


def test_defaults_and_kinds() -> None:
    text = GOOD.replace(
        'start_urls = ["https://news.example.com/"]',
        'start_urls = ["https://news.example.com/", {url = "https://news.example.com/feed", kind = "atom"}]\n'
        'encoding = "GBK"\ndownload_delay = 0.5\nconcurrency = 4\nmax_pages = 9\n'
        'next_page = "a.next"\narticle_links = "xpath://ul[@class=\'list\']//a"',
    )
    source = parse_text(text)["good"]
    assert [s.kind for s in source.start_urls] == ["auto", "atom"]
    assert (source.encoding, source.download_delay, source.concurrency, source.max_pages) == (
        "gbk",
        0.5,
        4,
        9,
    )
    assert source.enabled


def test_feed_only_source_needs_no_pattern() -> None:
    text = '[[source]]\nname = "f"\npublisher = "P"\nstart_urls = [{url = "https://x.example/rss", kind = "rss"}]\n'
    assert parse_text(text)["f"].article_pattern is None


def test_sources_file_setting(tmp_path: Path) -> None:
    assert sources_file(Settings()) == SHIPPED
    other = tmp_path / "mine.toml"
    assert sources_file(Settings({"NEWS_SOURCES_FILE": str(other)})) == other


BAD_ENTRIES = [
    pytest.param(
        GOOD.replace('publisher = "好新闻网"\n', ""),
        'source "good": field "publisher": missing',
        id="missing-field",
    ),
    pytest.param(
        '[[source]]\npublisher = "P"\nstart_urls = ["https://x.example/"]\n',
        'source #1: field "name": missing',
        id="missing-name",
    ),
    pytest.param(
        GOOD + "delay = 3\n", 'source "good": field "delay": unknown field', id="unknown-field"
    ),
    pytest.param(
        GOOD.replace("'/a/\\d+\\.html$'", "'/a/(\\d+\\.html$'"),
        'source "good": field "article_pattern": invalid regex: missing ), unterminated subpattern',
        id="bad-regex",
    ),
    pytest.param(GOOD + GOOD, 'source "good": duplicate name', id="duplicate-name"),
    pytest.param(
        GOOD.replace("https://news.example.com/", "news.example.com/"),
        'source "good": field "start_urls[0]": \'news.example.com/\' is not an absolute http(s) URL',
        id="bad-url",
    ),
    pytest.param(
        GOOD.replace("https://news.example.com/", "ftp://news.example.com/"),
        'source "good": field "start_urls[0]": \'ftp://news.example.com/\' is not an absolute',
        id="bad-url-scheme",
    ),
    pytest.param(
        GOOD.replace("https://news.example.com/", "https://x.example/{day:%Y}/"),
        'source "good": field "start_urls[0]": bad placeholder',
        id="bad-placeholder",
    ),
    pytest.param(
        GOOD + 'concurrency = "4"\n',
        'source "good": field "concurrency": expected an integer, got a string',
        id="wrong-type",
    ),
    pytest.param(
        GOOD + "enabled = 1\n",
        'source "good": field "enabled": expected true or false, got an integer',
        id="wrong-type-bool",
    ),
    pytest.param(
        GOOD.replace('["https://news.example.com/"]', '"https://news.example.com/"'),
        'source "good": field "start_urls": expected a non-empty array, got a string',
        id="wrong-type-start-urls",
    ),
    pytest.param(
        GOOD + "download_delay = -1\n",
        'source "good": field "download_delay": must be at least 0, not -1',
        id="negative-delay",
    ),
    pytest.param(
        GOOD.replace(
            '["https://news.example.com/"]', '[{url = "https://x.example/", kind = "json"}]'
        ),
        'source "good": field "start_urls[0].kind": \'json\' is not one of auto, html, rss, atom, sitemap',
        id="unknown-kind",
    ),
    pytest.param(
        GOOD + '[source.selectors]\nbody = "div..content"\n',
        'source "good": field "selectors.body": invalid CSS selector \'div..content\'',
        id="bad-css",
    ),
    pytest.param(
        GOOD + '[source.selectors]\ntitle = "xpath://h1["\n',
        'source "good": field "selectors.title": invalid XPath',
        id="bad-xpath",
    ),
    pytest.param(
        GOOD + '[source.selectors]\nsummary = "p"\n',
        'source "good": field "selectors.summary": unknown field (one of title, publish_time',
        id="unknown-selector",
    ),
    pytest.param(
        GOOD + 'encoding = "klingon"\n',
        'source "good": field "encoding": unknown encoding \'klingon\'',
        id="bad-encoding",
    ),
    pytest.param(
        GOOD.replace("article_pattern = '/a/\\d+\\.html$'\n", ""),
        'source "good": field "article_pattern": missing (HTML listings need article_pattern or article_links)',
        id="html-without-pattern",
    ),
    pytest.param(
        GOOD.replace('name = "good"', 'name = "Good News"'),
        'source "Good News": field "name": \'Good News\' must be lower case letters, digits and _',
        id="bad-name",
    ),
    pytest.param(
        "[sources]\nx = 1\n" + GOOD,
        'unknown top-level key "sources" (expected [[source]])',
        id="unknown-top-level",
    ),
    pytest.param(GOOD + "[[source]\n", "not valid TOML: ", id="unreadable-toml"),
    pytest.param(
        GOOD.replace("https://news.example.com/", "http://[::1/"),
        'source "good": field "start_urls[0]": \'http://[::1/\' is not an absolute http(s) URL',
        id="bad-url-ipv6",
    ),
    pytest.param(
        GOOD.replace("https://news.example.com/", "http://news.example.com:99999/"),
        'source "good": field "start_urls[0]": \'http://news.example.com:99999/\' is not an absolute',
        id="bad-url-port",
    ),
    pytest.param(
        GOOD.replace("'/a/\\d+\\.html$'", "'a{4294967296}'"),
        'source "good": field "article_pattern": invalid regex: too large',
        id="regex-overflow",
    ),
    pytest.param(
        GOOD.replace("'/a/\\d+\\.html$'", "'" + "(" * 5000 + ")" * 5000 + "'"),
        'source "good": field "article_pattern": invalid regex: too large or too deeply nested',
        id="regex-too-deep",
    ),
    pytest.param(
        GOOD + 'encoding = "utf-8\\u0000"\n',
        'source "good": field "encoding": unknown encoding \'utf-8\\x00\'',
        id="encoding-with-nul",
    ),
    pytest.param(
        GOOD + "download_delay = nan\n",
        'source "good": field "download_delay": must be a finite number, not nan',
        id="nan-delay",
    ),
    pytest.param(
        GOOD + "download_delay = inf\n",
        'source "good": field "download_delay": must be a finite number, not inf',
        id="infinite-delay",
    ),
    pytest.param(
        GOOD + 'article_links = "xpath:' + "(" * 5000 + '"\n',
        'source "good": field "article_links": invalid XPath',
        id="xpath-too-deep",
    ),
]


@pytest.mark.parametrize(("text", "message"), BAD_ENTRIES)
def test_bad_sources_file_names_file_entry_and_field(
    tmp_path: Path, text: str, message: str
) -> None:
    path = tmp_path / "sources.toml"
    path.write_text(text, "utf-8")
    with pytest.raises(SourcesError) as error:
        load_sources(path)
    assert str(error.value).startswith(f"{path}: {message}")


def test_missing_file_is_named(tmp_path: Path) -> None:
    path = tmp_path / "absent.toml"
    with pytest.raises(SourcesError, match=r"absent\.toml: cannot read: No such file"):
        load_sources(path)


def test_not_utf8_file_is_named(tmp_path: Path) -> None:
    path = tmp_path / "gbk.toml"
    path.write_bytes(GOOD.replace("好新闻网", "好").encode("gbk") + "# 注释\n".encode("gbk"))
    with pytest.raises(SourcesError, match=r"gbk\.toml: not valid TOML"):
        load_sources(path)


def test_a_byte_order_mark_is_skipped(tmp_path: Path) -> None:
    """Notepad and other editors start UTF-8 files with a BOM; TOML refuses it, at line 1
    column 1, without saying why: the file loads as without it."""
    path = tmp_path / "bom.toml"
    path.write_bytes(b"\xef\xbb\xbf" + GOOD.encode("utf-8"))
    assert load_sources(path)["good"].publisher == "好新闻网"


BROWSER_ONLY = [
    ("title", "a:hover"),
    ("title", "h1:FOCUS"),
    ("body", "div.content p, a:visited"),
    ("authors", "span:not(:active)"),
    ("publisher", ":target"),
    ("title", "input:focus-within"),
]


@pytest.mark.parametrize(("field", "css"), BROWSER_ONLY)
def test_a_selector_that_needs_a_browser_is_refused_at_load(
    tmp_path: Path, field: str, css: str
) -> None:
    path = tmp_path / "sources.toml"
    path.write_text(GOOD + f'[source.selectors]\n{field} = "{css}"\n', "utf-8")
    with pytest.raises(SourcesError) as error:
        load_sources(path)
    message = str(error.value)
    assert message.startswith(f'{path}: source "good": field "selectors.{field}": CSS selector')
    assert "never matches a downloaded page" in message


@pytest.mark.parametrize(
    "css",
    ['a[title=":hover"]', "p::text", "a:first-child", "a:link", "xpath://a[contains(., ':hover')]"],
)
def test_selectors_that_can_match_are_kept(css: str) -> None:
    source = parse_text(GOOD + f"[source.selectors]\ntitle = {json.dumps(css)}\n")["good"]
    assert source.selectors == {"title": css}


def test_download_maxsize_per_source() -> None:
    assert parse_text(GOOD)["good"].download_maxsize is None
    assert parse_text(GOOD + "download_maxsize = 2_000_000\n")["good"].download_maxsize == (
        2_000_000
    )
    with pytest.raises(SourcesError, match='field "download_maxsize": must be at least 1024'):
        parse_text(GOOD + "download_maxsize = 0\n")
    with pytest.raises(SourcesError, match='field "download_maxsize": expected an integer'):
        parse_text(GOOD + 'download_maxsize = "2MB"\n')


@pytest.mark.parametrize(
    ("template", "problem"),
    [
        ("https://x.example/{date:%Y%m%d}/paper.html", None),
        ("https://x.example/", None),
        ("https://x.example/{date:%Y", "bad placeholder"),
        ("https://x.example/{page}", "bad placeholder"),
        ("https:///path", "is not an absolute http(s) URL"),
        ("javascript:alert(1)", "is not an absolute http(s) URL"),
        ("http://[::1/", "is not an absolute http(s) URL: Invalid IPv6 URL"),
        ("http://[x/{date:%Y}", "is not an absolute http(s) URL: Invalid IPv6 URL"),
        ("http://x.example:99999/", "is not an absolute http(s) URL: Port out of range"),
        ("http://[::1]:8080/", None),
    ],
)
def test_url_problem(template: str, problem: str | None) -> None:
    found = url_problem(template)
    assert found is None if problem is None else problem in (found or "")


def parse_text(text: str) -> dict:
    """Parse sources TOML text as the file ``t.toml``."""
    import tomllib

    return parse_sources(tomllib.loads(text), "t.toml")


# --- listings of configured sources (crawler.sources.feeds) -------------------------------------


@pytest.mark.parametrize(
    ("page", "urls"),
    [
        ('<a href="http://[x/a/1.html">x</a><a href="/a/2.html">y</a>', ["https://news.example.com/a/2.html"]),
        ('<base href="http://[x/"><a href="/a/3.html">z</a>', ["https://news.example.com/a/3.html"]),
        ('<a href="http://news.example.com:99999/a/4.html">p</a>', []),
    ],
)  # fmt: skip
def test_html_listing_survives_unparsable_links(page: str, urls: list[str]) -> None:
    source = parse_text(GOOD)["good"]
    listing = read_html_listing(page, "https://news.example.com/", source)
    assert [entry.url for entry in listing.entries] == urls


def test_feed_item_with_an_unparsable_link_is_skipped_as_no_link() -> None:
    body = (
        b"<rss><channel><item><title>bad</title><link>http://[x/a/1.html</link></item>"
        b"<item><title>good</title><link>https://news.example.com/a/2.html</link></item>"
        b"</channel></rss>"
    )
    listing = read_xml_listing(body, "https://news.example.com/rss")
    assert [entry.url for entry in listing.entries] == ["https://news.example.com/a/2.html"]
    assert listing.skipped == [("no_link", "bad")]
