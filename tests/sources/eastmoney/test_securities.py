"""The securities a story is about: secid parsing, the market map, the 7×24 ``stockList``, and
the stock links of bodies in both page layouts and of ``GetNewsText`` bodies."""

from __future__ import annotations

import json
from typing import Any

import pytest
from scrapy.http import HtmlResponse

from crawler.normalize.body import html_to_text, sanitize_body
from crawler.sources.eastmoney import FAST_COLUMNS
from crawler.sources.eastmoney.cleaning import BODY_RULES
from crawler.sources.eastmoney.listing import FEEDS, EastMoneyEntry, ListingParser
from crawler.sources.eastmoney.pages import news_text_body, parse_article_page
from crawler.sources.eastmoney.securities import (
    MARKETS,
    Security,
    body_links,
    markets_markdown,
    parse_secid,
    stock_list,
)
from tests.conftest import FIXTURES, ROOT

EASTMONEY = FIXTURES / "eastmoney"


@pytest.mark.parametrize(
    ("value", "secid", "code", "market"),
    [
        ("1.600519", "1.600519", "600519", "SH"),
        ("1.688981", "1.688981", "688981", "SH"),
        ("0.000001", "0.000001", "000001", "SZ"),
        ("0.300343", "0.300343", "300343", "SZ"),
        ("0.430047", "0.430047", "430047", "BJ"),
        ("0.830799", "0.830799", "830799", "BJ"),
        ("0.873527", "0.873527", "873527", "BJ"),
        ("0.920002", "0.920002", "920002", "BJ"),
        ("116.01211", "116.01211", "01211", "HK"),
        ("105.AAPL", "105.AAPL", "AAPL", "NASDAQ"),
        ("106.NIO", "106.NIO", "NIO", "NYSE"),
        ("106.BRK_B", "106.BRK_B", "BRK_B", "NYSE"),
        ("107.SPY", "107.SPY", "SPY", "NYSEAM"),
        ("90.BK1036", "90.BK1036", "BK1036", "BK"),
        ("100.NDX", "100.NDX", "NDX", "INDEX"),
        ("8.IF2406", "8.IF2406", "IF2406", "CFFEX"),
        ("113.rb2410", "113.rb2410", "rb2410", "SHFE"),
        ("114.m2409", "114.m2409", "m2409", "DCE"),
        ("115.SR409", "115.SR409", "SR409", "CZCE"),
        ("142.sc2407", "142.sc2407", "sc2407", "INE"),
        # data-code writes a comma; spaces around the parts are the page's, not the id's
        ("1,600519", "1.600519", "600519", "SH"),
        (" 0 , 002594 ", "0.002594", "002594", "SZ"),
        # a market number the table lacks: kept, its exchange unknown
        ("155.VOD", "155.VOD", "VOD", None),
    ],
)
def test_secid_and_market(value: str, secid: str, code: str, market: str | None) -> None:
    assert parse_secid(value) == Security(secid, code, market)


@pytest.mark.parametrize(
    "value",
    [
        "",
        "600519",  # a bare code: no market
        "1.60051",  # five digits on Shanghai
        "0.6005190",
        "116.1211",  # HK codes have five digits
        "90.600519",  # boards are BK…
        "1.600519.1",
        "abc.600519",
        "1.",
        ".600519",
        "1234.600519",
        "NIO|106|7",  # a K-line image's data-code
        "1.60051９",  # a full-width digit
        None,
        1.5,
        ["1.600519"],
    ],
)
def test_malformed_secid_is_none(value: Any) -> None:
    assert parse_secid(value) is None


def test_market_table_says_what_is_known() -> None:
    assert {m.known for m in MARKETS.values()} == {"known", "assumed"}
    assert all(m.evidence for m in MARKETS.values())
    # the prefixes the issue names, and the exchange each maps to
    wanted = {"0": "SZ", "1": "SH", "116": "HK", "105": "NASDAQ", "106": "NYSE", "90": "BK"}
    assert {n: MARKETS[n].exchange for n in wanted} == wanted


def test_name_is_the_printed_name_whitespace_collapsed() -> None:
    assert parse_secid("1.600519", "  贵州\n茅台 ") == Security(
        "1.600519", "600519", "SH", "贵州 茅台"
    )
    assert parse_secid("1.600519", " ") == Security("1.600519", "600519", "SH", None)


# --- 7×24 stockList ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "secids", "malformed"),
    [
        (["1.600519", "0.002594", "116.01211"], ["1.600519", "0.002594", "116.01211"], []),
        (["1.600519", "1.600519"], ["1.600519"], []),
        (["1.600519", "x", "", 600519, None], ["1.600519"], ["'x'", "''", "600519", "None"]),
        ([], [], []),
        (None, [], []),
        ("", [], []),
        ("1.600519", [], ["'1.600519'"]),  # not a list: the shape changed
        ({"1": "600519"}, [], ["{'1': '600519'}"]),
    ],
)
def test_stock_list(values: Any, secids: list[str], malformed: list[str]) -> None:
    found, bad = stock_list(values)
    assert [s.secid for s in found] == secids
    assert bad == malformed


def test_flash_listing_tags_entries_and_counts_malformed_values() -> None:
    payload = json.loads((EASTMONEY / "FIXTURE_em_getFastNewsList_response.json").read_text())
    item = payload["data"]["fastNewsList"][0]
    item["stockList"] = ["1.601068", "116.01211", "bad", "1.601068"]
    listing = ListingParser(FEEDS["724"], "https://x/{code}.html").parse(json.dumps(payload))
    first = listing.entries[0]
    assert isinstance(first, EastMoneyEntry)
    assert [(s["secid"], s["market"], s["via"]) for s in first.securities] == [
        ("1.601068", "SH", ["feed"]),
        ("116.01211", "HK", ["feed"]),
    ]
    assert listing.skipped == [("malformed_secid", "'bad'")]


def test_column_listing_entries_name_no_security() -> None:
    text = (EASTMONEY / "column_345_page1.json").read_text("utf-8")
    listing = ListingParser(FEEDS["column"], "https://x/{code}.html").parse(text)
    assert listing.entries
    assert all(isinstance(e, EastMoneyEntry) and e.securities == () for e in listing.entries)


# --- stock links in bodies ---------------------------------------------------------------------

#: The real ContentBody block (current layout): its stock and board links, in order, named.
FRAGMENT_LINKS = [
    ("1.600030", "SH", "中信证券"),
    ("90.BK1036", "BK", "半导体"),
    ("90.BK0963", "BK", "商业航天"),
    ("0.300024", "SZ", "机器人"),
    ("90.BK0739", "BK", "工程机械"),
    ("90.BK0493", "BK", "新能源"),
    ("1.601059", "SH", "信达证券"),
    ("90.BK0474", "BK", "保险"),
    ("1.601788", "SH", "光大证券"),
    ("90.BK0478", "BK", "有色金属"),
    ("90.BK0490", "BK", "军工"),
    ("0.002670", "SZ", "国盛证券"),
    ("90.BK0989", "BK", "储能"),
    ("90.BK1137", "BK", "存储芯片"),
    ("90.BK1104", "BK", "信创"),
    ("90.BK1037", "BK", "消费电子"),
    ("1.601881", "SH", "中国银河"),
    ("90.BK0473", "BK", "证券"),
]


def links(body: str | None) -> list[tuple[str, str | None, str | None]]:
    found, malformed = body_links(body)
    assert malformed == []
    return [(s.secid, s.market, s.name) for s in found]


def test_current_layout_page_links() -> None:
    html = (EASTMONEY / "page_current_202601103600000001.html").read_bytes()
    response = HtmlResponse("https://finance.eastmoney.com/a/1.html", body=html)
    assert links(parse_article_page(response).body_html) == FRAGMENT_LINKS


def test_old_layout_page_links() -> None:
    # RECONSTRUCTED: the old layout's chrome around two real link paragraphs of the fragment.
    fragment = (EASTMONEY / "eastmoney_ContentBody_fragment_2026-01.html").read_text("utf-8")
    paragraphs = fragment.split("<p>")[2:4]
    body = "".join(f"<p>{p}" for p in paragraphs)
    html = (
        "<html><head><meta charset='gbk'></head><body><div class='newsContent'><h1>标题</h1>"
        "<div class='time'>2019年05月20日 09:51</div>"
        f"<div id='ContentBody' class='Body'>{body}<div id='comBodyEnd'></div>"
        "<p><a href='http://quote.eastmoney.com/unify/r/1.600519'>评论区链接</a></p></div>"
        "</div></body></html>"
    )
    response = HtmlResponse("https://finance.eastmoney.com/a/1.html", body=html.encode("gbk"))
    page = parse_article_page(response)
    assert links(page.body_html) == FRAGMENT_LINKS[:6]  # nothing past div#comBodyEnd


def test_news_text_body_links_with_a_k_line_image() -> None:
    # The real GetNewsText body of 2022-05-26: a K-line image link (data-code "NIO|106|7")
    # before the text link naming 蔚来; boards; stocks of three markets; a linked credit line.
    text = (EASTMONEY / "getnewstext_NW202205262391921712.json").read_text("utf-8")
    assert links(news_text_body(text)) == [
        ("106.NIO", "NYSE", "蔚来"),
        ("90.BK0493", "BK", "新能源"),
        ("1.600160", "SH", "巨化股份"),
        ("0.300343", "SZ", "联创股份"),
        ("1.600636", "SH", "国新文化"),
        ("90.BK0839", "BK", "知识产权"),
        # not 90.BK0473 证券: the linker's board inside its credit line （文章来源：上海证券报）
    ]


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        # numbers in prose tag nothing
        ("<p>贵州茅台(600519)、1.600519 与 sh600519 今日上涨。</p>", []),
        ("<p>股票代码 0.000001</p>", []),
        (None, []),
        ("", []),
        # a topic link, not a security
        (
            "<p><a class='infokey' href='http://so.eastmoney.com/news/s?keyword=芯片'>芯片</a></p>",
            [],
        ),
        # only a quote URL
        (
            "<p><a href='https://quote.eastmoney.com/unify/r/116.01211'>比亚迪股份</a></p>",
            [("116.01211", "HK", "比亚迪股份")],
        ),
        # only the wrapper's id
        (
            "<p><span id='stock_0.002594'><a class='keytip'>比亚迪</a></span></p>",
            [("0.002594", "SZ", "比亚迪")],
        ),
        # em_stock_key_common with data-code, before the name shows elsewhere
        (
            "<p><span class='em_stock_key_common' data-code='1,600519'>贵州茅台</span></p>",
            [("1.600519", "SH", "贵州茅台")],
        ),
    ],
)
def test_body_links(body: str | None, expected: list[Any]) -> None:
    assert links(body) == expected


def test_malformed_links_are_reported_not_tagged() -> None:
    body = (
        "<p><a class='keytip' data-code='1,60051'>坏</a>"
        "<a class='keytip' data-code='0,002594'>比亚迪</a></p>"
    )
    found, malformed = body_links(body)
    assert [s.secid for s in found] == ["0.002594"]
    assert malformed == ["'1,60051'"]


def test_reading_links_leaves_the_body_stage_output_unchanged() -> None:
    body = (EASTMONEY / "eastmoney_ContentBody_fragment_2026-01.html").read_text("utf-8")
    before = sanitize_body(body, "https://finance.eastmoney.com/a/1.html", BODY_RULES)
    body_links(body)
    after = sanitize_body(body, "https://finance.eastmoney.com/a/1.html", BODY_RULES)
    assert before == after
    assert "中信证券表示" in html_to_text(after)


def test_docs_print_the_market_table() -> None:
    page = (ROOT / "docs" / "eastmoney.md").read_text("utf-8")
    assert markets_markdown() in page


def test_docs_print_the_assumed_topic_map() -> None:
    page = (ROOT / "docs" / "eastmoney.md").read_text("utf-8")
    for number, name in FAST_COLUMNS.items():
        assert f"| `{number}` | {name} |" in page
