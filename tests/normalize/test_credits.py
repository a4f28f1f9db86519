from __future__ import annotations

import pytest

from crawler.items import Article
from crawler.normalize.credits import (
    clean_name,
    extract_credits,
    merge_authors,
    normalize_publisher,
    publisher_group,
    publisher_slug,
    resolve_publisher,
    split_authors,
    trailing_credit,
)
from crawler.sources.rules import PUBLISHER_GROUPS
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
        # The name the page states is kept: a paper and its website are different outlets.
        ("稿源：证券时报网", "证券时报网"),
        ("中国证券报·中证网", "中国证券报·中证网"),
        ("来源：中国市场监管报", "中国市场监管报"),
        ("东方财富研究中心", "东方财富研究中心"),
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
    ("name", "group"),
    [
        ("中国市场监管报", "中国市场监管新闻网"),
        ("中国市场监管新闻网", "中国市场监管新闻网"),
        ("证券时报网", "证券时报"),
        ("e公司", "证券时报"),
        ("中国证券报·中证网", "中国证券报"),
        ("新华社客户端", "新华社"),
        # East Money's names for itself are its own (its cleaning rules); the stage knows them all.
        ("东方财富", "东方财富网"),
        ("东方财富研究中心", "东方财富网"),
        # A name of no group is its own group.
        ("新华社", "新华社"),
        ("财联社", "财联社"),
        (None, None),
        ("", None),
    ],
)
def test_publisher_group(name: str | None, group: str | None) -> None:
    assert publisher_group(name, PUBLISHER_GROUPS) == group


def test_general_groups_name_no_source() -> None:
    assert publisher_group("东方财富") == "东方财富"


@pytest.mark.parametrize(
    ("candidates", "name", "group", "slug"),
    [
        # The stated name, cleaned, wins; its group and slug follow (slug: the name's, not the group's).
        (
            ["来源：中国市场监管报", None],
            "中国市场监管报",
            "中国市场监管新闻网",
            "zhongguoshichangjianguanbao",
        ),
        (["证券时报网"], "证券时报网", "证券时报", "zhengquanshibaowang"),
        ([None, "", "来源：", "财联社", "东方财富网"], "财联社", "财联社", "cailianshe"),
        ([None, None], None, None, None),
    ],
)
def test_resolve_publisher(
    candidates: list[str | None], name: str | None, group: str | None, slug: str | None
) -> None:
    publisher = resolve_publisher(candidates, PUBLISHER_GROUPS)
    assert (publisher.name, publisher.group, publisher.slug) == (name, group, slug)


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


@pytest.mark.parametrize(
    ("body", "remaining", "publisher"),
    [
        # A flash's credit: its outlet in brackets after the last sentence. It leaves the body,
        # as a credit line does.
        (
            "<p>国家统计局：1-2月份规模以上工业增加值同比增长8.4%。（央视新闻客户端）</p>",
            "<p>国家统计局：1-2月份规模以上工业增加值同比增长8.4%。</p>",
            "央视新闻客户端",
        ),
        ("<p>甲。</p><p>乙。(财联社)</p>", "<p>甲。</p><p>乙。</p>", "财联社"),
        ("<p>公司公告。（21世纪经济报道）</p>", "<p>公司公告。</p>", "21世纪经济报道"),
        ("<p><strong>要闻。</strong>（e公司）</p>", "<p><strong>要闻。</strong></p>", "e公司"),
        ("<p>要闻！（券商中国）</p>", "<p>要闻！</p>", "券商中国"),
        # The credit alone on the last line, without a label.
        ("<p>正文。</p><p>（新华社）</p>", "<p>正文。</p>", "新华社"),
        # The credit before the credit lines; both name the same outlet, both leave.
        (
            "<p>正文。（财联社）</p><p>（文章来源：财联社）</p>",
            "<p>正文。</p>",
            "财联社",
        ),
    ],
)
def test_outlet_credited_at_the_end_of_a_flash(body: str, remaining: str, publisher: str) -> None:
    left, credits = extract_credits(body)
    assert (left, credits.publisher) == (remaining, publisher)


@pytest.mark.parametrize(
    "body",
    [
        # Brackets at the end that credit no outlet.
        "<p>名单如下。（附名单）</p>",
        "<p>业绩大增。（一季报）</p>",
        "<p>此事已有进展。（此前报道）</p>",
        "<p>会议结束。（完）</p>",
        "<p>会议结束。（记者 张三）</p>",
        "<p>增速回升（同比）</p>",
        "<p>数据如下。（数据来源：Wind）</p>",
        # Not at the end of the body.
        "<p>正文。（新华社）</p><p>次段。</p>",
        # Another outlet than the credit line's: the text quotes it.
        "<p>据报道，事件属实。（新华社）</p><p>（文章来源：人民网）</p>",
    ],
)
def test_brackets_that_credit_no_outlet_stay(body: str) -> None:
    left, credits = extract_credits(body)
    assert credits.publisher in (None, "人民网")
    assert "（" in left


@pytest.mark.parametrize(
    ("text", "outlet"),
    [
        ("【快讯】摘要。（证券时报网）", "证券时报网"),
        ("摘要。", None),
        ("", None),
        (None, None),
    ],
)
def test_trailing_credit(text: str | None, outlet: str | None) -> None:
    assert trailing_credit(text) == outlet


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
    assert other.publisher_group == "财联社"
    assert other.publisher_slug == "cailianshe"
    assert other.via == "eastmoney"

    anonymous = Article(body_html="<p>正文。</p>", body_text="正文。")
    stage.process_item(anonymous)
    assert anonymous.publisher is None
    assert anonymous.publisher_group is None
    assert crawler.stats.get_value("news/attribution/no_publisher") == 1


def test_pipeline_keeps_the_stated_name_and_groups_it(crawler) -> None:  # type: ignore[no-untyped-def]
    stage = AttributionPipeline(crawler)
    item = Article(source="eastmoney", via="eastmoney", publisher="来源：东方财富研究中心")
    stage.process_item(item)
    assert (item.publisher, item.publisher_group) == ("东方财富研究中心", "东方财富网")
    assert item.publisher_slug == "dongfangcaifuyanjiuzhongxin"
    assert item.via is None  # East Money's research centre is East Money itself
