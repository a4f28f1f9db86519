"""Property-based tests of the promise "bad input never crashes and never stores a wrong value".

Every raw field an article can arrive with (broken HTML, wrong encodings, garbage dates, empty
fields, hostile markup) either becomes a clean article that satisfies the schema's invariants or
is dropped with :class:`DropItem`, counted under ``news/dropped/<reason>``; no other exception.
The helpers around the chain (identity, dates, body, extractor, East Money parsers, Jekyll posts,
storage documents, the sources file) are held to the errors they document.

Hypothesis runs derandomised, so CI sees the same examples on every run.
"""

from __future__ import annotations

import html
import json
import re
import string
from datetime import UTC, date, datetime, timedelta
from typing import Any

import lxml.html
import pytest
import yaml
from bson import encode as bson_encode
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st
from scrapy.exceptions import DropItem
from scrapy.http import HtmlResponse

from crawler.extract.extractor import ExtractedArticle, extract_article
from crawler.items import Article
from crawler.jekyll import format_post, parse_post, yaml_quote, yaml_unquote
from crawler.normalize.body import ALLOWED_ATTRIBUTES, ALLOWED_TAGS, html_to_text, sanitize_body
from crawler.normalize.dates import CHINA_TZ, format_offset, parse_publish_time
from crawler.normalize.identity import TRACKING_PARAMS, article_id, canonicalize
from crawler.options import option
from crawler.sources import eastmoney as em
from crawler.sources.config import SourcesError, parse_sources
from crawler.store.documents import article_document, escape_keys
from crawler.store.fingerprint import hamming, simhash, simhash_bands
from pipelines.chain import PipelineChain
from tests.conftest import make_crawler

# --- settings ---------------------------------------------------------------------------------

FAST = settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
QUICK = settings(FAST, max_examples=150)

FETCHED = datetime(2026, 11, 26, 6, 0, tzinfo=UTC)
MIN_PUBLISHED = datetime(1990, 1, 1, tzinfo=UTC)
MAX_PUBLISHED = FETCHED + timedelta(hours=24)

# One crawler for the module: hypothesis forbids function-scoped fixtures inside @given.
CRAWLER = make_crawler()
CHAIN = PipelineChain(CRAWLER)

# --- strategies -------------------------------------------------------------------------------

# Characters that break naive code: controls, NUL, U+3000, NBSP, zero-width, BOM, line separators.
NASTY_CHARS = "\x00\x01\x08\x0b\x0c\x1b\x7f\x85\xa0\u3000\u200b\u2028\u2029\ufeff\ufffd"
CJK = "新闻来源记者编辑责任东方财富网中国市场监管报日月年时分今天昨天前刚□（）【】：，。“”"
nasty_text = st.text(
    alphabet=st.one_of(
        st.characters(codec="utf-8", exclude_categories=("Cs",)),
        st.sampled_from(NASTY_CHARS),
        st.sampled_from(CJK),
        st.sampled_from("<>&;\"'=/ \n\t#:"),
    ),
    max_size=60,
)
ENTITIES = ["&amp;", "&lt;", "&gt;", "&nbsp;", "&#12288;", "&#0;", "&#1;", "&#x1F600;", "&bogus;"]
ENTITIES += ["&#xD800;", "&#99999999;", "&quot;", "&", "&#11;"]
TAGS = ["p", "div", "span", "a", "img", "script", "style", "iframe", "svg", "math", "table"]
TAGS += ["td", "br", "b", "h1", "h5", "section", "font", "template", "noscript", "form", "li"]
TAGS += ["object", "embed", "title", "meta", "textarea", "xmp", "plaintext", "center", "em"]
ATTRS = [
    'onclick="alert(1)"',
    "onerror=alert(1)",
    'style="color:red"',
    'style="display:none"',
    'href="javascript:alert(1)"',
    'href="  JaVaScRiPt:alert(1)"',
    'href="java&#x09;script:alert(1)"',
    'src="data:text/html;base64,PHNjcmlwdD4="',
    'src="vbscript:x"',
    'href="/relative/a.html"',
    'href="http://example.com/x"',
    'class="keytip"',
    'class="em_stock_key_common"',
    "hidden",
    'aria-hidden="true"',
    'data-src="javascript:alert(1)"',
    'id="quote_1"',
    'colspan="2"',
    'href="mailto:a@b.c"',
    "onmouseover='x'",
    'formaction="javascript:x"',
]
COMMENTS = ["<!-- c -->", "<!-- EM_StockImg_Start -->", "<!-- EM_StockImg_End -->", "<!--", "-->"]
COMMENTS += ["<![CDATA[x]]>", "<?php x ?>", "<!DOCTYPE html>", "</p>", "</div>", "<", "</"]
PHRASES = [
    "（责任编辑：王丽）",
    "（文章来源：证券时报）",
    "□张三",
    "记者 张三 李四",
    "来源：新华社",
]
PHRASES += ["郑重声明：本文不构成投资建议", "\u3000\u3000正文段落。", "扫一扫"]


@st.composite
def html_fragments(draw: st.DrawFn, depth: int = 0) -> str:
    """Random, often broken HTML: tags, hostile attributes, comments, entities, raw text."""
    parts = []
    for _ in range(draw(st.integers(0, 5))):
        kind = draw(st.integers(0, 6 if depth < 3 else 3))
        if kind == 0:
            parts.append(draw(nasty_text))
        elif kind == 1:
            parts.append(draw(st.sampled_from(ENTITIES + PHRASES)))
        elif kind == 2:
            parts.append(draw(st.sampled_from(COMMENTS)))
        elif kind == 3:
            tag = draw(st.sampled_from(TAGS))
            attrs = " ".join(draw(st.lists(st.sampled_from(ATTRS), max_size=2)))
            parts.append(f"<{tag} {attrs}>")
        else:
            tag = draw(st.sampled_from(TAGS))
            attrs = " ".join(draw(st.lists(st.sampled_from(ATTRS), max_size=2)))
            inner = draw(html_fragments(depth + 1))
            close = draw(st.sampled_from([f"</{tag}>", f"</{tag}>", "", "</x>"]))
            parts.append(f"<{tag} {attrs}>{inner}{close}")
    return "".join(parts)


deep_nesting = st.integers(1, 3000).map(lambda n: "<div><b>" * n + "正文" + "</b></div>" * n)
body_html = st.one_of(html_fragments(), deep_nesting, nasty_text, st.none(), st.just(""))

PRINTED_TIMES = [
    "2022-05-20 09:51:48",
    "2022年05月20日 09:51",
    "2022-05-20 09:51:48 +0800",
    "今天 16:25",
    "3小时前",
    "刚刚",
    "05-20 09:51",
    "1653011508000",
    "Fri, 20 May 2022 09:51:48 +0800",
    "0000-00-00 00:00:00",
    "0001-01-01 00:00",
    "9999-12-31 23:59 -1200",
    "2022-05-20 09:51 +9999",
    "2022-13-45 99:99",
    "99999999999999天前",
    "1970-01-01",
    "2099-01-01",
    "Sat, 01 Jan 0001 00:00:00 +0800",
]
published_text = st.one_of(st.sampled_from(PRINTED_TIMES), nasty_text, st.none(), st.just(""))
urls = st.one_of(
    st.sampled_from(
        [
            "https://finance.eastmoney.com/a/202205202386046762.html",
            "http://www.cmrnn.com.cn/content/2022-05/20/content_1.html?utm_source=x&spm=1#top",
            "javascript:alert(1)",
            "ftp://example.com/x",
            "",
            "   ",
            "http://",
            "http://[::1/a",
            "https://例子.中国/新闻?id=1&from=x",
        ]
    ),
    nasty_text,
    st.none(),
)


@st.composite
def raw_articles(draw: st.DrawFn) -> Article:
    """An article as a parser may hand it over: every raw field arbitrary."""
    return Article(
        url=draw(urls),
        source=draw(st.sampled_from(["eastmoney", "cmrnn", "", None])),
        native_id=draw(st.one_of(st.none(), st.just("202205202386046762"), nasty_text)),
        feed=draw(st.sampled_from([None, "column:345", "724", "rolling", "media"])),
        fetched_at=FETCHED,
        via=draw(st.sampled_from([None, "eastmoney"])),
        summary=draw(st.one_of(st.none(), nasty_text)),
        title=draw(st.one_of(nasty_text, html_fragments(), st.none())),
        published_text=draw(published_text),
        body_html=draw(body_html),
        original_title=draw(st.one_of(st.none(), nasty_text)),
        publisher=draw(st.one_of(st.none(), nasty_text, st.sampled_from(PHRASES))),
        authors=draw(st.lists(st.one_of(nasty_text, st.sampled_from(PHRASES)), max_size=3)),
        editor=draw(st.one_of(st.none(), nasty_text)),
    )


# --- invariants -------------------------------------------------------------------------------

_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]")
_SAFE_URL = re.compile(r"^(?:https?:|mailto:)", re.IGNORECASE)


def assert_safe_body_html(body: str) -> None:
    """Only allow-listed tags and attributes, no handler, style or script URL survives."""
    assert "<script" not in body.lower()
    assert not re.search(r"<[^>]*\son\w+\s*=", body, re.IGNORECASE), body
    assert not re.search(r"<[^>]*\sstyle\s*=", body, re.IGNORECASE), body
    if not body:
        return
    root = lxml.html.fragment_fromstring(body, create_parent="div")
    for element in root.iterdescendants():
        if not isinstance(element.tag, str):
            continue
        assert element.tag in ALLOWED_TAGS, (element.tag, body)
        for name, value in element.attrib.items():
            assert name in ALLOWED_ATTRIBUTES.get(element.tag, set()), (name, body)
            if name in ("href", "src"):
                scheme = re.match(r"^\s*([a-zA-Z][\w+.-]*):", value)
                assert scheme is None or _SAFE_URL.match(value.strip()), (value, body)


def assert_clean_text_lines(text: str) -> None:
    """One paragraph per line: every line stripped, non-empty, no U+3000 indentation."""
    assert text, "empty body_text"
    for line in text.split("\n"):
        assert line, repr(text)
        assert line == line.strip(), repr(line)
        assert not line.startswith("\u3000"), repr(line)


def assert_valid_article(item: Article) -> None:
    """What a consumer may rely on for every article that leaves the chain."""
    assert isinstance(item.title, str)
    assert item.title.strip()
    assert item.title == item.title.strip()
    assert "\n" not in item.title
    assert "\u3000" not in item.title
    assert not _CONTROL.search(item.title), repr(item.title)
    assert len(item.title) <= option(CRAWLER.settings, "NEWS_TITLE_MAX_LENGTH")
    assert isinstance(item.published_at, datetime)
    assert item.published_at.utcoffset() == timedelta(0)
    assert MIN_PUBLISHED <= item.published_at <= MAX_PUBLISHED, item.published_at
    assert re.fullmatch(r"[+-]\d{2}:\d{2}", item.published_tz or ""), item.published_tz
    assert isinstance(item.body_html, str)
    assert_safe_body_html(item.body_html)
    assert_clean_text_lines(item.body_text or "")
    assert item.body_text == html_to_text(item.body_html)
    assert item.publisher_slug is None or re.fullmatch(r"[a-z0-9]+", item.publisher_slug)
    assert (item.publisher_slug is None) == (item.publisher is None)
    assert all(isinstance(a, str) and a.strip() for a in item.authors), item.authors
    assert item.editor is None or item.editor.strip()
    assert isinstance(item.id, str)
    assert item.id
    assert isinstance(item.url, str)
    assert item.url.lower().startswith(("http://", "https://"))


def drops() -> int:
    stats = CRAWLER.stats.get_stats()
    return sum(v for k, v in stats.items() if k.startswith("news/dropped/"))


# --- the chain --------------------------------------------------------------------------------


@QUICK
@given(raw_articles())
@example(
    Article(
        url="https://a.example/x",
        source="s",
        fetched_at=FETCHED,
        title="t",
        published_text="2022-05-20 09:51",
        body_html="<p>正文\x0b内容</p>",
    )
)
@example(
    Article(
        url="http://[::1/a",
        source="s",
        fetched_at=FETCHED,
        title="t",
        published_text="2022-05-20 09:51",
        body_html="<p>x</p>",
    )
)
@example(
    Article(
        url="https://a.example/x",
        source="s",
        fetched_at=FETCHED,
        title="t",
        published_text="2022-05-20 09:51 +9999",
        body_html="<p>x</p>",
    )
)
def test_chain_returns_valid_article_or_drops(article: Article) -> None:
    before = drops()
    try:
        item = CHAIN.process(article)
    except DropItem as exc:
        reason = str(exc).split(":", 1)[0]
        assert CRAWLER.stats.get_value(f"news/dropped/{reason}", 0) >= 1
        assert drops() == before + 1
        return
    assert_valid_article(item)


@st.composite
def china_times(draw: st.DrawFn) -> datetime:
    """A whole-second moment in China time between 1990 and the crawl."""
    moment = draw(
        st.datetimes(min_value=datetime(1990, 1, 2), max_value=datetime(2026, 11, 25))
    ).replace(microsecond=0)
    return moment.replace(tzinfo=CHINA_TZ)


@FAST
@given(china_times(), st.text(alphabet=CJK + string.ascii_letters, min_size=1, max_size=30))
def test_chain_stores_printed_time_and_title_unchanged(moment: datetime, title: str) -> None:
    """Never a wrong value: a well-printed time and a plain title come out as printed."""
    assume(title.strip())
    article = Article(
        url="https://news.example.com/a/1.html",
        source="cmrnn",
        fetched_at=FETCHED,
        title=title,
        published_text=f"{moment:%Y-%m-%d %H:%M:%S}",
        body_html="<p>正文内容。</p>",
    )
    item = CHAIN.process(article)
    assert item.published_at == moment.astimezone(UTC)
    # China observed daylight saving time 1986-1991: the offset is the zone's on that day.
    assert item.published_tz == format_offset(moment)
    assert item.title == title


BODY_CHARS = "央行今日开展逆回购操作市场流动性合理充裕。，、；0123456789abcXYZ%"


@FAST
@given(st.lists(st.text(alphabet=BODY_CHARS, min_size=1, max_size=40), min_size=1, max_size=6))
def test_chain_keeps_plain_paragraphs_as_printed(paragraphs: list[str]) -> None:
    """Never a wrong value: plain paragraphs come out as the body text, one per line."""
    article = Article(
        url="https://news.example.com/a/1.html",
        source="cmrnn",
        fetched_at=FETCHED,
        title="标题",
        published_text="2022-05-20 09:51",
        body_html="".join(f"<p>\u3000\u3000{p}</p>" for p in paragraphs),
    )
    item = CHAIN.process(article)
    assert item.body_text == "\n".join(paragraphs)
    assert item.body_html == "".join(f"<p>{p}</p>" for p in paragraphs)


# --- body -------------------------------------------------------------------------------------


@QUICK
@given(body_html, st.sampled_from([None, "https://finance.eastmoney.com/a/1.html"]))
@example("<p>正文\x0b内容</p>", None)
@example("<p >\x08</p>", None)
@example("&#1;<p>x</p>", None)
@example("郑重声明：本文不构成投资建议", None)
@example("<xmp >", None)
@example("<p>正文</p><plaintext>x", None)
def test_sanitize_body_is_safe_and_idempotent(raw: str | None, base_url: str | None) -> None:
    once = sanitize_body(raw, base_url)
    assert_safe_body_html(once)
    assert sanitize_body(once, base_url) == once
    text = html_to_text(once)
    assert not re.search(r"<[a-zA-Z/!]", text) or "<" in (raw or ""), text
    for line in text.split("\n") if text else []:
        assert line
        assert line == line.strip()


# --- dates ------------------------------------------------------------------------------------


@QUICK
@given(st.one_of(published_text, st.floats(allow_nan=True), st.integers(), st.booleans()))
@example("9999-12-31 23:59 -1200")
@example("0001-01-01 00:00")
@example("2022-05-20 09:51 +9999")
@example("99999999999999天前")
@example("Sat, 01 Jan 0001 00:00:00 +0800")
def test_parse_publish_time_never_raises(raw: Any) -> None:
    parsed = parse_publish_time(raw, now=FETCHED)
    if parsed is not None:
        assert parsed.at.tzinfo is not None
        assert parsed.at.utcoffset() == timedelta(0)
        assert re.fullmatch(r"[+-]\d{2}:\d{2}", parsed.offset)


@QUICK
@given(china_times())
def test_absolute_formats_round_trip(moment: datetime) -> None:
    expected = moment.astimezone(UTC)
    for text, precision in (
        (f"{moment:%Y-%m-%d %H:%M:%S}", "second"),
        (f"{moment:%Y年%m月%d日 %H:%M}", "minute"),
        (f"{moment:%Y/%m/%d %H:%M:%S}", "second"),
        (str(int(moment.timestamp() * 1000)), "second"),
        (str(int(moment.timestamp())), "second"),
    ):
        parsed = parse_publish_time(text, now=FETCHED)
        want = expected if precision == "second" else expected.replace(second=0)
        if text.isdigit() and len(text) not in (10, 13):
            # Epoch values are read at 10 or 13 digits only (from 2001-09-09): shorter ones
            # are refused, never misread.
            assert parsed is None or parsed.at == want, (text, parsed)
            continue
        assert parsed is not None, text
        assert parsed.at == want, (text, parsed.at, want)
        assert parsed.offset == format_offset(moment)


# --- identity ---------------------------------------------------------------------------------

url_parts = st.text(alphabet=string.ascii_lowercase + string.digits + "-_.~%中", max_size=8)


@QUICK
@given(st.text(max_size=80), st.one_of(st.none(), st.text(max_size=20)))
@example("http://[::1/a", None)
def test_identity_never_raises_and_is_deterministic(url: str, native: str | None) -> None:
    canonical = canonicalize(url)
    assert canonical == canonicalize(url)
    assert canonical is None or canonical.lower().startswith(("http://", "https://"))
    identity = article_id("src", native, canonical)
    assert identity == article_id("src", native, canonical)


@QUICK
@given(
    st.sampled_from(["http", "https"]),
    st.from_regex(r"[a-z0-9]{1,10}(\.[a-z]{2,5}){1,2}", fullmatch=True),
    st.lists(url_parts, max_size=3),
    st.lists(st.tuples(url_parts.filter(bool), url_parts), max_size=3),
    st.lists(st.tuples(st.sampled_from(sorted(TRACKING_PARAMS) + ["utm_x", "SHARE_y"]), url_parts)),
    st.randoms(use_true_random=False),
)
def test_tracking_params_never_change_the_id(
    scheme: str, host: str, path: list[str], query: list, tracking: list, rnd: Any
) -> None:
    def build(params: list[tuple[str, str]]) -> str:
        q = "&".join(f"{k}={v}" for k, v in params)
        return f"{scheme}://{host}/{'/'.join(path)}" + (f"?{q}" if q else "")

    real = [(k, v) for k, v in query if k.lower() not in TRACKING_PARAMS and "_" not in k]
    # Tracking parameters go anywhere; the real ones keep their order (a repeated key's values
    # are ordered data, and canonicalisation rightly keeps that order).
    mixed = list(real)
    for param in tracking:
        mixed.insert(rnd.randint(0, len(mixed)), param)
    plain, tracked = canonicalize(build(real)), canonicalize(build(mixed) + "#frag")
    assert plain == tracked
    assert article_id(None, None, plain) == article_id(None, None, tracked)


# --- extractor --------------------------------------------------------------------------------

CHINESE = "东方财富网讯，央行今日开展逆回购操作，市场流动性合理充裕。记者张三报道。"
CODECS = ["utf-8", "gb18030", "big5", "utf-16", "utf-16-le", "utf-16-be", "utf-8-sig", "gbk"]
LABELS = ["utf-8", "gb2312", "gbk", "big5", "iso-8859-1", "utf-16", "shift_jis", "bogus", ""]


@st.composite
def encoded_pages(draw: st.DrawFn) -> tuple[bytes, dict[str, str] | None]:
    """Chinese pages in any encoding, with a (possibly lying) meta charset and HTTP header."""
    text = draw(st.text(alphabet=CHINESE + string.ascii_letters + " <>/", max_size=200))
    label = draw(st.sampled_from(LABELS))
    meta = f'<meta charset="{label}">' if label else ""
    page = (
        f"<html><head>{meta}<title>{text[:20]}_东方财富网</title></head><body>"
        f'<h1>{text[:20]}</h1><div class="time">2022年05月20日 09:51</div>'
        f"<div class='article'><p>{CHINESE}</p><p>{text}</p>{draw(html_fragments())}</div>"
        "</body></html>"
    )
    codec = draw(st.sampled_from(CODECS))
    data = page.encode(codec, errors="replace")
    if draw(st.booleans()):
        data = data[: draw(st.integers(0, len(data)))]  # cut mid-character
    header = draw(st.sampled_from(LABELS + [None]))
    headers = {"Content-Type": f"text/html; charset={header}"} if header is not None else None
    return data, headers


@FAST
@given(st.one_of(encoded_pages(), st.tuples(st.binary(max_size=300), st.none())))
def test_extract_article_never_raises(page: tuple[bytes, dict[str, str] | None]) -> None:
    body, headers = page
    result = extract_article(body, url="https://news.example.com/a/1.html", headers=headers)
    assert isinstance(result, ExtractedArticle)
    assert result.body_html is None or isinstance(result.body_html, str)


@FAST
@given(st.text(alphabet=CHINESE + "<>/ pdiv", max_size=300))
def test_extract_article_on_random_html(text: str) -> None:
    extract_article(text.encode("utf-8"))


# --- East Money -------------------------------------------------------------------------------

json_values = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        st.floats(allow_nan=True, allow_infinity=True),
        st.text(max_size=20),
        st.sampled_from(["202205202386046762", "NW202205202386046762", "CFH", "1"]),
        st.sampled_from(["https://finance.eastmoney.com/a/202205202386046762.html", "http://[x"]),
    ),
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(
            st.sampled_from(
                ["code", "data", "list", "fastNewsList", "records", "nodeList", "record", "title",
                 "showTime", "showtime", "datetime", "infoCode", "infocode", "id", "url", "url_w",
                 "mediaName", "summary", "realSort", "Np_dst", "totle_hits", "message", "x"]
            ),
            children,
            max_size=6,
        ),
    ),
    max_leaves=20,
)  # fmt: skip


def to_json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, allow_nan=True)


api_texts = st.one_of(
    json_values.map(to_json),
    json_values.map(lambda v: f"jQuery123({to_json(v)});"),
    st.text(max_size=50),
    st.sampled_from(["", "<html>error</html>", "[" * 5000, "cb(", '{"code": 1}']),
)


@QUICK
@given(st.sampled_from(sorted(em.FEEDS)), api_texts)
@example("column", '{"code": 1, "data": {"list": [], "totle_hits": Infinity}}')
@example("column", '{"code": 1, "data": {"list": [{"code": "http://[x", "title": "t"}]}}')
@example("rolling", "[" * 100_000)
def test_listing_parser_raises_only_feed_error(feed: str, text: str) -> None:
    parser = em.ListingParser(em.FEEDS[feed], em.DEFAULT_URLS["NEWS_EASTMONEY_ARTICLE_URL"])
    try:
        page = parser.parse(text)
    except em.FeedError:
        return
    for entry in page.entries:
        assert re.fullmatch(r"\d{18}", entry.native_id)
        assert em.native_id(entry.url) == entry.native_id
        assert entry.title.strip()
        assert entry.published_text.strip()


@QUICK
@given(st.one_of(json_values, st.text(max_size=60)))
@example("http://[x/a/202205202386046762.html")
def test_native_id_never_raises(value: Any) -> None:
    code = em.native_id(value)
    assert code is None or re.fullmatch(r"\d{18}", code)


@QUICK
@given(api_texts)
def test_news_text_body_raises_only_feed_error(text: str) -> None:
    try:
        body = em.news_text_body(text)
    except em.FeedError:
        return
    assert body.strip()


LAYOUT_BITS = [
    '<div id="ContentBody" class="txtinfos">',
    '<div class="infos"><div class="item">2022年05月20日 09:51</div>',
    '<div class="item">来源：证券时报</div><div class="item">作者：张三</div></div>',
    '<div class="title">标题</div>',
    '<div class="newsContent"><h1>旧标题</h1><div class="time">2022年05月20日 09:51</div>',
    '<div class="source data-source" data-source="新华社">',
    '<div id="ContentBody" class="Body">',
    '<div id="comBodyEnd"></div>',
    '<p class="res-edit">（责任编辑：王丽）</p>',
    '<div class="sublab">原标题：x</div>',
]


@FAST
@given(
    st.lists(st.one_of(st.sampled_from(LAYOUT_BITS), html_fragments()), max_size=8),
    st.sampled_from(["utf-8", "gb18030", "utf-16"]),
)
def test_article_page_raises_only_feed_error(bits: list[str], codec: str) -> None:
    body = "".join(bits).encode(codec, errors="replace")
    response = HtmlResponse("https://finance.eastmoney.com/a/202205202386046762.html", body=body)
    try:
        article = em.parse_article_page(response)
    except em.FeedError:
        return
    assert isinstance(article.body_html, str)


# --- Jekyll posts -----------------------------------------------------------------------------

YAML_TRAPS = ["yes", "no", "null", "~", "true", "- x", "? x", ": x", "key: value", "---", "..."]
YAML_TRAPS += ['"', "\\", "'", "#", "{a}", "[b]", "&anchor", "*alias", "!tag", "%", "@", "`"]
YAML_TRAPS += ["\n", "\r\n", "\t", "\u2028", "\x85", "\ufeff", "😀", "\x00", "\x7f", "0x1F"]
yaml_titles = st.lists(
    st.one_of(st.sampled_from(YAML_TRAPS), st.text(max_size=10)), min_size=1, max_size=6
).map("".join)


@QUICK
@given(yaml_titles, china_times(), st.sampled_from(["rolling", "media", None]))
@example("yes", datetime(2022, 5, 20, 9, 51, 48, tzinfo=CHINA_TZ), None)
@example('a: "b" \\ c\n---\n', datetime(2022, 5, 20, 9, 51, 48, tzinfo=CHINA_TZ), None)
def test_post_round_trips_title_and_date(title: str, moment: datetime, feed: str | None) -> None:
    assume(title.strip())
    doc = {
        "_id": "eastmoney:202205202386046762",
        "source": "eastmoney",
        "native_id": "202205202386046762",
        "feed": feed,
        "url": "https://finance.eastmoney.com/a/202205202386046762.html",
        "title": title,
        "published_at": moment.astimezone(UTC).replace(tzinfo=None),  # as MongoDB returns it
        "published_tz": "+08:00",
        "body_html": "<p>正文</p>",
        "publisher": "证券时报",
        "publisher_slug": "zhengquanshibao",
        "authors": ["张三"],
        "summary": "【x】摘要",
    }
    post = format_post(doc)
    parsed = parse_post(post.text)
    assert parsed.title == title
    assert parse_publish_time(parsed.date, now=FETCHED).at == moment.astimezone(UTC)
    front = post.text.split("\n---\n", 1)[0].removeprefix("---\n")
    loaded = yaml.safe_load(front)
    # Front matter titles are HTML (docs/jekyll.md): escaped, so read them back unescaped.
    assert html.unescape(loaded["title"]) == title
    assert yaml_unquote(yaml_quote(title)) == title


# --- storage documents and fingerprints -------------------------------------------------------

hostile_keys = st.one_of(
    st.text(max_size=8),
    st.sampled_from(["$where", "$set", "a.b", "..", "$", ".x", "$gt.y", "＄", "\x00"]),
    st.integers(),
)
nested = st.recursive(
    st.one_of(st.none(), st.text(max_size=10), st.booleans(), st.integers(-(2**63), 2**63 - 1)),
    lambda children: st.one_of(
        st.lists(children, max_size=3),
        st.tuples(children, children),
        st.dictionaries(hostile_keys, children, max_size=3),
    ),
    max_leaves=12,
)


def all_keys(value: Any) -> list[str]:
    if isinstance(value, dict):
        return [k for key, item in value.items() for k in [key, *all_keys(item)]]
    if isinstance(value, list | tuple):
        return [k for item in value for k in all_keys(item)]
    return []


@QUICK
@given(st.dictionaries(st.sampled_from(["authors", "summary", "title", "feed", "x"]), nested))
@example({"authors": [{"\x00": 1}]})
def test_documents_never_carry_operator_keys(fields: dict[str, Any]) -> None:
    item = {"id": "url:abc", "url": "https://a.example/", "body_text": "正文", **fields}
    document = article_document(item, FETCHED, 3)
    for key in all_keys(document):
        assert isinstance(key, str)
        assert not key.startswith("$"), key
        assert "." not in key, key
    assert escape_keys(escape_keys(fields)) == escape_keys(fields)
    bson_encode(document)  # MongoDB would accept it


@QUICK
@given(st.text(max_size=300), st.text(max_size=300))
def test_simhash_is_int64_and_hamming_is_a_metric(a: str, b: str) -> None:
    ha, hb = simhash(a), simhash(b)
    for value in (ha, hb):
        assert -(2**63) <= value < 2**63
    assert simhash(a) == ha
    assert hamming(ha, hb) == hamming(hb, ha)
    assert 0 <= hamming(ha, hb) <= 64
    assert hamming(ha, ha) == 0
    assert hamming(ha, hb) == hamming(ha & (2**64 - 1), hb)
    for distance in (0, 3, 7):
        bands = simhash_bands(ha, distance)
        assert len(bands) == (distance + 2) * (distance + 1) // 2
        if hamming(ha, hb) <= distance:
            assert set(bands) & set(simhash_bands(hb, distance))


# --- sources file -----------------------------------------------------------------------------

toml_scalars = st.one_of(
    st.text(max_size=30),
    st.integers(-5, 10**6),
    st.floats(allow_nan=True),
    st.booleans(),
    st.dates(),
    st.sampled_from(
        [
            "https://www.cmrnn.com.cn/",
            "http://[::1/",
            "http://a.b/{date:%Y%m%d}",
            "http://a.b/{date!x}",
            "http://a.b/{date.year}",
            "http://a.b/{}",
            "http://a.b/{date:%Y",
            "/content/\\d+",
            "a{4294967296}",
            "(",
            "xpath://a/@href",
            "xpath:(((",
            "a[href*=",
            "gb2312",
            "\x00",
            "utf-8\x00",
        ]
    ),
)
toml_values = st.recursive(
    toml_scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=3),
        st.dictionaries(st.sampled_from(["url", "kind", "title", "body", "x"]), children),
    ),
    max_leaves=8,
)
source_keys = st.sampled_from(
    ["name", "publisher", "start_urls", "article_pattern", "article_links", "next_page",
     "selectors", "encoding", "download_delay", "concurrency", "max_pages", "enabled"]
)  # fmt: skip


@st.composite
def source_entries(draw: st.DrawFn) -> dict[str, Any]:
    entry = {"name": "cmrnn", "publisher": "中国市场监管新闻网", "start_urls": ["https://a.b/"]}
    entry["article_pattern"] = "/content/"
    entry.update(draw(st.dictionaries(source_keys, toml_values, max_size=4)))
    for key in draw(st.lists(source_keys, max_size=2)):
        entry.pop(key, None)
    return entry


@QUICK
@given(
    st.one_of(
        st.dictionaries(st.sampled_from(["source", "x"]), toml_values, max_size=2),
        st.lists(source_entries(), max_size=2).map(lambda entries: {"source": entries}),
    )
)
@example({"source": [{"name": "a", "publisher": "p", "start_urls": ["http://[::1/"]}]})
@example({"source": [{"name": "a", "publisher": "p", "start_urls": ["http://a/"],
                      "article_pattern": "a{4294967296}"}]})  # fmt: skip
@example({"source": [{"name": "a", "publisher": "p", "start_urls": ["http://a/"],
                      "article_pattern": "x", "encoding": "utf-8\x00"}]})  # fmt: skip
@example({"source": [{"name": "a", "publisher": "p", "start_urls": ["http://a/"],
                      "article_pattern": "x", "download_delay": float("nan")}]})  # fmt: skip
def test_parse_sources_raises_only_sources_error(data: dict[str, Any]) -> None:
    try:
        registry = parse_sources(data, "sources.toml")
    except SourcesError as exc:
        message = str(exc)
        registry = {}
    else:
        message = "sources.toml: "
    assert message.startswith("sources.toml: "), message  # names the file
    for source in registry.values():
        assert source.download_delay >= 0, source.download_delay
        assert source.concurrency >= 1
        assert source.max_pages >= 1
        for start in source.start_urls:
            start.expand(date(2022, 5, 20))


@pytest.mark.parametrize("text", ["[" * 100_000, '{"a":' * 100_000])
def test_load_payload_deep_nesting_is_a_feed_error(text: str) -> None:
    with pytest.raises(em.FeedError):
        em.load_payload(text)
