"""East Money's bodies: article pages in both layouts, their encodings, and GetNewsText."""

from __future__ import annotations

import json
from typing import Any

import pytest
from scrapy.http import HtmlResponse

from crawler.sources.eastmoney.pages import news_text_body, parse_article_page, utf8_page
from crawler.sources.eastmoney.payload import FeedError
from tests.conftest import FIXTURES

EASTMONEY = FIXTURES / "eastmoney"


def test_news_text_nested_too_deeply_is_not_json() -> None:
    with pytest.raises(FeedError) as info:
        news_text_body("[" * 5000)
    assert info.value.reason == "not_json"


def test_news_text_without_body_is_no_body() -> None:
    with pytest.raises(FeedError) as info:
        news_text_body('{"content":"","text":null}')
    assert info.value.reason == "no_body"


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
    with pytest.raises(FeedError) as info:
        parse_article_page(page(html))
    assert info.value.reason == reason


def test_current_layout_title_falls_back_to_head_title() -> None:
    article = parse_article_page(
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
    article = parse_article_page(
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
    assert utf8_page(body, {}) == expected.encode("utf-8")


def test_gbk_page_is_decoded_from_its_meta_declaration() -> None:
    body = (EASTMONEY / "page_old_gbk_202204212352230938.html").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        body.decode("utf-8")
    response = HtmlResponse(
        "http://finance.eastmoney.com/news/1350,202204212352230938.html", body=body
    )
    assert "长春发布若干政策措施" in parse_article_page(response).title


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
    article = parse_article_page(page(html))
    assert article.published_text == expected["published_text"]
    assert article.publisher == expected["publisher"]
    assert article.title == expected["title"]
