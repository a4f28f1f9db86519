"""Who published a story, feed by feed: East Money's five feeds and 中国市场监管新闻网's pages.

Each row is a record (or page) as the source serves it, read by the real spider callback and
normalised by the whole chain. The rules (docs/eastmoney.md, "Publishers"): the name the item
states, cleaned, is its publisher (a feed's media name, the page's ``来源：``, the body's credit
line, an outlet in brackets at the end of a flash or digest); an East Money item that credits no
one is East Money's own desk, 东方财富网. The group of outlets is a field of its own.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import pytest
from scrapy.http import HtmlResponse, Request
from scrapy.utils.test import get_crawler

from crawler.sources.config import load_sources
from crawler.sources.eastmoney import FEEDS, ListingParser
from crawler.sources.site import read_article_page
from crawler.spiders.eastmoney import EastMoneyColumnSpider
from crawler.spiders.eastmoney_724 import EastMoneyFlashSpider
from crawler.spiders.finews import FinewsSpider
from tests.conftest import FIXTURES, ROOT
from tests.spiders.support import FakeKnown, json_response, run

if TYPE_CHECKING:
    import scrapy

    from crawler.items import Article
    from pipelines.chain import PipelineChain

EASTMONEY = FIXTURES / "eastmoney"
CODE = "202601100000000042"
ARTICLE_URL = f"https://finance.eastmoney.com/a/{CODE}.html"
# A flash as the 7×24 list serves it (its shape: FIXTURE_em_getFastNewsList_response.json).
FLASH_TEXT = "国家统计局：1-2月份，全国规模以上工业增加值同比增长8.4%。"


def spider(cls: type[scrapy.Spider]) -> Any:
    crawler = get_crawler(cls, {"NEWS_DEFAULT_TIMEZONE": "Asia/Shanghai", "NEWS_MONGO_URI": ""})
    crawler.stats.open_spider()
    made: Any = cls.from_crawler(crawler)
    crawler.spider = made
    made.known = FakeKnown()
    return made


def flash(summary: str) -> Article:
    """The article the 7×24 spider makes of one flash whose list item stands alone."""
    record = {
        "code": CODE,
        "title": "规模以上工业增加值同比增长8.4%",
        "summary": summary,
        "showTime": "2026-01-10 10:00:30",
        "realSort": "1768010430000042",
    }
    payload = {"code": 1, "data": {"fastNewsList": [record]}}
    _, (item,) = run(
        spider(EastMoneyFlashSpider).parse_listing,
        json_response(json.dumps(payload, ensure_ascii=False)),
        sort_end="",
        page_number=1,
    )
    return item


def finews(feed: str, record: dict[str, Any], body: str) -> Article:
    """The article the finews spider makes of one record and its ``GetNewsText`` body."""
    made = spider(FinewsSpider)
    records = {"rolling": "records", "media": "nodeList", "market": "record"}[feed]
    listing = json.dumps({records: [record]}, ensure_ascii=False)
    (entry,) = (
        ListingParser(FEEDS[feed], "https://finance.eastmoney.com/a/{code}.html")
        .parse(listing)
        .entries
    )
    key = "content" if feed == "rolling" else "text"
    response = json_response(json.dumps({key: body}, ensure_ascii=False))
    _, (item,) = run(made.parse_body, response, entry=entry, feed=feed)
    return item


def column(media_name: str, page: bytes) -> Article:
    """The article the column spider makes of one listed article and its page."""
    made = spider(EastMoneyColumnSpider)
    record = {"code": CODE, "showTime": "2026-01-10 10:00:00", "title": "标题", "url": ARTICLE_URL}
    record["mediaName"] = media_name
    (entry,) = made.parser.parse(json.dumps({"code": "1", "data": {"list": [record]}})).entries
    response = HtmlResponse(ARTICLE_URL, body=page, request=Request(ARTICLE_URL))
    _, (item,) = run(made.parse_article, response, entry=entry, feed="column:345")
    return item


def current_page(source_item: str, body: str) -> bytes:
    """A page in the current layout (sources.md §3); ``source_item`` is its 来源 item, if any."""
    return (
        "<html><head><meta charset='utf-8'><title>标题_东方财富网</title></head><body>"
        "<div class='title'>标题</div><div class='infos'>"
        f"<div class='item'>2026年01月10日 10:00</div>{source_item}</div>"
        f"<div class='txtinfos' id='ContentBody'>{body}</div></body></html>"
    ).encode()


ROLLING = json.loads((EASTMONEY / "finews_rolling.json").read_text("utf-8"))["records"][0]
ROLLING_BODY = json.loads((EASTMONEY / "getnewstext_NW202204212352230938.json").read_text("utf-8"))
MEDIA = json.loads((EASTMONEY / "finews_media.json").read_text("utf-8"))["nodeList"][0]
SEED_BODY = json.loads((EASTMONEY / "getnewstext_NW202205202386046762.json").read_text("utf-8"))
MARKET = json.loads((EASTMONEY / "finews_market.json").read_text("utf-8"))["record"][0]
PLAIN = "<p>\u3000\u3000一段正文，没有署名。</p>"


def rolling(digest: str, body: str) -> Article:
    return finews("rolling", dict(ROLLING, digest=digest), body)


EAST_MONEY_RULES = [
    # 7×24: the outlet credited at the end of the flash, else East Money's own desk.
    pytest.param(lambda: flash(f"【标题】{FLASH_TEXT}（央视新闻客户端）"), "央视新闻客户端", "央视新闻客户端", id="724-credited"),
    pytest.param(lambda: flash(f"【标题】{FLASH_TEXT}（央视新闻）"), "央视新闻", "央视新闻客户端", id="724-credited-grouped"),
    pytest.param(lambda: flash(f"【标题】{FLASH_TEXT}"), "东方财富网", "东方财富网", id="724-own-desk"),
    pytest.param(lambda: flash(f"【标题】{FLASH_TEXT}（附名单）"), "东方财富网", "东方财富网", id="724-bracket-no-outlet"),
    # Rolling news: the body's credit line, else the outlet at the end of the body or the digest,
    # else East Money's own desk.
    pytest.param(lambda: finews("rolling", ROLLING, ROLLING_BODY["content"]), "财联社", "财联社", id="rolling-real"),
    pytest.param(lambda: rolling("摘要。", PLAIN), "东方财富网", "东方财富网", id="rolling-own-desk"),
    pytest.param(lambda: rolling("【标题】摘要。（证券时报网）", PLAIN), "证券时报网", "证券时报", id="rolling-digest-credit"),
    pytest.param(lambda: rolling("摘要。", "<p>一段正文。（界面新闻）</p>"), "界面新闻", "界面新闻", id="rolling-body-credit"),
    # Media and market news: the feed's media name, as stated.
    pytest.param(lambda: finews("media", MEDIA, SEED_BODY["text"]), "中国市场监管新闻网", "中国市场监管新闻网", id="media-seed"),
    pytest.param(lambda: finews("media", dict(MEDIA, **{"from": "中国市场监管报"}), PLAIN), "中国市场监管报", "中国市场监管新闻网", id="media-paper"),
    pytest.param(lambda: finews("media", dict(MEDIA, **{"from": ""}), PLAIN), "东方财富网", "东方财富网", id="media-no-name"),
    pytest.param(lambda: finews("market", MARKET, PLAIN), "中国基金报", "中国基金报", id="market-real"),
    pytest.param(lambda: finews("market", dict(MARKET, medianame=""), PLAIN), "东方财富网", "东方财富网", id="market-no-name"),
    # Column news: the page's 来源, else the column API's mediaName, else the own desk.
    pytest.param(lambda: column("证券时报网", current_page("<div class='item'>来源：<a>证券时报网</a></div>", PLAIN)), "证券时报网", "证券时报", id="column-page-source"),
    pytest.param(lambda: column("东方财富网", current_page("", PLAIN)), "东方财富网", "东方财富网", id="column-media-name"),
    pytest.param(lambda: column("", current_page("", PLAIN)), "东方财富网", "东方财富网", id="column-own-desk"),
    pytest.param(lambda: column("", current_page("<div class='item'>来源：东方财富研究中心</div>", PLAIN)), "东方财富研究中心", "东方财富网", id="column-research-centre"),
    pytest.param(lambda: column("", (EASTMONEY / "page_current_202601103600000001.html").read_bytes()), "第一财经", "第一财经", id="column-real-page"),
]  # fmt: skip


@pytest.mark.parametrize(("make", "publisher", "group"), EAST_MONEY_RULES)
def test_every_east_money_story_has_a_publisher(
    chain: PipelineChain, make: Any, publisher: str, group: str
) -> None:
    stored = chain.process(make())
    assert (stored.publisher, stored.publisher_group) == (publisher, group)
    assert stored.publisher_slug
    # A credit is a field, never text of the body.
    assert f"（{publisher}）" not in stored.body_text
    assert "文章来源" not in stored.body_text


def test_own_desk_items_are_counted(chain: PipelineChain, crawler: Any) -> None:
    chain.process(flash(f"【标题】{FLASH_TEXT}"))
    chain.process(flash(f"【标题】{FLASH_TEXT}（央视新闻客户端）"))
    assert crawler.stats.get_value("news/attribution/own_desk") == 1
    assert crawler.stats.get_value("news/attribution/no_publisher") is None


def test_a_credited_flash_keeps_its_text_without_the_credit(chain: PipelineChain) -> None:
    stored = chain.process(flash(f"【标题】{FLASH_TEXT}（央视新闻客户端）"))
    assert stored.body_text == FLASH_TEXT
    assert stored.via == "eastmoney"  # another outlet's story, come through East Money
    own = chain.process(flash(f"【标题】{FLASH_TEXT}"))
    assert own.body_text == FLASH_TEXT
    assert own.via is None  # East Money's own story


CMRNN_URL = "http://www.cmrnn.com.cn/content/2022-05/20/content_212345.html"
CMRNN_PAGE = (FIXTURES / "cmrnn" / "content_2022-05-20_reconstructed.html").read_bytes()


@pytest.mark.parametrize(
    ("stated", "publisher", "group", "slug"),
    [
        # The paper and its website are different outlets to a reader: the page's word stands.
        ("中国市场监管报", "中国市场监管报", "中国市场监管新闻网", "zhongguoshichangjianguanbao"),
        (
            "中国市场监管新闻网",
            "中国市场监管新闻网",
            "中国市场监管新闻网",
            "zhongguoshichangjianguanxinwenwang",
        ),
        ("证券时报网", "证券时报网", "证券时报", "zhengquanshibaowang"),
        ("新华社", "新华社", "新华社", "xinhuashe"),
    ],
)
def test_cmrnn_page_keeps_the_stated_source(
    chain: PipelineChain, stated: str, publisher: str, group: str, slug: str
) -> None:
    sources = load_sources(ROOT / "sources.toml")
    page = CMRNN_PAGE.replace("来源：中国市场监管新闻网".encode(), f"来源：{stated}".encode())
    article = read_article_page(page, None, CMRNN_URL, sources["cmrnn"])
    article.source = "cmrnn"
    stored = chain.process(article)
    assert (stored.publisher, stored.publisher_group, stored.publisher_slug) == (
        publisher,
        group,
        slug,
    )
