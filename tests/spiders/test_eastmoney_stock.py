"""``eastmoney_stock``: the watchlist, a security's listing (the reconstructed fixture), its
changed shapes failing loudly, tags on fetched and on unfetched stories; in process."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import pytest
from scrapy.http import HtmlResponse
from scrapy.utils.test import get_crawler

from crawler.sources.eastmoney.securities import Security
from crawler.spiders.eastmoney_stock import EastMoneyStockSpider, read_watchlist, watchlist
from tests.conftest import FIXTURES
from tests.spiders.support import json_response, run
from tests.spiders.test_eastmoney import FakeKnown, make_spider, start_requests, stats
from tests.storage_support import mongo_client, storage_settings

if TYPE_CHECKING:
    from pathlib import Path

EASTMONEY = FIXTURES / "eastmoney"
LISTING = (EASTMONEY / "stock_1.600519_page1.jsonp").read_text("utf-8")
CODES = ["202205302396671645", "202205302396671291"]


def test_read_watchlist() -> None:
    text = "# my list\n1.600519 贵州茅台\n\n  0.000001   # 平安银行\n116.01211\n"
    assert read_watchlist(text) == ["1.600519", "0.000001", "116.01211"]


def test_watchlist_keeps_order_and_refuses_malformed_secids() -> None:
    assert [s.secid for s in watchlist(["1.600519", "0,000001", "1.600519"])] == [
        "1.600519",
        "0.000001",
    ]
    with pytest.raises(ValueError, match="600519"):
        watchlist(["1.600519", "600519"])


def test_spider_walks_each_security_of_arguments_and_file(tmp_path: Path) -> None:
    listed = tmp_path / "watch.txt"
    listed.write_text("116.01211 比亚迪股份\n1.600519\n", "utf-8")
    spider = make_spider(EastMoneyStockSpider, securities="1.600519,0.000001", watchlist=listed)
    requests = start_requests(spider)
    assert [r.cb_kwargs["secid"] for r in requests] == ["1.600519", "0.000001", "116.01211"]
    assert all("getListInfo?client=wap&type=1&mTypeAndCode=" in r.url for r in requests)
    assert "mTypeAndCode=1.600519&pageSize=50&pageIndex=1" in requests[0].url


def test_a_malformed_argument_stops_the_crawl_before_it_starts() -> None:
    with pytest.raises(ValueError, match="sh600519"):
        make_spider(EastMoneyStockSpider, securities="1.600519,sh600519")


def listing(spider: Any, text: str = LISTING, secid: str = "1.600519") -> Any:
    url = f"https://np-listapi.eastmoney.com/comm/wap/getListInfo?mTypeAndCode={secid}"
    return run(spider.parse_listing, json_response(text, url), secid=secid, page_index=1)


def test_listing_requests_new_stories_tagged_with_the_security() -> None:
    spider = make_spider(EastMoneyStockSpider, securities="1.600519")
    requests, _ = listing(spider)
    assert [r.cb_kwargs["entry"].native_id for r in requests] == CODES
    for request in requests:
        assert request.cb_kwargs["feed"] == "stock:1.600519"
        assert request.cb_kwargs["entry"].securities == (
            {
                "secid": "1.600519",
                "code": "600519",
                "market": "SH",
                "name": None,
                "via": ["listing"],
            },
        )
    assert requests[0].cb_kwargs["entry"].publisher == "中国证券报"
    assert stats(spider)["skipped/cfh"] == 1
    assert stats(spider)["stop/last_page"] == 1  # 3 records, pages of 50


def test_the_article_carries_the_listing_tag_and_its_body_links() -> None:
    spider = make_spider(EastMoneyStockSpider, securities="1.600519")
    requests, _ = listing(spider)
    page = (EASTMONEY / "page_current_202601103600000001.html").read_bytes()
    response = HtmlResponse(requests[0].url, body=page, request=requests[0])
    _, (article,) = run(spider.parse_article, response, **requests[0].cb_kwargs)
    assert article.securities[0]["secid"] == "1.600519"
    assert article.securities[0]["via"] == ["listing"]
    assert article.securities[1] == {
        "secid": "1.600030",
        "code": "600030",
        "market": "SH",
        "name": "中信证券",
        "via": ["body"],
    }
    assert len(article.securities) == 1 + 18


def test_stories_not_fetched_for_a_security_are_kept_for_tagging() -> None:
    spider = make_spider(EastMoneyStockSpider, stored=[CODES[0]], securities="1.600519,0.000001")
    requests, _ = listing(spider)
    assert [r.cb_kwargs["entry"].native_id for r in requests] == [CODES[1]]
    # The other security lists the same story: requested already this run.
    again, _ = listing(spider, secid="0.000001")
    assert again == []
    assert spider.unfetched == {
        "1.600519": {f"eastmoney:{CODES[0]}"},
        "0.000001": {f"eastmoney:{c}" for c in CODES},
    }
    spider.tag_unfetched("securities", spider.add_listed)  # storage off: counted, not lost
    assert stats(spider)["securities/untagged"] == 3


def changed(records: list[Any] | None) -> str:
    data = {} if records is None else {"list": records}
    return json.dumps({"data": data}, ensure_ascii=False)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        # the fields renamed (as the search API's were, four times in 2025)
        (
            changed([{"code": CODES[0], "title": "标题", "showTime": "2022-05-30 22:00:29"}]),
            "shape",
        ),
        (changed(["202205302396671645"]), "shape"),
        (changed(None), "api_error"),  # no list at data.list
        (json.dumps({"result": {"list": []}}), "api_error"),
        ("jQuery_stock(", "not_json"),
        ("", "empty"),
    ],
)
def test_a_changed_shape_fails_loudly_and_counted(text: str, reason: str) -> None:
    spider = make_spider(EastMoneyStockSpider, securities="1.600519")
    requests, items = listing(spider, text)
    assert requests == items == []
    assert stats(spider)[f"bad/{reason}"] == 1
    assert "listing/pages" not in stats(spider)


def test_an_empty_list_is_an_empty_page_not_a_changed_shape() -> None:
    spider = make_spider(EastMoneyStockSpider, securities="1.600519")
    requests, _ = listing(spider, changed([]))
    assert requests == []
    assert stats(spider)["stop/empty"] == 1
    assert not any(key.startswith("bad/") for key in stats(spider))


def test_one_incomplete_record_among_good_ones_is_skipped_not_a_shape_change() -> None:
    records = json.loads(LISTING.removeprefix("jQuery_stock(").removesuffix(");\n"))["data"]["list"]
    records.append({"Art_Code": "", "Art_Title": "无代码", "Art_ShowTime": "2022-05-30 20:00:00"})
    spider = make_spider(EastMoneyStockSpider, securities="1.600519")
    requests, _ = listing(spider, changed(records))
    assert len(requests) == 2
    assert stats(spider)["skipped/incomplete"] == 1


def test_security_argument_of_a_contract_needs_no_watchlist() -> None:
    spider = make_spider(EastMoneyStockSpider)
    assert spider.security("116.01211") == Security("116.01211", "01211", "HK")


def test_a_story_tagged_once_is_not_tagged_again_by_the_same_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A follower re-lists the same stored stories every poll: each is tagged once."""
    settings = storage_settings(mongo_client(monkeypatch), tmp_path, NEWS_MONGO_URI="mongodb://x")
    crawler = get_crawler(
        EastMoneyStockSpider, {"NEWS_DEFAULT_TIMEZONE": "Asia/Shanghai", **settings}
    )
    crawler.stats.open_spider()
    spider = EastMoneyStockSpider.from_crawler(crawler, securities="1.600519")
    crawler.spider = spider
    spider.known = FakeKnown([f"eastmoney:{CODES[0]}"])
    calls: list[list[str]] = []

    def add(collection: Any, ids: list[str], secid: str) -> int:
        calls.append(ids)
        return len(ids)

    listing(spider)
    spider.tag_unfetched("securities", add)
    assert calls == [[f"eastmoney:{CODES[0]}"]]
    spider.unfetched.clear()
    listing(spider)  # the next poll lists both again; the second was requested by the first
    spider.tag_unfetched("securities", add)
    assert calls[1] == [f"eastmoney:{CODES[1]}"]
