"""The generic extractor on the miss classes of unseen pages (issue 17), one reconstructed case each.

Every page here is RECONSTRUCTED: a small faithful imitation of a layout seen on real Chinese news
sites (a byline line, a <meta>, a comment list), written for this test, never a capture. Real
pages of the same classes live in tests/fixtures/pages (see PROVENANCE.md).
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from lxml import html

from crawler.extract import ExtractedArticle, extract_article
from crawler.extract.dom import text_lines

NOW = datetime(2026, 1, 1, tzinfo=UTC)
TITLE = "某公司发布三季度业绩报告"
PARAGRAPH = (
    "公司三季度营业收入同比增长百分之十二，净利润同比增长百分之八，"
    "管理层表示将继续加大研发投入，并在下半年推出新的产品线。"
)
ARTICLE = f"<p>{PARAGRAPH}</p>" * 3
BYLINE = "2019-09-23 14:34 来源：新华网"


def page(head: str = "", header: str = BYLINE, body: str = ARTICLE, after: str = "") -> bytes:
    """Return a reconstructed article page: menu, headline, byline, body, what follows it."""
    return f"""<html><head><title>{TITLE}_财经频道</title>{head}</head><body>
<div class="nav"><a href="/">首页</a><a href="/finance/">财经</a></div>
<div class="main"><h1>{TITLE}</h1><div class="info">{header}</div>
<div class="article">{body}</div>{after}</div></body></html>""".encode()


def extract(data: bytes) -> ExtractedArticle:
    return extract_article(data, now=NOW)


def body_lines(article: ExtractedArticle) -> list[str]:
    if not article.body_html:
        return []
    return text_lines(html.fragment_fromstring(article.body_html, create_parent="div"))


# ---------------------------------------------------------------- time
@pytest.mark.parametrize(
    ("head", "expected"),
    [
        ('<meta itemprop="dateUpdate" content="2019-10-08 12:00:57">', "2019-10-08 12:00:57"),
        (
            '<meta property="article:modified_time" content="2019-10-08T12:00:57+08:00">',
            "2019-10-08T12:00:57+08:00",
        ),
        (
            '<script>var pageData = {"updateTime": "2019-10-08 12:00:57"};</script>',
            "2019-10-08 12:00:57",
        ),
        # The same instant in UTC agrees with the China-time clock.
        ('<meta itemprop="dateUpdate" content="2019-10-08T04:00:57Z">', "2019-10-08T04:00:57Z"),
    ],
)
def test_clock_without_year_takes_the_agreeing_full_timestamp(head: str, expected: str) -> None:
    article = extract(page(head=head, header="<span>10-08 12:00</span> 来源：证券日报"))
    assert article.publish_time == expected


def test_clock_without_year_keeps_itself_when_no_timestamp_agrees() -> None:
    head = '<meta itemprop="dateUpdate" content="2019-10-09 08:00:00">'
    assert extract(page(head=head, header="<span>10-08 12:00</span>")).publish_time == "10-08 12:00"


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        (
            '<meta name="dcterms.created" content="2012-12-10T09:24:01+00:00">',
            "2012-12-10T09:24:01+00:00",
        ),
        (
            '<meta name="weibo: article:create_at" content="2012-12-10 17:24:01">',
            "2012-12-10 17:24:01",
        ),
        ('<meta itemprop="dateUpdate" content="2012-12-10 18:41:47">', "2012-12-10 18:41:47"),
    ],
)
def test_date_without_clock_takes_a_full_timestamp_of_the_same_day(
    head: str, expected: str
) -> None:
    article = extract(page(head=head, header="<span>2012年12月10日</span>"))
    assert article.publish_time == expected


def test_date_without_clock_ignores_another_day_and_midnight_placeholders() -> None:
    head = (
        '<meta itemprop="dateUpdate" content="2012-12-11 09:00:00">'
        '<meta property="article:published_time" content="2012-12-10T00:00:00+08:00">'
    )
    assert (
        extract(page(head=head, header="<span>2012年12月10日</span>")).publish_time
        == "2012年12月10日"
    )


# ---------------------------------------------------------------- source
@pytest.mark.parametrize(
    "header",
    [
        "来源：当代商报 时间：2019-09-23 14:34:05 作者：李明",
        "来源：当代商报时间：2019-09-23 14:34:05作者：李明",
        "来源：当代商报&nbsp;&nbsp;时间：2019-09-23 14:34:05&nbsp;&nbsp;作者：李明",
        "<span>来源：当代商报</span><span>时间：2019-09-23 14:34:05</span><span>作者：李明</span>",
    ],
)
def test_source_stops_at_the_next_label(header: str) -> None:
    article = extract(page(header=header))
    assert (article.publisher, article.publish_time) == ("当代商报", "2019-09-23 14:34:05")


def test_byline_inside_the_body_container_is_not_body_text() -> None:
    article = extract(page(header="来源：当代商报 时间：2019-09-23 14:34:05 作者：李明"))
    assert body_lines(article) == [PARAGRAPH] * 3


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (
            '2019-09-23 14:34 来源：<a href="http://www.chinadaily.com.cn/">中国日报网</a>',
            "中国日报网",
        ),
        (
            '<span>2019-09-23 14:34</span><span class="label">来源：</span><span>新华网</span>',
            "新华网",
        ),
        (
            '<div>2019-09-23 14:34</div><div class="ly"><em>来源</em><a href="#">经济日报</a></div>',
            "经济日报",
        ),
    ],
)
def test_source_in_its_own_element_after_the_label(header: str, expected: str) -> None:
    assert extract(page(header=header)).publisher == expected


def test_source_only_in_the_page_metadata() -> None:
    article = extract(
        page(head='<meta name="source" content="中国日报网">', header="2019-09-23 14:34")
    )
    assert article.publisher == "中国日报网"


def test_source_metadata_that_is_an_address_is_not_a_name() -> None:
    article = extract(
        page(
            head='<meta name="source" content="http://www.example.cn/">', header="2019-09-23 14:34"
        )
    )
    assert article.publisher is None


@pytest.mark.parametrize(
    ("tail", "expected"),
    [
        ("<p>（来源：人民日报）</p><p>责任编辑：张三</p>", "人民日报"),
        (
            "<p>本文来源：证券时报网</p><p>编辑：李四</p><p>校对：王五</p><p>审核：赵六</p>",
            "证券时报网",
        ),
    ],
)
def test_source_credited_at_the_end_of_the_body(tail: str, expected: str) -> None:
    assert extract(page(header="2019-09-23 14:34", body=ARTICLE + tail)).publisher == expected


# ---------------------------------------------------------------- body
COMMENTS = (
    "<div class='box'>"
    + "".join(
        f"<div class='item'><p>网友{i}说：这篇文章写得很好，我觉得公司的前景非常不错，值得长期关注，大家怎么看？</p></div>"
        for i in range(30)
    )
    + "</div>"
)
OTHER_STORY = (
    "<div class='box2'><h2>另一条新闻标题</h2>"
    + "<p>另一家公司今天宣布完成新一轮融资，金额达到数亿元人民币，投资方包括多家知名机构，"
    "资金将用于扩大生产规模和市场推广。</p>" * 8 + "</div>"
)
TEASERS = (
    "<div class='bottom'><div class='tit'>推荐阅读</div><ul>"
    + "".join(
        f"<li>某地出台新政策支持中小企业发展，涉及税收减免、融资担保等多个方面，业内人士认为效果值得期待{i}。</li>"
        for i in range(5)
    )
    + "</ul></div>"
)


@pytest.mark.parametrize(
    "neighbour", [COMMENTS, OTHER_STORY, TEASERS], ids=["comments", "another-story", "teasers"]
)
def test_short_article_beside_a_longer_block_of_another_kind(neighbour: str) -> None:
    article = extract(page(body=f"<p>{PARAGRAPH}</p>", after=neighbour))
    assert body_lines(article) == [PARAGRAPH]


def test_long_article_after_a_lead_box_stays_the_body() -> None:
    lead = (
        "<div class='summary'><p>摘要：公司三季度业绩增长，管理层表示将继续加大研发投入。</p></div>"
    )
    article = extract(page(header=BYLINE + lead, body=ARTICLE))
    assert body_lines(article) == [PARAGRAPH] * 3


@pytest.mark.parametrize(
    "related",
    [
        "<p><strong>相关阅读：</strong></p>"
        + "<p>某公司前三季度业绩预告发布，净利润预计同比增长，市场人士分析认为行业景气度持续回升。</p>"
        * 4,
        "<div class='more'><h3>【延伸阅读】</h3><p>另一则消息：多家公司发布业绩预告，机构认为行业景气度回升。</p></div>",
    ],
)
def test_related_stories_after_the_article_are_dropped(related: str) -> None:
    assert body_lines(extract(page(body=ARTICLE + related))) == [PARAGRAPH] * 3
