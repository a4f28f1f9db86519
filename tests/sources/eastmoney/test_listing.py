"""East Money's listing parser and 7×24 flashes: paging facts, bad records, the flash rule."""

from __future__ import annotations

import json

import pytest

from crawler.sources.eastmoney.endpoints import ARTICLE_URL
from crawler.sources.eastmoney.listing import (
    FEEDS,
    ListingParser,
    flash_article,
    flash_needs_page,
    flash_text,
)
from crawler.sources.eastmoney.payload import FeedError
from crawler.sources.listing import ListingEntry


def test_listing_without_its_list_is_an_api_error() -> None:
    parser = ListingParser(FEEDS["column"], ARTICLE_URL)
    with pytest.raises(FeedError) as info:
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
    parser = ListingParser(FEEDS["column"], ARTICLE_URL)
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
    parser = ListingParser(FEEDS["column"], ARTICLE_URL)
    page = parser.parse(json.dumps({"code": 1, "data": {"list": [{**GOOD_RECORD, "url": given}]}}))
    assert [e.url for e in page.entries] == [url]
    assert page.skipped == []


def test_a_record_that_cannot_be_read_is_skipped_and_the_page_kept(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    parser = ListingParser(FEEDS["column"], ARTICLE_URL)
    entry = parser.entry

    def fragile(record: object) -> tuple[ListingEntry | None, str]:
        if isinstance(record, dict) and record.get("title") == "坏":
            raise ValueError("unreadable")
        return entry(record)

    monkeypatch.setattr(parser, "entry", fragile)
    bad = {**GOOD_RECORD, "code": "202205202386046763", "title": "坏"}
    page = parser.parse(json.dumps({"code": 1, "data": {"list": [bad, GOOD_RECORD]}}))
    assert [e.native_id for e in page.entries] == ["202205202386046762"]
    assert page.skipped == [("incomplete", "code=202205202386046763 title='坏'")]


def test_skipped_record_description_is_short() -> None:
    parser = ListingParser(FEEDS["column"], ARTICLE_URL)
    nested: object = "x"
    for _ in range(900):
        nested = [nested]
    page = parser.parse(json.dumps({"code": 1, "data": {"list": [{"code": nested}, nested]}}))
    assert [reason for reason, _ in page.skipped] == ["incomplete", "incomplete"]
    assert all(len(detail) < 200 for _, detail in page.skipped)


# --- flashes ------------------------------------------------------------------------------------


def flash(summary: str, title: str = "标题") -> ListingEntry:
    return ListingEntry(
        "u",
        native_id="202606163772915624",
        title=title,
        published_text="2026-06-16 14:09:57",
        summary=summary,
    )


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
    assert flash_text(entry) == text
    assert flash_needs_page(entry) is needs_page


def test_flash_article_escapes_text_and_falls_back_to_the_whole_summary() -> None:
    assert flash_article(flash("【标题】A<B & C")).body_html == "<p>A&lt;B &amp; C</p>"
    assert flash_article(flash("【只有标题】")).body_html == "<p>【只有标题】</p>"
    assert flash_article(flash("")).body_html is None
