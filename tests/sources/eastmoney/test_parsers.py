"""East Money readers: every fixture against its expected JSON, plus the small pure helpers."""

from __future__ import annotations

import dataclasses
import json
import os
from typing import TYPE_CHECKING, Any

import pytest
from scrapy.http import HtmlResponse, TextResponse

from crawler.sources import eastmoney as em
from tests.conftest import FIXTURES

if TYPE_CHECKING:
    from pathlib import Path

    from crawler.items import Article

EASTMONEY = FIXTURES / "eastmoney"
EXPECTED = sorted(EASTMONEY.glob("*.expected.json"))
# Set to rewrite the expected JSON from the parsers' output (then review the diff by hand).
REGENERATE = os.environ.get("FINEWS_REGENERATE_FIXTURES") == "1"


def response_for(spec: dict[str, Any]) -> TextResponse:
    """Build the response an expected-JSON file describes (URL, headers, fixture bytes)."""
    body = (EASTMONEY / spec["fixture"]).read_bytes()
    headers = {"Content-Type": spec["content_type"]}
    cls = HtmlResponse if spec["content_type"].startswith("text/html") else TextResponse
    return cls(spec["url"], body=body, headers=headers)


def raw_fields(article: Article) -> dict[str, Any]:
    """Return the fields a parser filled (not the empty defaults)."""
    skip = {"schema_version"}
    return {
        k: v
        for k, v in dataclasses.asdict(article).items()
        if k not in skip and v not in (None, [])
    }


def run_parser(spec: dict[str, Any]) -> dict[str, Any]:
    """Run the parser an expected-JSON file names and return its output as JSON data."""
    response = response_for(spec)
    kind, _, feed = spec["parser"].partition(":")
    if kind == "listing":
        parser = em.ListingParser(em.FEEDS[feed], em.DEFAULT_URLS["NEWS_EASTMONEY_ARTICLE_URL"])
        page = parser.parse(response.text)
        output: dict[str, Any] = {
            "total": page.total,
            "cursor": page.cursor,
            "entries": [dataclasses.asdict(e) for e in page.entries],
            "skipped": [list(s) for s in page.skipped],
        }
        if feed == "724":
            output["flashes"] = [
                {"needs_page": em.flash_needs_page(e), **raw_fields(em.flash_article(e))}
                for e in page.entries
            ]
        return output
    if kind == "article_page":
        return raw_fields(em.parse_article_page(response))
    if kind == "news_text":
        return {"body_html": em.news_text_body(response.text)}
    raise AssertionError(f"unknown parser {spec['parser']}")


@pytest.mark.parametrize("path", EXPECTED, ids=[p.name for p in EXPECTED])
def test_fixture_matches_expected(path: Path) -> None:
    spec = json.loads(path.read_text("utf-8"))
    output = run_parser(spec)
    if REGENERATE:
        spec["output"] = output
        path.write_text(json.dumps(spec, ensure_ascii=False, indent=1) + "\n", "utf-8")
    assert output == spec["output"]


def test_every_page_and_feed_fixture_has_expected_json() -> None:
    covered = {json.loads(p.read_text("utf-8"))["fixture"] for p in EXPECTED}
    inputs = {
        p.name
        for p in EASTMONEY.iterdir()
        if p.name.startswith(("page_", "column_", "finews_", "getnewstext_", "FIXTURE_em_get"))
        and p.suffix in {".html", ".json", ".jsonp"}
        and not p.name.endswith(".expected.json")
    }
    assert inputs <= covered


def test_article_fixtures_have_required_raw_fields() -> None:
    for path in EXPECTED:
        spec = json.loads(path.read_text("utf-8"))
        if spec["parser"] == "article_page":
            output = spec["output"]
            assert output["title"], path.name
            assert output["published_text"], path.name
            assert output["body_html"], path.name


# --- the native id ------------------------------------------------------------------------------


def test_real_infocode_and_code_pairs_map_to_one_native_id() -> None:
    items = json.loads(
        (EASTMONEY / "em_eminfo_FastNews_GetInfoList_items_2022-05-30.json").read_text()
    )
    for item in items:
        assert em.native_id(item["infoCode"]) == item["code"]
        assert em.native_id(item["code"]) == item["code"]
        assert em.info_code(item["code"]) == item["infoCode"]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("202205202386046762", "202205202386046762"),
        ("NW202205202386046762", "202205202386046762"),
        (" NW202205202386046762 ", "202205202386046762"),
        (202205202386046762, "202205202386046762"),
        ("https://finance.eastmoney.com/a/202205202386046762.html", "202205202386046762"),
        ("http://stock.eastmoney.com/a/202205202386046762.html", "202205202386046762"),
        ("http://futures.eastmoney.com/a/202609243883852788.html?from=x", "202609243883852788"),
        ("http://finance.eastmoney.com/news/11060,202112082206672930.html", "202112082206672930"),
        ("http://127.0.0.1:8080/a/202205202386046762.html", "202205202386046762"),
        ("2022052023860467", None),
        ("NW2022052023860467621", None),
        ("https://finance.eastmoney.com/a/index.html", None),
        ("https://caifuhao.eastmoney.com/news/20220531173000000000001", None),
        ("", None),
        (None, None),
        ("http://[x/a/202205202386046762.html", None),  # urlsplit: Invalid IPv6 URL
        ("http://[::1/a/202205202386046762.html", None),
    ],
)
def test_native_id(value: object, expected: str | None) -> None:
    assert em.native_id(value) == expected


# --- list responses -----------------------------------------------------------------------------


def test_jsonp_with_code_zero_loads_when_the_code_is_not_checked() -> None:
    text = (EASTMONEY / "FIXTURE_em_search-api-web_jsonp_cmsArticleWebOld.txt").read_text("utf-8")
    payload = em.load_payload(text, check_code=False)
    assert payload["result"]["cmsArticleWebOld"][0]["code"] == "202609243883852788"


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "empty"),
        ("   \n", "empty"),
        ("<!DOCTYPE html><html><body>502 Bad Gateway</body></html>", "html"),
        ('{"code":"1","data":{"list":[', "not_json"),
        ("cb({not json})", "not_json"),
        ('{"code":"-1","message":"参数错误"}', "api_error"),
        ('{"code":0,"message":"OK"}', "api_error"),
        ('{"message":"no code"}', "api_error"),
        ("[1, 2]", "api_error"),
        ("[" * 5000, "not_json"),  # json.loads: RecursionError
        ('{"a":' * 5000, "not_json"),
        ("cb(" + "[" * 5000 + ")", "not_json"),
    ],
)
def test_bad_list_responses_raise_feed_error(text: str, reason: str) -> None:
    with pytest.raises(em.FeedError) as info:
        em.load_payload(text)
    assert info.value.reason == reason


@pytest.mark.parametrize("code", ['"1"', "1"])
def test_success_code_as_string_or_number(code: str) -> None:
    assert em.load_payload(f'{{"code":{code},"data":{{}}}}') == {
        "code": json.loads(code),
        "data": {},
    }


def test_listing_without_its_list_is_an_api_error() -> None:
    parser = em.ListingParser(em.FEEDS["column"], em.DEFAULT_URLS["NEWS_EASTMONEY_ARTICLE_URL"])
    with pytest.raises(em.FeedError) as info:
        parser.parse('{"code":"1","data":null}')
    assert info.value.reason == "api_error"


@pytest.mark.parametrize(
    ("hits", "total"),
    [
        ("12", 12),
        ('"12"', 12),
        ("null", None),
        ('"many"', None),
        ("Infinity", None),  # json.loads reads it; int() overflows
        ("-Infinity", None),
        ("NaN", None),
        ("1e400", None),
    ],
)
def test_listing_total(hits: str, total: int | None) -> None:
    parser = em.ListingParser(em.FEEDS["column"], em.DEFAULT_URLS["NEWS_EASTMONEY_ARTICLE_URL"])
    page = parser.parse(f'{{"code":1,"data":{{"list":[],"totle_hits":{hits}}}}}')
    assert page.total == total


GOOD_RECORD = {"code": "202205202386046762", "title": "标题", "showTime": "2022-05-20 09:51:48"}
BUILT_URL = "https://finance.eastmoney.com/a/202205202386046762.html"


@pytest.mark.parametrize(
    ("given", "url"),
    [
        ("http://[x/a/202205202386046762.html", BUILT_URL),  # urlsplit: Invalid IPv6 URL
        ("http://[x", BUILT_URL),
        (["x"], BUILT_URL),
        (
            "http://stock.eastmoney.com/a/202205202386046762.html",
            "http://stock.eastmoney.com/a/202205202386046762.html",
        ),
    ],
)
def test_listing_record_with_a_bad_url_gets_the_built_url(given: object, url: str) -> None:
    parser = em.ListingParser(em.FEEDS["column"], em.DEFAULT_URLS["NEWS_EASTMONEY_ARTICLE_URL"])
    page = parser.parse(json.dumps({"code": 1, "data": {"list": [{**GOOD_RECORD, "url": given}]}}))
    assert [e.url for e in page.entries] == [url]
    assert page.skipped == []


def test_a_record_that_cannot_be_read_is_skipped_and_the_page_kept(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    parser = em.ListingParser(em.FEEDS["column"], em.DEFAULT_URLS["NEWS_EASTMONEY_ARTICLE_URL"])
    entry = parser.entry

    def fragile(record: object) -> tuple[em.FeedEntry | None, str]:
        if isinstance(record, dict) and record.get("title") == "坏":
            raise ValueError("unreadable")
        return entry(record)

    monkeypatch.setattr(parser, "entry", fragile)
    bad = {**GOOD_RECORD, "code": "202205202386046763", "title": "坏"}
    page = parser.parse(json.dumps({"code": 1, "data": {"list": [bad, GOOD_RECORD]}}))
    assert [e.native_id for e in page.entries] == ["202205202386046762"]
    assert page.skipped == [("incomplete", "code=202205202386046763 title='坏'")]


def test_skipped_record_description_is_short() -> None:
    parser = em.ListingParser(em.FEEDS["column"], em.DEFAULT_URLS["NEWS_EASTMONEY_ARTICLE_URL"])
    nested: object = "x"
    for _ in range(900):
        nested = [nested]
    page = parser.parse(json.dumps({"code": 1, "data": {"list": [{"code": nested}, nested]}}))
    assert [reason for reason, _ in page.skipped] == ["incomplete", "incomplete"]
    assert all(len(detail) < 200 for _, detail in page.skipped)


def test_news_text_nested_too_deeply_is_not_json() -> None:
    with pytest.raises(em.FeedError) as info:
        em.news_text_body("[" * 5000)
    assert info.value.reason == "not_json"


def test_news_text_without_body_is_no_body() -> None:
    with pytest.raises(em.FeedError) as info:
        em.news_text_body('{"content":"","text":null}')
    assert info.value.reason == "no_body"


# --- flashes ------------------------------------------------------------------------------------


def flash(summary: str, title: str = "标题") -> em.FeedEntry:
    return em.FeedEntry("202606163772915624", "u", title, "2026-06-16 14:09:57", summary=summary)


@pytest.mark.parametrize(
    ("summary", "text", "needs_page"),
    [
        ("【标题】正文。", "正文。", False),
        ("  【另一个标题 Q2】 正文【括号】留下。", "正文【括号】留下。", False),
        ("没有标题前缀。", "没有标题前缀。", False),
        ("【只有标题】", "", True),
        ("", "", True),
        ("【标题】正文被截断…", "正文被截断…", True),
        ("【标题】正文被截断...", "正文被截断...", True),
    ],
)
def test_flash_text_and_when_a_page_is_needed(summary: str, text: str, needs_page: bool) -> None:
    entry = flash(summary)
    assert em.flash_text(entry) == text
    assert em.flash_needs_page(entry) is needs_page


def test_flash_article_escapes_text_and_falls_back_to_the_whole_summary() -> None:
    assert em.flash_article(flash("【标题】A<B & C")).body_html == "<p>A&lt;B &amp; C</p>"
    assert em.flash_article(flash("【只有标题】")).body_html == "<p>【只有标题】</p>"
    assert em.flash_article(flash("")).body_html is None


# --- article pages ------------------------------------------------------------------------------


def page(
    html: str, url: str = "https://finance.eastmoney.com/a/202205202386046762.html"
) -> HtmlResponse:
    return HtmlResponse(url, body=html.encode("utf-8"), headers={"Content-Type": "text/html"})


@pytest.mark.parametrize(
    ("html", "reason"),
    [
        ("", "empty"),
        ("<html><body><h1>502 Bad Gateway</h1></body></html>", "not_article"),
        ("<html><body><form id='login'>请登录</form></body></html>", "not_article"),
    ],
)
def test_pages_without_an_article(html: str, reason: str) -> None:
    with pytest.raises(em.FeedError) as info:
        em.parse_article_page(page(html))
    assert info.value.reason == reason


def test_current_layout_title_falls_back_to_head_title() -> None:
    article = em.parse_article_page(
        page(
            "<html><head><title>标题_东方财富网</title></head><body>"
            "<div class='infos'><div class='item'>2022年05月20日 09:51</div></div>"
            "<div id='ContentBody' class='txtinfos'><p>正文</p></div></body></html>"
        )
    )
    assert article.title == "标题_东方财富网"
    assert article.published_text == "2022年05月20日 09:51"
    assert article.publisher is None
    assert article.editor is None


def test_current_layout_takes_the_first_of_each_block_and_the_last_editor_line() -> None:
    article = em.parse_article_page(
        page(
            "<html><head><title>页标题</title></head><body>"
            "<div class='subtitle'>不是标题</div><div class='title'> 头条\n 标题 </div>"
            "<div class='title'>第二个标题</div>"
            "<div class='sublab'>相关阅读</div><div class='sublab'>原标题：旧的标题</div>"
            "<div class='infos'><span>无条目</span></div>"
            "<div class='infos'><div><div class='item'>2022年05月20日 09:51</div></div>"
            "<div class='item'>作者：甲</div><div class='item'>来源：<b>证券时报</b></div>"
            "<div class='item'>作者：乙</div><div class='item'>来源：别处</div></div>"
            "<div id='ContentBody' class='txtinfos'><p>正文</p>"
            "<p>（责任编辑：DF001）</p></div><p class='res-edit'>责任编辑：DF002</p></body></html>"
        )
    )
    assert article.title == "头条 标题"
    assert article.original_title == "原标题：旧的标题"
    assert article.published_text == "2022年05月20日 09:51"
    assert article.publisher == "来源：证券时报"
    assert article.authors == ["作者：甲", "作者：乙"]
    assert article.editor == "责任编辑：DF002"
    assert article.body_html.startswith('<div id="ContentBody" class="txtinfos"><p>正文</p>')


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        # Valid UTF-8 is kept as served, whatever <meta> declares; NULs go.
        ("<meta charset=gb2312><p>正文\x00</p>".encode(), "<meta charset=gb2312><p>正文</p>"),
        (b"\xef\xbb\xbf<p>\xe6\xad\xa3\xe6\x96\x87</p>", "<p>正文</p>"),
        # Anything else is decoded (GBK here, by its declaration) and re-encoded.
        ("<meta charset=gbk><p>正文\x00</p>".encode("gbk"), "<meta charset=gbk><p>正文</p>"),
    ],
    ids=["utf8-declared-gb2312", "utf8-bom", "gbk"],
)
def test_utf8_page(body: bytes, expected: str) -> None:
    assert em.utf8_page(body, {}) == expected.encode("utf-8")


def test_gbk_page_is_decoded_from_its_meta_declaration() -> None:
    body = (EASTMONEY / "page_old_gbk_202204212352230938.html").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        body.decode("utf-8")
    response = HtmlResponse(
        "http://finance.eastmoney.com/news/1350,202204212352230938.html", body=body
    )
    assert "长春发布若干政策措施" in em.parse_article_page(response).title


@pytest.mark.parametrize(
    "change",
    [
        # An empty info block elsewhere on the page comes first.
        lambda html: html.replace("<body>", '<body><div class="infos"><span>相关</span></div>', 1),
        # Nesting deeper than libxml2's default limit of 255.
        lambda html: html.replace("<body>", "<body>" + "<span>" * 300, 1),
    ],
    ids=["second-infos", "deep-nesting"],
)
def test_current_page_survives_odd_markup(change: Any) -> None:
    name = "page_current_202205202386046762"
    expected = json.loads((EASTMONEY / f"{name}.expected.json").read_text(encoding="utf-8"))[
        "output"
    ]
    html = change((EASTMONEY / f"{name}.html").read_text(encoding="utf-8"))
    article = em.parse_article_page(page(html))
    assert article.published_text == expected["published_text"]
    assert article.publisher == expected["publisher"]
    assert article.title == expected["title"]
