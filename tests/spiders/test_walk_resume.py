"""Resuming an interrupted listing walk: the decisions (tables), then walks of a paged site in
process, their records in mongomock.

The bug (issue 15): a walk cut short (``kill -9``) leaves stored pages above articles it never
stored; the next walk met a page with nothing new at once and stopped there, for good.
"""

from __future__ import annotations

import hashlib
from dataclasses import replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import pytest
from scrapy.crawler import Crawler
from scrapy.http import HtmlResponse
from scrapy.statscollectors import MemoryStatsCollector
from scrapy.utils.project import get_project_settings

from crawler.normalize.identity import canonicalize
from crawler.sources.listing import Listing, ListingEntry
from crawler.spiders.site import SiteSpider
from crawler.spiders.walk import Triage, Walk, deepest, passes, start_walk, stop_reason
from crawler.store.walks import UNREACHABLE, Frontier, WalkRecord
from tests.spiders.support import FakeKnown, run
from tests.storage_support import mongo_client, storage_settings

if TYPE_CHECKING:
    from collections.abc import Iterable
    from pathlib import Path

NOW = datetime(2026, 11, 26, 6, 0, tzinfo=UTC)
R = Frontier(4, ("r1", "r2", "r3"))
T = Frontier(8, ("t1", "t2", "t3"))

# --- where a walk may stop: the decisions --------------------------------------------------------


@pytest.mark.parametrize(
    ("previous", "page", "resumed", "holding", "target", "reached"),
    [
        (None, 1, False, False, None, None),  # never walked: the usual rules
        (WalkRecord(True, R), 1, False, False, None, None),  # complete: the usual rules
        (WalkRecord(False, R), 1, True, True, R, None),  # cut short: pass where it reached
        (WalkRecord(False, R, T), 1, True, True, T, None),  # it had a frontier still to pass
        (UNREACHABLE, 1, True, True, None, None),  # MongoDB cannot say: hold all the way
        (WalkRecord(False, R, T), 5, True, True, T, R),  # taken up from a JOBDIR queue
        (WalkRecord(False, R), 5, True, False, None, R),  # … whose walk had passed its frontier
        (WalkRecord(True, R), 5, False, False, None, None),
    ],
)
def test_start_walk(
    previous: WalkRecord | None,
    page: int,
    resumed: bool,
    holding: bool,
    target: Frontier | None,
    reached: Frontier | None,
) -> None:
    walk = start_walk("l", previous, page, NOW)
    assert (walk.resumed, walk.holding, walk.target, walk.reached) == (
        resumed,
        holding,
        target,
        reached,
    )


@pytest.mark.parametrize(
    ("target", "ids", "seen_before", "result"),
    [
        (T, ["a", "t3", "b"], False, (True, True)),  # "b" lies beyond its oldest entry
        (T, ["a", "t3"], False, (False, True)),  # nothing beyond it on this page
        (T, ["a", "t1"], False, (False, True)),  # its entries may go on on the next page
        (T, ["b", "c"], True, (True, True)),  # the first page without them: beyond it
        (T, ["t2", "b"], True, (False, True)),  # still its entries (t3 may have left)
        (T, ["a", "b"], False, (False, False)),
        (Frontier(8, ()), ["a"], False, (False, False)),  # nothing to recognise it by
        (None, ["t3"], False, (False, False)),  # unknown: never passed
    ],
)
def test_passes(
    target: Frontier | None, ids: list[str], seen_before: bool, result: tuple[bool, bool]
) -> None:
    assert passes(target, ids, seen_before) == result


@pytest.mark.parametrize(
    ("reached", "page", "ids", "result"),
    [
        (None, 1, ["a"], Frontier(1, ("a",))),
        (R, 5, ["a"], Frontier(5, ("a",))),
        (R, 2, ["a"], R),  # a shallower page (a queue taken up) never moves the frontier back
        (R, 6, [], Frontier(6, R.ids)),  # a page without entries keeps the ids before it
    ],
)
def test_deepest(reached: Frontier | None, page: int, ids: list[str], result: Frontier) -> None:
    assert deepest(reached, page, ids) == result


def listing(entries: int) -> Listing:
    return Listing("html", entries=[ListingEntry(f"http://h/{n}") for n in range(entries)])


@pytest.mark.parametrize(
    ("page", "triage", "end", "number", "holding", "reason"),
    [
        (listing(2), Triage(), None, 1, False, "nothing_new"),
        (listing(2), Triage(), None, 1, True, None),  # resuming: walk past known pages
        (listing(0), Triage(), None, 1, True, "empty"),  # the other rules still hold
        (listing(2), Triage(reached_since=True), None, 1, True, "since"),
        (listing(2), Triage(), "last_page", 1, True, "last_page"),
        (listing(2), Triage(), None, 3, True, "max_pages"),
        (listing(2), Triage(unknown=1), None, 2, True, None),
    ],
)
def test_stop_reason_while_holding(
    page: Listing, triage: Triage, end: str | None, number: int, holding: bool, reason: str | None
) -> None:
    assert stop_reason(page, triage, end, number, max_pages=3, holding=holding) == reason


def test_a_walk_records_its_frontier_only_while_holding() -> None:
    walk = Walk("l", NOW, resumed=True, holding=True, target=T, reached=R)
    assert walk.record() == WalkRecord(False, R, T)
    walk.holding = False
    assert walk.record(complete=True) == WalkRecord(True, R, None)


# --- walks of a paged site, in process -----------------------------------------------------------

SITE = "http://www.cmrnn.com.cn"
START = f"{SITE}/list/1.html"
KEY = f"cmrnn {START}"
PER_PAGE = 20


def article_url(n: int) -> str:
    return f"{SITE}/content/2022-05/20/content_{n}.html"


def stored_id(n: int) -> str:
    return "url:" + hashlib.sha1((canonicalize(article_url(n)) or "").encode()).hexdigest()


def pages(newest: int) -> list[list[int]]:
    """The listing, newest first, of articles ``newest`` … 1, twenty a page."""
    numbers = list(range(newest, 0, -1))
    return [numbers[i : i + PER_PAGE] for i in range(0, len(numbers), PER_PAGE)]


def listing_response(numbers: list[int], page: int, last: bool) -> HtmlResponse:
    links = "".join(f"<li><a href='{article_url(n)}'>标题{n}</a></li>" for n in numbers)
    more = "" if last else f"<a class='next' href='/list/{page + 1}.html'>下一页</a>"
    body = f"<html><body><ul>{links}</ul>{more}</body></html>"
    url = START if page == 1 else f"{SITE}/list/{page}.html"
    return HtmlResponse(url, body=body.encode(), encoding="utf-8")


def site_spider(client: Any, tmp_path: Path, stored: Iterable[int]) -> SiteSpider:
    settings = get_project_settings()
    settings.setdict(storage_settings(client, tmp_path), priority="cmdline")
    crawler = Crawler(SiteSpider, settings)  # settings still open: the spider sets its slots
    spider = SiteSpider.from_crawler(crawler, source="cmrnn")
    crawler.spider = spider
    crawler.stats = MemoryStatsCollector(crawler)
    crawler.stats.open_spider()
    spider.sources["cmrnn"] = replace(spider.sources["cmrnn"], next_page="a.next", max_pages=50)
    spider.known = FakeKnown(stored_id(n) for n in stored)  # type: ignore[assignment]
    return spider


def walk(spider: SiteSpider, listed: list[list[int]], until: int | None = None) -> list[int]:
    """Walk the listing as Scrapy would, page after page (to ``until`` at most); return the
    article numbers requested."""
    requested: list[int] = []
    page = 1
    while True:
        response = listing_response(listed[page - 1], page, page == len(listed))
        requests, _ = run(
            spider.parse_listing,
            response,
            source="cmrnn",
            kind="html",
            page=page,
            issue=None,
            walk=KEY,
        )
        requested += [int(r.url.rsplit("_", 1)[1].split(".")[0]) for r in requests
                      if r.callback == spider.parse_article]  # fmt: skip
        if page == until or not any(r.callback == spider.parse_listing for r in requests):
            return requested
        page += 1


def walk_stats(spider: SiteSpider) -> dict[str, int]:
    stats = spider.crawler.stats.get_stats()
    return {k.removeprefix("news/walk/"): v for k, v in stats.items() if k.startswith("news/walk/")}


def test_a_walk_cut_short_is_resumed_past_known_pages(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = mongo_client(monkeypatch)
    # A complete walk stored articles 1-100; then 100 more were published.
    complete = site_spider(client, tmp_path, stored=range(1, 101))
    assert walk(complete, pages(100)) == []
    complete.closed("finished")
    # This walk reads pages 1-4 of the 200 and dies (kill -9): only pages 1-2 were stored.
    cut = site_spider(client, tmp_path, stored=range(1, 101))
    assert walk(cut, pages(200), until=4) == list(range(200, 120, -1))
    cut.walk_store.close()  # the process dies, its client with it; closed() never runs
    stored = [*range(1, 101), *range(161, 201)]
    # Ten more are published (the listing shifts by half a page), then the next run starts.
    resumed = site_spider(client, tmp_path, stored=stored)
    requested = walk(resumed, pages(210))
    assert sorted(requested) == [*range(101, 161), *range(201, 211)]
    assert walk_stats(resumed) == {
        "started": 1,
        "resumed": 1,
        "walked_past_known": 1,  # the page of articles 190-171: all stored, walked past
        "passed": 1,
    }
    stats = resumed.crawler.stats.get_stats()
    assert stats["news/site/cmrnn/stop/nothing_new"] == 1
    resumed.closed("finished")
    assert walk_stats(resumed)["complete"] == 1
    # Once that walk completed, the next stops at its first page with nothing new.
    again = site_spider(client, tmp_path, stored=range(1, 211))
    assert walk(again, pages(210)) == []
    assert walk_stats(again) == {"started": 1}
    again.closed("finished")


def test_a_walk_not_finished_cleanly_stays_unfinished(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = mongo_client(monkeypatch)
    first = site_spider(client, tmp_path, stored=())
    walk(first, pages(60))
    first.closed("shutdown")  # SIGTERM: queued article requests were dropped
    assert walk_stats(first)["unfinished"] == 1
    second = site_spider(client, tmp_path, stored=range(1, 61))
    walk(second, pages(60))
    assert walk_stats(second)["resumed"] == 1
    # Every page is walked: the last holds the frontier, nothing beyond it.
    assert walk_stats(second)["walked_past_known"] == 3
    assert "passed" not in walk_stats(second)
    second.closed("finished")


def test_a_failed_listing_page_leaves_the_walk_unfinished(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = mongo_client(monkeypatch)
    first = site_spider(client, tmp_path, stored=())
    walk(first, pages(100), until=2)  # page 3 failed: its errback ends the walk, no stop rule
    first.closed("finished")
    assert walk_stats(first)["unfinished"] == 1
    # Pages 1-2 were stored; the next run must not stop at page 1.
    second = site_spider(client, tmp_path, stored=range(61, 101))
    assert sorted(walk(second, pages(100))) == list(range(1, 61))
    assert walk_stats(second)["resumed"] == 1
    second.closed("finished")


def test_unreachable_walk_records_walk_the_whole_listing(tmp_path: Path) -> None:
    spider = site_spider(None, tmp_path, stored=range(1, 101))
    assert spider.walk_store.config is not None
    spider.walk_store.config = replace(
        spider.walk_store.config,
        uri="mongodb://127.0.0.1:1/",
        client_factory="pymongo.MongoClient",
        timeout_ms=50,
    )
    assert walk(spider, pages(100)) == []
    stats = spider.crawler.stats.get_stats()
    assert stats["news/site/cmrnn/listing/html"] == 5  # every page, none stopped it early
    assert stats["news/site/cmrnn/stop/last_page"] == 1
    assert walk_stats(spider)["walked_past_known"] == 5
    spider.closed("finished")
