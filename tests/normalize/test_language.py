"""Article language: :func:`crawler.normalize.language.detect_language` and its stage.

Texts are real: the bodies of the development pages (``tests/fixtures/pages/truth.jsonl``), the
original system's posts (``tests/fixtures/finews-posts``, among them one-line 7×24 flashes full of
tickers and figures, which the unrestricted model called Wu Chinese, ``wuu``) and the English
passages printed on those pages.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from scrapy.exceptions import DropItem

from crawler.items import Article
from crawler.jekyll import BrokenPost
from crawler.jekyll import article_from_post as jekyll_article
from crawler.normalize.language import MIN_LETTERS, detect_language
from tests.conftest import FIXTURES

TRUTH = [
    json.loads(line)
    for line in (FIXTURES / "pages" / "truth.jsonl").read_text("utf-8").splitlines()
]
POSTS = sorted((FIXTURES / "finews-posts" / "posts").glob("*.md"))
# Flashes of 2021-12-08 that py3langid's full label set reads as ``wuu`` (Wu Chinese).
FLASHES = [
    "隔夜shibor报2.1510%，上涨2.1个基点；7天shibor报2.2020%，上涨4.3个基点；3个月shibor报2.4890%，上涨0.1个基点。",
    "2021年12月8日讯，财政部2年期续发国债中标利率为2.4576%，边际利率为2.4823%，全场倍数为3.7，边际倍数为2.2。(东方财富Choice数据)",
]
# English: the footer of a development page (ednchina_1.html) and a wire-style lead written here.
ENGLISH = [
    "Copyright © 2000-2019 eMedia Asia Ltd. All rights reserved.",
    "The People's Bank of China cut the reserve requirement ratio for banks by half a percentage point on Friday.",
]


@pytest.mark.parametrize("record", TRUTH, ids=[r["file"] for r in TRUTH])
def test_development_pages_are_chinese(record: dict[str, str]) -> None:
    assert detect_language([record["title"], record["body_text"]]) == "zh"


@pytest.mark.parametrize("text", FLASHES)
def test_a_flash_full_of_figures_is_chinese_not_wu(text: str) -> None:
    assert detect_language([text]) == "zh"


@pytest.mark.parametrize("text", ENGLISH)
def test_english_is_english(text: str) -> None:
    assert detect_language([text]) == "en"


@pytest.mark.parametrize(
    "parts",
    [
        [],
        [None, None],
        ["", "  "],
        ["央行降准"],
        ["A股收涨", "12:00"],
        ["Stocks rose"],
        ["x" * (MIN_LETTERS - 1)],
    ],
)
def test_too_little_text_has_no_language(parts: list[str | None]) -> None:
    assert detect_language(parts) is None


def test_title_and_body_are_read_together() -> None:
    # Neither alone has MIN_LETTERS letters (an ideograph counts two); together they do.
    assert detect_language(["恒大汽车下挫", "现跌超五个点"]) == "zh"
    assert detect_language(["恒大汽车下挫"]) is None


def test_every_stored_post_gets_a_language(chain) -> None:  # type: ignore[no-untyped-def]
    fetched = datetime(2026, 11, 26, 6, 0, tzinfo=UTC)
    langs: dict[str, str | None] = {}
    for path in POSTS:
        try:
            item = chain.process(jekyll_article(path.name, path.read_text("utf-8"), fetched))
        except (BrokenPost, DropItem):  # posts a crawl would not store have their own tests
            continue
        langs[path.name] = item.lang
    assert len(langs) > 100
    assert set(langs.values()) == {"zh"}, langs


def test_stage_counts_what_it_cannot_tell(chain, crawler) -> None:  # type: ignore[no-untyped-def]
    item = Article(
        url="https://a.cn/1.html",
        source="t",
        title="快讯",
        body_html="<p>12:00</p>",
        published_text="2026-11-26 10:00",
        fetched_at=datetime(2026, 11, 26, 6, tzinfo=UTC),
    )
    stages = [s for s in chain.stages if type(s).__name__ != "ValidatePipeline"]
    for stage in stages:
        item = stage.process_item(item)
    assert item.lang is None
    assert crawler.stats.get_value("news/lang/undetermined") == 1
