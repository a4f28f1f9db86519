from __future__ import annotations

import pytest

from crawler.items import Article
from crawler.normalize.credits import (
    clean_name,
    extract_credits,
    merge_authors,
    normalize_publisher,
    publisher_slug,
    split_authors,
)
from crawler.sources.rules import PUBLISHER_ALIASES
from pipelines.attribution import AttributionPipeline


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("中国市场监管新闻网", "中国市场监管新闻网"),
        ("来源：中国市场监管新闻网", "中国市场监管新闻网"),
        ("  来源: 新华社  ", "新华社"),
        ("（文章来源：上海<b>证券</b>报）", "上海证券报"),
        ("本文来源于：财联社", "财联社"),
        ("来源：第一财经 作者：张三", "第一财经"),
        ("稿源：证券时报网", "证券时报"),
        ("中国证券报·中证网", "中国证券报"),
        ("中国市场监管报", "中国市场监管新闻网"),
        # Names that open with a label's characters are names, not labels.
        ("文汇报", "文汇报"),
        ("来源：文汇报", "文汇报"),
        ("出处网", "出处网"),
        ("来源新华社", "新华社"),
        ("", None),
        ("来源：", None),
        (None, None),
    ],
)
def test_normalize_publisher(raw: str | None, expected: str | None) -> None:
    assert normalize_publisher(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("记者站", ["记者站"]),
        ("编辑部", ["编辑部"]),
        ("本报记者张三", ["张三"]),
        ("文/张三", ["张三"]),
        ("文 / 张三", ["张三"]),
        ("记者 李四 王五", ["李四", "王五"]),
    ],
)
def test_a_label_opens_a_value_only_with_a_mark_or_a_whole_name_after_it(
    raw: str, expected: list[str]
) -> None:
    assert split_authors(raw) == expected


@pytest.mark.parametrize(
    ("publisher", "slug"),
    [
        ("中国市场监管新闻网", "zhongguoshichangjianguanxinwenwang"),
        # The original system wrote "yangxingwangzhan": 央行 is yang-hang.
        ("央行网站", "yanghangwangzhan"),
        ("财联社", "cailianshe"),
        ("21世纪经济报道", "21shijijingjibaodao"),
        ("东方财富研究中心", "dongfangcaifuyanjiuzhongxin"),
        ("Reuters 路透", "reuterslutou"),
        (None, None),
        ("·", None),
    ],
)
def test_publisher_slug(publisher: str | None, slug: str | None) -> None:
    assert publisher_slug(publisher) == slug


@pytest.mark.parametrize(
    ("raw", "authors"),
    [
        ("□广东省人民政府副省长陈良贤", ["广东省人民政府副省长陈良贤"]),
        ("记者 张三 李四", ["张三", "李四"]),
        ("作者：梓隆", ["梓隆"]),
        ("本报记者 王五、赵六", ["王五", "赵六"]),
        ("", []),
        (None, []),
    ],
)
def test_split_authors(raw: str | None, authors: list[str]) -> None:
    assert split_authors(raw) == authors


@pytest.mark.parametrize(
    ("names", "merged"),
    [
        (["陈良贤", "广东省人民政府副省长陈良贤"], ["广东省人民政府副省长陈良贤"]),
        (["张三", "李四", "张三"], ["张三", "李四"]),
        (["王五", "王五六"], ["王五", "王五六"]),
        ([], []),
    ],
)
def test_merge_authors(names: list[str], merged: list[str]) -> None:
    assert merge_authors(names) == merged


def test_clean_name_stops_at_next_label() -> None:
    assert clean_name("责任编辑：王五 来源：新华社") == "王五"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        # East Money's names for itself are its own (its cleaning rules); the stage knows them all.
        ("东方财富", "东方财富网"),
        ("来源：东方财富研究中心", "东方财富网"),
        ("中国市场监管报", "中国市场监管新闻网"),
        ("新华社", "新华社"),
    ],
)
def test_every_known_alias(raw: str, expected: str) -> None:
    assert normalize_publisher(raw, PUBLISHER_ALIASES) == expected


def test_general_aliases_name_no_source() -> None:
    assert normalize_publisher("东方财富") == "东方财富"


@pytest.mark.parametrize(
    "line",
    # Every bracket the vocabulary knows, and none (Bug A: 【来源：X】 stayed in the body).
    [
        "（来源：新华社）",
        "(来源：新华社)",
        "【来源：新华社】",
        "[来源：新华社]",
        "来源：新华社",
        "【文章来源：新华社】",
    ],
)
def test_source_line_in_any_bracket_leaves_the_body(line: str) -> None:
    remaining, credits = extract_credits(f"<p>正文。</p><p>{line}</p>")
    assert remaining == "<p>正文。</p>"
    assert credits.publisher == "新华社"


@pytest.mark.parametrize(
    ("line", "editor", "authors"),
    [
        ("【责任编辑：王五】", "王五", []),
        ("[编辑：王五]", "王五", []),
        ("【记者 张三 李四】", None, ["张三", "李四"]),
        ("（通讯员 赵六）", None, ["赵六"]),
    ],
)
def test_credit_lines_in_any_bracket(line: str, editor: str | None, authors: list[str]) -> None:
    remaining, credits = extract_credits(f"<p>正文。</p><p>{line}</p>")
    assert remaining == "<p>正文。</p>"
    assert credits.editor == editor
    assert credits.authors == authors


def test_credit_lines_leave_the_body() -> None:
    body = (
        "<p>记者从市场监管总局获悉，新规出台。</p><p>正文第二段。</p>"
        "<p>□广东省人民政府副省长陈良贤</p><p>（文章来源：中国市场监管新闻网）</p>"
        "<p>（责任编辑：王五）</p>"
    )
    remaining, credits = extract_credits(body)
    assert remaining == "<p>记者从市场监管总局获悉，新规出台。</p><p>正文第二段。</p>"
    assert credits.publisher == "中国市场监管新闻网"
    assert credits.editor == "王五"
    assert credits.authors == ["广东省人民政府副省长陈良贤"]


@pytest.mark.parametrize(
    "body",
    [
        "<p>记者从市场监管总局获悉</p><p>正文。</p>",  # a sentence, not a byline
        "<p>正文。</p><p>图片来源：霍尼韦尔官网</p>",  # a caption's credit is not the article's
        "<p>正文。</p><p>来源：<img src='https://a.cn/logo.png'></p>",
        "<p>正文。</p><p>文章来源于多方数据整理，经编辑部核实后发布，仅供参考。</p>",
        # A chart's source between paragraphs is the chart's, not the article's.
        "<p>正文。</p><p>下图为各季度增速：</p><p>来源：国家统计局</p><p>分析人士认为，增速回升。</p>",
    ],
)
def test_ordinary_paragraphs_stay(body: str) -> None:
    remaining, credits = extract_credits(body)
    assert remaining == body
    assert credits.publisher is None
    assert credits.authors == []


def test_pipeline_prefers_the_feed_field_and_settles_via(crawler) -> None:  # type: ignore[no-untyped-def]
    stage = AttributionPipeline(crawler)
    item = Article(
        publisher="来源：东方财富网",
        via="eastmoney",
        authors=["作者：梓隆"],
        editor="（责任编辑：DF010）",
        body_html="<p>正文。</p><p>（文章来源：财联社）</p>",
        body_text="正文。\n（文章来源：财联社）",
    )
    stage.process_item(item)
    assert item.publisher == "东方财富网"
    assert item.via is None  # the aggregator is the publisher itself
    assert item.authors == ["梓隆"]
    assert item.editor == "DF010"
    assert item.body_text == "正文。"

    other = Article(via="eastmoney", body_html="<p>正文。</p><p>（文章来源：财联社）</p>")
    stage.process_item(other)
    assert other.publisher == "财联社"
    assert other.publisher_slug == "cailianshe"
    assert other.via == "eastmoney"

    anonymous = Article(body_html="<p>正文。</p>", body_text="正文。")
    stage.process_item(anonymous)
    assert anonymous.publisher is None
    assert crawler.stats.get_value("news/attribution/no_publisher") == 1
