"""The one scrub every text passes (:mod:`crawler.normalize.text`) and the text stage that applies
it to every field before any other stage reads it (:mod:`pipelines.text`)."""

from __future__ import annotations

import copy

import pytest

from crawler.items import Article
from crawler.normalize.text import reads_as_name, scrub, scrub_value
from pipelines.text import TextPipeline


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        # A 7×24 flash cut in the middle of an emoji: the high half alone.
        ("盘口异动快照\ud83d。", "盘口异动快照。"),
        ("\udc00记者", "记者"),
        # Both halves, as text decoded with surrogatepass holds them: the character they spell.
        ("点赞\ud83d\udc4d", "点赞\U0001f44d"),
        # What a broken page leaves: NUL, U+FFFD where a decoder or parser lost a character.
        ("测试\x00日报", "测试日报"),
        ("测试\ufffd日报", "测试日报"),
        ("a\x01\x08\x0b\x0c\x0e\x1f\x7f\ufffe\uffffb", "ab"),
        # Text stays: tabs, newlines, CJK, astral characters, U+3000.
        ("第一段\n第二段\t\u3000\U0001f600", "第一段\n第二段\t\u3000\U0001f600"),
    ],
)
def test_scrub(raw: str, expected: str) -> None:
    assert scrub(raw) == expected
    assert scrub(raw).encode("utf-8")


def test_scrub_value_reaches_every_string() -> None:
    value = {"k\ud83d": ["a\x00", ("b\ufffd", 1)], "n": None}
    assert scrub_value(value) == {"k": ["a", ("b", 1)], "n": None}


@pytest.mark.parametrize(
    ("text", "expected"),
    [("测试日报", True), ("Reuters", True), ("", False), ("()", False), ("2022", False)],
)
def test_reads_as_name(text: str, expected: bool) -> None:
    assert reads_as_name(text) is expected


def test_text_stage_scrubs_every_field_and_counts(crawler) -> None:  # type: ignore[no-untyped-def]
    item = Article(
        url="https://finance.eastmoney.com/a/202606163772915624.html",
        title="快速\ud83d回调",
        summary="快照\ud83d",
        body_html="<p>快照\ud83d。</p>",
        published_text="2026-06-16\x00 14:09:57",
        publisher="测试\ufffd日报",
        authors=["\ufffd", "张三\x00", "李四"],
        editor="(\ufffd)",
    )
    TextPipeline(crawler).process_item(item)
    assert (item.title, item.summary, item.body_html, item.published_text) == (
        "快速回调",
        "快照",
        "<p>快照。</p>",
        "2026-06-16 14:09:57",
    )
    # A name keeps its letters; a credit left without one named no one and goes.
    assert (item.publisher, item.authors, item.editor) == ("测试日报", ["张三", "李四"], None)
    stats = crawler.stats.get_stats()
    assert {k: v for k, v in stats.items() if k.startswith("news/text/")} == {
        "news/text/scrubbed/title": 1,
        "news/text/scrubbed/summary": 1,
        "news/text/scrubbed/body_html": 1,
        "news/text/scrubbed/published_text": 1,
        "news/text/scrubbed/publisher": 1,
        "news/text/scrubbed/authors": 1,
        "news/text/scrubbed/editor": 1,
        "news/text/unreadable/authors": 1,
        "news/text/unreadable/editor": 1,
    }


def test_text_stage_leaves_clean_items_alone(crawler) -> None:  # type: ignore[no-untyped-def]
    item = Article(url="https://a.cn/1.html", title="标题", authors=["2022"], publisher="()")
    before = copy.deepcopy(item)
    TextPipeline(crawler).process_item(item)
    assert item == before
    assert not [k for k in crawler.stats.get_stats() if k.startswith("news/text/")]
